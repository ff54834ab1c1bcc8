#!/usr/bin/env bash
# Runs the libFuzzer harnesses (docs/FUZZING.md), each for a bounded time, from a copy of its
# committed corpus (tests/fuzz/corpus/NAME) so that the tree stays as it is. Fails when a
# harness finds anything: a crash, a sanitizer report, a broken invariant, a timeout, an
# out-of-memory.
#
#   scripts/fuzz.sh [-t SECONDS] [-o DIR] [-j JOBS] [-c] [HARNESS...]
#
#   -t SECONDS  per harness (default 40); 0: no fuzzing, only the corpus (with -c)
#   -o DIR      keep the work (DIR/NAME/corpus grown, DIR/NAME/log, DIR/NAME/crash-*) there
#               instead of a temporary directory removed at the end
#   -j JOBS     parallel fuzzing processes per harness (libFuzzer -fork), default 1
#   -c          then run each harness's coverage build (meson -Dfuzz_coverage=true, set
#               here) once over the corpus it ended with, and report the line and region
#               coverage of the dataplane's files: per harness and all together, in
#               DIR/coverage (or build-fuzz/coverage without -o), with an HTML view of every
#               line in DIR/coverage/html
#   HARNESS     parse, proxy, pipeline (default: all three, one after the other)
#
# The harnesses are built in build-fuzz (CC=clang), configured here if need be.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=40
keep=""
jobs=1
coverage=0
while getopts "t:o:j:c" opt; do
    case "$opt" in
        t) seconds="$OPTARG" ;;
        o) keep="$OPTARG" ;;
        j) jobs="$OPTARG" ;;
        c) coverage=1 ;;
        *) echo "usage: $0 [-t SECONDS] [-o DIR] [-j JOBS] [-c] [HARNESS...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(parse proxy pipeline srclist)

if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang meson setup build-fuzz -Dfuzz=enabled -Db_lto=false -Dbuildtype=debugoptimized
fi
cov_configured() {
    python3 -c 'import json, sys
opts = {o["name"]: o["value"] for o in json.load(open(sys.argv[1]))}
sys.exit(0 if opts.get("fuzz_coverage") is True else 1)' build-fuzz/meson-info/intro-buildoptions.json
}
if [ "$coverage" -eq 1 ] && ! cov_configured; then
    # (--reconfigure: the directory may predate the option)
    meson setup --reconfigure build-fuzz -Dfuzz_coverage=true >/dev/null
fi
ninja -C build-fuzz fuzz
if [ "$coverage" -eq 1 ]; then
    # the tools of clang's own LLVM: a profile's format is a version's
    llvm_ver="$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)"
    profdata="$(command -v "llvm-profdata-$llvm_ver" || command -v llvm-profdata || true)"
    llvmcov="$(command -v "llvm-cov-$llvm_ver" || command -v llvm-cov || true)"
    if [ -z "$profdata" ] || [ -z "$llvmcov" ]; then
        echo "fuzz: -c needs llvm-profdata and llvm-cov (Debian: llvm-$llvm_ver)" >&2
        exit 2
    fi
fi

if [ -n "$keep" ]; then
    work="$keep"
    mkdir -p "$work"
else
    work="$(mktemp -d /tmp/synwall-fuzz.XXXXXX)"
    trap 'rm -rf "$work"' EXIT
fi

# Coverage of the dataplane's own files (not DPDK's headers, not the harnesses), one line
# each: regions and lines covered of all. The files are named from the build directory
# (build-fuzz/../dataplane/x.c): -path-equivalence names them from the tree.
cov_filter=(-ignore-filename-regex='^/usr/|/tests/' -path-equivalence="$PWD/build-fuzz/..,$PWD")
cov_summary() {
    awk '($1 ~ /\.[ch]$/ && $2 > 0) || $1 == "TOTAL" {
             n = split($1, p, "/")
             printf "   %-16s regions %7s of %5d   lines %7s of %5d\n", p[n], $4, $2, $10, $8 }' "$1"
}
if [ "$coverage" -eq 1 ]; then
    covdir="${keep:+$keep/coverage}"
    covdir="${covdir:-build-fuzz/coverage}"
    rm -rf "$covdir"
    mkdir -p "$covdir"
fi
cov_objects=()

