"""Two network namespaces wired through synwall-dp on veth ports (tests and demo): read
through net_af_xdp, or net_af_packet with SYNWALL_PMD=af_packet (or Wire.start's pmd).
net_af_xdp answers about twice as many SYNs per CPU-second on veth (BENCHMARKS.md section 7);
af_packet's fanout is what several workers need (one queue pair per worker, both directions
of a flow on one queue).

    client ns (cli0 198.18.0.1/24) <-veth-> swo-N  [synwall-dp]
        swi-N <-veth-> (srv0 198.18.0.2/24) server ns

Both hosts share one /24 (synwall is a bump in the wire: ARP is bridged). Only RFC 2544
addresses; the namespaces are created and removed by the test itself.
"""
from __future__ import annotations

import ipaddress
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DP = REPO / "build" / "dataplane" / "synwall-dp"

PMDS = ("af_packet", "af_xdp")
# the PMD synwall-dp reads the veth ends with, unless a caller names one
DEFAULT_PMD = os.environ.get("SYNWALL_PMD", "af_xdp")

CLIENT_IP = "198.18.0.1"
SERVER_IP = "198.18.0.2"
CLIENT_IP6 = "2001:2::1"
SERVER_IP6 = "2001:2::2"


def sh(*args: str, check: bool = True, ns: str | None = None, **kw) -> subprocess.CompletedProcess:
    cmd = list(args)
    if ns is not None:
        cmd = ["ip", "netns", "exec", ns] + cmd
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


