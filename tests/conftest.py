"""Shared fixtures for the synwall tests.

`run_dp` runs the real dataplane binary on pcap files (DPDK net_pcap vdevs, no NIC, no
hugepages; port 0 outside, port 1 inside) to completion and returns what left each port plus
the counters; `start_dp` leaves one running for signal and telemetry tests. The code lives in
tests/traffic/dpharness.py, which test modules import for its constants.

Run:  bash scripts/setup.sh && .venv/bin/python -m pytest tests/traffic
"""

import pytest

from tests.traffic.dpharness import (
    DEFAULT_ARGS,
    DpProcess,
    DpRunner,
    dp_command,
    new_prefix,
    require_binary,
    write_pcap,
)


@pytest.fixture
def run_dp(tmp_path):
    """run_dp(outside=[pkts], inside=[pkts], args=[...]) -> Result.

    args replaces DEFAULT_ARGS (the run always gets --idle-exit and --stats-json first).
    """
    return DpRunner(tmp_path)


@pytest.fixture
def start_dp(tmp_path):
    """start_dp(outside=[pkts], inside=[pkts], args=[...], outside_devargs=...) -> DpProcess.

    No --idle-exit by default: the test stops it (the process is killed at teardown if not).
    """
    procs = []

    def start(outside=(), inside=(), args=None, *, idle_ms=None, outside_devargs="",
              inside_devargs="", eal=()):
        require_binary()
        workdir = tmp_path / ("proc%d" % len(procs))
        workdir.mkdir()
        write_pcap(workdir / "outside_in.pcap", outside)
        write_pcap(workdir / "inside_in.pcap", inside)
        prefix = new_prefix()
        cmd = dp_command(workdir, prefix, DEFAULT_ARGS if args is None else args,
                         idle_ms=idle_ms, outside_devargs=outside_devargs,
                         inside_devargs=inside_devargs, eal=eal)
        p = DpProcess(workdir, prefix, cmd)
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.close()
