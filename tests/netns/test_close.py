"""Closing like a TCP stack, with real Linux stacks on both sides.

Once FINs went both ways a flow lingers 120 s, as a TIME_WAIT does in conntrack, so that a FIN
retransmitted after a lost ACK, long after the last segment, still finds the flow and is
translated. A client FIN counts anywhere in the largest window the server can offer (65535
shifted by its window scale), not within a fixed distance of what the server acknowledged.
"""

import time

import pytest

from synlab.wire import SERVER_IP, SERVER_IP6, nft_counts, nft_load, nft_observe, sh

KEY = "000102030405060708090a0b0c0d0e0f"

SERVER = """
import socket, sys
addr, rcvbuf = sys.argv[1], int(sys.argv[2])
l = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if rcvbuf:
    # children inherit it: a window (and a shift) this large, whatever rmem_max says
    l.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), rcvbuf)
l.bind((addr, 80))
l.listen(4)
l.settimeout(20)
print("listening", flush=True)
c, _ = l.accept()
c.settimeout(20)
c.sendall(b"r")
got = 0
while True:
    data = c.recv(1 << 20)
    if not data:
        break
    got += len(data)
print("eof", got, flush=True)
sys.stdin.readline()
c.close()
print("closed", flush=True)
sys.stdin.readline()
"""

CLIENT = """
import socket, sys
addr, size, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
if rate:
    s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_SNDBUFFORCE", 32), 64 << 20)
    # paced (internal TCP pacing): a burst the af_packet rings take without loss
    s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_MAX_PACING_RATE", 47), rate)
s.settimeout(20)
s.connect((addr, 80))
assert s.recv(1) == b"r"
print("ready", flush=True)
sys.stdin.readline()
s.sendall(b"x" * size)
s.shutdown(socket.SHUT_WR)
print("sent", flush=True)
data = s.recv(1)
print("eof" if data == b"" else "data", flush=True)
s.close()
"""


def watch(wire):
    """RSTs and FINs each stack receives, and the FINs the server sends."""
    nft_observe(wire.client_ns, "obs", {"input": {
        "cli_rst": "tcp sport 80 tcp flags & rst == rst",
        "cli_fin": "tcp sport 80 tcp flags & fin == fin",
    }})
    nft_observe(wire.server_ns, "obs", {
        "input": {"srv_rst": "tcp dport 80 tcp flags & rst == rst",
                  "srv_fin": "tcp dport 80 tcp flags & fin == fin"},
        "output": {"srv_sent_fin": "tcp sport 80 tcp flags & fin == fin"},
    })


def cut(ns, match):
    """Drop what a namespace sends that matches (before synwall sees it)."""
    nft_load(ns, f"""
table inet cut {{
    counter dropped {{ }}
    chain output {{
        type filter hook output priority 0; policy accept;
        {match} counter name dropped drop
    }}
}}
""")


def uncut(ns):
    dropped = nft_counts(ns, "cut")["dropped"]
    sh("nft", "delete", "table", "inet", "cut", ns=ns)
    return dropped


def sockets(ns, state):
    """The TCP sockets of port 80 in a state (ss), in a namespace."""
    out = sh("ss", "-tanH", "state", state, "( sport = :80 or dport = :80 )", ns=ns).stdout
    return [line for line in out.splitlines() if line.strip()]


def counts(wire):
    return {**nft_counts(wire.client_ns, "obs"), **nft_counts(wire.server_ns, "obs")}


