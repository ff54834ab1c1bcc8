"""The harness of the controller tests: synwalld in-process on a temporary Unix socket, with
the fake dataplane (fakedp.py, fast) or the real synwall-dp (net_null ports, or net_af_packet
ports on veth pairs whose far ends the test drives with raw sockets: root only).

Every dataplane started is killed at teardown (found through its pid file), with its EAL
runtime directory; veth pairs are deleted. The fixtures are in conftest.py.

Run:  bash scripts/setup.sh && .venv/bin/python -m pytest tests/controller
"""

import itertools
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from synwall import bootconfig
from synwall.client import Client
from synwall.daemon import Daemon
from synwall.dplink import DpLink
from synwall.supervisor import proc_start_time

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
FAKEDP = HERE / "fakedp.py"
DP_BIN = Path(os.environ.get("SYNWALL_DP", REPO / "build" / "dataplane" / "synwall-dp"))
DPDK_RUNTIME = Path("/var/run/dpdk")
REAL_EAL = ["--no-pci", "--no-huge", "-m", "512", "--log-level=lib.eal:error"]

_seq = itertools.count()


def is_root() -> bool:
    return os.geteuid() == 0


def require_real():
    if not (DP_BIN.is_file() and os.access(DP_BIN, os.X_OK)):
        pytest.fail("%s is not built: run `bash scripts/setup.sh`" % DP_BIN, pytrace=False)


def require_veth():
    require_real()
    if not is_root() or not shutil.which("ip"):
        pytest.skip("veth pairs need root and iproute2")


def wait_for(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(interval)
    return predicate()


# --- veth pairs and raw sockets ---------------------------------------------------------

def _sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


class Veth:
    """A veth pair in the root namespace: `dp` for synwall-dp's net_af_packet port, `tap` for
    the test's raw socket. No addresses, IPv6 off: the kernel sends nothing on them."""

    def __init__(self, tag: str, side: str):
        self.dp = "sw%s%sd" % (tag, side)
        self.tap = "sw%s%st" % (tag, side)
        _sh("ip", "link", "del", self.dp, check=False)
        _sh("ip", "link", "add", self.dp, "type", "veth", "peer", "name", self.tap)
        for ifc in (self.dp, self.tap):
            _sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % ifc, check=False)
            _sh("ip", "link", "set", ifc, "up")

    def destroy(self):
        _sh("ip", "link", "del", self.dp, check=False)


class Tap:
    """Sends frames into a veth and records every frame that comes out of it."""

    def __init__(self, ifname: str):
        self.ifname = ifname
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind((ifname, 0))
        self.sock.settimeout(0.1)
        self.frames = []  # (monotonic time, bytes)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            if addr[2] == socket.PACKET_OUTGOING:
                continue  # our own
            with self._lock:
                self.frames.append((time.monotonic(), data))

    def send(self, frame) -> None:
        self.sock.send(bytes(frame))

    def received(self):
        with self._lock:
            return [f for _, f in self.frames]

    def clear(self):
        with self._lock:
            self.frames.clear()

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


# --- synwalld in-process ------------------------------------------------------------------

