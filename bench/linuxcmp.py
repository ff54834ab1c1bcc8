"""Measurement 7: the Linux kernel's own SYN cookies and synwall, fed the same SYN flood by the
same generator through the same veth pair.

    client ns: tcpreplay --topspeed on cli0 ==veth==> swo-<tag>
        synwall run: swo-<tag> stays in the root namespace, synwall-dp reads it (af_packet,
                     synlab.wire), answers from CPU 1;
        Linux run:   swo-<tag> moves into a namespace of its own with 198.18.0.2/24, a
                     listener on port 80 and net.ipv4.tcp_syncookies=2 (every SYN answered
                     with a cookie, no request socket); its receive processing is steered
                     to CPU 1 (RPS), so that each defender has CPU 1 and the generator CPU 0.
    SYN-ACKs coming back are counted (and dropped) by an nftables counter at cli0's ingress.

The flood: distinct SYNs from 198.18.128.0/17 to 198.18.0.2:80, replayed --loop times.
Only 198.18.0.0/15 addresses, inside namespaces made and removed here.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from . import pcaps
from .dpdk import KEY, WORKER_CPU, loadavg
from .suite import Ctx, add_run, check, section

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from synlab.wire import CLIENT_IP, SERVER_IP, Wire, nft_counter, nft_load, sh  # noqa: E402


def _mac(dev: str, ns: str | None = None) -> str:
    out = sh("ip", "-j", "link", "show", dev, ns=ns).stdout
    return json.loads(out)[0]["address"]


def _nft_counter(ns: str, dev: str) -> None:
    nft_load(ns, f"""
