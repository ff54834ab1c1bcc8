"""Running DPDK processes (synwall-dp, dpdk-testpmd) for the benchmark and reading them.

Rates come from DPDK telemetry (the process's dpdk_telemetry.v2 socket): the port's
`/ethdev/stats,0` packet count for both programs (the same source for synwall and testpmd),
and synwall's own counters (`/synwall/stats`) to check what the packets did. The worker
lcore's real run time comes from /proc/<pid>/task/<tid>/schedstat, so that a window in which
someone else's process took CPU 1 away shows as a CPU share below 100 %.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DP_BIN = Path(os.environ.get("SYNWALL_DP", REPO / "build" / "dataplane" / "synwall-dp"))
TESTPMD = shutil.which("dpdk-testpmd") or "/usr/bin/dpdk-testpmd"
RUNTIME = Path("/var/run/dpdk")
HUGE_SYSFS = Path("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")
KEY = "000102030405060708090a0b0c0d0e0f"
WORKER_CPU = 1


# --- memory: hugepages when the machine gives them -------------------------------------

class Hugepages:
    """2 MB hugepages reserved and mounted for the run, given back afterwards."""

    def __init__(self, want_mb: int):
        self.want_pages = (want_mb + 1) // 2
        self.orig: int | None = None
        self.mount: str | None = None
        self.pages = 0
        self.note = ""

    def setup(self) -> bool:
        try:
            self.orig = int(HUGE_SYSFS.read_text())
            HUGE_SYSFS.write_text(str(self.orig + self.want_pages))
            got = int(HUGE_SYSFS.read_text()) - self.orig
            if got < self.want_pages:
                self.note = f"only {got} of {self.want_pages} 2 MB pages could be reserved"
                self.teardown()
                return False
            self.pages = got
            self.mount = tempfile.mkdtemp(prefix="swbench-huge-")
            subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "nodev",
                            self.mount], check=True, capture_output=True, text=True)
            return True
        except (OSError, ValueError, subprocess.CalledProcessError) as e:
            self.note = f"hugepages unavailable ({str(e).strip()[:120]})"
            self.teardown()
            return False

    def teardown(self) -> None:
        if self.mount:
            subprocess.run(["umount", self.mount], capture_output=True)
            try:
                os.rmdir(self.mount)
            except OSError:
                pass
            self.mount = None
        if self.orig is not None:
            try:
                HUGE_SYSFS.write_text(str(self.orig))
            except OSError:
                pass
            self.orig = None


@dataclass
class Memory:
    """EAL memory options: hugepages from huge_dir, or --no-huge."""
    huge_dir: str | None
    mem_mb: int

    @property
    def mode(self) -> str:
        return "hugepages (2 MB)" if self.huge_dir else "no hugepages (--no-huge, 4 KB pages)"

    def eal(self, mem_mb: int | None = None) -> list[str]:
        m = str(mem_mb or self.mem_mb)
        if self.huge_dir:
            return ["--huge-dir", self.huge_dir, "--huge-unlink", "-m", m]
        return ["--no-huge", "-m", m]


# --- telemetry -------------------------------------------------------------------------

class Telemetry:
    def __init__(self, prefix: str):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.settimeout(5)
        self.s.connect(str(RUNTIME / prefix / "dpdk_telemetry.v2"))
        self.info = json.loads(self.s.recv(65536))

    def query(self, cmd: str):
        self.s.send(cmd.encode())
        reply = json.loads(self.s.recv(1 << 20))
        return reply[cmd.split(",")[0]]

    def synwall(self) -> dict:
        groups = self.query("/synwall/stats") or {}
        return {f"{g}.{k}": v for g, d in groups.items() for k, v in d.items()}

    def port(self, port: int = 0) -> dict:
        return self.query(f"/ethdev/stats,{port}") or {}

    def close(self) -> None:
        self.s.close()


# --- the processes ---------------------------------------------------------------------

_seq = 0


def new_prefix(kind: str) -> str:
    global _seq
    _seq += 1
    return f"swb{kind}{os.getpid()}_{_seq}"


def eal_common(prefix: str, mem: Memory, mem_mb: int | None = None) -> list[str]:
    return ["--no-pci", "--file-prefix", prefix, "-l", f"0-{WORKER_CPU}",
            "--log-level=lib.eal:error", *mem.eal(mem_mb)]


def steal_ticks(cpu: int = WORKER_CPU) -> int:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            f = line.split()
            return int(f[8]) if len(f) > 8 else 0
    return 0


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class DpdkProc:
    """One synwall-dp or testpmd process on a pcap vdev, with its telemetry."""

    def __init__(self, kind: str, argv: list[str], prefix: str, workdir: Path):
        self.kind, self.argv, self.prefix = kind, argv, prefix
        self.log_path = workdir / f"{prefix}.log"
        self.p: subprocess.Popen | None = None
        self.tele: Telemetry | None = None
        self.worker_tid: int | None = None
        self.load_before = loadavg()

    def start(self) -> DpdkProc:
        self.load_before = loadavg()
        self._log = open(self.log_path, "w")
        self.p = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
        return self

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def _check_alive(self) -> None:
        if self.p.poll() is not None:
            raise RuntimeError(f"{self.kind} exited {self.p.returncode} early:\n"
                               f"{' '.join(self.argv)}\n{self.log()[-3000:]}")

    def wait_launched(self, timeout: float = 90.0, marker: str | None = None) -> None:
        """Until the telemetry socket answers and the worker lcore runs (busy polling);
        with marker, until that line is in the log as well (synwall prints 'worker(s)'
        just before it launches the workers)."""
        sock = RUNTIME / self.prefix / "dpdk_telemetry.v2"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            if sock.exists() and (marker is None or marker in self.log()):
                break
            time.sleep(0.001 if marker else 0.02)
        else:
            raise RuntimeError(f"{self.kind} not ready in {timeout:.0f} s:\n{self.log()[-3000:]}")
        if self.tele is None:
            self.tele = Telemetry(self.prefix)

    def wait_busy(self, timeout: float = 90.0) -> None:
        """Until the worker thread is running (its CPU time grows)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            a = self.worker_runtime_ns()
            time.sleep(0.05)
            b = self.worker_runtime_ns()
            if a is not None and b is not None and b - a > 25_000_000:
                return
        raise RuntimeError(f"{self.kind}: worker lcore not running:\n{self.log()[-3000:]}")

    def find_worker(self) -> int | None:
        if self.worker_tid is not None:
            return self.worker_tid
        try:
            for t in os.listdir(f"/proc/{self.p.pid}/task"):
                comm = Path(f"/proc/{self.p.pid}/task/{t}/comm").read_text().strip()
                if "worker" in comm and comm.endswith(f"-{WORKER_CPU}"):
                    self.worker_tid = int(t)
                    return self.worker_tid
        except OSError:
            pass
        return None

    def worker_runtime_ns(self) -> int | None:
        tid = self.find_worker()
        if tid is None:
            return None
        try:
            return int(Path(f"/proc/{self.p.pid}/task/{tid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def vmrss_kb(self) -> int:
        for line in Path(f"/proc/{self.p.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def sample(self, synwall: bool = True) -> dict:
        t0 = time.perf_counter()
        port = self.tele.port(0)
        sw = self.tele.synwall() if synwall else {}
        t1 = time.perf_counter()
        return {"t": (t0 + t1) / 2, "rx": port.get("ipackets", 0),
                "tx": port.get("opackets", 0), "sw": sw,
                "runtime_ns": self.worker_runtime_ns(), "steal": steal_ticks()}

    def stop(self, timeout: float = 30.0) -> int:
        if self.tele is not None:
            try:
                self.tele.close()
            except OSError:
                pass
            self.tele = None
        rc = 0
        if self.p is not None and self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                rc = self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                rc = self.p.wait()
        elif self.p is not None:
            rc = self.p.returncode
        self._log.close()
        shutil.rmtree(RUNTIME / self.prefix, ignore_errors=True)
        return rc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def synwall_argv(prefix: str, mem: Memory, outside_vdev: str, app_args: list[str],
                 inside_vdev: str = "net_null0,no-rx=1", mem_mb: int | None = None,
                 stats_json: Path | None = None) -> list[str]:
    argv = [str(DP_BIN), *eal_common(prefix, mem, mem_mb), f"--vdev={outside_vdev}",
            f"--vdev={inside_vdev}", "--"]
    if stats_json is not None:
        argv += ["--stats-json", str(stats_json)]
    return argv + ["--key", KEY, *app_args]


def testpmd_argv(prefix: str, mem: Memory, vdev: str, mbufs: int,
                 mem_mb: int | None = None) -> list[str]:
    return [TESTPMD, *eal_common(prefix, mem, mem_mb), f"--vdev={vdev}", "--",
            "--forward-mode=5tswap", f"--total-num-mbufs={mbufs}", "--stats-period", "60"]


def pcap_vdev(name: str, rx: Path, infinite: bool = True) -> str:
    return f"{name},rx_pcap={rx}" + (",infinite_rx=1" if infinite else "")


# --- measuring -------------------------------------------------------------------------

def delta(a: dict, b: dict) -> dict:
    """What happened between two samples: rates and counter deltas."""
    dt = b["t"] - a["t"]
    d = {"seconds": dt, "packets": b["rx"] - a["rx"], "tx_packets": b["tx"] - a["tx"]}
    d["pps"] = d["packets"] / dt
    if a["runtime_ns"] is not None and b["runtime_ns"] is not None:
        d["cpu_share"] = (b["runtime_ns"] - a["runtime_ns"]) / 1e9 / dt
    else:
        d["cpu_share"] = None
    d["steal_ms"] = (b["steal"] - a["steal"]) * 1000 / os.sysconf("SC_CLK_TCK")
    d["counters"] = {k: b["sw"][k] - a["sw"].get(k, 0) for k in b["sw"]
                     if isinstance(b["sw"][k], int) and b["sw"][k] - a["sw"].get(k, 0)}
    d["gauges"] = {k: b["sw"][k] for k in ("syncache.count", "syncache.paused", "proxy.flows")
                   if k in b["sw"]}
    return d


def steady(proc: DpdkProc, warm: float, window: float, synwall: bool = True) -> dict:
    """Rate over [warm, warm + window] seconds after the worker started."""
    time.sleep(warm)
    a = proc.sample(synwall)
    time.sleep(window)
    b = proc.sample(synwall)
    d = delta(a, b)
    d["load_before"] = proc.load_before
    d["gauges_before"] = {k: a["sw"][k] for k in ("syncache.count", "syncache.paused",
                                                   "proxy.flows") if k in a["sw"]}
    return d


def ramp(proc: DpdkProc, counter: str, target: int, timeout: float = 30.0,
         settle: float = 0.3) -> dict:
    """Sample counter as fast as telemetry answers while it climbs from 0 to target (the
    first pass over a file of target distinct packets), then fit its slope over the part
    between 10 % and 90 % of target."""
    samples: list[tuple] = []
    deadline = time.monotonic() + timeout
    done_at = None
    last_v, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        sw = proc.tele.synwall()
        t1 = time.perf_counter()
        v = sw.get(counter, 0)
        samples.append(((t0 + t1) / 2, v, sw.get("port.outside_rx", 0),
                        proc.worker_runtime_ns()))
        now = time.monotonic()
        if v != last_v:
            last_v, last_change = v, now
        elif v > 0 and now - last_change > 2.0:
            break               # stuck short of the target: the checks will say so
        if v >= target and done_at is None:
            done_at = now
        if done_at is not None and now - done_at > settle:
            break
    final = proc.tele.synwall()
    lo, hi = 0.1 * target, 0.9 * target
    pts = [s for s in samples if lo <= s[1] <= hi]
    res = {"counter": counter, "target": target, "reached": final.get(counter, 0),
           "samples_total": len(samples), "samples_fit": len(pts), "final": final,
           "load_before": proc.load_before}
    if len(pts) >= 3:
        first, last = pts[0], pts[-1]
        res["rate"] = slope([(s[0], s[1]) for s in pts])
        res["rx_rate"] = slope([(s[0], s[2]) for s in pts])
    else:
        # Too fast for the sampler: the samples either side of the ramp give a lower bound.
        below = [s for s in samples if s[1] < lo]
        above = [s for s in samples if s[1] > hi]
        if not (below and above):
            res["rate"] = None
            return res
        first, last = below[-1], above[0]
        res["rate"] = (last[1] - first[1]) / (last[0] - first[0])
        res["rx_rate"] = (last[2] - first[2]) / (last[0] - first[0])
    res["fit_seconds"] = last[0] - first[0]
    # The worker's CPU time is only brought up to date at scheduler ticks: its share is
    # taken over the whole sampling (the ramp and the settling after it), not the fit.
    a, b = samples[0], samples[-1]
    res["cpu_share"] = ((b[3] - a[3]) / 1e9 / (b[0] - a[0])
                        if a[3] is not None and b[3] is not None and b[0] > a[0] else None)
    return res


def slope(pts: list[tuple[float, int]]) -> float:
    n = len(pts)
    mt = sum(t for t, _ in pts) / n
    mv = sum(v for _, v in pts) / n
    num = sum((t - mt) * (v - mv) for t, v in pts)
    den = sum((t - mt) ** 2 for t, _ in pts)
    return num / den if den > 0 else float("nan")


def read_stats_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())["total"]
    except (OSError, ValueError, KeyError):
        return {}
