"""Measurement 10: the time without forwarding across a restart of the dataplane, with its
tables full of established flows, as an operator's synwalld does it.

    client ns (cli0) ==veth==> swo-<tag> [synwall-dp under synwalld] swi-<tag> ==veth==> server ns

    graceful: `synwallctl dataplane restart` (GetStatus/RestartDataplane on synwalld's API):
              SIGTERM, the old process saves its tables' scalars and exits, the new one
              takes the tables over from the state file as they are;
    crash:    SIGKILL of synwall-dp; synwalld's supervisor sees it gone, starts it again on
              the same file, and the new process rebuilds the tables from their slots.

The tables hold N established flows made at the first start (--preload-flows N, port 80
protected), and N flows are taken over at every restart (checked in the dataplane's log).
The probe: a UDP datagram every PROBE_MS from the client namespace to the server namespace
(bridged by synwall, through the same worker loop as every segment), each carrying its
sequence number; the receiver notes each arrival on CLOCK_MONOTONIC, which every namespace
shares. The gap is the longest time between two consecutive arrivals around the restart
(resolution PROBE_MS); lost is what was sent and never arrived. Neighbour entries are made
permanent on both sides, so that no ARP/ND retry adds to the gap.

Also the take-over alone, in-process (build/tests/unit/bench_state): one worker's flow table
of N flows opened again and adopted after a clean stop and after a crash.
"""
from __future__ import annotations

import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .dpdk import DP_BIN
from .suite import Ctx, add_run, check, section

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from synlab.wire import CLIENT_IP, SERVER_IP, Wire, sh  # noqa: E402

BENCH_STATE = REPO / "build" / "tests" / "unit" / "bench_state"
PROBE_PORT = 9
PROBE_MS = 1.0
# The probe's two processes on CPU 0 (CPU 1 is the worker's) at a real-time priority: they
# need little CPU, and must not wait behind the new process's EAL start on the same CPU, which
# would stretch the gap they measure.
PROBE_SCHED = ("taskset", "-c", "0", "chrt", "-f", "10")
UP_TIMEOUT_S = 60.0

RECEIVER = r"""
import json, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(float(sys.argv[3]))
print("ready", flush=True)
got = []
try:
    while True:
        data = s.recv(64)
        if data == b"end":
            break
        got.append((int.from_bytes(data[:8], "big"), time.monotonic()))
except socket.timeout:
    pass
print(json.dumps(got), flush=True)
"""

SENDER = r"""
import json, os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], int(sys.argv[2])))
period = float(sys.argv[3]) / 1000
stop = sys.argv[4]
sent, t0 = [], time.monotonic()
while not os.path.exists(stop) and time.monotonic() - t0 < float(sys.argv[5]):
    due = t0 + len(sent) * period
    now = time.monotonic()
    if due > now:
        time.sleep(due - now)
    try:
        s.send(len(sent).to_bytes(8, "big") + bytes(24))
    except OSError:
        pass
    sent.append(time.monotonic())
for _ in range(3):             # the first that arrives ends the receiver
    try:
        s.send(b"end")
    except OSError:
        break
    time.sleep(0.05)
print(json.dumps(sent), flush=True)
"""


def _pow2_at_least(n: int) -> int:
    p = 1
    while p < n:
        p <<= 1
    return p


