"""Measurement 7: synwall and Linux's own SYN-flood defences, one after another on the same
veth path, fed by a generator that outruns every one of them.

    client ns: xdpgen (BPF_PROG_RUN live frames, CPU 0) -> cli0 ==veth==> swo-<tag>
        synwall (af_packet), synwall (af_xdp): swo-<tag> in the root namespace, synwall-dp's
            worker on CPU 1 (synlab.wire);
        Linux syncookies: swo-<tag> in a namespace of its own with 198.18.0.2, a listener on
            port 80 and tcp_syncookies=2;
        XDP SYNPROXY: the same host, with the kernel's selftest XDP program on swo-<tag>
            answering SYNs (XDP_TX) and netfilter's SYNPROXY rules completing the ACKs;
        netfilter SYNPROXY: swo-<tag> in a router namespace that forwards to a server
            namespace behind it, SYNs untracked and answered by `synproxy` in its forward chain.

Both veth ends take frames through NAPI (GRO on), in threads: swo-<tag>'s on CPU 1, with the
defender, so that the kernel's share of every defender (its receive path, the TCP stack,
af_packet's copies) is counted in the defender's CPU; cli0's on CPU 0, with the generator, where
an XDP program (answers.bpf.c) counts and drops the SYN-ACKs that come back. Every frame the
generator ran counts as offered, also those the veth refused.

Only 198.18.0.0/15 addresses (sources 198.18.128.0/17), inside namespaces made and removed
here; every flood is bounded by a frame count and by seconds.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .dpdk import KEY, WORKER_CPU, loadavg
from .profile import PERF, _report
from .suite import Ctx, add_run, check, section

REPO = Path(__file__).resolve().parents[1]
XDP = REPO / ".cache" / "xdp"
sys.path.insert(0, str(REPO))
from synlab.wire import CLIENT_IP, SERVER_IP, Wire, nft_counter, nft_load, sh  # noqa: E402

GEN_CPU = 0
DEFENDERS = ["synwall af_packet", "synwall af_xdp", "XDP SYNPROXY", "netfilter SYNPROXY",
             "Linux syncookies"]
# synwall: a cookie port; the worker sleeps when its ports are empty, as the kernel's half of
# the virtual port runs on the same CPU
SYNWALL_ARGS = ["--protect", "80:cookie", "--key", KEY, "--idle-sleep", "50"]
# the options netfilter's SYNPROXY and the XDP program answer with, as synwall's default
SYNPROXY_OPTS = "mss 1460 wscale 7 timestamp sack-perm"


def _mac(dev: str, ns: str | None = None) -> str:
    out = sh("ip", "-j", "link", "show", dev, ns=ns).stdout
    return json.loads(out)[0]["address"]


def _netstat(ns: str, name: str) -> int:
    lines = sh("cat", "/proc/net/netstat", ns=ns).stdout.splitlines()
    for head, vals in zip(lines[::2], lines[1::2], strict=False):
        if head.startswith("TcpExt:"):
            return int(dict(zip(head.split()[1:], vals.split()[1:], strict=False)).get(name, 0))
    return 0


def _cpu_times(cpu: int) -> list[int]:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            return [int(x) for x in line.split()[1:]]
    return []


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


class Answers:
    """answers.bpf.o on the client's veth: the SYN-ACKs that came back, counted and dropped
    in its XDP hook."""

    def __init__(self, w: Wire):
        self.ns = w.client_ns
        sh("ip", "link", "set", "dev", "cli0", "xdpdrv", "obj", str(XDP / "answers.bpf.o"),
           "sec", "xdp", ns=self.ns)
        link = json.loads(sh("ip", "-j", "-d", "link", "show", "cli0", ns=self.ns).stdout)[0]
        self.prog_id = int(link["xdp"]["prog"]["id"])
        prog = json.loads(sh("bpftool", "-j", "prog", "show", "id", str(self.prog_id)).stdout)
        self.map_id = next(m for m in prog["map_ids"] if json.loads(
            sh("bpftool", "-j", "map", "show", "id", str(m)).stdout)["name"].endswith(".bss"))

    def count(self) -> int:
        return _map_u64(self.map_id, 0)


def _map_u64(map_id: int, key: int) -> int:
    """A u64 value of an array map, by bpftool."""
    v = json.loads(sh("bpftool", "-j", "map", "lookup", "id", str(map_id), "key",
                      *[str(b) for b in key.to_bytes(4, "little")]).stdout)
    value = v["value"] if isinstance(v["value"], list) else v["formatted"]["value"]
    return int.from_bytes(bytes(int(b, 16) for b in value[:8]), "little")


def xdp_ready() -> str | None:
    """Why the XDP tools are missing, or None (bench/xdp/setup.sh builds them)."""
    for name in ("xdpgen", "gen.bpf.o", "answers.bpf.o", "xdprun", "xdp_synproxy",
                 "xdp_synproxy_kern.bpf.o"):
        if not (XDP / name).exists():
            return f"{XDP / name} is missing: run bash bench/xdp/setup.sh"
    return None


def _napi_threads(dev: str) -> list[int]:
    """The NAPI kthreads of a device (named napi/<dev>-<id>, cut to 15 characters)."""
    want = f"napi/{dev}-"[:15]
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if (p / "comm").read_text().strip().startswith(want):
                    out.append(int(p.name))
            except OSError:
                pass
    return out


def napi_on(dev: str, cpu: int, ns: str | None = None, fifo: bool = False) -> int:
    """GRO on (veth then takes frames through NAPI), NAPI in a thread, the thread on cpu;
    fifo: at a real-time priority, ahead of everything else on that CPU."""
    sh("ethtool", "-K", dev, "gro", "on", ns=ns)
    sh("sh", "-c", f"echo 1 > /sys/class/net/{dev}/threaded", ns=ns)
    threads = []
    for _ in range(50):
        threads = _napi_threads(dev)
        if threads:
            break
        time.sleep(0.02)
    if not threads:
        raise RuntimeError(f"no NAPI thread for {dev}")
    for pid in threads:
        sh("taskset", "-pc", str(cpu), str(pid))
        if fifo:
            sh("chrt", "-f", "-p", "50", str(pid))
    return len(threads)


def _generate(w: Wire, frames: int, seconds: int, smac: str, dmac: str) -> dict:
    r = w.run(w.client_ns, "taskset", "-c", str(GEN_CPU), str(XDP / "xdpgen"),
              "--prog", str(XDP / "gen.bpf.o"), "--dev", "cli0", "--smac", smac,
              "--dmac", dmac, "--dst", SERVER_IP, "--dport", "80", "--count", str(frames),
              "--seconds", str(seconds), timeout=seconds + 30)
    return json.loads(r.stdout)


def _flood_once(w: Wire, answers: Answers, frames: int, seconds: int, smac: str,
                dmac: str, perf: Path | None = None, perf_s: float = 0.0) -> dict:
    before = answers.count()
    load = loadavg()
    sampler = None
    if perf is not None and PERF:
        sampler = subprocess.Popen([PERF, "record", "-q", "-C", str(WORKER_CPU), "-o",
                                    str(perf), "--", "sleep", f"{perf_s:g}"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.05)
    c0 = _cpu_times(WORKER_CPU)
    gen = _generate(w, frames, seconds, smac, dmac)
    c1 = _cpu_times(WORKER_CPU)
    if sampler is not None:
        sampler.wait(timeout=60)
    time.sleep(0.3)     # the last answers
    got = answers.count() - before
    d = [b - a for a, b in zip(c0, c1, strict=False)]
    total = sum(d[:8]) or 1
    # user nice system idle iowait irq softirq steal
    busy = (total - d[3] - d[4]) / total
    rate = got / gen["seconds"]
    return {"sent": gen["frames"], "gen_seconds": gen["seconds"], "offered_pps": gen["pps"],
            "synacks": got, "synack_pps": rate, "answered": got / max(1, gen["frames"]),
            "cpu1_busy": busy, "cpu1_softirq": d[6] / total,
            "cpu1_system": (d[2] + d[5]) / total,
            "per_cpu_second": rate / busy if busy > 0 else 0.0, "load_before": load}


class RouterSide:
    """netfilter SYNPROXY inline: swo-<tag> into a router namespace, a veth on to a server
    namespace with 198.18.0.2 and a listener; SYNs to port 80 untracked and answered by
    `synproxy` in the forward chain, as a firewall in front of servers would."""

    def __init__(self, w: Wire, client_mac: str):
        self.w, self.client_mac = w, client_mac
        self.ns, self.srv_ns = f"swr-{w.tag}", f"swq-{w.tag}"
        self.dev = w.outside_if
        self.listener: subprocess.Popen | None = None

    def up(self) -> None:
        ns, srv, dev = self.ns, self.srv_ns, self.dev
        for n in (ns, srv):
            sh("ip", "netns", "add", n)
            sh("ip", "link", "set", "lo", "up", ns=n)
        sh("ip", "link", "set", dev, "netns", ns)
        sh("ip", "link", "add", "rs0", "netns", ns, "type", "veth", "peer", "name", "srv0",
           "netns", srv)
        sh("ip", "addr", "add", "198.18.0.254/24", "dev", dev, ns=ns)
        sh("ip", "addr", "add", "198.18.1.254/24", "dev", "rs0", ns=ns)
        sh("ip", "addr", "add", "198.18.1.2/24", "dev", "srv0", ns=srv)
        for d, n in ((dev, ns), ("rs0", ns), ("srv0", srv)):
            sh("sysctl", "-qw", f"net.ipv6.conf.{d}.disable_ipv6=1", ns=n, check=False)
            sh("ip", "link", "set", d, "up", ns=n)
        # 198.18.0.2 is the protected server, behind the router; the flood's sources are
        # on the client's side.
        sh("ip", "addr", "add", f"{SERVER_IP}/32", "dev", "srv0", ns=srv)
        sh("ip", "route", "add", f"{SERVER_IP}/32", "via", "198.18.1.2", ns=ns)
        sh("ip", "route", "add", "198.18.128.0/17", "via", CLIENT_IP, ns=ns)
        sh("ip", "route", "add", "default", "via", "198.18.1.254", ns=srv)
        sh("ip", "neigh", "replace", CLIENT_IP, "lladdr", self.client_mac, "dev", dev, "nud",
           "permanent", ns=ns)
        for k, v in (("net.ipv4.ip_forward", "1"), ("net.ipv4.conf.all.rp_filter", "0"),
                     (f"net.ipv4.conf.{dev}.rp_filter", "0"),
                     ("net.ipv4.tcp_syncookies", "2"), ("net.ipv4.tcp_timestamps", "1"),
                     ("net.netfilter.nf_conntrack_tcp_loose", "0")):
            sh("sysctl", "-qw", f"{k}={v}", ns=ns, check=False)
        take = f"counter name answered synproxy {SYNPROXY_OPTS}"
        nft_load(ns, f"""
