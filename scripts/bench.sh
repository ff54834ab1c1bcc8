#!/usr/bin/env bash
# The benchmark (issue 5): set-up and build (scripts/setup.sh), then every measurement on one
# worker lcore — SYN -> SYN-ACK and invalid ACKs against dpdk-testpmd, valid cookie ACKs and
# proxied handshakes, flow translation at 1k/100k/1M flows, syncache occupancy, memory per
# entry, Linux syncookies on the same veth pair, cycles per packet — written to BENCHMARKS.md
# and bench/out/ (plot, results.json). About 5 minutes on 2 cores. Runs as root.
#
#   bash scripts/bench.sh                  # full run
#   bash scripts/bench.sh --quick --out /tmp/b --md /tmp/b/BENCHMARKS.md   # smoke run
#   bash scripts/bench.sh --only syn,badack --runs 3
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
if ! .venv/bin/python -c 'import matplotlib' 2>/dev/null; then
    .venv/bin/pip install -q -r bench/requirements.txt
fi
exec .venv/bin/python -m bench "$@"
