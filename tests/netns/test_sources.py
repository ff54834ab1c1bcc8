"""Source lists replaced at run time (the control socket's load_sources) under real Linux
stacks: a client whose prefix is denied gets no connection, and its SYNs reach neither an
answer nor the server; other clients are served throughout; the lists removed, the denied
client is served again, and a connection opened before a deny of someone else goes on."""

import shutil
import tempfile
from pathlib import Path

from synlab.wire import SERVER_IP, nft_syn_count, nft_syn_counter, sh
from synwall.dplink import DpLink

OTHER = "198.18.0.77"           # another client, in the client namespace too


def test_a_deny_loaded_at_run_time_takes_effect_and_goes_away(wire, tmp_path):
    d = Path(tempfile.mkdtemp(prefix="swsrc", dir="/tmp"))     # a short Unix socket path
    ctl = d / "dp.ctl"
    try:
        sh("ip", "addr", "add", OTHER + "/24", "dev", "cli0", ns=wire.client_ns)
        wire.start_httpd(SERVER_IP)
        nft_syn_counter(wire.server_ns, 80)
        wire.start(tmp_path, ["--protect", "80", "--key", "00" * 16, "--ctl", str(ctl)])
        link = DpLink(str(ctl), timeout=10)
        assert wire.client("sequential", SERVER_IP, 3)["ok"] == 3
        syns_before = nft_syn_count(wire.server_ns)

        # the client namespace's own address denied: its connections fail, OTHER's work
        rules = tmp_path / "sources"
        rules.write_text("deny 198.18.0.1/32\n")
        link.load_sources(str(rules))
        assert link.status().source_prefixes4 == 1
        out = wire.python(wire.client_ns, f"""
import json, socket
r = {{}}
for src in ("198.18.0.1", {OTHER!r}):
    s = socket.socket()
    s.settimeout(2)
    s.bind((src, 0))
    try:
        s.connect(({SERVER_IP!r}, 80))
        r[src] = "connected"
    except OSError as e:
        r[src] = type(e).__name__
    s.close()
print(json.dumps(r))
""", timeout=30)
        assert '"198.18.0.1": "TimeoutError"' in out and f'"{OTHER}": "connected"' in out, out
        total = wire.telemetry("/synwall/stats")
        assert total["source.denied"] >= 1, total
        # only OTHER's handshake reached the server
        assert nft_syn_count(wire.server_ns) == syns_before + 1

        # removed: served again
        link.load_sources("")
        assert link.status().source_prefixes4 == 0
        assert wire.client("sequential", SERVER_IP, 3)["ok"] == 3
        link.close()
        final = wire.stop()["total"]
        assert final["source.denied"] >= 1 and final["proxy.established"] == 3 + 1 + 3, final
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_a_reflection_and_a_limited_prefix_under_real_stacks(wire, tmp_path):
    """A flood whose spoofed source is one victim (an address of the client namespace, which
    counts the SYN-ACKs it receives), and a flood from many hosts of a /24 that a limit rule
    names, at 500 SYNs a second each for 3 s, while a real client connects: the victim
    receives at most the cap (burst + rate x time, retransmits included), the /24 gets at
    most its rate, nothing of either reaches the server, the real client is served, and the
    top talkers name both."""
    import struct
    import subprocess
    import time

    from synlab.flood import mac_bytes, syn_frame
    from synlab.wire import nft_counts, nft_observe
    from synwall.dp.v1 import dataplane_pb2 as dp

    victim, limited = "198.18.200.99", "198.18.201.%d"
    cap, rate = 20, 10
    d = Path(tempfile.mkdtemp(prefix="swrefl", dir="/tmp"))
    ctl = d / "dp.ctl"

    def mac(ns, dev):
        return wire.run(ns, "cat", f"/sys/class/net/{dev}/address").stdout.strip()
    try:
        sh("ip", "addr", "add", victim + "/32", "dev", "cli0", ns=wire.client_ns)
        cli_mac, srv_mac = mac(wire.client_ns, "cli0"), mac(wire.server_ns, "srv0")
        srv = bytes(int(x) for x in SERVER_IP.split("."))
        pcap = tmp_path / "floods.pcap"
        with open(pcap, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for i in range(3000):
                src = victim if i % 2 == 0 else limited % (1 + (i // 2) % 250)
                frame = syn_frame(mac_bytes(cli_mac), mac_bytes(srv_mac),
                                  bytes(int(x) for x in src.split(".")), srv,
                                  1024 + i, 80, 0x1000 + i, i)
                f.write(struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame)
        # (prerouting: the /24's hosts are no addresses of the namespace's own)
        nft_observe(wire.client_ns, "swrefl", {"prerouting": {
            "to_victim": f"ip daddr {victim} tcp flags & (syn | ack) == (syn | ack)",
            "to_limited": "ip daddr 198.18.201.0/24 tcp flags & (syn | ack) == (syn | ack)"}})
        wire.start_httpd(SERVER_IP)
        nft_syn_counter(wire.server_ns, 80)
        rules = tmp_path / "sources"
        rules.write_text(f"limit 198.18.201.0/24 {rate} {rate}\n")
        wire.start(tmp_path, ["--protect", "80", "--key", "00" * 16, "--ctl", str(ctl),
                              "--reflect-rate", str(cap), "--reflect-burst", str(cap),
                              "--sources", str(rules)])
        t0 = time.monotonic()
        replay = subprocess.Popen(["ip", "netns", "exec", wire.client_ns, "timeout", "30",
                                   "tcpreplay", "-q", "-i", "cli0", "--pps", "1000",
                                   str(pcap)], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        assert wire.client("sequential", SERVER_IP, 10)["ok"] == 10
        out, _ = replay.communicate(timeout=60)
        assert replay.returncode == 0, out
        time.sleep(4)           # the SYN-ACK retransmits of what was answered
        seen = nft_counts(wire.client_ns, "swrefl")
        elapsed = time.monotonic() - t0
        assert 0 < seen["to_victim"] <= cap + cap * elapsed, (seen, elapsed)
        # the SYNs let through, each answered and retransmitted at 1 s and 3 s at most
        assert 0 < seen["to_limited"] <= 3 * (rate + rate * elapsed), (seen, elapsed)
        link = DpLink(str(ctl), timeout=10)
        by = dp.DpRequest.TopSources
        top = link.request(dp.DpRequest(top_sources=by(by=by.SYNACKS_CAPPED, max=1))).sources
        assert [bytes(s.prefix) for s in top] == [bytes([198, 18, 200, 99])], top
        top = link.request(dp.DpRequest(top_sources=by(by=by.SYNS_LIMITED, max=300))).sources
        assert {bytes(s.prefix)[:3] for s in top} == {bytes([198, 18, 201])}, top
        link.close()
        total = wire.stop()["total"]
        assert total["source.reflect_capped"] > 1000 and total["source.prefix_limited"] > 1000, \
            total
        assert total["proxy.established"] == 10, total
        # the server saw the real client's SYNs only
        assert nft_syn_count(wire.server_ns) == 10
    finally:
        shutil.rmtree(d, ignore_errors=True)
