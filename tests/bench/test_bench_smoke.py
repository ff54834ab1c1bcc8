"""Smoke test of the benchmark harness (bench/, scripts/bench.sh): the quick mode runs every
measurement once, briefly, on small files, and must produce the report, the tables and the
plot, with positive numbers that agree with synwall's own counters. It asserts no speed: the
machine may be busy with anything.

Run:  .venv/bin/python -m pytest tests/bench        (root; about a minute)
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DP = REPO / "build" / "dataplane" / "synwall-dp"

SECTIONS = ["syn", "badack", "validack", "handshake", "data", "occupancy", "memory", "peers",
            "profile", "restart", "sources"]
HEADINGS = ["## Targets", "## Machine", "## Plot", "### 1. SYN", "### 2. Invalid-ACK",
            "### 3a. Valid cookie ACKs", "### 3b. Complete proxied handshakes",
            "### 4. Established-flow translation", "### 5. SYN rate vs syncache occupancy",
            "### 6. Memory per entry", "### 7. synwall and Linux's SYN-flood defences",
            "### 8. Cycles per packet", "### 9. Where the worker's cycles go",
            "### 10. Restarts: the time without forwarding",
            "### 11. Per-source policy: what a SYN costs", "## Method",
            "## Checks", "## Raw numbers"]


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "the benchmark needs root (DPDK, network namespaces)"
    for tool in ("dpdk-testpmd", "tcpreplay", "nft", "ip", "perf"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/setup.sh installs it)"
    return None


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    reason = _missing()
    if reason:
        pytest.skip(reason)
    pytest.importorskip("matplotlib", reason="matplotlib (bench/requirements.txt) is not "
                        "installed: scripts/bench.sh installs it")
    if not DP.exists():
        pytest.fail(f"{DP} is not built: run scripts/setup.sh", pytrace=False)
    setup = subprocess.run(["bash", "bench/xdp/setup.sh"], cwd=REPO, capture_output=True,
                           text=True, timeout=600)
    if setup.returncode != 0:
        pytest.fail(f"bench/xdp/setup.sh failed:\n{setup.stdout[-2000:]}\n"
                    f"{setup.stderr[-2000:]}", pytrace=False)
    out = tmp_path_factory.mktemp("bench")
    md = out / "BENCHMARKS.md"
    r = subprocess.run([sys.executable, "-m", "bench", "--quick", "--hugepages", "off",
                        "--out", str(out), "--md", str(md)], cwd=REPO, capture_output=True,
                       text=True, timeout=240)
    results = json.loads((out / "results.json").read_text()) \
        if (out / "results.json").exists() else None
    return r, out, md, results


def test_runs_and_writes_everything(quick):
    r, out, md, results = quick
    assert r.returncode == 0, f"bench --quick failed ({r.returncode}):\n{r.stdout[-4000:]}\n" \
                              f"{r.stderr[-4000:]}"
    assert results is not None and not results["errors"], results and results["errors"]
    assert sorted(results["sections"]) == sorted(SECTIONS)
    text = md.read_text()
    for h in HEADINGS:
        assert h in text, f"{h!r} missing from the report"
    assert "| target | result | verdict |" in text
    png = out / "bench.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 20000, "the plot is suspiciously small"
    assert "![synwall benchmarks](bench.png)" in text


def test_render_only_rewrites_the_same_report_from_results_json(quick, tmp_path):
    """--render-only measures nothing and needs no DPDK: from the run's results.json alone it
    writes the run's report again, byte for byte, and the plot."""
    _, out, md, results = quick
    assert results is not None
    shutil.copy(out / "results.json", tmp_path / "results.json")
    again = tmp_path / "BENCHMARKS.md"
    r = subprocess.run([sys.executable, "-m", "bench", "--render-only", "--out", str(tmp_path),
                        "--md", str(again)], cwd=REPO, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert again.read_text() == md.read_text()
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["BENCHMARKS.md", "bench.png",
                                                          "results.json"]


def test_every_number_positive_and_every_check_passed(quick):
    _, _, _, results = quick
    assert results is not None
    for sid, sec in results["sections"].items():
        failed = [c["what"] for c in sec["checks"] if not c["ok"]]
        assert not failed, f"{sid}: {failed}"
        assert sec["checks"], f"{sid}: no consistency check ran"
        for label, row in sec["rows"].items():
            assert row["runs"], f"{sid}/{label}: no run"
            for v in row["runs"]:
                assert v is not None and v > 0, f"{sid}/{label}: {row['runs']}"
    m = results["machine"]
    assert m["nproc"] >= 1 and m["tsc_hz"] > 1e8 and m["cpu_model"] and m["kernel"]
    assert m["dpdk"] and m["load_start"]


def test_counters_match_what_was_sent(quick):
    """The report's numbers are about the work they name: synwall's final counters against
    the files sent, independently of the harness's own checks."""
    _, _, _, R = quick
    S = R["sections"]
    for d in S["syn"]["rows"]["synwall"]["detail"]:
        f = d["final"]
        assert f["syncache.sendcookie"] == f["port.outside_rx"] > 0
        assert f.get("syncache.added", 0) == 0 and f.get("cookie.failed", 0) == 0
    for d in S["badack"]["rows"]["synwall"]["detail"]:
        f = d["final"]
        assert f["cookie.failed"] == f["port.outside_rx"] > 0
        assert f.get("proxy.opened", 0) == 0 and f.get("port.outside_tx", 0) == 0
    n = S["validack"]["params"]["distinct_acks"]
    for d in S["validack"]["rows"]["synwall"]["detail"]:
        assert d["final"]["proxy.opened"] == d["final"]["syncache.recvcookie"] == n
    n = S["handshake"]["params"]["handshakes"]
    for d in S["handshake"]["rows"]["synwall"]["detail"]:
        f = d["final"]
        assert f["proxy.established"] == f["proxy.opened"] == f["syncache.added"] == n
    for label, row in S["data"]["rows"].items():
        for d in row["detail"]:
            assert d["final"]["proxy.to_server"] > 0
            assert d["translated_share"] > 0.99, (label, d["translated_share"])
    # every SYN answered under every source configuration: the table, its limits and the
    # lists as measured cost something, but refuse nothing
    assert len(S["sources"]["rows"]) == 3 + len(S["sources"]["params"]["list_sizes"])
    for label, row in S["sources"]["rows"].items():
        for d in row["detail"]:
            f = d["final"]
            assert f["syncache.sendcookie"] == f["port.outside_rx"] > 0, (label, f)
            assert not f.get("source.denied") and not f.get("source.syn_limited"), (label, f)
    # every defender on the veth path answered, no more than it says it sent, no more than
    # it was offered; the XDP program answered every timed SYN
    assert set(S["peers"]["rows"]) == {"synwall af_packet", "synwall af_xdp", "XDP SYNPROXY",
                                       "netfilter SYNPROXY", "Linux syncookies"}
    for label, row in S["peers"]["rows"].items():
        for d in row["detail"]:
            assert 0 < d["synacks"] <= d["defender_sent"] <= d["sent"], (label, d)
            assert 0 < d["cpu1_busy"] <= 1 and d["per_cpu_second"] >= d["synack_pps"]
    run = S["peers"]["xdp_run"]
    assert run["xdp_tx"] == run["runs"] > 0 and run["median_ns"] > S["peers"]["xdp_floor"][
        "median_ns"] > 0, (run, S["peers"]["xdp_floor"])
    # the profile's samples: in the pcap PMD and in the program, for both programs; the
    # table splits each run's cycles by them
    for tag in ("syn", "badack"):
        for who in ("synwall", "testpmd"):
            g = S["profile"]["profile"][tag][who]["perf_groups"]
            assert g["pcap PMD"] > 0.05 and g["program"] > 0.05, (tag, who, g)
            assert 0.9 < sum(g.values()) <= 1.01, (tag, who, g)
        funcs = dict(S["profile"]["profile"][tag]["synwall"]["perf_funcs"])
        # the worker's burst function, static `outside_burst` or the pipeline's `sw_outside_burst`
        assert {"outside_burst", "sw_outside_burst"} & set(funcs), funcs
    mem = S["memory"]
    assert mem["params"]["sizeof_sc_entry"] == 64 and mem["params"]["sizeof_flow"] == 64
    assert 32 < mem["flow_bytes_per_slot"] < 200 and 32 < mem["sc_bytes_per_slot"] < 200
    # every restart took all its flows over and forwarding came back; the take-over alone
    # found the flows it was given
    for label, row in S["restart"]["rows"].items():
        for d in row["detail"]:
            if label.startswith("take-over"):
                assert d["flows"] > 0 and d["adopt_ms"] >= 0, (label, d)
                continue
            flows = int(label.rsplit(", ", 1)[1].split()[0])
            assert d["taken_over"] == flows and d["rebuilt"] == label.startswith("crash"), d
            assert 0 < d["received"] < d["sent"] and d["lost"] == d["sent"] - d["received"], d
