"""Instructions per packet of the fast path at two commits or more, counted by callgrind.

    python3 -m bench.instr                      # 5c5d04f against HEAD
    python3 -m bench.instr BASE REV [REV...]    # other commits, each compared with BASE
    python3 -m bench.instr --bursts 256 --cache-sim

Each commit is exported (`git archive`) into build-instr/<sha>/src, given this tree's driver
(tests/unit/bench_pipeline.c, and its meson.build stanza where the commit has none) so that
all run the same packets, and built with the dataplane's own flags (buildtype=release, LTO;
plus -g, which changes no instruction) in build-instr/<sha>/build. Then each case runs once
under `valgrind --tool=callgrind`, collecting only inside the driver's bench_outside() and
bench_inside(); the table gives the collected instructions (Ir) over the packets measured,
and per case the functions whose cost changed most (callgrind_annotate, exclusive cost). The
method: bench/METHOD.md, "Instructions per packet". Needs git, meson, ninja, valgrind and
the dataplane's build dependencies; no root, no DPDK at run time. Every step has a time
limit (STEP_TIMEOUT_S).
"""
from __future__ import annotations

import argparse
import datetime
import io
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DRIVER = Path("tests/unit/bench_pipeline.c")
CASES = {
    "syn": "SYN -> SYN-ACK (proxy port, Linux options, new syncache entry)",
    "badack": "invalid ACK (no flow, bad cookie, dropped)",
    "c2s": "spliced data, client -> server",
    "s2c": "spliced data, server -> client",
}
BASELINE = "5c5d04f"
STEP_TIMEOUT_S = 540    # any one build step or callgrind run
# Added to the tests/unit/meson.build of a commit without the driver (as in this tree's).
STANZA = """
# The fast path's instructions per packet under callgrind: a measurement, not a test
# (python3 -m bench.instr builds and runs it; bench/METHOD.md, "Instructions per packet").
executable('bench_pipeline', files('bench_pipeline.c'), link_with: [fake_dp, sw_core],
           include_directories: include_directories('../../dataplane'),
           dependencies: [dpdk, threads])
"""


class InstrError(Exception):
    """A step failed: its command and the end of its output."""


@dataclass
class Run:
    packets: int
    digest: str
    counters: str
    events: dict[str, int]
    functions: dict[str, int]       # exclusive Ir by source file:function


def sh(cmd: list[str], cwd: Path | None = None, log: Path | None = None) -> str:
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                           timeout=STEP_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        raise InstrError("%s: no end after %d s" % (" ".join(cmd), STEP_TIMEOUT_S)) from e
    if log is not None:
        log.write_text(p.stdout + p.stderr)
    if p.returncode != 0:
        tail = "\n".join((p.stdout + p.stderr).strip().splitlines()[-15:])
        raise InstrError("%s: exit %d\n%s" % (" ".join(cmd), p.returncode, tail))
    return p.stdout


def prepare(rev: str, work: Path) -> tuple[str, Path]:
    """The commit's tree with this tree's driver, built; returns (short sha, executable)."""
    sha = sh(["git", "rev-parse", "--short=7", rev + "^{commit}"], cwd=REPO).strip()
    top = work / sha
    src, build = top / "src", top / "build"
    if not src.is_dir():
        tmp = top / "src.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        tar = subprocess.run(["git", "archive", sha], cwd=REPO, capture_output=True,
                             check=True, timeout=STEP_TIMEOUT_S).stdout
        with tarfile.open(fileobj=io.BytesIO(tar)) as t:
            t.extractall(tmp, filter="data")
        tmp.rename(src)
    shutil.copyfile(REPO / DRIVER, src / DRIVER)
    mb = src / "tests/unit/meson.build"
    if "'bench_pipeline'" not in mb.read_text():
        mb.write_text(mb.read_text() + STANZA)
    if not (build / "build.ninja").exists():
        shutil.rmtree(build, ignore_errors=True)
        # -g changes no instruction (the same Ir either way) and lets callgrind_annotate
        # name the source file of inlined code
        sh(["meson", "setup", str(build), str(src), "--buildtype=release", "-Db_lto=true",
            "-Dc_args=-g", "-Dc_link_args=-g"], log=top / "setup.log")
    sh(["ninja", "-C", str(build), "tests/unit/bench_pipeline"], log=top / "build.log")
    return sha, build / "tests/unit/bench_pipeline"