@dataclass
class Wire:
    tag: str
    client_ns: str = ""
    server_ns: str = ""
    outside_if: str = ""
    inside_if: str = ""
    dp: subprocess.Popen | None = None
    stats_path: Path | None = None
    log_path: Path | None = None
    prefix: str = ""
    extra_cleanup: list = field(default_factory=list)
    extra_ns: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client_ns = f"swc-{self.tag}"
        self.server_ns = f"sws-{self.tag}"
        self.outside_if = f"swo-{self.tag}"
        self.inside_if = f"swi-{self.tag}"
        self.prefix = f"swns{self.tag}"

    def create(self) -> None:
        self.destroy()
        for ns, inner, outer, ip4, ip6 in (
            (self.client_ns, "cli0", self.outside_if, CLIENT_IP, CLIENT_IP6),
            (self.server_ns, "srv0", self.inside_if, SERVER_IP, SERVER_IP6),
        ):
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", outer, "type", "veth", "peer", "name", inner, "netns", ns)
            sh("ip", "link", "set", outer, "up")
            # The root side only carries frames to DPDK: no addresses, no IPv6 chatter.
            sh("sysctl", "-qw", f"net.ipv6.conf.{outer}.disable_ipv6=1", check=False)
            sh("ethtool", "-K", outer, "tx", "off", check=False)
            sh("ip", "link", "set", "lo", "up", ns=ns)
            sh("ip", "addr", "add", f"{ip4}/24", "dev", inner, ns=ns)
            sh("ip", "-6", "addr", "add", f"{ip6}/64", "dev", inner, "nodad", ns=ns)
            sh("ip", "link", "set", inner, "up", ns=ns)
            # The kernel would leave checksums to an offload that af_packet never does.
            sh("ethtool", "-K", inner, "tx", "off", ns=ns)

    def vdevs(self, qpairs: int = 1, pmd: str | None = None) -> list[str]:
        """The --vdev values of the two root-side veth ends: net_af_packet, or net_af_xdp
        (copy mode on veth: the kernel's XDP hook hands frames to an AF_XDP socket, with no
        skb on the way in)."""
        pmd = pmd or (DEFAULT_PMD if qpairs == 1 else "af_packet")
        if pmd == "af_packet":
            return [f"net_af_packet{i},iface={dev},qpairs={qpairs}"
                    for i, dev in enumerate((self.outside_if, self.inside_if))]
        if pmd == "af_xdp":
            if qpairs != 1:
                # a veth picks the receive queue by the sender's transmit queue: the two
                # directions of a flow could reach different workers
                raise ValueError("net_af_xdp on veth: one queue pair only (no symmetric "
                                 "steering); several workers need af_packet's fanout")
            return [f"net_af_xdp{i},iface={dev},start_queue=0,queue_count={qpairs}"
                    for i, dev in enumerate((self.outside_if, self.inside_if))]
        raise ValueError(f"unknown PMD {pmd!r}: one of {', '.join(PMDS)}")

    def start(self, tmp: Path, args: list[str], workers: int = 1, qpairs: int = 1,
              pmd: str | None = None) -> None:
        """synwall-dp on both root-side veth ends (vdevs)."""
        self.stats_path = tmp / f"stats-{self.tag}.json"
        self.log_path = tmp / f"dp-{self.tag}.log"
        lcores = "0@0," + ",".join(f"{i + 1}@{(i + 1) % os.cpu_count()}" for i in range(workers))
        ports = [f"--vdev={v}" for v in self.vdevs(qpairs, pmd)]
        cmd = [
            str(DP), "--no-pci", "--no-huge", "-m", "512", "--file-prefix", self.prefix,
            "--lcores", lcores, "--log-level=lib.eal:error", *ports,
            "--", "--stats-json", str(self.stats_path), *args,
        ]
        log = open(self.log_path, "w")
        self.dp = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        sock = f"/var/run/dpdk/{self.prefix}/dpdk_telemetry.v2"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.dp.poll() is not None:
                raise RuntimeError(f"synwall-dp exited {self.dp.returncode}:\n{self.log()}")
            if os.path.exists(sock) and "worker(s)" in self.log():
                return
            time.sleep(0.1)
        raise RuntimeError(f"synwall-dp not ready in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def telemetry(self, cmd: str) -> dict:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(5)
        s.connect(f"/var/run/dpdk/{self.prefix}/dpdk_telemetry.v2")
        json.loads(s.recv(16384))
        s.send(cmd.encode())
        reply = json.loads(s.recv(65536))
        s.close()
        groups = reply[cmd.split(",")[0]]
        # Telemetry nests {"syncache": {"added": n}}: flatten back to "syncache.added".
        return {f"{g}.{k}": v for g, d in groups.items() for k, v in d.items()}

    def stop(self) -> dict:
        """SIGTERM, wait, return the final stats JSON."""
        if self.dp is None:
            return {}
        self.dp.send_signal(signal.SIGINT)
        try:
            rc = self.dp.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.dp.kill()
            self.dp.wait()
            raise RuntimeError(f"synwall-dp did not stop on SIGINT:\n{self.log()}") from None
        self.dp = None
        if rc != 0:
            raise RuntimeError(f"synwall-dp exited {rc}:\n{self.log()}")
        return json.loads(self.stats_path.read_text())

    def run(self, ns: str, *cmd: str, timeout: float = 120, check: bool = True,
            input: str | None = None) -> subprocess.CompletedProcess:
        """A command inside one of the namespaces, bounded in time."""
        return subprocess.run(["ip", "netns", "exec", ns, *cmd], capture_output=True,
                              text=True, timeout=timeout, check=check, input=input)

    def python(self, ns: str, code: str, timeout: float = 120) -> str:
        """Run Python code (with synlab importable) in a namespace; return its stdout."""
        r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", code],
                           capture_output=True, text=True, timeout=timeout, cwd=REPO,
                           env={**os.environ, "PYTHONPATH": str(REPO)})
        if r.returncode != 0:
            raise RuntimeError(f"python in {ns} failed ({r.returncode}):\n{r.stderr}")
        return r.stdout

    def client(self, func: str, *args, timeout: float = 300):
        """Call synlab.client.<func>(*args) in the client namespace; its JSON result."""
        code = (f"import json, synlab.client as c; "
                f"print(json.dumps(c.{func}(*{args!r})))")
        return json.loads(self.python(self.client_ns, code, timeout=timeout))

    def client_background(self, func: str, *args) -> subprocess.Popen:
        """synlab.client.<func>(*args) in the client namespace, left running (stdin and
        stdout are pipes) until the test closes its stdin, or destroy() kills it."""
        code = f"import synlab.client as c; c.{func}(*{args!r})"
        p = subprocess.Popen(["ip", "netns", "exec", self.client_ns, sys.executable, "-c", code],
                             cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.extra_cleanup.append(lambda: (p.kill(), p.wait()))
        return p

    def add_client_address(self, addr: str, plen: int) -> None:
        """Another client address (another source) in the client namespace, and a route to
        its network in the server namespace: over the wire, so through synwall (ARP and
        neighbour discovery are bridged)."""
        fam = "-6" if ":" in addr else "-4"
        sh("ip", fam, "addr", "add", f"{addr}/{plen}", "dev", "cli0",
           *(["nodad"] if ":" in addr else []), ns=self.client_ns)
        net = ipaddress.ip_interface(f"{addr}/{plen}").network
        sh("ip", fam, "route", "add", str(net), "dev", "srv0", ns=self.server_ns)

    def start_httpd(self, addr: str, port: int = 80, ns: str | None = None) -> None:
        """synlab.httpd in the server namespace (or `ns`) until destroy()."""
        ns = ns or self.server_ns
        p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-m",
                              "synlab.httpd", addr, str(port)], cwd=REPO,
                             env={**os.environ, "PYTHONPATH": str(REPO)},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.extra_cleanup.append(lambda: (p.kill(), p.wait()))
        fam = "-6" if ":" in addr else "-4"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            out = sh("ss", "-ltnH", fam, f"sport = :{port}", ns=ns).stdout
            if out.strip():
                return
            time.sleep(0.05)
        raise RuntimeError("httpd did not start")

    def sysctl(self, ns: str, name: str, value: str) -> None:
        sh("sysctl", "-qw", f"{name}={value}", ns=ns)

    def add_ns(self, role: str) -> str:
        """One more namespace (`sw<role>-<tag>`, lo up), removed by destroy()."""
        ns = f"sw{role}-{self.tag}"
        sh("ip", "netns", "del", ns, check=False)
        sh("ip", "netns", "add", ns)
        self.extra_ns.append(ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)
        return ns

    def spawn(self, ns: str, code: str, *args: str) -> NsProc:
        """Python code (synlab importable) in a namespace, driven line by line through its
        stdin and stdout (NsProc); killed by destroy() if still running."""
        p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", code, *args],
                             cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self.extra_cleanup.append(lambda: (p.kill(), p.wait()))
        return NsProc(p)

    def destroy(self) -> None:
        if self.dp is not None:
            self.dp.kill()
            self.dp.wait()
            self.dp = None
        for fn in self.extra_cleanup:
            fn()
        self.extra_cleanup.clear()
        for ns in (self.client_ns, self.server_ns, *self.extra_ns):
            sh("ip", "netns", "del", ns, check=False)
        self.extra_ns.clear()
        for ifc in (self.outside_if, self.inside_if):
            sh("ip", "link", "del", ifc, check=False)
        # EAL's runtime directory of this run (sockets, config): not ours to leave behind.
        shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)


