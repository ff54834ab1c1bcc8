"""Header chains: no TCP segment to a protected port gets past the policy behind headers.

Every chain is either followed to its TCP header (and the segment judged as any other), or,
when it could carry TCP the parser cannot see, dropped by the default `--unparsed drop`
(counted) and bridged unchanged under `--unparsed pass`. Chains that carry something else,
and TCP to ports that are not protected, are bridged byte for byte. Each run ends with a
plain SYN whose SYN-ACK shows the dataplane still answering.
"""

import struct

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import (
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
)
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Raw

from tests.traffic.dpharness import TEST_KEY
from tests.traffic.expect import check_synack
from tests.traffic.pktutil import (
    CLIENT4,
    CLIENT6,
    CLIENT_MAC,
    SERVER4,
    SERVER6,
    SERVER_MAC,
    syn,
)

PROTECTED, OPEN = 80, 8081
ARGS = ["--protect", "80", "--key", TEST_KEY]


def eth6(*layers, sport=40000, dport=PROTECTED, flags="S", src=CLIENT6, dst=SERVER6,
         macs=(CLIENT_MAC, SERVER_MAC)):
    """IPv6 with the given extension headers in front of a TCP segment."""
    pkt = IPv6(src=src, dst=dst)
    for layer in layers:
        pkt = pkt / layer
    return Ether(src=macs[0], dst=macs[1]) / pkt / TCP(sport=sport, dport=dport, flags=flags,
                                                       seq=1000, options=[("MSS", 1440)])


def ah(nh, icv=b"\x09" * 12):
    """An authentication header as bytes: next header, length, SPI 1, sequence 1, the ICV."""
    body = struct.pack("!BBHII", nh, (12 + len(icv)) // 4 - 2, 0, 1, 1) + icv
    return body


def v4_ah(dport, *, frag=0, src=CLIENT4, dst=SERVER4, flags="S", sport=40000,
          macs=(CLIENT_MAC, SERVER_MAC)):
    """IPv4 protocol 51: AH, then a TCP segment (its checksum over the IPv4 pseudo-header)."""
    seg = bytes(IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags, seq=1000,
                                            options=[("MSS", 1460)]))[20:]
    return Ether(src=macs[0], dst=macs[1]) / IP(src=src, dst=dst, proto=51, flags=frag >> 13,
                                                 frag=frag & 0x1fff) / Raw(ah(6) + seg)


def qinq(outer, dport=PROTECTED):
    return (Ether(src=CLIENT_MAC, dst=SERVER_MAC, type=outer) / Dot1Q(vlan=5, type=0x8100)
            / Dot1Q(vlan=6) / IP(src=CLIENT4, dst=SERVER4)
            / TCP(sport=40000, dport=dport, flags="S", seq=1000))


NINE_HBH = [IPv6ExtHdrHopByHop() for _ in range(9)]

# name -> (frame, counter when dropped under --unparsed drop, or None: followed to TCP and
# judged, and whether --unparsed pass bridges it)
DROPPED = {
    "v6 nine hop-by-hop headers": (eth6(*NINE_HBH), "malformed.unparsed"),
    "v6 atomic fragment, destination options": (
        eth6(IPv6ExtHdrHopByHop(), IPv6ExtHdrFragment(offset=0, m=0, id=7),
             IPv6ExtHdrDestOpt()), "malformed.ipv6_ext"),
    "v6 first fragment, destination options, TCP": (
        eth6(IPv6ExtHdrFragment(offset=0, m=1, id=8), IPv6ExtHdrDestOpt()),
        "malformed.fragment"),
    "v6 later fragment continuing a chain": (
        Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IPv6(src=CLIENT6, dst=SERVER6)
        / IPv6ExtHdrFragment(offset=100, m=0, id=9, nh=60) / Raw(b"\x06\x00" + b"\x00" * 30),
        "malformed.unparsed"),
    "v6 AH": (Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IPv6(src=CLIENT6, dst=SERVER6, nh=51)
              / Raw(ah(6) + bytes(eth6()[TCP])), "malformed.ah"),
    "v4 AH": (v4_ah(PROTECTED), "malformed.ah"),
    "v4 AH in a fragment": (v4_ah(PROTECTED, frag=0x2000), "malformed.unparsed"),
    "QinQ 802.1ad": (qinq(0x88A8), "malformed.vlan"),
    "QinQ 0x9100": (qinq(0x9100), "malformed.vlan"),
    "QinQ 0x9200": (qinq(0x9200), "malformed.vlan"),
}
UNPARSED = {"malformed.unparsed", "malformed.vlan"}

