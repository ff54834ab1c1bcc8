"""Measurement 9: where the worker lcore's cycles go, for SYNs and invalid ACKs, in synwall
and in testpmd 5tswap on the same vdev and file.

While a process is in its steady state (after the rate window of an ordinary run), `perf
record` samples CPU 1 (the worker lcore's, nothing else runs there) for a few seconds; `perf
report` splits the samples by the object they fall in (the pcap PMD, the other DPDK
libraries, the program itself, the rest) and, for synwall, by function. Multiplied by the
run's cycles per packet (TSC / rate), that says how many cycles per packet each part costs:
what the vdev costs any program, and what is left for synwall's own work at a given rate.
Without `perf` (or where the kernel refuses it) the section says so and holds no numbers.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from . import suite
from .dpdk import WORKER_CPU, pcap_vdev

PERF = shutil.which("perf")
SECONDS = 2.0                  # at most; a quick run samples for its (short) window


def group_of(dso: str, program: str) -> str:
    if dso.startswith("librte_net_pcap"):
        return "pcap PMD"
    if dso.startswith("librte_"):
        return "other DPDK libraries"
    if dso == program:
        return "program"
    return "rest"


def _report(data: Path, sort: str) -> list[tuple[float, str]]:
    out = subprocess.run([PERF, "report", "-i", str(data), "--no-children", "--sort", sort,
                          "--stdio", "-q"], capture_output=True, text=True, timeout=120)
    rows = []
    for line in out.stdout.splitlines():
        f = line.split(None, 1)
        if len(f) == 2 and f[0].endswith("%"):
            try:
                rows.append((float(f[0][:-1]) / 100.0, f[1].strip()))
            except ValueError:
                pass
    return rows


def record(work: Path, tag: str, program: str, seconds: float) -> dict:
    """perf samples of the worker CPU for `seconds`: shares per object group, and per
    function of the program (top 12)."""
    data = work / f"perf-{tag}.data"
    r = subprocess.run([PERF, "record", "-q", "-C", str(WORKER_CPU), "-o", str(data), "--",
                        "sleep", f"{seconds:g}"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or not data.exists():
        return {"perf_error": (r.stderr or r.stdout).strip()[-300:] or f"rc {r.returncode}"}
    groups: dict[str, float] = {}
    funcs = []
    for share, rest in _report(data, "dso,sym"):
        f = rest.split()
        if not f:
            continue
        g = group_of(f[0], program)
        groups[g] = groups.get(g, 0.0) + share
        if f[0] == program and len(f) >= 3 and not f[-1].startswith("0x"):
            funcs.append((f[-1], share))
    data.unlink(missing_ok=True)
    return {"perf_groups": groups, "perf_funcs": funcs[:12]}


def m_profile(ctx: suite.Ctx) -> dict:
    seconds = min(SECONDS, ctx.window)
    sec = suite.section("profile", "Where the worker's cycles go", seconds=seconds,
                        perf=PERF or "")
    sec["profile"] = {}
    if PERF is None:
        sec["notes"].append("perf is not installed (Debian: linux-perf): not measured")
        return sec
    n = ctx.sizes.syn_pcap
    cases = [("syn", suite.syn_file(ctx), ["--protect", "80:cookie"]),
             ("badack", suite.badack_file(ctx), ["--protect", "80"])]
    for tag, pcap, app in cases:
        vdev = pcap_vdev("net_pcap0", pcap)
        app = [*app, "--mbufs", str(ctx.mbufs(n))]
        sw = suite.run_synwall(ctx, f"profile {tag}", vdev, app, frames=n,
                               after=lambda proc, t=tag: record(ctx.work, f"sw-{t}",
                                                                "synwall-dp", seconds))
        tp = suite.run_testpmd(ctx, vdev, n,
                               after=lambda proc, t=tag: record(ctx.work, f"tp-{t}",
                                                                "dpdk-testpmd", seconds))
        entry = {}
        for who, res in (("synwall", sw), ("testpmd", tp)):
            entry[who] = {k: res.get(k) for k in ("pps", "cpu_share", "perf_groups",
                                                  "perf_funcs", "perf_error")}
            if res.get("perf_error"):
                ctx.log(f"  {tag} {who}: perf failed: {res['perf_error']}")
            else:
                g = res["perf_groups"]
                ctx.log(f"  {tag} {who:8s} {res['pps'] / 1e6:6.2f} Mpps  " +
                        "  ".join(f"{k} {v:.0%}" for k, v in sorted(g.items())))
        sec["profile"][tag] = entry
        suite.check(sec, f"{tag}: perf sampled both programs",
                    not sw.get("perf_error") and not tp.get("perf_error") and
                    sw.get("perf_groups", {}).get("program", 0) > 0 and
                    tp.get("perf_groups", {}).get("pcap PMD", 0) > 0)
    return sec