table ip swproxy {{
    counter answered {{ }}
    chain pre {{
        type filter hook prerouting priority raw; policy accept;
        iifname "{dev}" tcp dport 80 tcp flags syn / fin,syn,rst,ack notrack
    }}
    chain forward_in {{
        type filter hook forward priority filter; policy accept;
        iifname "{dev}" tcp dport 80 ct state invalid,untracked {take}
        iifname "{dev}" ct state invalid drop
    }}
}}
""")
        code = ("import socket,time\n"
                "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                f"s.bind(('{SERVER_IP}', 80)); s.listen(4096); print('up', flush=True)\n"
                "time.sleep(600)\n")
        self.listener = subprocess.Popen(["ip", "netns", "exec", srv, sys.executable, "-c",
                                          code], stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, text=True)
        self.listener.stdout.readline()

    def answered(self) -> int:
        return nft_counter(self.ns, "ip", "swproxy", "answered")

    def down(self) -> None:
        if self.listener is not None:
            self.listener.kill()
            self.listener.wait()
            self.listener = None
        sh("ip", "link", "set", self.dev, "netns", "1", ns=self.ns, check=False)
        for n in (self.ns, self.srv_ns):
            sh("ip", "netns", "del", n, check=False)
        _root_side_again(self.dev)


def _root_side_again(dev: str) -> None:
    """The outside veth end as synlab.wire made it, for the next synwall run."""
    sh("ip", "link", "set", dev, "up", check=False)
    sh("sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1", check=False)
    sh("ethtool", "-K", dev, "tx", "off", check=False)


class XdpSide(LinuxSide):
    """The Linux host of LinuxSide with the kernel's XDP SYNPROXY on its veth: the XDP
    program answers SYNs from the NIC's hook with a cookie (XDP_TX); the ACKs it passes up
    are checked by netfilter's SYNPROXY, as the selftest sets it up."""

    def up(self) -> None:
        super().up()
        ns, dev = self.ns, self.dev
        for k, v in (("net.ipv4.tcp_timestamps", "1"),
                     ("net.netfilter.nf_conntrack_tcp_loose", "0")):
            sh("sysctl", "-qw", f"{k}={v}", ns=ns, check=False)
        nft_load(ns, f"""
table ip swproxy {{
    chain pre {{
        type filter hook prerouting priority raw; policy accept;
        iifname "{dev}" tcp dport 80 tcp flags syn / fin,syn,rst,ack notrack
    }}
    chain in {{
        type filter hook input priority filter; policy accept;
        iifname "{dev}" tcp dport 80 ct state invalid,untracked synproxy {SYNPROXY_OPTS}
        iifname "{dev}" ct state invalid drop
    }}
}}
""")
        sh(str(XDP / "xdp_synproxy"), "--iface", dev, "--ports", "80", "--mss4", "1460",
           "--mss6", "1440", "--wscale", "7", "--ttl", "64", "--single", ns=ns)
        link = json.loads(sh("ip", "-j", "-d", "link", "show", dev, ns=ns).stdout)[0]
        self.prog_id = int(link["xdp"]["prog"]["id"])

    def synacks_generated(self) -> int:
        """The program's own count of SYN-ACKs (key 1 of its `values` map)."""
        prog = json.loads(sh("bpftool", "-j", "prog", "show", "id", str(self.prog_id)).stdout)
        for map_id in prog.get("map_ids", []):
            info = json.loads(sh("bpftool", "-j", "map", "show", "id", str(map_id)).stdout)
            if info.get("name") == "values":
                return _map_u64(map_id, 1)
        raise RuntimeError("XDP SYNPROXY's values map not found")

    def run_time_ns(self, frame: bytes, runs: int, work: Path) -> dict:
        return xdp_run_time(self.ns, self.prog_id, frame, runs, work)

    def down(self) -> None:
        sh("ip", "link", "set", self.dev, "xdp", "off", ns=self.ns, check=False)
        super().down()


