#!/usr/bin/env bash
# The whole test suite: set-up (packages, virtualenv, build), C unit tests, traffic tests.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "== C unit tests (meson test)"
meson test -C build --print-errorlogs

echo "== traffic tests (pytest)"
exec .venv/bin/python -m pytest -ra "$@" tests