class Appliance:
    """synwalld (a process of its own, as an operator runs it) supervising synwall-dp on the
    wire's two ports, its tables preloaded with `flows` established flows."""

    def __init__(self, ctx: Ctx, wire: Wire, flows: int, tag: str):
        self.ctx, self.wire, self.flows = ctx, wire, flows
        self.dir = Path(tempfile.mkdtemp(prefix=f"swbrst-{tag}-", dir="/dev/shm"))
        self.prefix = f"swb{tag}"
        self.socket = self.dir / "api.sock"
        # on the hugetlbfs mount when the run has one, as an operator with hugepages would
        # put it; else tmpfs (the runtime directory's default)
        huge = ctx.mem.huge_dir
        self.tables = (Path(huge) / f"swbrst-{tag}.tables" if huge
                       else self.dir / "tables")
        self.log = self.dir / "dataplane.log"
        table = _pow2_at_least(2 * flows)
        # with hugepages, no -m: EAL's memory grows as it is used, as with synwalld's default
        # (an empty [dataplane] eal); without them, --no-huge needs its -m
        eal = ["--no-pci", *(["--huge-dir", huge, "--huge-unlink"] if huge
                             else ctx.mem.eal(1024)),
               "--log-level=lib.eal:error"]
        self.config = self.dir / "synwall.toml"
        self.config.write_text(f"""
[dataplane]
binary = {json.dumps(str(DP_BIN))}
eal = {json.dumps(eal)}
lcores = "0-1"
outside = "net_af_packet0,iface={wire.outside_if}"
inside = "net_af_packet1,iface={wire.inside_if}"
flows = {max(table, 65536)}
args = ["--preload-flows", "{flows}"]
file_prefix = "{self.prefix}"
state_dir = "{self.dir}"
runtime_dir = "{self.dir}"
state_file = "{self.tables}"
start_timeout = 120

[[policy]]
ports = "80"
mode = "proxy"

[api]
unix_socket = "{self.socket}"
""")
        self.proc: subprocess.Popen | None = None
        self.out = open(self.dir / "synwalld.log", "w")

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "synwall.daemon", "-c", str(self.config)],
            stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_running(0)

    def client(self):
        from synwall.client import Client
        return Client(str(self.socket), timeout=30)

    def status(self):
        try:
            with self.client() as c:
                return c.status()
        except Exception:      # noqa: BLE001 - not answering yet
            return None

    def wait_running(self, restarts: int, old_pid: int = 0) -> float:
        """Until the dataplane runs (after at least `restarts` restarts, with a pid other
        than old_pid); returns the time it was seen so."""
        deadline = time.monotonic() + UP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"synwalld exited {self.proc.returncode}:\n"
                                   + (self.dir / "synwalld.log").read_text()[-3000:])
            st = self.status()
            if (st is not None and st.dataplane_running and st.dataplane_restarts >= restarts
                    and st.dataplane_pid not in (0, old_pid)):
                return time.monotonic()
            time.sleep(0.05)
        raise RuntimeError(f"the dataplane did not run again within {UP_TIMEOUT_S} s:\n"
                           + self.dataplane_log()[-3000:])

    def dataplane_log(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            subprocess.run([sys.executable, "-m", "synwall.daemon", "-c", str(self.config),
                            "--stop-dataplane"], capture_output=True, timeout=60)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def destroy(self) -> None:
        self.stop()
        # a dataplane left by a synwalld that could not stop it: ours, by its pid file
        pid_file = self.dir / "dataplane.pid"
        try:
            pid = int(json.loads(pid_file.read_text())["pid"])
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError, KeyError, TypeError):
            pass
        self.out.close()
        if self.tables.exists():
            self.tables.unlink()
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)


def _pin_neighbours(wire: Wire) -> None:
    """Permanent neighbour entries both ways: a retry of ARP across the gap would add its
    own timers to it."""
    def mac(ns: str, dev: str) -> str:
        return json.loads(sh("ip", "-j", "link", "show", dev, ns=ns).stdout)[0]["address"]
    cli, srv = mac(wire.client_ns, "cli0"), mac(wire.server_ns, "srv0")
    sh("ip", "neigh", "replace", SERVER_IP, "lladdr", srv, "dev", "cli0", "nud", "permanent",
       ns=wire.client_ns)
    sh("ip", "neigh", "replace", CLIENT_IP, "lladdr", cli, "dev", "srv0", "nud", "permanent",
       ns=wire.server_ns)