table netdev swbench {{
    counter synacks {{ }}
    chain in {{
        type filter hook ingress device "{dev}" priority 0; policy accept;
        tcp flags & (syn | ack) == (syn | ack) counter name synacks drop
    }}
}}
""")


def _synacks(ns: str) -> int:
    return nft_counter(ns, "netdev", "swbench", "synacks")


def _netstat(ns: str, name: str) -> int:
    lines = sh("cat", "/proc/net/netstat", ns=ns).stdout.splitlines()
    for head, vals in zip(lines[::2], lines[1::2], strict=False):
        if head.startswith("TcpExt:"):
            return int(dict(zip(head.split()[1:], vals.split()[1:], strict=False)).get(name, 0))
    return 0


_ACTUAL = re.compile(r"Actual: (\d+) packets .* sent in ([\d.]+) seconds")


def _replay(w: Wire, pcap: Path, loops: int) -> dict:
    r = w.run(w.client_ns, "taskset", "-c", "0", "tcpreplay", "-i", "cli0", "--topspeed",
              "-K", "--loop", str(loops), str(pcap), timeout=120)
    m = _ACTUAL.search(r.stdout)
    if not m:
        raise RuntimeError(f"tcpreplay output not understood:\n{r.stdout}\n{r.stderr}")
    return {"sent": int(m.group(1)), "seconds": float(m.group(2))}


def _cpu_times(cpu: int) -> list[int]:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            return [int(x) for x in line.split()[1:]]
    return []


def _flood_once(w: Wire, pcap: Path, loops: int) -> dict:
    before = _synacks(w.client_ns)
    load = loadavg()
    c0 = _cpu_times(WORKER_CPU)
    rep = _replay(w, pcap, loops)
    c1 = _cpu_times(WORKER_CPU)
    time.sleep(0.3)     # the last answers
    got = _synacks(w.client_ns) - before
    d = [b - a for a, b in zip(c0, c1, strict=False)]
    total = sum(d[:8]) or 1
    # user nice system idle iowait irq softirq steal
    busy = total - d[3] - d[4]
    return {"sent": rep["sent"], "replay_seconds": rep["seconds"],
            "offered_pps": rep["sent"] / rep["seconds"], "synacks": got,
            "synack_pps": got / rep["seconds"], "answered": got / max(1, rep["sent"]),
            "cpu1_busy": busy / total, "cpu1_softirq": d[6] / total,
            "cpu1_system": (d[2] + d[5]) / total, "load_before": load}


class LinuxSide:
    """The outside veth end moved into a namespace where the kernel answers with cookies."""

    def __init__(self, w: Wire, client_mac: str, rps: bool = True):
        self.w, self.client_mac, self.rps = w, client_mac, rps
        self.ns = f"swl-{w.tag}"
        self.dev = w.outside_if
        self.listener: subprocess.Popen | None = None

    def up(self) -> None:
        ns, dev = self.ns, self.dev
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "set", dev, "netns", ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)
        sh("sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1", ns=ns, check=False)
        sh("ip", "addr", "add", f"{SERVER_IP}/24", "dev", dev, ns=ns)
        sh("ip", "link", "set", dev, "up", ns=ns)
        # SYN-ACKs to the spoofed sources go back to the client's MAC, as they would to a
        # router: no ARP for addresses nobody has.
        sh("ip", "neigh", "replace", CLIENT_IP, "lladdr", self.client_mac, "dev", dev, "nud",
           "permanent", ns=ns)
        sh("ip", "route", "add", "198.18.128.0/17", "via", CLIENT_IP, ns=ns)
        for k, v in (("net.ipv4.tcp_syncookies", "2"), ("net.ipv4.conf.all.rp_filter", "0"),
                     ("net.ipv4.conf.default.rp_filter", "0"),
                     (f"net.ipv4.conf.{dev}.rp_filter", "0"),
                     ("net.ipv4.tcp_max_syn_backlog", "65536"), ("net.core.somaxconn", "65536")):
            sh("sysctl", "-qw", f"{k}={v}", ns=ns, check=False)
        if self.rps:
            sh("sh", "-c", f"echo {1 << WORKER_CPU:x} > /sys/class/net/{dev}/queues/rx-0/rps_cpus",
               ns=ns, check=False)
        code = ("import socket,time\n"
                "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                f"s.bind(('{SERVER_IP}', 80)); s.listen(4096); print('up', flush=True)\n"
                "time.sleep(600)\n")
        self.listener = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", code],
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                         text=True)
        self.listener.stdout.readline()

    def down(self) -> None:
        if self.listener is not None:
            self.listener.kill()
            self.listener.wait()
            self.listener = None
        # Back to the root namespace, as synlab.wire made it, for the next synwall run.
        sh("ip", "link", "set", self.dev, "netns", "1", ns=self.ns, check=False)
        sh("ip", "netns", "del", self.ns, check=False)
        sh("ip", "link", "set", self.dev, "up", check=False)
        sh("sysctl", "-qw", f"net.ipv6.conf.{self.dev}.disable_ipv6=1", check=False)
        sh("ethtool", "-K", self.dev, "tx", "off", check=False)
        # RPS stays with the device: synwall's runs get the veth as synlab.wire made it.
        sh("sh", "-c", f"echo 0 > /sys/class/net/{self.dev}/queues/rx-0/rps_cpus", check=False)

    def cookies_sent(self) -> int:
        return _netstat(self.ns, "SyncookiesSent")


def m_linux(ctx: Ctx) -> dict:
    n, loops = ctx.sizes.linux_syns, ctx.sizes.linux_loops
    sec = section("linux", "Linux syncookies vs synwall on one veth pair", distinct_syns=n,
                  loops=loops, generator="tcpreplay --topspeed -K (client namespace, CPU 0)")
    tag = f"b{os.getpid() % 100000}"
    w = Wire(tag)
    w.create()
    lx = None
    try:
        client_mac = _mac("cli0", w.client_ns)
        out_mac = _mac(w.outside_if)
        pcap = ctx.work / "linux_syn.pcap"
        pcaps.write_syns(pcap, n, seed=11, dst=SERVER_IP, smac=client_mac, dmac=out_mac)
        _nft_counter(w.client_ns, "cli0")
        sec["params"]["synwall_args"] = f"--protect 80:cookie --key {KEY} (synlab.wire: " \
                                        "net_af_packet ports, --no-huge, worker on CPU 1)"
        sec["params"]["linux"] = "tcp_syncookies=2, listener on 198.18.0.2:80 (backlog 4096), " \
                                 f"RPS of the veth to CPU {WORKER_CPU}"
        for r in range(ctx.runs):
            order = ("synwall", "linux") if r % 2 == 0 else ("linux", "synwall")
            for who in order:
                if who == "synwall":
                    w.start(ctx.work, ["--protect", "80:cookie", "--key", KEY])
                    try:
                        res = _flood_once(w, pcap, loops)
                    finally:
                        stats = w.stop()["total"]
                    res["defender_sent"] = stats.get("syncache.sendcookie", 0)
                    res["defender_rx"] = stats.get("port.outside_rx", 0)
                    check(sec, f"run {r + 1}, synwall: SYN-ACKs counted at the client "
                          f"({res['synacks']}) <= SYN-ACKs synwall sent ({res['defender_sent']})"
                          f" <= SYNs sent ({res['sent']})",
                          0 < res["synacks"] <= res["defender_sent"] <= res["sent"])
                else:
                    lx = LinuxSide(w, client_mac)
                    lx.up()
                    try:
                        c0 = lx.cookies_sent()
                        res = _flood_once(w, pcap, loops)
                        res["defender_sent"] = lx.cookies_sent() - c0
                    finally:
                        lx.down()
                        lx = None
                    check(sec, f"run {r + 1}, Linux: SYN-ACKs counted at the client "
                          f"({res['synacks']}) <= TcpExtSyncookiesSent ({res['defender_sent']})"
                          f" <= SYNs sent ({res['sent']})",
                          0 < res["synacks"] <= res["defender_sent"] <= res["sent"])
                add_run(sec, who, "SYN-ACK/s", res["synack_pps"], res)
                ctx.log(f"  run {r + 1} {who:8s} offered {res['offered_pps'] / 1e3:7.0f} k SYN/s,"
                        f" answered {res['synack_pps'] / 1e3:7.0f} k/s ({res['answered']:.1%}),"
                        f" CPU {WORKER_CPU} busy {res['cpu1_busy']:.0%}"
                        f" (softirq {res['cpu1_softirq']:.0%})"
                        f"  load {res['load_before']}")
    finally:
        if lx is not None:
            lx.down()
        sh("ip", "netns", "del", f"swl-{tag}", check=False)
        w.destroy()
    return sec
