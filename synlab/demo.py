"""The README's first command: synwall between a client and a server namespace, a bounded
spoofed-SYN flood and real Linux clients at the same time, live counters, and what reached
the server.

    sudo .venv/bin/python -m synlab.demo [--seconds N] [--flood-pps N]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

from synlab.flood import write_flood
from synlab.wire import DP, SERVER_IP, Wire, nft_syn_count, nft_syn_counter, sh

CLIENTS = textwrap.dedent("""
    import socket, sys, time
    ok = fail = 0
    end = time.monotonic() + {seconds}
    while time.monotonic() < end:
        s = socket.socket()
        s.settimeout(3)
        try:
            s.connect(("{server}", 80))
            ok += 1
        except OSError:
            fail += 1
        finally:
            s.close()
        time.sleep(0.05)
    print(ok, fail)
""")

COLUMNS = [
    ("port.outside_rx", "pkts in"),
    ("syncache.added", "cached"),
    ("syncache.sendcookie", "cookie-only"),
    ("syncache.bucketoverflow", "bkt ovfl"),
    ("syncache.completed", "completed"),
    ("syncache.recvcookie", "by cookie"),
    ("cookie.failed", "bad ACKs"),
]


def mac_of(ns: str, dev: str) -> str:
    return sh("cat", f"/sys/class/net/{dev}/address", ns=ns).stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=8, help="how long the flood lasts (max 60)")
    ap.add_argument("--flood-pps", type=int, default=200000, help="spoofed SYNs per second")
    args = ap.parse_args()
    seconds = max(2, min(args.seconds, 60))
    if os.geteuid() != 0:
        print("demo: needs root (network namespaces)", file=sys.stderr)
        return 2
    if not DP.exists():
        print(f"demo: {DP} not built: run scripts/setup.sh", file=sys.stderr)
        return 2

    wire = Wire(tag=f"d{os.getpid() % 10000}")
    tmp = Path(tempfile.mkdtemp(prefix="synwall-demo-"))
    try:
        wire.create()
        nft_syn_counter(wire.server_ns, 80)
        flood_pcap = tmp / "flood.pcap"
        unique = 100000
        write_flood(flood_pcap, unique, mac_of(wire.client_ns, "cli0"),
                    mac_of(wire.server_ns, "srv0"), SERVER_IP, 80)
        # A small syncache, so that the flood overflows it and cookies take over.
        wire.start(tmp, ["--protect", "80", "--hashsize", "1024", "--bucketlimit", "16"])
        print(f"synwall-dp running; flood: {args.flood_pps} spoofed SYN/s from "
              f"198.18.128.0/17 for {seconds} s; a real client connects 20 times a second\n")

        loops = max(1, args.flood_pps * seconds // unique)
        flood = subprocess.Popen(
            ["ip", "netns", "exec", wire.client_ns, "timeout", str(seconds + 5), "tcpreplay",
             "-q", "-i", "cli0", f"--pps={args.flood_pps}", f"--loop={loops}",
             str(flood_pcap)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        client_out: list[str] = []
        client = threading.Thread(target=lambda: client_out.append(subprocess.run(
            ["ip", "netns", "exec", wire.client_ns, "python3", "-c",
             CLIENTS.format(seconds=seconds, server=SERVER_IP)],
            capture_output=True, text=True, timeout=seconds + 30).stdout))
        client.start()

        print("  t  " + "".join(f"{h:>13}" for _, h in COLUMNS) + f"{'server SYNs':>13}")
        prev = {k: 0 for k, _ in COLUMNS}
        t0 = time.monotonic()
        while client.is_alive() or flood.poll() is None:
            time.sleep(1)
            now = wire.telemetry("/synwall/stats")
            rates = "".join(f"{now[k] - prev[k]:>11}/s" for k, _ in COLUMNS)
            print(f"{time.monotonic() - t0:4.0f}s{rates}{nft_syn_count(wire.server_ns):>13}",
                  flush=True)
            prev = {k: now[k] for k, _ in COLUMNS}
        client.join()
        flood.wait()
        stats = wire.stop()["total"]
        ok, fail = (int(x) for x in client_out[0].split())
        server_syns = nft_syn_count(wire.server_ns)
        synacks = sum(stats[k] for k in ("syncache.added", "syncache.sendcookie",
                                         "syncache.dupsyn", "syncache.retransmitted"))
        print(textwrap.dedent(f"""
            flood SYNs received by synwall      {stats['port.outside_rx']}
            SYN-ACKs sent (every ISS a cookie)  {synacks}
            syncache entries added              {stats['syncache.added']}
            cookie-only answers (cache paused)  {stats['syncache.sendcookie']}
            bucket / cache overflows            {stats['syncache.bucketoverflow']} / {stats['syncache.cacheoverflow']}
            real client handshakes              {ok} completed, {fail} failed
            handshakes completed at synwall     {stats['syncache.completed']} ({stats['syncache.recvcookie']} by cookie)
            SYNs that reached the server        {server_syns} (one per real client, none of the flood)
        """))
        print("(The splice to the server - data through the proxy - comes with the proxy issue.)")
        return 0 if fail == 0 and server_syns == stats["syncache.completed"] else 1
    finally:
        wire.destroy()


if __name__ == "__main__":
    sys.exit(main())
