"""Several workers on net_af_packet queue pairs, real Linux TCP clients.

The kernel's fanout hash spreads the connections over both queues; a connection's SYN and
its ACK must meet the same worker, which shows as every handshake completing from the
syncache (recvcookie stays 0) while both workers did work. The server's namespace counts
the SYNs that reach its stack: exactly one per client connection.
"""
import subprocess
import textwrap

from synlab.wire import CLIENT_IP, SERVER_IP, nft_syn_count, nft_syn_counter

KEY = "000102030405060708090a0b0c0d0e0f"
CONNECTIONS = 200

CLIENT = textwrap.dedent("""
    import socket, sys
    ok = 0
    for i in range({n}):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(("{server}", 80))
            ok += 1
        except OSError as e:
            print("connect failed:", e, file=sys.stderr)
        finally:
            s.close()
    print(ok)
""")


def test_two_workers_complete_every_handshake_from_their_own_syncache(wire, tmp_path):
    nft_syn_counter(wire.server_ns, 80)
    wire.start_httpd(SERVER_IP)
    # af_packet: its fanout steers both directions of a flow to one queue; veth offers
    # net_af_xdp no such symmetric steering
    wire.start(tmp_path, ["--protect", "80", "--key", KEY], workers=2, qpairs=2, pmd="af_packet")

    out = subprocess.run(
        ["ip", "netns", "exec", wire.client_ns, "python3", "-c",
         CLIENT.format(n=CONNECTIONS, server=SERVER_IP)],
        capture_output=True, text=True, timeout=120, check=True)
    # A client's connect() returns once it has our SYN-ACK and has sent its ACK.
    assert int(out.stdout.strip()) == CONNECTIONS, out.stderr

    live = wire.telemetry("/synwall/stats")
    stats = wire.stop()
    total = stats["total"]
    assert total["syncache.added"] == CONNECTIONS
    assert total["syncache.completed"] == CONNECTIONS
    assert total["syncache.recvcookie"] == 0, "an ACK reached another worker than its SYN"
    assert total["cookie.failed"] == 0
    assert total["proxy.opened"] == CONNECTIONS
    assert total["proxy.established"] == CONNECTIONS
    assert live.get("syncache.completed") == CONNECTIONS, live
    per_lcore = [lc["counters"]["syncache.added"] for lc in stats["lcores"]]
    assert len(per_lcore) == 2 and all(n > 0 for n in per_lcore), per_lcore
    for lc in stats["lcores"]:
        c = lc["counters"]
        assert c["syncache.completed"] == c["syncache.added"], lc
    # One server SYN per client connection reached the server, from the client's address.
    assert nft_syn_count(wire.server_ns) == CONNECTIONS
    assert CLIENT_IP
