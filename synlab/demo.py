"""The README's first command: synwall between a client and a server namespace, a bounded
spoofed-SYN flood and real HTTP clients at the same time, live counters, and a summary.

    .venv/bin/python -m synlab.demo [--seconds N] [--flood-pps N] [--clients N] [--pmd P]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from synlab.flood import write_flood
from synlab.wire import DEFAULT_PMD, DP, PMDS, SERVER_IP, Wire, nft_syn_count, nft_syn_counter, sh

# The embedded default configuration: port 80 proxied, a deliberately small syncache so that
# the flood overflows it and SYN cookies take over.
DEFAULT_ARGS = ["--protect", "80", "--hashsize", "1024", "--bucketlimit", "16"]
BLOB = 256 * 1024

RATES = [
    ("SYNs in", ("syncache.added", "syncache.sendcookie", "syncache.dupsyn")),
    ("SYN-ACKs out", ("syncache.added", "syncache.sendcookie", "syncache.dupsyn",
                      "syncache.retransmitted")),
    ("cookies validated", ("syncache.recvcookie",)),
    ("handshakes completed", ("syncache.completed",)),
    ("bad ACKs dropped", ("cookie.failed", "syncache.badack")),
    ("segments spliced", ("proxy.to_server", "proxy.to_client")),
]


def mac_of(ns: str, dev: str) -> str:
    return sh("cat", f"/sys/class/net/{dev}/address", ns=ns).stdout.strip()


def render(elapsed: float, seconds: int, rates: dict, now: dict, server_syns: int) -> list[str]:
    lines = [f"synwall demo  {elapsed:4.0f}/{seconds} s   (per second)", ""]
    for name, _ in RATES:
        lines.append(f"  {name:<22}{rates[name]:>12,}/s")
    lines.append("")
    lines.append(f"  {'flows open':<22}{now['proxy.flows']:>12,}")
    lines.append(f"  {'syncache entries':<22}{now['syncache.count']:>12,}"
                 f"   {'paused (cookies only)' if now['syncache.paused'] else ''}")
    lines.append(f"  {'SYNs seen by server':<22}{server_syns:>12,}")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=10, help="how long it runs (2..60)")
    ap.add_argument("--flood-pps", type=int, default=200000, help="spoofed SYNs per second")
    ap.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    ap.add_argument("--pmd", choices=PMDS, default=DEFAULT_PMD,
                    help="how synwall-dp reads the veth ends: net_af_packet or net_af_xdp "
                         "(default: $SYNWALL_PMD, else af_xdp)")
    args = ap.parse_args()
    seconds = max(2, min(args.seconds, 60))
    if os.geteuid() != 0:
        print("demo: needs root (network namespaces)", file=sys.stderr)
        return 2
    if not DP.exists():
        print(f"demo: {DP} not built: run scripts/setup.sh", file=sys.stderr)
        return 2
    tty = sys.stdout.isatty()

    wire = Wire(tag=f"d{os.getpid() % 10000}")
    tmp = Path(tempfile.mkdtemp(prefix="synwall-demo-"))
    try:
        wire.create()
        nft_syn_counter(wire.server_ns, 80)
        wire.start_httpd(SERVER_IP)
        flood_pcap = tmp / "flood.pcap"
        unique = 100000
        write_flood(flood_pcap, unique, mac_of(wire.client_ns, "cli0"),
                    mac_of(wire.server_ns, "srv0"), SERVER_IP, 80)
        wire.start(tmp, DEFAULT_ARGS, pmd=args.pmd)
        print(f"client ns {wire.client_ns} -> synwall-dp -> server ns {wire.server_ns} "
              f"({SERVER_IP}:80)\nflood: {args.flood_pps:,} spoofed SYN/s from "
              f"198.18.128.0/17; {args.clients} real clients downloading "
              f"{BLOB // 1024} KiB over HTTP, every transfer checked by SHA-256\n")

        loops = max(1, args.flood_pps * seconds // unique)
        flood = subprocess.Popen(
            ["ip", "netns", "exec", wire.client_ns, "timeout", str(seconds + 5), "tcpreplay",
             "-q", "-i", "cli0", f"--pps={args.flood_pps}", f"--loop={loops}",
             str(flood_pcap)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        result: dict = {}
        clients = threading.Thread(target=lambda: result.update(
            wire.client("load", SERVER_IP, seconds, args.clients, BLOB,
                        timeout=seconds + 60)))
        clients.start()

        keys = {k for _, ks in RATES for k in ks}
        prev = {k: 0 for k in keys}
        t0 = time.monotonic()
        drawn = 0
        while clients.is_alive() or flood.poll() is None:
            time.sleep(1)
            now = wire.telemetry("/synwall/stats")
            rates = {name: sum(now[k] - prev[k] for k in ks) for name, ks in RATES}
            prev = {k: now[k] for k in keys}
            lines = render(time.monotonic() - t0, seconds, rates, now,
                           nft_syn_count(wire.server_ns))
            if tty and drawn:
                sys.stdout.write(f"\x1b[{drawn}F\x1b[J")   # redraw in place
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
            drawn = len(lines)
        clients.join()
        flood_out, _ = flood.communicate()
        stats = wire.stop()["total"]
        server_syns = nft_syn_count(wire.server_ns)
        flood_sent = loops * unique
        absorbed = stats["syncache.added"] + stats["syncache.sendcookie"] + \
            stats["syncache.dupsyn"] - stats["syncache.completed"]
        served, lost = result.get("ok", 0), result.get("failed", 0)
        mib = result.get("bytes", 0) // (1 << 20)
        completed = stats["syncache.completed"]
        print(f"""
summary
  flood SYNs sent                {flood_sent:>12,}
  SYNs answered by synwall       {absorbed:>12,}  (none reached the server)
  legitimate connections served  {served:>12,}  ({mib:,} MiB, SHA-256 checked)
  connections lost               {lost:>12,}
  SYNs the server saw            {server_syns:>12,}  (= handshakes completed: {completed:,})
""")
        if result.get("errors"):
            print("client errors:", json.dumps(result["errors"]))
        good = result.get("failed", 1) == 0 and result.get("ok", 0) > 0 and \
            server_syns == stats["syncache.completed"]
        return 0 if good else 1
    finally:
        wire.destroy()
        print("namespaces and interfaces removed")


if __name__ == "__main__":
    sys.exit(main())
