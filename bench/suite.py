"""Measurements 1 to 6 of BENCHMARKS.md, each returning a section of results.json (7 is
peers.py, 9 profile.py; 8 is computed by report.py from 1, 2 and 5).

A section: {"id", "title", "params", "rows": {label: {"unit", "runs": [values], "detail":
[per-run dicts]}}, "checks": [{"what", "ok"}], "notes": [...]}. report.py turns them into
BENCHMARKS.md and the plot. Every synwall run also keeps its final counters (--stats-json),
and the checks compare them with what was sent.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import pcaps
from .dpdk import (
    KEY,
    DpdkProc,
    Memory,
    new_prefix,
    pcap_vdev,
    ramp,
    read_stats_json,
    steady,
    synwall_argv,
    testpmd_argv,
)


@dataclass
class Sizes:
    syn_pcap: int = 65536          # distinct SYNs (and bad ACKs) replayed from memory
    valid_acks: int = 131072       # distinct valid-cookie ACKs, first pass measured
    handshakes: int = 65536        # complete handshakes, first pass measured
    data_frames: int = 131072      # data segments per file (distinct flows as far as possible)
    data_flows: tuple = (1000, 100000, 1000000)
    flow_headroom: int = 4         # --flows = headroom x preloaded flows (speed runs)
    mem_flows: tuple = (8192, 1 << 20)          # --flows of the small and the big table
    mem_sc: tuple = ((1024, 8), (131072, 8))    # (hashsize, bucketlimit) small and big
    mem_sc_syns: int = 1 << 20                  # distinct SYNs that fill the big syncache
    peer_frames: int = 6000000     # SYNs a flood offers each defender on the veth path
    peer_seconds: int = 8          # ... or this long, whichever comes first
    peer_repeat: int = 200000      # BPF_PROG_RUN calls timing the XDP program
    peer_perf_s: float = 1.0       # perf samples CPU 1 this long in a flood's first run
    restart_flows: tuple = (1000, 1000000)      # flows in the tables across a restart
    restart_probe_s: tuple = (1.5, 2.0)         # probing before it, and after it is over
    source_lists: tuple = (10000, 1000000)      # prefixes in the source lists measured

    @classmethod
    def quick(cls) -> Sizes:
        return cls(syn_pcap=4096, valid_acks=4096, handshakes=2048, data_frames=4096,
                   data_flows=(1000, 4000, 16000), mem_flows=(8192, 65536),
                   mem_sc=((1024, 8), (8192, 8)), mem_sc_syns=65536, peer_frames=3000000,
                   peer_seconds=2, peer_repeat=20000, peer_perf_s=0.4, restart_flows=(1000, 16000),
                   restart_probe_s=(0.5, 0.5), source_lists=(1000, 10000))


@dataclass
class Ctx:
    work: Path
    mem: Memory
    sizes: Sizes
    runs: int
    warm: float
    window: float
    log: Callable[[str], None]
    files: dict = field(default_factory=dict)
    min_samples: int = 5           # telemetry samples a first-pass fit needs (quick: fewer)
    min_cpu_share: float = 0.9     # below: someone else had CPU 1, the run is made again

    def mbufs(self, frames: int) -> int:
        """Mbufs for a pcap of `frames` replayed with infinite_rx (the PMD keeps one mbuf
        per frame of the file, plus what is in flight)."""
        return frames + 16384

    def mem_mb(self, frames: int, table_bytes: int = 0) -> int:
        need = (self.mbufs(frames) * 2432 + table_bytes) / 1048576 + 256
        return max(self.mem.mem_mb, int(need / 2 + 1) * 2)


def section(id_: str, title: str, **params) -> dict:
    return {"id": id_, "title": title, "params": params, "rows": {}, "checks": [],
            "notes": []}


def add_run(sec: dict, label: str, unit: str, value, detail: dict) -> None:
    row = sec["rows"].setdefault(label, {"unit": unit, "runs": [], "detail": []})
    row["runs"].append(value)
    row["detail"].append(detail)


def check(sec: dict, what: str, ok: bool) -> bool:
    sec["checks"].append({"what": what, "ok": bool(ok)})
    return ok


def near(a: float, b: float, tol: float = 0.02) -> bool:
    return abs(a - b) <= tol * max(abs(a), abs(b), 1)


# --- running one process ---------------------------------------------------------------

def run_synwall(ctx: Ctx, tag: str, *args, **kw) -> dict:
    return _clean(ctx, tag, lambda: _run_synwall_once(ctx, tag, *args, **kw))


def run_testpmd(ctx: Ctx, vdev: str, frames: int, after: Callable | None = None) -> dict:
    return _clean(ctx, "testpmd", lambda: _run_testpmd_once(ctx, vdev, frames, after))


def _clean(ctx: Ctx, tag: str, once: Callable[[], dict]) -> dict:
    """A run in which someone else's process took CPU 1 from the worker (CPU share below
    ctx.min_cpu_share) is made again, at most twice; the runs set aside are kept."""
    set_aside = []
    for _ in range(3):
        res = once()
        share = res.get("cpu_share")
        if share is None or share >= ctx.min_cpu_share or len(set_aside) == 2:
            break
        ctx.log(f"  {tag}: the worker had CPU 1 only {share:.0%} of the time: run again")
        set_aside.append({k: res.get(k) for k in ("pps", "rate", "cpu_share", "load_before")})
    res["set_aside"] = set_aside
    return res


def _run_synwall_once(ctx: Ctx, tag: str, outside: str, app: list[str],
                      inside: str | None = None, measure: str = "steady", frames: int = 0,
                      table_bytes: int = 0, ramp_counter: str = "", ramp_target: int = 0,
                      mem: Memory | None = None, mem_mb: int | None = None,
                      after: Callable | None = None) -> dict:
    """Start synwall-dp, measure, stop; returns the measurement with the final counters."""
    prefix = new_prefix("sw")
    stats = ctx.work / f"{prefix}.stats.json"
    mem = mem or ctx.mem
    argv = synwall_argv(prefix, mem, outside, app,
                        inside_vdev=inside or "net_null0,no-rx=1",
                        mem_mb=mem_mb or ctx.mem_mb(frames, table_bytes), stats_json=stats)
    for attempt in range(3):
        proc = DpdkProc("synwall-dp", argv, prefix, ctx.work).start()
        try:
            proc.wait_launched(marker="worker(s)")
            if measure == "ramp":
                res = ramp(proc, ramp_counter, ramp_target)
            elif measure == "steady":
                proc.wait_busy()
                res = steady(proc, ctx.warm, ctx.window)
            else:
                res = {}
            if after is not None:
                res.update(after(proc) or {})
            res["log_lines"] = [ln for ln in proc.log().splitlines()
                                if ln.startswith("synwall-dp:")][-6:]
            if proc.p.poll() is not None:
                raise RuntimeError(f"synwall-dp exited {proc.p.returncode} during the run")
            res["attempt"] = attempt + 1
            break
        except (RuntimeError, OSError) as e:
            died = proc.p.poll() is not None
            proc.stop()
            # The binary may be rebuilt under us, or the process stopped by someone else's
            # clean-up: such a run is retried (and the retry is recorded).
            if attempt == 2 or not died:
                raise
            ctx.log(f"  {tag}: synwall-dp failed ({str(e).splitlines()[0][:100]}), retrying")
            time.sleep(2)
            prefix = new_prefix("sw")
            stats = ctx.work / f"{prefix}.stats.json"
            argv = synwall_argv(prefix, mem, outside, app,
                                inside_vdev=inside or "net_null0,no-rx=1",
                                mem_mb=mem_mb or ctx.mem_mb(frames, table_bytes),
                                stats_json=stats)
        except BaseException:
            proc.stop()
            raise
    rc = proc.stop()
    res["exit"] = rc
    res["final"] = read_stats_json(stats)
    res["argv"] = " ".join(argv)
    return res


def _run_testpmd_once(ctx: Ctx, vdev: str, frames: int,
                      after: Callable | None = None) -> dict:
    prefix = new_prefix("tp")
    argv = testpmd_argv(prefix, ctx.mem, vdev, ctx.mbufs(frames), mem_mb=ctx.mem_mb(frames))
    proc = DpdkProc("dpdk-testpmd", argv, prefix, ctx.work).start()
    try:
        proc.wait_launched()
        proc.wait_busy()
        res = steady(proc, ctx.warm, ctx.window, synwall=False)
        if after is not None:
            res.update(after(proc) or {})
    finally:
        rc = proc.stop()
    res["exit"] = rc
    res["argv"] = " ".join(argv)
    return res


def brief(res: dict) -> dict:
    """What results.json keeps of a run: no argv (the section has it), only the non-zero
    final counters."""
    keep = {k: v for k, v in res.items() if k not in ("argv", "final")}
    if res.get("final"):
        keep["final"] = {k: v for k, v in res["final"].items() if v}
    return keep


# --- 1 and 2: SYN -> SYN-ACK, invalid ACKs, against testpmd ----------------------------

def syn_file(ctx: Ctx) -> Path:
    if "syn" not in ctx.files:
        p = ctx.work / "syn.pcap"
        pcaps.write_syns(p, ctx.sizes.syn_pcap, seed=1)
        ctx.files["syn"] = p
    return ctx.files["syn"]


def badack_file(ctx: Ctx) -> Path:
    if "badack" not in ctx.files:
        p = ctx.work / "badack.pcap"
        pcaps.write_bad_acks(p, ctx.sizes.syn_pcap)
        ctx.files["badack"] = p
    return ctx.files["badack"]


def _vs_testpmd(ctx: Ctx, sec: dict, pcap: Path, frames: int, app: list[str],
                verify: Callable[[dict, dict], None]) -> None:
    vdev = pcap_vdev("net_pcap0", pcap)
    for r in range(ctx.runs):
        order = ("synwall", "testpmd") if r % 2 == 0 else ("testpmd", "synwall")
        for who in order:
            if who == "synwall":
                res = run_synwall(ctx, sec["id"], vdev, app, frames=frames)
                verify(sec, res)
                sec["params"]["synwall_argv"] = res["argv"]
            else:
                res = run_testpmd(ctx, vdev, frames)
                sec["params"]["testpmd_argv"] = res["argv"]
            add_run(sec, who, "pps", res["pps"], brief(res))
            ctx.log(f"  run {r + 1} {who:8s} {res['pps'] / 1e6:7.2f} Mpps  "
                    f"cpu {res['cpu_share'] or 0:.0%}  load {res['load_before']}")


def m_syn(ctx: Ctx) -> dict:
    n = ctx.sizes.syn_pcap
    sec = section("syn", "SYN -> cookie SYN-ACK", distinct_syns=n, mode="cookie (port 80)")
    pcap = syn_file(ctx)

    def verify(sec, res):
        f, c = res["final"], res["counters"]
        check(sec, "every SYN answered with a cookie SYN-ACK (final sendcookie == outside_rx "
              "== outside_tx + tx_dropped)",
              f.get("syncache.sendcookie") == f.get("port.outside_rx") > 0 and
              f.get("port.outside_tx", 0) + f.get("port.tx_dropped", 0) == f["port.outside_rx"])
        check(sec, "no malformed, no syncache entry, no flow",
              not any(v for k, v in f.items() if k.startswith("malformed.")) and
              f.get("syncache.added") == 0 and f.get("proxy.opened") == 0)
        check(sec, "window: synwall's outside_rx matches the port's count (2 %)",
              near(c.get("port.outside_rx", 0), res["packets"]))

    _vs_testpmd(ctx, sec, pcap, n, ["--protect", "80:cookie", "--mbufs", str(ctx.mbufs(n))],
                verify)
    return sec


def m_badack(ctx: Ctx) -> dict:
    n = ctx.sizes.syn_pcap
    sec = section("badack", "Invalid-ACK flood (every ACK fails the cookie check)",
                  distinct_acks=n, mode="proxy (port 80)")
    pcap = badack_file(ctx)

    def verify(sec, res):
        f = res["final"]
        check(sec, "every ACK counted as cookie.failed, nothing opened or sent",
              f.get("cookie.failed") == f.get("port.outside_rx") > 0 and
              f.get("proxy.opened") == 0 and f.get("port.outside_tx") == 0 and
              f.get("port.inside_tx") == 0)
        check(sec, "no malformed (the ACKs' checksums are verified in software)",
              not any(v for k, v in f.items() if k.startswith("malformed.")))

    _vs_testpmd(ctx, sec, pcap, n, ["--protect", "80", "--mbufs", str(ctx.mbufs(n))], verify)
    return sec


# --- 3: valid cookie ACKs, complete handshakes ------------------------------------------

def add_ramp_run(ctx: Ctx, sec: dict, r: int, res: dict, unit: str, what: str) -> None:
    """Record run r of a first-pass (ramp) measurement: its fitted rate, the check that the
    fit had enough samples, and a log line."""
    check(sec, f"run {r + 1}: rate measured over >= {ctx.min_samples} telemetry samples",
          res.get("rate") is not None and res.get("samples_fit", 0) >= ctx.min_samples)
    sec["params"]["argv"] = res["argv"]
    add_run(sec, "synwall", unit, res.get("rate"), brief(res))
    ctx.log(f"  run {r + 1} {what} {(res.get('rate') or 0) / 1e6:7.2f} M/s  "
            f"({res.get('samples_fit')} samples over {res.get('fit_seconds', 0) * 1e3:.1f} ms)"
            f"  load {res['load_before']}")


def m_validack(ctx: Ctx) -> dict:
    n = ctx.sizes.valid_acks
    flows = 16 * n            # mean bucket load 1/2 of 8: no bucket ever full
    sec = section("validack", "Valid cookie ACKs -> server SYNs (first pass)",
                  distinct_acks=n, flows=flows)
    pcap = ctx.work / "validack.pcap"
    pcaps.write_valid_acks(pcap, n, KEY)
    app = ["--protect", "80", "--flows", str(flows), "--mbufs", str(ctx.mbufs(n))]
    for r in range(ctx.runs):
        res = run_synwall(ctx, sec["id"], pcap_vdev("net_pcap0", pcap), app, frames=n,
                          table_bytes=flows * 98, measure="ramp",
                          ramp_counter="proxy.opened", ramp_target=n)
        f = res["final"]
        check(sec, f"run {r + 1}: proxy.opened reached {n} (every ACK opened one server "
              f"connection: recvcookie == opened, no flow refused)",
              f.get("proxy.opened") == n and f.get("syncache.recvcookie") == n and
              f.get("syncache.aborted") == 0)
        add_ramp_run(ctx, sec, r, res, "ACKs/s", "valid ACKs")
    return sec


def m_handshake(ctx: Ctx) -> dict:
    n = ctx.sizes.handshakes
    flows = 16 * n            # mean bucket load 1/2 of 8: no bucket ever full
    sec = section("handshake", "Complete proxied handshakes (first pass)", handshakes=n,
                  flows=flows)
    po, pi = ctx.work / "hs_outside.pcap", ctx.work / "hs_inside.pcap"
    info = pcaps.write_handshakes(po, pi, n, KEY)
    n = info["handshakes"]
    frames = info["outside_frames"] + info["inside_frames"]
    sec["params"].update(info)
    app = ["--protect", "80", "--flows", str(flows), "--mbufs", str(ctx.mbufs(frames))]
    for r in range(ctx.runs):
        res = run_synwall(ctx, sec["id"], pcap_vdev("net_pcap0", po), app,
                          inside=pcap_vdev("net_pcap1", pi), frames=frames,
                          table_bytes=flows * 98, measure="ramp",
                          ramp_counter="proxy.established", ramp_target=n)
        f = res["final"]
        check(sec, f"run {r + 1}: proxy.established reached {n} (= syncache.added = "
              f"completed = proxy.opened: each SYN, ACK and server SYN-ACK did its part)",
              f.get("proxy.established") == n and f.get("proxy.opened") == n and
              f.get("syncache.added") == n and f.get("syncache.completed") == n)
        add_ramp_run(ctx, sec, r, res, "handshakes/s", "handshakes")
    return sec


# --- 4: established-flow translation vs table size --------------------------------------

_PRELOADED = re.compile(r"(\d+) of (\d+) flows preloaded")


def m_data(ctx: Ctx) -> dict:
    frames = ctx.sizes.data_frames
    sec = section("data", "Established-flow translation (client -> server data segments)",
                  frames=frames, payload=64, flow_headroom=ctx.sizes.flow_headroom)
    files = {}
    for nf in ctx.sizes.data_flows:
        p = ctx.work / f"data{nf}.pcap"
        files[nf] = (p, pcaps.write_data(p, nf, frames, seed=nf))
    for r in range(ctx.runs):
        for nf in ctx.sizes.data_flows:
            p, info = files[nf]
            flows = ctx.sizes.flow_headroom * nf
            app = ["--protect", "80", "--flows", str(flows), "--preload-flows", str(nf),
                   "--mbufs", str(ctx.mbufs(frames))]
            res = run_synwall(ctx, sec["id"], pcap_vdev("net_pcap0", p), app, frames=frames,
                              table_bytes=flows * 98)
            pre = [m for ln in res["log_lines"] for m in _PRELOADED.findall(ln)]
            res["preloaded"] = int(pre[-1][0]) if pre else None
            res["distinct_flows_in_file"] = info["distinct_flows"]
            c = res["counters"]
            res["translated_pps"] = c.get("proxy.to_server", 0) / res["seconds"]
            res["translated_share"] = c.get("proxy.to_server", 0) / max(1, c.get(
                "port.outside_rx", 1))
            f = res["final"]
            check(sec, f"run {r + 1}, {nf} flows: preloaded {res['preloaded']} of {nf}; "
                  f"{res['translated_share']:.2%} of the window's segments translated "
                  f"(the rest: flows left out of a full bucket)",
                  res["preloaded"] is not None and res["preloaded"] >= 0.99 * nf and
                  res["translated_share"] >= 0.99)
            check(sec, f"run {r + 1}, {nf} flows: every translated segment sent inside "
                  f"(final to_server == inside_tx + tx_dropped share)",
                  f.get("proxy.to_server", 0) > 0 and
                  f.get("port.inside_tx", 0) + f.get("port.tx_dropped", 0) >=
                  f.get("proxy.to_server", 0))
            sec["params"][f"argv_{nf}"] = res["argv"]
            add_run(sec, f"{nf} flows", "segments/s", res["translated_pps"], brief(res))
            ctx.log(f"  run {r + 1} {nf:>8} flows {res['translated_pps'] / 1e6:7.2f} M seg/s  "
                    f"cpu {res['cpu_share'] or 0:.0%}  load {res['load_before']}")
    # Why the cost grows: the biggest table, but segments for only the smallest set of flows
    # (the first file's flows exist in every table). What is left of the slow-down then is
    # the table itself (the timer sweep's pass over its due-time summaries, a bigger table's bucket
    # arrays); the rest comes from lookups spread over many distinct flows (cache misses).
    small, big = ctx.sizes.data_flows[0], ctx.sizes.data_flows[-1]
    p, _ = files[small]
    label = f"{big} flows in the table, segments to {small} of them"
    sec["params"]["diagnostic"] = label
    for r in range(ctx.runs):
        flows = ctx.sizes.flow_headroom * big
        res = run_synwall(ctx, sec["id"], pcap_vdev("net_pcap0", p),
                          ["--protect", "80", "--flows", str(flows), "--preload-flows", str(big),
                           "--mbufs", str(ctx.mbufs(frames))], frames=frames,
                          table_bytes=flows * 98)
        c = res["counters"]
        res["translated_pps"] = c.get("proxy.to_server", 0) / res["seconds"]
        res["translated_share"] = c.get("proxy.to_server", 0) / max(1, c.get(
            "port.outside_rx", 1))
        check(sec, f"run {r + 1}, diagnostic: {res['translated_share']:.2%} translated",
              res["translated_share"] >= 0.99)
        sec.setdefault("diag", {"label": label, "runs": [], "detail": []})
        sec["diag"]["runs"].append(res["translated_pps"])
        sec["diag"]["detail"].append(brief(res))
        ctx.log(f"  run {r + 1} {label}: {res['translated_pps'] / 1e6:6.2f} M seg/s")
    return sec


# --- 5: SYN rate vs syncache occupancy --------------------------------------------------

def m_occupancy(ctx: Ctx) -> dict:
    n = ctx.sizes.syn_pcap
    pcap = syn_file(ctx)
    # Mean bucket load at most 1 of 16: with 8 a bucket of 9 comes up in a few % of runs
    # (random hash seed) and pauses the syncache in the middle of a measurement.
    hs, bl = 65536, 16
    sec = section("occupancy", "SYN rate vs syncache occupancy", distinct_syns=n,
                  hashsize=hs, bucketlimit=bl)
    vdev = pcap_vdev("net_pcap0", pcap)
    mb = ["--mbufs", str(ctx.mbufs(n))]
    tb = hs * bl * 98
    for r in range(ctx.runs):
        # Filling, then half full: cache limit 2n, n distinct SYNs.
        def half_full(proc):
            return {"steady": steady(proc, ctx.warm / 2, ctx.window)}
        res = run_synwall(ctx, "fill", vdev, ["--protect", "80", "--hashsize", str(hs),
                                             "--bucketlimit", str(bl), "--cachelimit",
                                             str(2 * n), *mb],
                          frames=n, table_bytes=tb, measure="ramp",
                          ramp_counter="syncache.added", ramp_target=n, after=half_full)
        st = res.pop("steady")
        f = res["final"]
        check(sec, f"run {r + 1}, filling: syncache.added reached {n}, no bucket overflow, "
              f"not paused", f.get("syncache.added") == n and
              f.get("syncache.bucketoverflow") == 0 and f.get("syncache.paused") == 0)
        add_run(sec, "filling 0 -> 50 % (insert)", "SYN/s", res.get("rate"), brief(res))
        cs = st["counters"]
        check(sec, f"run {r + 1}, half full: occupancy {st['gauges'].get('syncache.count')} "
              f"of cachelimit {2 * n}; window all dupsyn",
              st["gauges"].get("syncache.count") == n and
              near(cs.get("syncache.dupsyn", 0), cs.get("port.outside_rx", 0)) and
              cs.get("syncache.added", 0) == 0)
        add_run(sec, "half full (duplicate SYNs)", "SYN/s", st["pps"], st)
        ctx.log(f"  run {r + 1} filling {(res.get('rate') or 0) / 1e6:6.2f} M/s, half full "
                f"(dupsyn) {st['pps'] / 1e6:6.2f} M/s  load {res['load_before']}")

        # Full: cache limit n/2 < n distinct SYNs: every SYN evicts the oldest entry.
        res = run_synwall(ctx, "full", vdev, ["--protect", "80", "--hashsize", str(hs),
                                             "--bucketlimit", str(bl), "--cachelimit",
                                             str(n // 2), *mb], frames=n, table_bytes=tb)
        c = res["counters"]
        check(sec, f"run {r + 1}, full: {res['gauges'].get('syncache.count')} entries "
              f"(cachelimit {n // 2}); every SYN inserted and evicted the oldest "
              f"(cacheoverflow == added == outside_rx), no bucket overflow",
              res["gauges"].get("syncache.count") == n // 2 and
              near(c.get("syncache.cacheoverflow", 0), c.get("port.outside_rx", 0)) and
              near(c.get("syncache.added", 0), c.get("port.outside_rx", 0)) and
              res["final"].get("syncache.bucketoverflow") == 0)
        add_run(sec, "full (insert + evict oldest)", "SYN/s", res["pps"], brief(res))
        full_pps = res["pps"]

        # Paused: one entry per bucket, so that the first collision (after a few hundred
        # SYNs) overflows a bucket and pauses the syncache: cookie-only for 16 s. The few
        # hundred entries made before stay and answer their SYNs as duplicates.
        res = run_synwall(ctx, "paused", vdev, ["--protect", "80", "--hashsize", str(hs),
                                               "--bucketlimit", "1", *mb], frames=n)
        c = res["counters"]
        dup = c.get("syncache.dupsyn", 0) / max(1, c.get("port.outside_rx", 1))
        res["dupsyn_share"] = dup
        check(sec, f"run {r + 1}, paused: syncache.paused == 1 through the window, "
              f"{res['gauges'].get('syncache.count')} entries from before the pause; every SYN "
              f"answered with a cookie only (sendcookie + dupsyn == outside_rx, "
              f"dupsyn {dup:.1%})",
              res["gauges_before"].get("syncache.paused") == 1 and
              res["gauges"].get("syncache.paused") == 1 and
              near(c.get("syncache.sendcookie", 0) + c.get("syncache.dupsyn", 0),
                   c.get("port.outside_rx", 0)) and
              c.get("syncache.added", 0) == 0 and
              dup <= 1.5 * (res["gauges"].get("syncache.count") or 0) / n + 0.01)
        add_run(sec, "paused (cookie-only)", "SYN/s", res["pps"], brief(res))
        ctx.log(f"  run {r + 1} full {full_pps / 1e6:6.2f} M/s, paused {res['pps'] / 1e6:6.2f}"
                f" M/s  load {res['load_before']}")
    sec["notes"].append("empty: the cookie-mode runs of measurement 1 (no entry is ever made; "
                        "the lookup finds an empty cache)")
    return sec


# --- 6: memory --------------------------------------------------------------------------

def m_memory(ctx: Ctx, sizes_info: dict) -> dict:
    """Resident memory of the process (VmRSS, --no-huge so that table pages count), for a
    small and a big table, both filled; the difference divided by the difference in slots
    (and in stored entries)."""
    sec = section("memory", "Memory per entry", **{k: v for k, v in sizes_info.items()})
    mem = Memory(None, 0)
    mbufs = ["--mbufs", "8192"]
    nulls = ("net_null0,no-rx=1", "net_null1,no-rx=1")
    flows_runs = {}
    for nf in ctx.sizes.mem_flows:
        def rss(proc):
            time.sleep(0.3)
            return {"vmrss_kb": proc.vmrss_kb(), "flows": proc.tele.synwall().get("proxy.flows")}
        res = run_synwall(ctx, "memflows", nulls[0], ["--protect", "80", "--flows", str(nf),
                                                      "--preload-flows", str(nf), *mbufs],
                          inside=nulls[1], measure="none", mem=mem, mem_mb=2048, after=rss)
        slots = _flow_slots(nf)
        flows_runs[nf] = {"flows_option": nf, "slots": slots, "stored": res["flows"],
                          "vmrss_kb": res["vmrss_kb"]}
        ctx.log(f"  flow table --flows {nf}: {res['flows']} flows stored, VmRSS "
                f"{res['vmrss_kb'] / 1024:.1f} MiB")
    sec["flows"] = flows_runs
    small, big = (flows_runs[n] for n in ctx.sizes.mem_flows)
    d_kb = big["vmrss_kb"] - small["vmrss_kb"]
    sec["flow_bytes_per_slot"] = d_kb * 1024 / (big["slots"] - small["slots"])
    sec["flow_bytes_per_stored"] = d_kb * 1024 / (big["stored"] - small["stored"])

    syn_path = ctx.work / "memsyn.pcap"
    pcaps.write_syns(syn_path, ctx.sizes.mem_sc_syns, seed=7)
    sc_runs = {}
    for hs, bl in ctx.sizes.mem_sc:
        target = ctx.sizes.mem_sc_syns

        def filled(proc, target=target):
            deadline = time.monotonic() + 120
            s = {}
            while time.monotonic() < deadline:
                s = proc.tele.synwall()
                if s.get("port.outside_rx", 0) >= target:
                    break
                time.sleep(0.1)
            time.sleep(0.3)
            s = proc.tele.synwall()
            return {"vmrss_kb": proc.vmrss_kb(), "entries": s.get("syncache.count"),
                    "syns": s.get("port.outside_rx")}
        res = run_synwall(ctx, "memsc", pcap_vdev("net_pcap0", syn_path, infinite=False),
                          ["--protect", "80", "--syncookies", "0", "--hashsize", str(hs),
                           "--bucketlimit", str(bl), *mbufs], inside=nulls[1], measure="none",
                          mem=mem, mem_mb=2048, after=filled)
        sc_runs[f"{hs}x{bl}"] = {"hashsize": hs, "bucketlimit": bl, "slots": hs * bl,
                                 "stored": res["entries"], "syns": res["syns"],
                                 "vmrss_kb": res["vmrss_kb"]}
        ctx.log(f"  syncache {hs} x {bl}: {res['entries']} entries after {res['syns']} SYNs, "
                f"VmRSS {res['vmrss_kb'] / 1024:.1f} MiB")
    sec["syncache"] = sc_runs
    small, big = (sc_runs[f"{hs}x{bl}"] for hs, bl in ctx.sizes.mem_sc)
    d_kb = big["vmrss_kb"] - small["vmrss_kb"]
    sec["sc_bytes_per_slot"] = d_kb * 1024 / (big["slots"] - small["slots"])
    sec["sc_bytes_per_stored"] = d_kb * 1024 / max(1, big["stored"] - small["stored"])
    check(sec, "the big syncache took every SYN of the file",
          big["syns"] == ctx.sizes.mem_sc_syns)
    check(sec, "measured bytes per slot positive", sec["flow_bytes_per_slot"] > 0 and
          sec["sc_bytes_per_slot"] > 0)
    return sec


def _flow_slots(flows: int) -> int:
    b = 1
    while b < (flows + 7) // 8:
        b <<= 1
    return b * 8
