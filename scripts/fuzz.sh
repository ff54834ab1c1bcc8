#!/usr/bin/env bash
# Runs the libFuzzer harnesses (docs/FUZZING.md), each for a bounded time, from a copy of its
# committed corpus (tests/fuzz/corpus/NAME) so that the tree stays as it is. Fails when a
# harness finds anything: a crash, a sanitizer report, a broken invariant, a timeout, an
# out-of-memory.
#
#   scripts/fuzz.sh [-t SECONDS] [-o DIR] [-j JOBS] [HARNESS...]
#
#   -t SECONDS  per harness (default 40)
#   -o DIR      keep the work (DIR/NAME/corpus grown, DIR/NAME/log, DIR/NAME/crash-*) there
#               instead of a temporary directory removed at the end
#   -j JOBS     parallel fuzzing processes per harness (libFuzzer -fork), default 1
#   HARNESS     parse, proxy, pipeline (default: all three, one after the other)
#
# The harnesses are built in build-fuzz (CC=clang), configured here if need be.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=40
keep=""
jobs=1
while getopts "t:o:j:" opt; do
    case "$opt" in
        t) seconds="$OPTARG" ;;
        o) keep="$OPTARG" ;;
        j) jobs="$OPTARG" ;;
        *) echo "usage: $0 [-t SECONDS] [-o DIR] [-j JOBS] [HARNESS...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(parse proxy pipeline)

if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang meson setup build-fuzz -Dfuzz=enabled -Db_lto=false -Dbuildtype=debugoptimized
fi
ninja -C build-fuzz fuzz

if [ -n "$keep" ]; then
    work="$keep"
    mkdir -p "$work"
else
    work="$(mktemp -d /tmp/synwall-fuzz.XXXXXX)"
    trap 'rm -rf "$work"' EXIT
fi

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
    echo "== fuzz_$h: $seconds s from $(ls "$d/corpus" | wc -l) inputs"
    rc=0
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
        "$bin" "${args[@]}" "$d/corpus" >"$d/log" 2>&1 || rc=$?
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
    fi
done
exit $failed