# Frames that must pass unchanged: TCP to an unprotected port behind a followable chain,
# and chains that carry no TCP.
BRIDGED = {
    "v6 atomic fragment to an open port": eth6(
        IPv6ExtHdrHopByHop(), IPv6ExtHdrFragment(offset=0, m=0, id=7), IPv6ExtHdrDestOpt(),
        dport=OPEN),
    "v4 AH to an open port": v4_ah(OPEN),
    "v6 UDP behind destination options": (
        Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IPv6(src=CLIENT6, dst=SERVER6)
        / IPv6ExtHdrDestOpt() / UDP(sport=5353, dport=PROTECTED) / Raw(b"abcd")),
    "v6 later fragment of UDP": (
        Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IPv6(src=CLIENT6, dst=SERVER6)
        / IPv6ExtHdrFragment(offset=100, m=0, id=10, nh=17) / Raw(b"\x00" * 24)),
}


def good_syn():
    return syn(src="198.18.0.41", sport=40701, options=[("MSS", 1460)])


def check_still_answering(r, good):
    assert len(r.outside_raw) == 1, "want only the good SYN's SYN-ACK: " + r.describe()
    check_synack(r.outside_raw[0], good)


@pytest.mark.parametrize("case", list(DROPPED))
def test_chain_to_a_protected_port_is_dropped_and_counted(run_dp, case):
    frame, counter = DROPPED[case]
    good = good_syn()
    r = run_dp(outside=[frame, good], args=ARGS)
    assert r.inside_raw == [], "a hidden SYN reached the inside: " + r.describe()
    check_still_answering(r, good)
    assert r.c(counter) == 1, r.describe()
    assert r.c("port.bridged") == 0 and r.c("port.unparsed") == 0, r.describe()


@pytest.mark.parametrize("case", [c for c in DROPPED if DROPPED[c][1] in UNPARSED])
def test_unparsed_pass_bridges_what_cannot_be_seen_into(run_dp, case):
    frame, counter = DROPPED[case]
    good = good_syn()
    r = run_dp(outside=[frame, good], args=ARGS + ["--unparsed", "pass"])
    assert r.inside_raw == [bytes(frame)], r.describe()
    check_still_answering(r, good)
    assert r.c("port.unparsed") == 1 and r.c(counter) == 0, r.describe()


@pytest.mark.parametrize("case", [c for c in DROPPED if DROPPED[c][1] not in UNPARSED])
def test_unparsed_pass_leaves_followed_chains_to_the_policy(run_dp, case):
    # --unparsed is about what the parser cannot see: a chain it follows to a protected
    # port's TCP stays dropped.
    frame, counter = DROPPED[case]
    r = run_dp(outside=[frame], args=ARGS + ["--unparsed", "pass"])
    assert r.inside_raw == [] and r.c(counter) == 1, r.describe()


@pytest.mark.parametrize("case", list(BRIDGED))
def test_chains_without_protected_tcp_are_bridged_unchanged(run_dp, case):
    frame = BRIDGED[case]
    good = good_syn()
    r = run_dp(outside=[frame, good], args=ARGS)
    assert r.inside_raw == [bytes(frame)], r.describe()
    check_still_answering(r, good)
    assert r.c("port.bridged") == 1, r.describe()
    assert not {k: v for k, v in r.total.items() if k.startswith("malformed.") and v}, \
        r.describe()


def test_server_segments_that_cannot_be_translated_do_not_leave(run_dp):
    # From a protected port on the inside: TCP behind an IPv6 extension header, a TCP
    # fragment, stacked tags. None is a segment the splice could translate; bridged, each
    # would reach a client with the server's own numbers.
    srv = (SERVER_MAC, CLIENT_MAC)
    hidden = eth6(IPv6ExtHdrDestOpt(), src=SERVER6, dst=CLIENT6, sport=PROTECTED,
                  dport=40000, flags="SA", macs=srv)
    fragment = (Ether(src=srv[0], dst=srv[1]) / IP(src=SERVER4, dst=CLIENT4, flags="MF")
                / TCP(sport=PROTECTED, dport=40000, flags="A", seq=5))
    tags = (Ether(src=srv[0], dst=srv[1], type=0x88A8) / Dot1Q(vlan=5, type=0x8100)
            / Dot1Q(vlan=6) / IP(src=SERVER4, dst=CLIENT4) / TCP(sport=PROTECTED, dport=40000,
                                                                  flags="A"))
    # ... while the same shape from an unprotected port passes
    open_hidden = eth6(IPv6ExtHdrDestOpt(), src=SERVER6, dst=CLIENT6, sport=OPEN,
                       dport=40000, flags="SA", macs=srv)
    r = run_dp(inside=[hidden, fragment, tags, open_hidden], args=ARGS)
    assert r.outside_raw == [bytes(open_hidden)], r.describe()
    assert r.counters("malformed.ipv6_ext", "malformed.fragment", "malformed.vlan") == {
        "malformed.ipv6_ext": 1, "malformed.fragment": 1, "malformed.vlan": 1}, r.describe()
