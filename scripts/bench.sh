#!/usr/bin/env bash
# The benchmark: set-up and build (scripts/setup.sh), then every measurement on one worker
# lcore — SYN -> SYN-ACK and invalid ACKs against dpdk-testpmd, valid cookie ACKs and
# proxied handshakes, flow translation at 1k/100k/1M flows, syncache occupancy, memory per
# entry, synwall beside Linux syncookies, netfilter and XDP SYNPROXY on one veth path (their
# tools built by bench/xdp/setup.sh), cycles per packet — written to BENCHMARKS.md
# and bench/out/ (plot, results.json). About 5 minutes on 2 cores. Runs as root.
# --render-only measures nothing and skips the set-up: it writes BENCHMARKS.md and the plot
# again from bench/out/results.json (after a change of bench/METHOD.md or bench/report.py).
#
#   bash scripts/bench.sh                  # full run
#   bash scripts/bench.sh --quick --out /tmp/b --md /tmp/b/BENCHMARKS.md   # smoke run
#   bash scripts/bench.sh --only syn,badack --runs 3
#   bash scripts/bench.sh --render-only    # the report again from the last run's results
set -euo pipefail
cd "$(dirname "$0")/.."

render_only=0
for arg in "$@"; do
    [ "$arg" = --render-only ] && render_only=1
done
if [ "$render_only" = 0 ]; then
    bash scripts/setup.sh
    bash bench/xdp/setup.sh
fi
if ! .venv/bin/python -c 'import matplotlib' 2>/dev/null; then
    .venv/bin/pip install -q -r bench/requirements.txt
fi
exec .venv/bin/python -m bench "$@"
