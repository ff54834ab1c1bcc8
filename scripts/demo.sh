#!/usr/bin/env bash
# The appliance's main job on an embedded default: namespaces, synwall-dp on af_xdp ports,
# a bounded spoofed-SYN flood and real clients, live counters. Set-up included; re-runnable.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
exec .venv/bin/python -m synlab.demo "$@"