_FN = re.compile(r"^\s*([\d,]+)\s+(\S.*?)(?:\s+\[.*\])?$")


def annotate(cg: Path) -> dict[str, int]:
    """Exclusive Ir by "source file:function": the file the code came from (an inlined
    function's own), the function it was compiled into."""
    out = sh(["callgrind_annotate", "--threshold=100", "--inclusive=no", "--show=Ir",
              "--show-percs=no", "--auto=no", str(cg)])
    fns: dict[str, int] = {}
    for line in out.split("file:function", 1)[-1].splitlines():
        m = _FN.match(line)
        if m and "PROGRAM TOTALS" not in line:
            name = re.sub(r"^.*?/src/", "", m.group(2))
            fns[name] = fns.get(name, 0) + int(m.group(1).replace(",", ""))
    return fns


def measure(sha: str, exe: Path, case: str, bursts: int, cache_sim: bool, work: Path) -> Run:
    top = work / sha
    cg = top / ("%s.callgrind" % case)
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s" % cg,
           "--toggle-collect=bench_outside", "--toggle-collect=bench_inside"]
    if cache_sim:
        cmd.append("--cache-sim=yes")
    out = sh(cmd + [str(exe), case, str(bursts)], log=top / ("%s.log" % case))
    m = re.search(r"^case \S+ packets (\d+) digest (\S+)$", out, re.M)
    c = re.search(r"^counters(.*)$", out, re.M)
    if m is None or c is None:
        raise InstrError("%s %s: no result line" % (exe, case))
    text = cg.read_text()
    names = re.search(r"^events: (.*)$", text, re.M)
    totals = re.search(r"^(?:summary|totals): (.*)$", text, re.M)
    if names is None or totals is None:
        raise InstrError("%s: no totals" % cg)
    keys, values = names.group(1).split(), [int(v) for v in totals.group(1).split()]
    # callgrind leaves trailing zeros out
    events = dict(zip(keys, values + [0] * (len(keys) - len(values)), strict=True))
    if events.get("Ir", 0) == 0:
        raise InstrError("%s: nothing collected (bench_outside/bench_inside not found?)" % cg)
    return Run(int(m.group(1)), m.group(2), c.group(1).strip(), events, annotate(cg))


def machine() -> str:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    vg = sh(["valgrind", "--version"]).strip()
    cc = sh(["cc", "--version"]).splitlines()[0]
    return "%s; %s; %s" % (model or "unknown CPU", vg, cc)