class NsProc:
    """A process started by Wire.spawn: lines to its stdin, lines awaited from its stdout,
    every wait bounded."""

    def __init__(self, p: subprocess.Popen):
        self.p = p
        self.buf = b""

    def say(self, line: str = "") -> None:
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def expect(self, word: str, timeout: float) -> str:
        """The next line of its output, which must start with `word`, within `timeout` s."""
        deadline = time.monotonic() + timeout
        fd = self.p.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(left, 0))[0] if left > 0 else []
            chunk = os.read(fd, 65536) if ready else b""
            if not chunk:
                self.p.kill()
                self.p.wait(timeout=5)
                raise AssertionError(
                    f"expected {word!r} within {timeout}s, got {self.buf!r} "
                    f"(exit {self.p.returncode}); stderr: {self.p.stderr.read().decode()}")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\n", 1)
        line = raw.decode().strip()
        if not line.startswith(word):
            raise AssertionError(f"expected {word!r}, got {line!r}")
        return line

    def wait(self, timeout: float) -> int:
        return self.p.wait(timeout=timeout)


def nft_load(ns: str, rules: str) -> None:
    """Load an nftables ruleset (nft -f syntax) into a namespace."""
    sh("nft", "-f", "-", ns=ns, input=rules, timeout=30)


def nft_counter(ns: str, family: str, table: str, name: str) -> int:
    """Packets counted so far by a named nftables counter in a namespace."""
    out = sh("nft", "-j", "list", "counter", family, table, name, ns=ns, timeout=30).stdout
    for obj in json.loads(out)["nftables"]:
        if "counter" in obj:
            return obj["counter"]["packets"]
    raise AssertionError(f"no counter {family} {table} {name} in {out}")


def nft_observe(ns: str, table: str, chains: dict[str, dict[str, str]]) -> None:
    """Named counters in a namespace's table `inet <table>`: {hook: {name: match}}, one
    accepting base chain per hook (input, output)."""
    names = [n for rules in chains.values() for n in rules]
    decl = "\n".join(f"    counter {n} {{ }}" for n in names)
    body = "".join(
        f"    chain {hook} {{\n        type filter hook {hook} priority 0; policy accept;\n"
        + "".join(f"        {expr} counter name {n}\n" for n, expr in rules.items())
        + "    }\n" for hook, rules in chains.items())
    nft_load(ns, f"table inet {table} {{\n{decl}\n{body}}}\n")


def nft_counts(ns: str, table: str, reset: bool = False) -> dict[str, int]:
    """Packets counted so far by every named counter of `inet <table>` (and, with reset,
    zero them)."""
    verb = "reset" if reset else "list"
    out = sh("nft", "-j", verb, "counters", "table", "inet", table, ns=ns, timeout=30).stdout
    return {o["counter"]["name"]: o["counter"]["packets"]
            for o in json.loads(out)["nftables"] if "counter" in o}


def nft_syn_counter(ns: str, port: int) -> None:
    """Count the SYNs that reach the server's stack on `port` (in its namespace)."""
    nft_load(ns, f"""
table inet swtest {{
    counter syns {{ }}
    chain input {{
        type filter hook input priority 0; policy accept;
        tcp dport {port} tcp flags & (syn | ack) == syn counter name syns
    }}
}}
""")


def nft_syn_count(ns: str) -> int:
    return nft_counter(ns, "inet", "swtest", "syns")
