#!/usr/bin/env bash
# Regenerates the man pages and the bash completions into docs/ (or into DIR):
#
#   bash scripts/gen_docs.sh [DIR]
#
#   docs/man/synwalld.8, docs/man/synwallctl.8   from the argparse parsers (build_parser())
#   docs/man/synwall.toml.5                      from the boot config's keys,
#                                                docs/man-src/synwall.toml.5.toml
#   docs/completion/synwalld, synwallctl         bash completion, from the same parsers
#
# The generated files are committed (the Debian package installs them from these paths);
# tests/controller/test_ctl_docs.py makes them again into a temporary directory and fails if
# they differ. scripts/gen_docs.py says how each is made; argparse-manpage and shtab are
# pinned in pyctl/pyproject.toml (extra "dev").
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-docs}
python=${PYTHON:-.venv/bin/python}
[ -x "$python" ] || python=python3
# What argparse's text depends on besides the parsers: the width it wraps at (COLUMNS, else
# the terminal's) and the default socket synwallctl names ($SYNWALL_SOCKET).
env -u SYNWALL_SOCKET COLUMNS=80 "$python" scripts/gen_docs.py "$out"
