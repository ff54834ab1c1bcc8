"""synwall's benchmark: every measurement of BENCHMARKS.md, then BENCHMARKS.md and a plot.

    bash scripts/bench.sh                 # the full run (about 5 minutes on 2 cores)
    .venv/bin/python -m bench --quick --out /tmp/b --md /tmp/b/BENCHMARKS.md   # smoke run
    .venv/bin/python -m bench --render-only   # BENCHMARKS.md and the plot from the results

Runs as root (hugepages, network namespaces). The harness pins itself to CPU 0; every DPDK
process runs its main lcore on CPU 0 and its one worker lcore on CPU 1. --render-only
measures nothing: it renders the report (--md) and the plot again from OUT/results.json
(after a change of bench/METHOD.md or bench/report.py), as any user may.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from . import machine, report, suite
from .dpdk import DP_BIN, TESTPMD, Hugepages, Memory, loadavg

REPO = Path(__file__).resolve().parents[1]
ALL = ["syn", "badack", "validack", "handshake", "data", "occupancy", "memory", "peers",
       "profile", "restart", "sources"]


def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="one short run per measurement, small files (the smoke test)")
    ap.add_argument("--runs", type=int, help="runs per measurement (default 5, quick 1)")
    ap.add_argument("--warm", type=float, help="seconds before a steady window (default 1)")
    ap.add_argument("--window", type=float, help="seconds of a steady window (default 2)")
    ap.add_argument("--only", default=",".join(ALL),
                    help=f"comma list of measurements (default all: {','.join(ALL)})")
    ap.add_argument("--hugepages", choices=("auto", "off"),
                    help="reserve 2 MB hugepages for the run (default auto; quick: off)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out",
                    help="results.json, the plot and logs (default bench/out)")
    ap.add_argument("--md", type=Path, default=REPO / "BENCHMARKS.md",
                    help="the report (default BENCHMARKS.md)")
    ap.add_argument("--keep-work", action="store_true", help="keep the pcaps and DPDK logs")
    ap.add_argument("--render-only", action="store_true",
                    help="measure nothing: render the report and the plot again from "
                         "OUT/results.json")
    return ap.parse_args(argv)


def render_only(out: Path, md: Path) -> int:
    """BENCHMARKS.md and the plot from the results.json of an earlier run."""
    results_path = out / "results.json"
    try:
        results = json.loads(results_path.read_text())
    except (OSError, ValueError) as e:
        print(f"bench: cannot read {results_path}: {e}", file=sys.stderr)
        return 2
    have_plot = report.write(results, out, md)
    print(f"bench: wrote {md}" + (f" and {out / report.PLOT}" if have_plot else
                                  " (no plot: matplotlib is not installed)"))
    return 0


def main(argv: list[str] | None = None) -> int:
    a = parse(sys.argv[1:] if argv is None else argv)
    if a.render_only:
        return render_only(a.out, a.md)
    if os.geteuid() != 0:
        print("bench: run as root (hugepages, network namespaces, DPDK)", file=sys.stderr)
        return 2
    for p, what in ((DP_BIN, "synwall-dp (bash scripts/setup.sh builds it)"),
                    (Path(TESTPMD), "dpdk-testpmd (Debian package dpdk)")):
        if not Path(p).exists():
            print(f"bench: {p} missing: {what}", file=sys.stderr)
            return 2
    only = [m.strip() for m in a.only.split(",") if m.strip()]
    unknown = set(only) - set(ALL)
    if unknown:
        print(f"bench: unknown measurement(s) {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    try:
        os.sched_setaffinity(0, {0})       # CPU 1 belongs to the worker lcore
    except OSError:
        pass

    quick = a.quick
    runs = a.runs or (1 if quick else 5)
    warm = a.warm if a.warm is not None else (0.3 if quick else 1.0)
    window = a.window if a.window is not None else (0.5 if quick else 2.0)
    sizes = suite.Sizes.quick() if quick else suite.Sizes()
    out: Path = a.out
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="swbench-"))
    t_start = time.monotonic()

    def log(msg: str) -> None:
        print(f"[{time.monotonic() - t_start:6.1f}s] {msg}" if not msg.startswith("  ")
              else msg, flush=True)

    helpers = machine.build_helpers(work / "bin")
    tsc, tsc_how = machine.tsc_hz(helpers)
    info = machine.describe(tsc, tsc_how)
    hugepages = a.hugepages or ("off" if quick else "auto")
    huge, mem = Hugepages(0), Memory(None, 512)
    if hugepages == "auto":
        # The biggest run (1 M flows) needs about 1 GB; ask for room to spare first.
        for want in ((3072, 2048) if not quick else (1024,)):
            huge = Hugepages(want)
            if huge.setup():
                mem = Memory(huge.mount, 512)
                break
    info["memory_mode"] = mem.mode
    info["hugepage_note"] = huge.note or (f"{huge.pages} x 2 MB pages reserved for the run and "
                                          "given back after" if mem.huge_dir else
                                          "not asked for (--hugepages off)")
    info["load_start"] = loadavg()
    info["busy_start"] = machine.busy_processes()
    info["started"] = datetime.datetime.now(datetime.UTC).strftime(
        "%Y-%m-%d %H:%M UTC")
    log(f"bench: {'quick' if quick else 'full'} run, {runs} run(s) per measurement, "
        f"{mem.mode}; {info['cpu_model']}, {info['nproc']} CPUs, load {info['load_start']}")
    for p in info["busy_start"]:
        log(f"bench: another busy process shares the CPUs: {p['name']} (pid {p['pid']}, "
            f"{p['cpu_share']:.0%} of a CPU): the rates will be low")
    ctx = suite.Ctx(work=work, mem=mem, sizes=sizes, runs=runs, warm=warm, window=window,
                    log=log, min_samples=0 if quick else 5,
                    min_cpu_share=0.0 if quick else 0.9)
    results = {"machine": info, "quick": quick, "runs": runs, "warm": warm, "window": window,
               "sections": {}, "errors": {}, "timing": {}}
    sizes_info = machine.entry_sizes(helpers)
    rc = 0
    try:
        for name in only:
            log(f"measurement {name}")
            t0 = time.monotonic()
            try:
                if name == "memory":
                    sec = suite.m_memory(ctx, sizes_info)
                elif name == "peers":
                    from . import peers
                    sec = peers.m_peers(ctx)
                elif name == "profile":
                    from . import profile
                    sec = profile.m_profile(ctx)
                elif name == "restart":
                    from . import restart
                    sec = restart.m_restart(ctx)
                elif name == "sources":
                    from . import sources
                    sec = sources.m_sources(ctx)
                else:
                    sec = getattr(suite, f"m_{name}")(ctx)
                results["sections"][name] = sec
                bad = [c["what"] for c in sec["checks"] if not c["ok"]]
                for b in bad:
                    log(f"  CHECK FAILED: {b}")
            except Exception as e:     # one broken measurement does not lose the others
                traceback.print_exc()
                results["errors"][name] = f"{type(e).__name__}: {e}"[:2000]
                rc = 1
            results["timing"][name] = round(time.monotonic() - t0, 1)
    finally:
        huge.teardown()
        info["load_end"] = loadavg()
        info["busy_end"] = machine.busy_processes()
        info["elapsed_s"] = round(time.monotonic() - t_start, 1)
        (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
        try:
            report.write(results, out, a.md)
            log(f"wrote {a.md} and {out}/ in {info['elapsed_s']} s")
        except Exception:
            traceback.print_exc()
            rc = 1
        if a.keep_work:
            log(f"work files kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    failed = sum(not c["ok"] for s in results["sections"].values() for c in s["checks"])
    if failed:
        log(f"{failed} consistency check(s) failed (see the report)")
        rc = rc or 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