def _probe(wire: Wire, work: Path, act, limit_s: float, before_s: float,
           after_s: float) -> dict:
    """Probe datagrams through the appliance while act() restarts it; act returns when
    forwarding should be back (the dataplane running again). The arrivals' largest gap,
    and what was lost."""
    stop = work / "probe.stop"
    stop.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    recv = subprocess.Popen(["ip", "netns", "exec", wire.server_ns, *PROBE_SCHED,
                             sys.executable, "-c", RECEIVER, SERVER_IP, str(PROBE_PORT),
                             str(limit_s)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert recv.stdout is not None
        if recv.stdout.readline().strip() != "ready":
            raise RuntimeError("the probe's receiver did not start")
        send = subprocess.Popen(["ip", "netns", "exec", wire.client_ns, *PROBE_SCHED,
                                 sys.executable, "-c", SENDER, SERVER_IP, str(PROBE_PORT),
                                 str(PROBE_MS), str(stop), str(limit_s)],
                                stdout=subprocess.PIPE, text=True, env=env)
        time.sleep(before_s)
        t_act = time.monotonic()
        info = act()
        t_up = time.monotonic()
        time.sleep(after_s)
        stop.touch()
        sent = json.loads(send.communicate(timeout=30)[0])
        got = json.loads(recv.communicate(timeout=30)[0])
    finally:
        for p in (recv,):
            if p.poll() is None:
                p.kill()
                p.wait()
    arrivals = [t for _, t in got]
    seqs = {s for s, _ in got}
    gaps = [(b - a, a) for a, b in zip(arrivals, arrivals[1:], strict=False)]
    longest, at = max(gaps) if gaps else (0.0, 0.0)
    lost = [i for i in range(len(sent)) if i not in seqs]
    period = ((sent[-1] - sent[0]) / (len(sent) - 1) * 1000) if len(sent) > 1 else 0.0
    return {"gap_ms": longest * 1000, "gap_start_ms": (at - t_act) * 1000,
            "sent": len(sent), "received": len(got), "lost": len(lost),
            "duplicates": len(got) - len(seqs),
            "lost_window_ms": ((sent[lost[-1]] - sent[lost[0]]) * 1000 if lost else 0.0),
            "probe_period_ms": period, "arrived_after_up": sum(t > t_up for t in arrivals),
            "act_s": t_up - t_act, **info}


def _restart(app: Appliance, kind: str, pid: int) -> dict:
    """Restart the dataplane; return once synwalld has it running again."""
    if kind == "graceful":
        with app.client() as c:
            r = c.restart_dataplane()
        return {"down_s": r.down_seconds, "stop_s": r.stop_seconds}
    os.kill(pid, signal.SIGKILL)
    app.wait_running(0, pid)
    return {}


_TAKEN = re.compile(r"queue 0: (\d+) flows and (\d+) syncache entries taken over")


def _taken_over(log: str, before: int) -> tuple[int, bool]:
    """Flows the latest start took over (from the log past `before`) and whether it
    rebuilt the tables."""
    m = list(_TAKEN.finditer(log, before))
    if not m:
        return 0, False
    line = log[m[-1].start():log.find("\n", m[-1].start())]
    return int(m[-1].group(1)), "tables rebuilt" in line


def _bench_state(flows: int, where: Path) -> dict:
    r = subprocess.run([str(BENCH_STATE), str(flows), str(where)], capture_output=True,
                       text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"bench_state failed:\n{r.stdout}\n{r.stderr}")
    out = {}
    for kind in ("clean stop", "crash"):
        m = re.search(r"after a %s: open and map ([\d.]+) ms, attach ([\d.]+) ms, adopt "
                      r"([\d.]+) ms .*: (\d+) flows" % kind, r.stdout)
        if not m:
            raise RuntimeError(f"bench_state output not understood:\n{r.stdout}")
        out[kind] = {"open_ms": float(m[1]), "attach_ms": float(m[2]),
                     "adopt_ms": float(m[3]), "flows": int(m[4])}
    return out


def m_restart(ctx: Ctx) -> dict:
    sizes = ctx.sizes.restart_flows
    runs = min(ctx.runs, 3)
    sec = section("restart", "Restarts: the time without forwarding", sizes=list(sizes),
                  runs=runs, probe_ms=PROBE_MS,
                  memory=ctx.mem.mode, state_file=("hugetlbfs" if ctx.mem.huge_dir
                                                   else "tmpfs (/dev/shm)"))
    for i, flows in enumerate(sizes):
        where = (Path(ctx.mem.huge_dir) if ctx.mem.huge_dir else Path("/dev/shm")) / \
            f"swbench-state-{flows}"
        try:
            st = _bench_state(flows, where)
        finally:
            where.unlink(missing_ok=True)
        for kind, label in (("clean stop", "take-over after a clean stop"),
                            ("crash", "take-over after a crash (rebuilt)")):
            d = st[kind]
            add_run(sec, f"{label}, a table of {flows}", "ms",
                    round(d["open_ms"] + d["attach_ms"] + d["adopt_ms"], 2), d)

        wire = Wire(f"rst{i}")
        wire.create()
        app = Appliance(ctx, wire, flows, wire.tag)
        try:
            app.start()
            log = app.dataplane_log()
            pre = re.search(r"lcore \d+: (\d+) of (\d+) flows preloaded", log)
            check(sec, f"{flows} flows preloaded at the first start",
                  pre is not None and int(pre[1]) == flows)
            _pin_neighbours(wire)
            for kind in ("graceful", "crash"):
                for _ in range(runs):
                    st0 = app.status()
                    assert st0 is not None
                    mark = len(app.dataplane_log())

                    res = _probe(wire, ctx.work,
                                 functools.partial(_restart, app, kind, st0.dataplane_pid),
                                 UP_TIMEOUT_S + 20, *ctx.sizes.restart_probe_s)
                    taken, rebuilt = _taken_over(app.dataplane_log(), mark)
                    res.update({"taken_over": taken, "rebuilt": rebuilt})
                    add_run(sec, f"{kind} restart, {flows} flows", "ms",
                            round(res["gap_ms"], 1), res)
                    check(sec, f"{kind} restart at {flows} flows: all {flows} flows taken over"
                          f" ({'rebuilt' if kind == 'crash' else 'as saved'})",
                          taken == flows and rebuilt == (kind == "crash"))
                    # the longest gap is the restart's: it began at the stop signal (give or
                    # take a probe) and ended before synwalld had the dataplane back; probes
                    # arrived after it, each once
                    check(sec, f"{kind} restart at {flows} flows: the gap is the restart's, "
                          "and forwarding came back",
                          -5 * PROBE_MS <= res["gap_start_ms"] <= res["act_s"] * 1000 and
                          res["arrived_after_up"] > 0 and res["duplicates"] == 0 and
                          res["lost_window_ms"] <= res["gap_ms"] + 2 * PROBE_MS)
        finally:
            app.destroy()
            wire.destroy()
        ctx.log(f"  restart {flows} flows: " + ", ".join(
            f"{label.split(',')[0]} {sorted(r['runs'])}" for label, r in sec["rows"].items()
            if label.endswith((f", {flows} flows", f" of {flows}"))))
    return sec