def per_pkt(r: Run, ev: str) -> float:
    return r.events.get(ev, 0) / r.packets


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def table(shas: list[str], runs: dict[tuple[str, str], Run], cache_sim: bool,
          top: int) -> str:
    """The tables; every commit after the first is compared with the first."""
    base, later = shas[0], shas[1:]
    head = ["case", *shas]
    for s in later:
        head += ["%s − %s" % (s, base), "%s / %s" % (s, base)]
    head += ["packets", "same output"]
    lines = ["Instructions per packet (callgrind Ir in sw_outside_burst/sw_inside_burst over "
             "the packets measured)", "", _row(head),
             _row(["---"] + ["---:"] * (len(head) - 2) + ["---"])]
    for case, what in CASES.items():
        rs = [runs[(s, case)] for s in shas]
        ir = [per_pkt(r, "Ir") for r in rs]
        cells = ["%s: %s" % (case, what)] + ["%.1f" % v for v in ir]
        for v in ir[1:]:
            cells += ["%+.1f" % (v - ir[0]), "%.3f" % (v / ir[0])]
        same = all(r.digest == rs[0].digest for r in rs)
        cells += ["%d" % rs[0].packets,
                  "yes" if same else "no (%s)" % " / ".join(r.digest for r in rs)]
        lines.append(_row(cells))
    if cache_sim:
        head = ["case"] + ["%s %s" % (ev, s) for ev in ("I1 misses", "D1 misses",
                                                        "LL misses") for s in shas]
        lines += ["", "Simulated cache misses per packet (callgrind --cache-sim=yes; LL: the "
                  "last level)", "", _row(head), _row(["---"] + ["---:"] * (len(head) - 1))]
        sums = (("I1mr",), ("D1mr", "D1mw"), ("ILmr", "DLmr", "DLmw"))
        for case in CASES:
            rs = [runs[(s, case)] for s in shas]
            lines.append(_row([case] + ["%.3f" % sum(per_pkt(r, ev) for ev in evs)
                                        for evs in sums for r in rs]))
    for case in CASES:
        rs = [runs[(s, case)] for s in shas]
        per = [{n: v / r.packets for n, v in r.functions.items()} for r in rs]
        names = set().union(*per)

        def change(n: str, per: list[dict[str, float]] = per) -> float:
            return max(abs(p.get(n, 0.0) - per[0].get(n, 0.0)) for p in per[1:])

        head = ["file:function", *shas] + ["%s − %s" % (s, base) for s in later]
        lines += ["", "%s: exclusive Ir per packet by source file and the function it was "
                  "compiled into, largest changes first" % case, "", _row(head),
                  _row(["---"] + ["---:"] * (len(head) - 1))]
        for n in sorted(names, key=lambda n: (-change(n), n))[:top]:
            if change(n) < 0.05:
                break
            lines.append(_row([n] + ["%.1f" % p.get(n, 0.0) for p in per] +
                              ["%+.1f" % (p.get(n, 0.0) - per[0].get(n, 0.0))
                               for p in per[1:]]))
        lines.append(_row(["counters"] + [r.counters for r in rs] + [""] * len(later)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m bench.instr", description=__doc__.split(
        "\n\n")[0])
    ap.add_argument("revs", nargs="*", metavar="REV",
                    help="two or more commits, the baseline first (default: %s HEAD)"
                    % BASELINE)
    ap.add_argument("--bursts", type=int, default=1024, help="measured bursts of 32 per case")
    ap.add_argument("--cache-sim", action="store_true", help="also callgrind's cache misses")
    ap.add_argument("--top", type=int, default=8, help="functions listed per case")
    ap.add_argument("--work", type=Path, default=REPO / "build-instr",
                    help="trees, builds and callgrind files (default build-instr/)")
    ap.add_argument("--md", type=Path, help="also write the table to this file")
    args = ap.parse_args(argv)
    revs = args.revs or [BASELINE, "HEAD"]
    if len(revs) < 2 or not 1 <= args.bursts <= 65536:
        ap.error("two commits or more, and 1..65536 bursts")
    try:
        built = [prepare(r, args.work) for r in revs]
        runs: dict[tuple[str, str], Run] = {}
        for sha, exe in built:
            for case in CASES:
                print("callgrind: %s %s" % (sha, case), file=sys.stderr, flush=True)
                runs[(sha, case)] = measure(sha, exe, case, args.bursts, args.cache_sim,
                                            args.work)
    except InstrError as e:
        print("bench.instr: %s" % e, file=sys.stderr)
        return 1
    shas = [sha for sha, _ in built]
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = ("Generated by `python3 -m bench.instr %s` (%s); the method is bench/METHOD.md, "
              "\"Instructions per packet\".\n\n%s\n\nMachine: %s. %d bursts of 32 per case.\n"
              % (" ".join(sys.argv[1:] if argv is None else argv), when,
                 table(shas, runs, args.cache_sim, args.top), machine(), args.bursts))
    print(report)
    if args.md is not None:
        args.md.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