@pytest.mark.parametrize("addr", [SERVER_IP, SERVER_IP6], ids=["ipv4", "ipv6"])
def test_server_fin_retransmitted_long_after_a_lost_ack_is_translated(wire, tmp_path, addr):
    """The client half-closes, the server reads EOF and closes; the client's ACKs of the
    server's FIN are dropped in the client namespace for 7 s, so the server retransmits its
    FIN with backoff (0.2, 0.6, 1.4, 3, 6.2, 12.6 s): the first one after the drop ends comes
    more than 5 s after the one before, with nothing in between. It must still be
    translated, reach the client and be ACKed: the server leaves LAST_ACK, nobody sees an
    RST."""
    watch(wire)
    wire.start(tmp_path, ["--protect", "80", "--key", KEY])
    server = wire.spawn(wire.server_ns, SERVER, addr, "0")
    server.expect("listening", 10)
    client = wire.spawn(wire.client_ns, CLIENT, addr, "100000", "0")
    client.expect("ready", 10)
    client.say()
    client.expect("sent", 10)
    assert server.expect("eof", 10) == "eof 100000"
    cut(wire.client_ns, "tcp dport 80")
    server.say()
    server.expect("closed", 5)
    t0 = time.monotonic()
    # the server's FIN reaches the client, translated (the client's stack takes it)
    client.expect("eof", 5)
    assert client.wait(5) == 0
    # Watch the server's FINs go out while its socket waits for the ACK.
    fins, last_ack, removed, done = [], None, None, None
    while time.monotonic() < t0 + 25:
        now = time.monotonic() - t0
        waiting = sockets(wire.server_ns, "last-ack")
        # counted after: the FIN that ends LAST_ACK was sent before its ACK came
        sent = counts(wire)["srv_sent_fin"]
        if sent > len(fins):
            fins += [round(now, 2)] * (sent - len(fins))
        if removed is None and now >= 7:
            assert waiting, f"the server left LAST_ACK with every ACK dropped: {fins}"
            last_ack = waiting
            dropped = uncut(wire.client_ns)
            removed = now
        if removed is not None and not waiting:
            done = now
            break
        time.sleep(0.05)
    c = counts(wire)
    story = (f"server FINs sent at {fins} s, drop removed at {removed} s, LAST_ACK "
             f"{last_ack}, left at {done} s; {c}")
    assert done is not None, "the server never left LAST_ACK: " + story
    # the ACKs the client's stack sent while the drop was on: one per FIN
    assert dropped >= 5, story
    # the FIN that got through came after a silence longer than the old 5 s linger
    assert len(fins) >= 2 and fins[-1] > removed and fins[-1] - fins[-2] > 5, story
    # the client's stack saw every FIN (translated: it ACKed them), the server its ACK
    assert c["cli_fin"] == len(fins) and c["srv_fin"] >= 1, story
    assert c["cli_rst"] == 0 and c["srv_rst"] == 0, story
    assert sockets(wire.client_ns, "time-wait"), story
    total = wire.stop()["total"]
    assert total["proxy.established"] == 1, total
    for name in ("proxy.server_no_flow", "proxy.reset_sent", "proxy.expired",
                 "proxy.closed", "proxy.evicted", "cookie.failed", "proxy.unexpected"):
        # proxy.closed: the flow still lingers (120 s), it is not removed yet
        assert total[name] == 0, (name, total)
    assert total["proxy.to_client"] >= len(fins) + 1, total


@pytest.mark.parametrize("addr", [SERVER_IP, SERVER_IP6], ids=["ipv4", "ipv6"])
def test_client_fin_far_beyond_the_servers_ack_is_a_close(wire, tmp_path, addr):
    """The server's window is large (SO_RCVBUFFORCE 64 MiB, shift 10 or more); the client,
    with an initial cwnd of 4000, sends 3 MiB and its FIN in one paced burst while every
    segment the server sends is dropped before synwall: synwall sees the FIN 3 MiB beyond
    the last ACK of the server's it saw, within the window. It must count as the client's
    close: once the server's FIN passes too the flow lingers, so the idle timeout (2 s
    here) that would end an established flow with RSTs to both sides never fires."""
    size = 3 << 20
    watch(wire)
    # A cwnd large enough for the burst, and an RTO longer than it.
    if ":" in addr:
        sh("ip", "-6", "route", "replace", "2001:2::/64", "dev", "cli0", "proto", "kernel",
           "metric", "256", "initcwnd", "4000", "rto_min", "1s", ns=wire.client_ns)
    else:
        sh("ip", "route", "replace", "198.18.0.0/24", "dev", "cli0", "proto", "kernel",
           "scope", "link", "src", "198.18.0.1", "initcwnd", "4000", "rto_min", "1s",
           ns=wire.client_ns)
    wire.start(tmp_path, ["--protect", "80", "--key", KEY, "--idle-timeout", "2"])
    server = wire.spawn(wire.server_ns, SERVER, addr, str(64 << 20))
    server.expect("listening", 10)
    client = wire.spawn(wire.client_ns, CLIENT, addr, str(size), str(25 << 20))
    client.expect("ready", 10)
    cut(wire.server_ns, "tcp sport 80")
    client.say()
    client.expect("sent", 10)
    # All of it, FIN included, reached the server while none of its ACKs could reach
    # synwall.
    assert server.expect("eof", 5) == f"eof {size}"
    server.say()
    server.expect("closed", 5)
    time.sleep(0.5)
    dropped = uncut(wire.server_ns)
    assert dropped > 0
    # the server's FIN (retransmitted, acknowledging the client's) now passes
    client.expect("eof", 5)
    assert client.wait(5) == 0
    deadline = time.monotonic() + 10
    while sockets(wire.server_ns, "last-ack") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not sockets(wire.server_ns, "last-ack")
    # longer than the idle timeout: an established flow would be reset now
    time.sleep(3.5)
    c = counts(wire)
    assert c["cli_rst"] == 0 and c["srv_rst"] == 0, c
    assert c["srv_fin"] >= 1, c
    total = wire.stop()["total"]
    assert total["proxy.established"] == 1, total
    assert total["proxy.expired"] == 0 and total["proxy.reset_sent"] == 0, total
    assert total["proxy.server_no_flow"] == 0 and total["proxy.closed"] == 0, total