failed=0
for h in "${harnesses[@]}"; do
    bin="build-fuzz/tests/fuzz/fuzz_$h"
    if [ ! -x "$bin" ] || [ ! -d "tests/fuzz/corpus/$h" ]; then
        echo "fuzz: no harness or corpus named $h" >&2
        exit 2
    fi
    d="$work/$h"
    mkdir -p "$d/corpus"
    cp -n "tests/fuzz/corpus/$h/"* "$d/corpus/"
    # -timeout: no input may take 20 s; -rss_limit_mb: the process stays under 2 GB;
    # -max_len: the pipeline's inputs carry many frames
    args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -max_len=16384
          -print_final_stats=1 -artifact_prefix="$d/")
    [ "$jobs" -le 1 ] || args+=(-fork="$jobs" -ignore_crashes=0)
    rc=0
    if [ "$seconds" -gt 0 ]; then
        echo "== fuzz_$h: $seconds s from $(ls "$d/corpus" | wc -l) inputs"
        ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
            "$bin" "${args[@]}" "$d/corpus" >"$d/log" 2>&1 || rc=$?
    else
        : >"$d/log"
    fi
    grep -E "^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)" \
        "$d/log" | sed 's/^/   /' || true
    if [ "$rc" -ne 0 ] || ls "$d"/crash-* "$d"/leak-* "$d"/timeout-* "$d"/oom-* >/dev/null 2>&1; then
        echo "fuzz_$h FAILED (exit $rc); the end of its log:" >&2
        grep -v "# Uses:" "$d/log" | tail -60 >&2
        ls "$d"/crash-* "$d"/leak-* "$d"/timeout-* "$d"/oom-* 2>/dev/null | sed 's/^/   input: /' >&2 || true
        failed=1
        if [ -z "$keep" ]; then
            # keep what reproduces it
            mkdir -p build-fuzz/failed
            cp "$d"/crash-* "$d"/leak-* "$d"/timeout-* "$d"/oom-* build-fuzz/failed/ 2>/dev/null || true
            echo "   (copied to build-fuzz/failed/; reproduce: $bin build-fuzz/failed/FILE)" >&2
        fi
        continue
    fi
    if [ "$coverage" -eq 1 ]; then
        # every input of the corpus once (-runs=0), counted by the coverage build
        echo "== coverage of fuzz_$h over $(ls "$d/corpus" | wc -l) inputs ($covdir/$h.txt)"
        rm -f "$covdir/$h.profraw"
        if ! LLVM_PROFILE_FILE="$covdir/$h.profraw" "${bin}_cov" -runs=0 -max_len=16384 \
                "$d/corpus" >"$covdir/$h.log" 2>&1; then
            echo "fuzz_${h}_cov FAILED over the corpus; the end of its log:" >&2
            tail -30 "$covdir/$h.log" >&2
            failed=1
            continue
        fi
        "$profdata" merge -sparse "$covdir/$h.profraw" -o "$covdir/$h.profdata"
        rm -f "$covdir/$h.profraw"
        "$llvmcov" report "${bin}_cov" -instr-profile="$covdir/$h.profdata" "${cov_filter[@]}" \
            >"$covdir/$h.txt"
        cov_summary "$covdir/$h.txt"
        cov_objects+=("${bin}_cov")
    fi
done

if [ "$coverage" -eq 1 ] && [ ${#cov_objects[@]} -gt 0 ]; then
    # all the harnesses together: the profiles merged, each binary's mapping
    profiles=()
    objects=("${cov_objects[0]}")
    for o in "${cov_objects[@]}"; do
        profiles+=("$covdir/$(basename "$o" | sed 's/^fuzz_//; s/_cov$//').profdata")
    done
    for o in "${cov_objects[@]:1}"; do
        objects+=(-object "$o")
    done
    "$profdata" merge -sparse "${profiles[@]}" -o "$covdir/all.profdata"
    "$llvmcov" report "${objects[@]}" -instr-profile="$covdir/all.profdata" "${cov_filter[@]}" \
        >"$covdir/all.txt"
    "$llvmcov" show "${objects[@]}" -instr-profile="$covdir/all.profdata" "${cov_filter[@]}" \
        -format=html -show-line-counts-or-regions -output-dir="$covdir/html"
    echo "== coverage of ${cov_objects[*]##*/} together ($covdir/all.txt, $covdir/html/index.html)"
    cov_summary "$covdir/all.txt"
fi
exit $failed
