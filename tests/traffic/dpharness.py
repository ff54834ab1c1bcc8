"""The harness of the traffic tests: runs synwall-dp on pcap files and collects the result.

The traffic tests run the real dataplane binary on pcap files (DPDK net_pcap vdevs, no NIC,
no hugepages): port 0 is outside, port 1 is inside. `run_dp` writes the input pcaps, runs
synwall-dp to completion (--idle-exit), and returns what left each port plus the counters.

Run:  bash scripts/setup.sh && .venv/bin/python -m pytest tests/traffic
(SYNWALL_DP=path overrides the binary; runs are independent, each with its own --file-prefix.)
"""

import itertools
import json
import os
import shutil
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DP_BIN = Path(os.environ.get("SYNWALL_DP", REPO / "build" / "dataplane" / "synwall-dp"))
DPDK_RUNTIME = Path("/var/run/dpdk")

TEST_KEY = "000102030405060708090a0b0c0d0e0f"
# The standard policy of the traffic tests: 80 proxy, 443 cookie, 8080 drop, the rest pass.
DEFAULT_ARGS = ["--protect", "80,443:cookie,8080:drop", "--key", TEST_KEY]
RUN_TIMEOUT = 60
# --idle-exit of the pcap runs: the pcap PMD delivers a file in one go, so a short pause means
# the input is used up. Raise it on a heavily loaded machine.
IDLE_MS = int(os.environ.get("SYNWALL_TEST_IDLE_MS", "300"))

# Every counter name DATAPLANE.md documents ("Counters").
COUNTER_NAMES = (
    ["syncache." + n for n in "added retransmitted dupsyn dropped completed bucketoverflow "
     "cacheoverflow reset stale aborted badack unreach zonefail sendcookie recvcookie count "
     "paused source_quota source_quota_dropped".split()]
    + ["cookie.failed"]
    + ["proxy." + n for n in "flows opened ack_opening rst_ignored unexpected expired evicted "
       "evicted_heavy source_quota adopt_source_quota".split()]
    + ["port." + n for n in "outside_rx inside_rx outside_tx inside_tx tx_dropped bridged "
       "policy_drop".split()]
    + ["malformed." + n for n in "truncated ip_header ip_length fragment vlan tcp_header "
       "tcp_option flags checksum".split()]
)
MALFORMED_NAMES = [n for n in COUNTER_NAMES if n.startswith("malformed.")]


# --- pcap files ------------------------------------------------------------------------