def xdp_run_time(ns: str, prog_id: int, frame: bytes, runs: int, work: Path) -> dict:
    """BPF_PROG_RUN of an attached XDP program over one frame, one run per call (xdprun):
    the kernel's time per run, no I/O (XDP_TX is not sent in this mode)."""
    data = work / "xdp_frame.bin"
    data.write_bytes(frame)
    r = sh("taskset", "-c", str(WORKER_CPU), str(XDP / "xdprun"), "--prog-id", str(prog_id),
           "--data", str(data), "--runs", str(runs), ns=ns)
    return json.loads(r.stdout)


def syn_frame(smac: str, dmac: str) -> bytes:
    """One SYN of the flood (Linux's options), for the run-time measurement."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether
    return bytes(Ether(src=smac, dst=dmac) / IP(src="198.18.128.1", dst=SERVER_IP, ttl=64,
                                                 flags="DF")
                 / TCP(sport=1024, dport=80, flags="S", seq=0x12345678, window=64240,
                       options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)),
                                ("NOP", None), ("WScale", 7)]))


def m_peers(ctx: Ctx) -> dict:
    frames, seconds = ctx.sizes.peer_frames, ctx.sizes.peer_seconds
    sec = section("peers", "synwall and Linux's SYN-flood defences on one veth path",
                  frames=frames, seconds=seconds,
                  generator=f"xdpgen: BPF_PROG_RUN live frames, XDP_TX out of cli0 "
                            f"(client namespace, CPU {GEN_CPU}), at most {frames} frames or "
                            f"{seconds} s a run")
    why = xdp_ready()
    if why:
        raise RuntimeError(why)
    tag = f"p{os.getpid() % 100000}"
    w = Wire(tag)
    w.create()
    side: LinuxSide | RouterSide | None = None
    try:
        smac = _mac("cli0", w.client_ns)
        dmac = _mac(w.outside_if)
        answers = Answers(w)
        # The answers are taken in before the generator runs on: a full ring at the client
        # would lose them, to the defender's cost.
        napi_on("cli0", GEN_CPU, ns=w.client_ns, fifo=True)
        sec["params"].update({
            "synwall": f"{' '.join(SYNWALL_ARGS)} (synlab.wire: --no-huge, worker on "
                       f"CPU {WORKER_CPU}; net_af_packet, or net_af_xdp in copy mode)",
            "linux": "tcp_syncookies=2, listener on 198.18.0.2:80",
            "xdp": "the kernel's selftest xdp_synproxy_kern.c (Debian's linux-source-6.12) on "
                   f"the veth, native mode; --mss4 1460 --wscale 7 --ttl 64; netfilter "
                   f"`synproxy {SYNPROXY_OPTS}` for the ACKs",
            "netfilter": "router namespace, SYNs untracked in prerouting (raw), "
                         f"`ct state invalid,untracked synproxy {SYNPROXY_OPTS}` in forward",
            "napi": f"both veth ends GRO on, threaded NAPI: the defender's on CPU {WORKER_CPU},"
                    f" the client's on CPU {GEN_CPU}"})
        order = list(DEFENDERS)
        for r in range(ctx.runs):
            for who in (order if r % 2 == 0 else order[::-1]):
                res = _one(ctx, w, answers, who, frames, seconds, smac, dmac, sec, r)
                add_run(sec, who, "SYN-ACK/s per CPU-second", res["per_cpu_second"], res)
                ctx.log(f"  run {r + 1} {who:18s} offered {res['offered_pps'] / 1e6:5.2f} M/s,"
                        f" answered {res['synack_pps'] / 1e6:5.3f} M/s ({res['answered']:.1%}),"
                        f" CPU {WORKER_CPU} busy {res['cpu1_busy']:.0%}:"
                        f" {res['per_cpu_second'] / 1e6:5.3f} M per CPU-second"
                        f"  load {res['load_before']}")
        # the XDP program's own run time per SYN, without I/O (BPF_PROG_RUN), and the same
        # timing of a program that does next to nothing (answers.bpf.o passing a SYN on):
        # what the timing itself costs
        frame = syn_frame(smac, dmac)
        side = XdpSide(w, smac, rps=False)
        side.up()
        try:
            run = side.run_time_ns(frame, ctx.sizes.peer_repeat, ctx.work)
        finally:
            side.down()
            side = None
        sec["xdp_floor"] = xdp_run_time(w.client_ns, answers.prog_id, frame,
                                        ctx.sizes.peer_repeat, ctx.work)
        check(sec, f"XDP SYNPROXY answered every timed SYN ({run['xdp_tx']} XDP_TX of "
              f"{run['runs']} runs)", run["xdp_tx"] == run["runs"])
        sec["xdp_run"] = run
    finally:
        if side is not None:
            side.down()
        for n in (f"swl-{tag}", f"swr-{tag}", f"swq-{tag}"):
            sh("ip", "netns", "del", n, check=False)
        w.destroy()
    return sec


def _one(ctx: Ctx, w: Wire, answers: Answers, who: str, frames: int, seconds: int, smac: str,
         dmac: str, sec: dict, r: int) -> dict:
    """One defender, one flood."""
    if who.startswith("synwall"):
        pmd = who.split()[1]
        w.start(ctx.work, SYNWALL_ARGS, pmd=pmd)
        perf = ctx.work / f"perf-{pmd}.data" if r == 0 else None
        try:
            napi_on(w.outside_if, WORKER_CPU)
            res = _flood_once(w, answers, frames, seconds, smac, dmac, perf,
                              ctx.sizes.peer_perf_s)
        finally:
            stats = w.stop()["total"]
        if perf is not None:
            sec.setdefault("cpu1_split", {})[who] = cpu1_split(perf)
        res["defender_sent"] = stats.get("syncache.sendcookie", 0)
        res["defender_rx"] = stats.get("port.outside_rx", 0)
        what = "SYN-ACKs synwall sent"
    else:
        side: LinuxSide | RouterSide
        if who == "Linux syncookies":
            side, what = LinuxSide(w, smac, rps=False), "TcpExtSyncookiesSent"
        elif who == "XDP SYNPROXY":
            side, what = XdpSide(w, smac, rps=False), "the program's SYN-ACK count"
        else:
            side, what = RouterSide(w, smac), "SYNs the synproxy rule took"
        perf = ctx.work / "perf-xdp.data" if r == 0 and who == "XDP SYNPROXY" else None
        side.up()
        try:
            napi_on(side.dev, WORKER_CPU, ns=side.ns)
            before = _defender_count(side)
            res = _flood_once(w, answers, frames, seconds, smac, dmac, perf,
                              ctx.sizes.peer_perf_s)
            res["defender_sent"] = _defender_count(side) - before
        finally:
            side.down()
        if perf is not None:
            sec.setdefault("cpu1_split", {})[who] = cpu1_split(perf)
    check(sec, f"run {r + 1}, {who}: SYN-ACKs counted at the client ({res['synacks']}) <= "
          f"{what} ({res['defender_sent']}) <= SYNs offered ({res['sent']})",
          0 < res["synacks"] <= res["defender_sent"] <= res["sent"])
    return res


def cpu1_split(data: Path) -> dict:
    """Where CPU 1's samples went: shares per object (synwall-dp, its PMD, other DPDK
    libraries, the kernel) and the kernel's heaviest functions."""
    if not data.exists():
        return {}
    objects: dict[str, float] = {}
    kernel = []
    for share, rest in _report(data, "dso,sym"):
        f = rest.split()
        if not f:
            continue
        dso = f[0]
        name = ("synwall-dp" if dso == "synwall-dp" else "kernel" if dso.startswith("[kernel")
                else "PMD" if dso.startswith("librte_net_") else "other DPDK libraries"
                if dso.startswith("librte_") else "JIT-ed BPF" if dso == "[unknown]"
                else "rest")
        objects[name] = objects.get(name, 0.0) + share
        if name == "kernel" and len(kernel) < 8:
            kernel.append((f[-1], share))
    data.unlink(missing_ok=True)
    return {"objects": objects, "kernel_funcs": kernel}


def _defender_count(side) -> int:
    if isinstance(side, XdpSide):
        return side.synacks_generated()
    if isinstance(side, RouterSide):
        return side.answered()
    return side.cookies_sent()
