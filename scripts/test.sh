#!/usr/bin/env bash
# The whole test suite: set-up (packages, virtualenv, build), C unit tests, traffic tests.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "== C unit tests (meson test)"
meson test -C build --print-errorlogs

echo "== C unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer"
# A build of its own (no LTO, unoptimised, so reports point at the line); any UBSan report
# fails the test, as does a leak.
if [ ! -f build-asan/build.ninja ]; then
    meson setup build-asan -Db_sanitize=address,undefined -Db_lto=false -Dbuildtype=debug
fi
ninja -C build-asan
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    meson test -C build-asan --print-errorlogs

echo "== the hostile corpus through synwall-dp built with ASan and UBSan"
# The build above made it (build-asan/dataplane/synwall-dp); once, against frames with lying
# headers of every kind, floods for no flow and hostile server answers (docs/FUZZING.md).
ninja -C build-asan dataplane/synwall-dp
SYNWALL_DP="$PWD/build-asan/dataplane/synwall-dp" \
    .venv/bin/python -m pytest -ra tests/traffic/test_hostile.py

echo "== fuzzing (libFuzzer: each harness 40 s from its committed corpus)"
# clang, a build directory of its own (build-fuzz); fails on any crash, sanitizer report or
# broken invariant, and keeps the input that did it in build-fuzz/failed/.
bash scripts/fuzz.sh -t 40

echo "== C static analysis (cppcheck)"
# warning, style, performance and portability: format/argument mismatches, shadowing,
# uninitialised reads, out-of-bounds indexes, needless copies. Not variableScope (the code
# declares at the top of a block, as DPDK and the kernel do) nor unusedStructMember (it
# cannot see fields used through a pointer, as in the control protocol's reply). DPDK's and
# the system's headers are not analysed: only our code is.
cppcheck --enable=warning,style,performance,portability --std=c11 --quiet --inline-suppr \
    --suppress=missingIncludeSystem --suppress=missingInclude \
    --suppress=variableScope --suppress=unusedStructMember \
    --error-exitcode=1 -I dataplane dataplane/

# --- Python lint: settings in pyproject.toml, tools pinned in pyctl's dev extra ---------------
echo "== Python lint (ruff, mypy)"
.venv/bin/ruff check .
.venv/bin/mypy
# --- end of Python lint -------------------------------------------------------------------------

echo "== traffic tests (pytest)"
exec .venv/bin/python -m pytest -ra "$@" tests