def write_pcap(path, frames):
    """Write a classic little-endian microsecond pcap (DLT_EN10MB) of raw frames.

    frames may be scapy packets or bytes; writing by hand keeps 100k-packet files fast.
    """
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    rec = struct.Struct("<IIII")
    for i, f in enumerate(frames):
        b = f if isinstance(f, (bytes, bytearray)) else bytes(f)
        out.append(rec.pack(1700000000 + i // 1000000, i % 1000000, len(b), len(b)))
        out.append(bytes(b))
    Path(path).write_bytes(b"".join(out))


def read_pcap(path):
    """The frames of a pcap file as bytes, [] for a header-only file, None if it is absent."""
    path = Path(path)
    if not path.exists():
        return None
    data = path.read_bytes()
    if len(data) == 0:
        return []
    assert len(data) >= 24, "%s: truncated pcap header" % path
    (magic,) = struct.unpack_from("<I", data, 0)
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        endian = ">"
    else:
        raise AssertionError("%s: not a pcap file (magic %#x)" % (path, magic))
    rec = struct.Struct(endian + "IIII")
    frames, off = [], 24
    while off < len(data):
        assert off + 16 <= len(data), "%s: truncated record header" % path
        _, _, caplen, wirelen = rec.unpack_from(data, off)
        off += 16
        assert caplen == wirelen, "%s: frame captured short (%d of %d)" % (path, caplen, wirelen)
        assert off + caplen <= len(data), "%s: truncated record" % path
        frames.append(data[off:off + caplen])
        off += caplen
    return frames


# --- running the dataplane -------------------------------------------------------------

@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    outside_raw: list  # frames that left the outside port (None: no tx pcap file)
    inside_raw: list  # frames that left the inside port
    stats: dict  # the --stats-json document (None if not written)
    workdir: Path
    cmd: list = field(default_factory=list)

    @property
    def total(self):
        assert self.stats is not None, "no stats JSON was written\nstderr:\n" + self.stderr
        assert isinstance(self.stats.get("total"), dict), \
            "stats JSON has no 'total' object: %r" % (self.stats,)
        return self.stats["total"]

    def c(self, name):
        """A counter from stats["total"]; a missing name fails the test."""
        total = self.total
        assert name in total, "counter %r missing from the stats JSON (has: %s)" % (
            name, ", ".join(sorted(total)))
        return total[name]

    def counters(self, *names):
        return {n: self.c(n) for n in names}

    def nonzero(self):
        return {k: v for k, v in sorted(self.total.items()) if v}

    def describe(self):
        """A summary for assertion messages."""
        return "outside_out=%d inside_out=%d nonzero counters=%s\nstderr:\n%s" % (
            len(self.outside_raw or []), len(self.inside_raw or []),
            self.nonzero() if self.stats else None, self.stderr)


_prefix_seq = itertools.count()


def new_prefix():
    return "swtest%d_%d" % (os.getpid(), next(_prefix_seq))


def require_binary():
    if not (DP_BIN.is_file() and os.access(DP_BIN, os.X_OK)):
        pytest.fail("%s is not built: run `bash scripts/setup.sh`" % DP_BIN, pytrace=False)


def dp_command(workdir, prefix, args, *, idle_ms, outside_devargs="", inside_devargs="",
               eal=()):
    w = Path(workdir)
    cmd = [str(DP_BIN), "--no-pci", "--no-huge", "-m", "512", "--file-prefix", prefix,
           "-l", "0-1",
           "--vdev=net_pcap0,rx_pcap=%s,tx_pcap=%s%s" % (w / "outside_in.pcap",
                                                      w / "outside_out.pcap", outside_devargs),
           "--vdev=net_pcap1,rx_pcap=%s,tx_pcap=%s%s" % (w / "inside_in.pcap",
                                                      w / "inside_out.pcap", inside_devargs),
           "--log-level=lib.eal:error", *eal, "--"]
    app = []
    if idle_ms is not None:
        app += ["--idle-exit", str(idle_ms)]
    app += ["--stats-json", str(w / "stats.json")]
    return cmd + app + list(args)


def _cleanup_runtime(prefix):
    shutil.rmtree(DPDK_RUNTIME / prefix, ignore_errors=True)


def _collect(workdir, rc, out, err, cmd):
    w = Path(workdir)
    stats = None
    sp = w / "stats.json"
    if sp.exists():
        text = sp.read_text()
        try:
            stats = json.loads(text)
        except ValueError as e:
            pytest.fail("stats JSON %s is not JSON (%s):\n%s" % (sp, e, text[:2000]))
    return Result(rc, out, err, read_pcap(w / "outside_out.pcap"),
                  read_pcap(w / "inside_out.pcap"), stats, w, cmd)


class DpRunner:
    """Runs synwall-dp to completion on pcap inputs; one sub-directory of tmp_path per run."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.n = 0

    def __call__(self, outside=(), inside=(), args=None, *, expect_rc=0, timeout=RUN_TIMEOUT,
                 idle_ms=IDLE_MS, outside_devargs="", inside_devargs="", eal=()):
        require_binary()
        workdir = self.tmp_path / ("run%d" % self.n)
        self.n += 1
        workdir.mkdir()
        write_pcap(workdir / "outside_in.pcap", outside)
        write_pcap(workdir / "inside_in.pcap", inside)
        prefix = new_prefix()
        cmd = dp_command(workdir, prefix, DEFAULT_ARGS if args is None else args,
                         idle_ms=idle_ms, outside_devargs=outside_devargs,
                         inside_devargs=inside_devargs, eal=eal)
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, errors="replace", timeout=timeout)
        except subprocess.TimeoutExpired as e:  # subprocess.run has killed it
            err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) \
                else (e.stderr or "")
            pytest.fail("synwall-dp did not exit within %ss\ncmd: %s\nstderr:\n%s"
                        % (timeout, " ".join(cmd), err), pytrace=False)
        finally:
            _cleanup_runtime(prefix)
        if expect_rc is not None and proc.returncode != expect_rc:
            pytest.fail("synwall-dp exited %d, expected %d\ncmd: %s\nstdout:\n%s\nstderr:\n%s"
                        % (proc.returncode, expect_rc, " ".join(cmd), proc.stdout[-4000:],
                           proc.stderr[-4000:]), pytrace=False)
        res = _collect(workdir, proc.returncode, proc.stdout, proc.stderr, cmd)
        if proc.returncode == 0 and res.stats is None:
            pytest.fail("synwall-dp exited 0 but wrote no stats JSON\nstderr:\n" + proc.stderr,
                        pytrace=False)
        return res


class DpProcess:
    """A synwall-dp left running (e.g. on an infinite_rx pcap) for signal/telemetry tests."""

    def __init__(self, workdir, prefix, cmd):
        self.workdir, self.prefix, self.cmd = Path(workdir), prefix, cmd
        self.stdout_f = open(self.workdir / "stdout.txt", "w+")
        self.stderr_f = open(self.workdir / "stderr.txt", "w+")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.stdout_f,
                                     stderr=self.stderr_f)
        self.runtime_dir = DPDK_RUNTIME / prefix

    def stderr(self):
        self.stderr_f.flush()
        return (self.workdir / "stderr.txt").read_text(errors="replace")

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=RUN_TIMEOUT):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail("synwall-dp did not exit within %ss of the signal\nstderr:\n%s"
                        % (timeout, self.stderr()), pytrace=False)
        return _collect(self.workdir, rc, (self.workdir / "stdout.txt").read_text(),
                        self.stderr(), self.cmd)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stdout_f.close()
        self.stderr_f.close()
        _cleanup_runtime(self.prefix)


def wait_for(predicate, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(interval)
    return predicate()