class Env:
    """One appliance under test: its boot config, its synwalld (in-process), its dataplane."""

    def __init__(self, kind: str, workdir: Path, runtime_dir: Path, *, ports=None,
                 extra: str = "", api_extra: str = "", keys: str = "",
                 start_timeout: float = 20):
        self.kind = kind
        self.workdir = workdir
        self.runtime_dir = runtime_dir
        self.prefix = "swctl%d_%d" % (os.getpid(), next(_seq))
        self.socket_path = runtime_dir / "api.sock"
        outside, inside = ports or (("net_null0", "net_null1") if kind == "real"
                                    else ("fake_out", "fake_in"))
        if kind == "fake":
            wrapper = workdir / "fake-synwall-dp"
            wrapper.write_text("#!/bin/sh\nexec %s %s \"$@\"\n" % (sys.executable, FAKEDP))
            wrapper.chmod(0o755)
            binary, eal = str(wrapper), []
        else:
            require_real()
            binary, eal = str(DP_BIN), REAL_EAL
        self.config_text = textwrap.dedent("""\
            [dataplane]
            binary = {binary}
            eal = {eal}
            lcores = "0-1"
            outside = {outside}
            inside = {inside}
            hashsize = 1024
            bucketlimit = 10
            flows = 4096
            file_prefix = "{prefix}"
            state_dir = "{state}"
            runtime_dir = "{run}"
            start_timeout = {start_timeout}
            {extra}
            [keys]
            {keys}
            [api]
            unix_socket = "{sock}"
            {api_extra}
            """).format(binary=json.dumps(binary), eal=json.dumps(eal),
                        outside=json.dumps(outside), inside=json.dumps(inside),
                        prefix=self.prefix, state=workdir / "state", run=runtime_dir,
                        sock=self.socket_path, extra=extra, api_extra=api_extra,
                        start_timeout=start_timeout,
                        keys=keys if "rotation_interval" in keys
                        else "rotation_interval = 3600\n" + keys)
        self.config_path = workdir / "synwall.toml"
        self.config_path.write_text(self.config_text)
        self.daemon = None
        self.clients = []
        self.pids = set()

    def boot(self):
        return bootconfig.load(str(self.config_path))

    def fake_binary(self, name: str, **environ: str) -> Path:
        """Another fake synwall-dp (a wrapper of fakedp.py in the work directory), a variant
        by its environment (fakedp.py's docstring): layout="2 fingerprint 0000beef",
        fail="the lines it prints", hang="1", delay="2"."""
        p = self.workdir / name
        env = "".join("FAKEDP_%s=%s " % (k.upper(), shlex.quote(v)) for k, v in environ.items())
        p.write_text("#!/bin/sh\n%sexec %s %s \"$@\"\n" % (env, sys.executable, FAKEDP))
        p.chmod(0o755)
        return p

    def dataplane_pids(self) -> set[int]:
        """Every process that runs this appliance's dataplane (its control socket on its
        command line), whoever started it."""
        ctl = str(self.runtime_dir / "dataplane.ctl").encode()
        found = set()
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                if ctl in (d / "cmdline").read_bytes().split(b"\0"):
                    found.add(int(d.name))
            except OSError:
                pass
        return found

    def start(self):
        self.daemon = Daemon(self.boot())
        self.daemon.start()
        self.pids.add(self.daemon.ctl.proc.pid)
        return self

    def stop_controller(self):
        """synwalld stops; the dataplane keeps running."""
        self.daemon.stop()
        self.daemon = None

    def stop_all(self):
        """synwalld stops with its dataplane (synwalld --stop-dataplane, as systemd's unit
        runs it): the next start is a cold one."""
        self.daemon.stop(stop_dataplane=True)
        self.daemon = None

    @property
    def state_dir(self) -> Path:
        return self.workdir / "state"

    @property
    def ctl(self):
        return self.daemon.ctl

    def client(self, **kw) -> Client:
        c = Client(socket=str(self.socket_path), **kw)
        self.clients.append(c)
        return c

    def dp_pid(self) -> int:
        return json.loads((self.runtime_dir / "dataplane.pid").read_text())["pid"]

    def dp_link(self) -> DpLink:
        return DpLink(str(self.runtime_dir / "dataplane.ctl"))

    def dp_log(self) -> str:
        p = self.workdir / "state" / "dataplane.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def close(self):
        for c in self.clients:
            c.close()
        if self.daemon is not None:
            try:
                self.daemon.stop(stop_dataplane=True)
            except Exception:  # noqa: BLE001 - teardown goes on
                pass
        try:
            self.pids.add(self.dp_pid())
        except (OSError, ValueError, KeyError):
            pass
        for pid in self.pids:
            if proc_start_time(pid) is not None:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for pid in self.pids:
            wait_for(lambda p=pid: proc_start_time(p) is None, 5)
        shutil.rmtree(DPDK_RUNTIME / self.prefix, ignore_errors=True)


def af_packet_ports(o, i):
    return ("net_af_packet0,iface=%s" % o.dp, "net_af_packet1,iface=%s" % i.dp)
