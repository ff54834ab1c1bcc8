"""A SYN hidden behind IPv6 extension headers, with a real Linux server behind synwall.

The shape is one a Linux stack accepts: hop-by-hop options, an atomic Fragment header
(offset 0, no more fragments: a whole packet, RFC 6946) and destination options in front of
the SYN. To a port synwall does not protect, the server answers it with a SYN-ACK and holds a
SYN-RECV socket for it (the shape is live); to a protected port it never reaches the server:
synwall drops and counts it, as it cannot answer or splice TCP behind such headers.
"""

import json
import time

import pytest

from synlab.wire import CLIENT_IP6, SERVER_IP6, nft_counts, nft_load, nft_observe, sh

KEY = "000102030405060708090a0b0c0d0e0f"
PROTECTED, OPEN = 80, 8081

SEND = r"""
import json, sys
from scapy.all import Ether, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, \
    IPv6ExtHdrHopByHop, TCP, get_if_hwaddr, sendp
src, dst, dmac, ports = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
smac = get_if_hwaddr("cli0")
for i, port in enumerate(ports):
    sendp(Ether(src=smac, dst=dmac) / IPv6(src=src, dst=dst) / IPv6ExtHdrHopByHop()
          / IPv6ExtHdrFragment(offset=0, m=0, id=100 + i) / IPv6ExtHdrDestOpt()
          / TCP(sport=41000 + i, dport=port, flags="S", seq=1000, options=[("MSS", 1400)]),
          iface="cli0", verbose=False)
"""


def syn_recv(ns, port):
    out = sh("ss", "-tanH", "state", "syn-recv", f"sport = :{port}", ns=ns).stdout
    return len([line for line in out.splitlines() if line.strip()])


@pytest.mark.parametrize("ports", [[OPEN, PROTECTED]], ids=["open-then-protected"])
def test_hidden_syn_reaches_no_server_on_a_protected_port(wire, tmp_path, ports):
    nft_observe(wire.server_ns, "swchain", {
        "input": {"syn_open": f"tcp dport {OPEN} tcp flags & (syn | ack) == syn",
                  "syn_protected": f"tcp dport {PROTECTED} tcp flags & (syn | ack) == syn"},
        "output": {"synack_open": f"tcp sport {OPEN} tcp flags & (syn | ack) == syn | ack",
                   "synack_protected":
                       f"tcp sport {PROTECTED} tcp flags & (syn | ack) == syn | ack"}})
    # the client's stack has no socket for the answer: it would reset the server's
    # SYN-RECV at once; the test's own observer keeps it
    nft_load(wire.client_ns, """
table inet swchain {
    counter answers_open { }
    counter answers_protected { }
    chain input {
        type filter hook input priority 0; policy accept;
        tcp sport %d tcp flags & (syn | ack) == syn | ack counter name answers_open
        tcp sport %d tcp flags & (syn | ack) == syn | ack counter name answers_protected
    }
    chain output {
        type filter hook output priority 0; policy accept;
        tcp flags & rst == rst drop
    }
}
""" % (OPEN, PROTECTED))
    wire.start_httpd(SERVER_IP6, PROTECTED)
    wire.start_httpd(SERVER_IP6, OPEN)
    wire.start(tmp_path, ["--protect", str(PROTECTED), "--key", KEY])
    dmac = json.loads(sh("ip", "-j", "link", "show", "srv0", ns=wire.server_ns).stdout)[0][
        "address"]
    wire.python(wire.client_ns, "\n".join(
        ["import sys", f"sys.argv = ['send', {CLIENT_IP6!r}, {SERVER_IP6!r}, {dmac!r}, "
         f"{json.dumps(ports)!r}]", SEND]))
    deadline = time.monotonic() + 5
    while (nft_counts(wire.client_ns, "swchain")["answers_open"] == 0
           and time.monotonic() < deadline):
        time.sleep(0.1)
    time.sleep(0.5)
    seen = nft_counts(wire.server_ns, "swchain")
    # the open port: the server took the hidden SYN and answered it
    assert seen["syn_open"] == 1, seen
    assert seen["synack_open"] >= 1, seen
    assert syn_recv(wire.server_ns, OPEN) == 1, sh("ss", "-tan", ns=wire.server_ns).stdout
    answers = nft_counts(wire.client_ns, "swchain")
    assert answers["answers_open"] >= 1, answers
    # the protected port: nothing reached the server, nothing answered
    assert seen["syn_protected"] == 0 and seen["synack_protected"] == 0, seen
    assert answers["answers_protected"] == 0, answers
    assert syn_recv(wire.server_ns, PROTECTED) == 0
    total = wire.stop()["total"]
    assert total["malformed.ipv6_ext"] == 1, total
    assert total["syncache.added"] == 0 and total["syncache.sendcookie"] == 0, total
