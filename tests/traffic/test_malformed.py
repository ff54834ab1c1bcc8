"""5. Malformed frames to a protected port: dropped, counted under their documented
malformed.* reason, and the dataplane keeps working (a good SYN after each is answered).

Frames are built by hand so that each carries exactly one defect: every checksum that can be
computed is right, except in the checksum cases.
"""

import ipaddress
import struct

import pytest

from tests.traffic.dpharness import MALFORMED_NAMES
from tests.traffic.expect import check_synack
from tests.traffic.pktutil import CLIENT6, SERVER6, ones_sum, parse_tcp, syn

SRC, DST = "198.18.0.40", "198.18.1.1"
SPORT, DPORT, ISN = 40700, 80, 0x11223344
MACS = bytes.fromhex("020000000002" "020000000001")
MSS_OPT = bytes.fromhex("020405b4")


def tcp_hdr(*, src=SRC, dst=DST, flags=0x02, doff=None, opts=MSS_OPT, payload=b"",
            csum_ok=True, length_for_csum=None):
    """A TCP header (+ payload) with its checksum over the given addresses."""
    doff = (20 + len(opts)) // 4 if doff is None else doff
    h = struct.pack("!HHIIBBHHH", SPORT, DPORT, ISN, 0, doff << 4, flags, 64240, 0, 0)
    seg = h + opts + payload
    s, d = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    if len(s) == 4:
        pseudo = s + d + struct.pack("!BBH", 0, 6, len(seg))
    else:
        pseudo = s + d + struct.pack("!IxxxB", len(seg), 6)
    c = ~ones_sum(pseudo + seg) & 0xFFFF
    if not csum_ok:
        c ^= 0x0101
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def ipv4(payload, *, version=4, ihl=5, ip_opts=b"", tot=None, frag=0, proto=6, csum_ok=True):
    tot = 4 * ihl + len(payload) if tot is None else tot
    h = struct.pack("!BBHHHBBH4s4s", version << 4 | ihl, 0, tot, 1, frag, 64, proto, 0,
                    ipaddress.ip_address(SRC).packed, ipaddress.ip_address(DST).packed)
    h += ip_opts
    c = ~ones_sum(h) & 0xFFFF
    if not csum_ok:
        c ^= 0x0101
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def eth(l3, ethertype=0x0800, tags=()):
    out = MACS
    for tpid, tci in tags:
        out += struct.pack("!HH", tpid, tci)
    return out + struct.pack("!H", ethertype) + l3


GOOD = eth(ipv4(tcp_hdr()))


def ipv6_frame(seg, plen=None):
    s, d = ipaddress.ip_address(CLIENT6).packed, ipaddress.ip_address(SERVER6).packed
    plen = len(seg) if plen is None else plen
    return eth(struct.pack("!IHBB", 6 << 28, plen, 6, 64) + s + d + seg, 0x86DD)


# name -> (frame, the counter it must be counted under)
CASES = {
    "ethernet_truncated": (GOOD[:12], "malformed.truncated"),
    "vlan_tag_truncated": (MACS + bytes.fromhex("8100 0064"), "malformed.truncated"),
    "ip_header_truncated": (GOOD[:14 + 12], "malformed.truncated"),
    "ip_version_5": (eth(ipv4(tcp_hdr(), version=5)), "malformed.ip_header"),
    "ihl_4": (eth(ipv4(tcp_hdr(), ihl=4)), "malformed.ip_header"),
    "ihl_0": (eth(ipv4(tcp_hdr(), ihl=0)), "malformed.ip_header"),
    # IHL 15 (60 bytes) but the frame holds 44 bytes of IP.
    "ihl_past_frame": (eth(ipv4(tcp_hdr(), ihl=15, tot=44)), "malformed.truncated"),
    "total_length_past_frame": (eth(ipv4(tcp_hdr(), tot=100)), "malformed.ip_length"),
    "total_length_below_ihl": (eth(ipv4(tcp_hdr(), tot=16)), "malformed.ip_length"),
    # The datagram is consistent, but holds only 12 bytes of TCP.
    "tcp_header_truncated": (eth(ipv4(tcp_hdr(opts=b"")[:12])), "malformed.truncated"),
    "data_offset_4": (eth(ipv4(tcp_hdr(opts=b"", doff=4))), "malformed.tcp_header"),
    "data_offset_0": (eth(ipv4(tcp_hdr(opts=b"", doff=0))), "malformed.tcp_header"),
    # Data offset 15 (60 bytes) in a 24-byte segment.
    "data_offset_past_segment": (eth(ipv4(tcp_hdr(doff=15))), "malformed.tcp_header"),
    "option_length_0": (eth(ipv4(tcp_hdr(opts=MSS_OPT + bytes.fromhex("fe000101")))),
                        "malformed.tcp_option"),
    "option_length_1": (eth(ipv4(tcp_hdr(opts=MSS_OPT + bytes.fromhex("fe010101")))),
                        "malformed.tcp_option"),
    # A timestamp option (length 10) starting 2 bytes before the end of the header.
    "option_length_past_header": (eth(ipv4(tcp_hdr(opts=MSS_OPT + bytes.fromhex("0101080a")))),
                                  "malformed.tcp_option"),
    "option_kind_without_length": (eth(ipv4(tcp_hdr(opts=MSS_OPT + bytes.fromhex("01010102")))),
                                   "malformed.tcp_option"),
    "mss_option_length_3": (eth(ipv4(tcp_hdr(opts=bytes.fromhex("02030501")))),
                            "malformed.tcp_option"),
    "double_vlan": (eth(ipv4(tcp_hdr()), tags=((0x8100, 100), (0x8100, 200))),
                    "malformed.vlan"),
    "qinq_8021ad": (eth(ipv4(tcp_hdr()), tags=((0x88A8, 100), (0x8100, 200))),
                    "malformed.vlan"),
    "fragment_more_fragments": (eth(ipv4(tcp_hdr(), frag=0x2000)), "malformed.fragment"),
    "fragment_offset": (eth(ipv4(tcp_hdr(), frag=100)), "malformed.fragment"),
    "fragment_df_and_offset": (eth(ipv4(tcp_hdr(), frag=0x4000 | 3)), "malformed.fragment"),
    "syn_fin": (eth(ipv4(tcp_hdr(flags=0x03))), "malformed.flags"),
    "syn_rst": (eth(ipv4(tcp_hdr(flags=0x06))), "malformed.flags"),
    "syn_fin_ack": (eth(ipv4(tcp_hdr(flags=0x13))), "malformed.flags"),
    # Segments that would change state (an ACK opening the server side, an RST ending a
    # handshake) are checked in software when the NIC gives no verdict; a bare SYN is not
    # (test_bad_checksum_syn_is_answered).
    "bad_tcp_checksum_ack": (eth(ipv4(tcp_hdr(flags=0x10, csum_ok=False))),
                             "malformed.checksum"),
    "bad_tcp_checksum_rst": (eth(ipv4(tcp_hdr(flags=0x04, csum_ok=False))),
                             "malformed.checksum"),
    "bad_ipv4_header_checksum_ack": (eth(ipv4(tcp_hdr(flags=0x10), csum_ok=False)),
                                     "malformed.checksum"),
    "ipv6_bad_tcp_checksum_ack": (
        ipv6_frame(tcp_hdr(src=CLIENT6, dst=SERVER6, flags=0x10, csum_ok=False)),
        "malformed.checksum"),
    "ipv6_payload_length_past_frame": (
        ipv6_frame(tcp_hdr(src=CLIENT6, dst=SERVER6), plen=200), "malformed.ip_length"),
}


def test_corpus_frames_are_what_they_claim():
    # The reference frame is a valid SYN, so each case differs from it by its defect only.
    p = parse_tcp(GOOD)
    assert p.ip_checksum_ok() and p.tcp_checksum_ok() and p.flags == 0x02
    assert p.dport == DPORT and p.doff == 6
    p6 = parse_tcp(ipv6_frame(tcp_hdr(src=CLIENT6, dst=SERVER6)))
    assert p6.tcp_checksum_ok()


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_dropped_and_counted(run_dp, case):
    frame, counter = CASES[case]
    good = syn(src="198.18.0.41", sport=40701, options=[("MSS", 1460)])
    r = run_dp(outside=[frame, good])

    assert r.inside_raw == [], "a malformed frame reached the inside: " + r.describe()
    assert len(r.outside_raw) == 1, \
        "want only the good SYN's SYN-ACK out of the outside port: " + r.describe()
    check_synack(r.outside_raw[0], good)
    counted = {n: r.c(n) for n in MALFORMED_NAMES if r.c(n)}
    assert counted == {counter: 1}, "counted as %s, want {%r: 1}\n%s" % (
        counted, counter, r.describe())
    want = {"port.outside_rx": 2, "syncache.added": 1, "port.bridged": 0}
    assert r.counters(*want) == want, r.describe()


def test_whole_corpus_in_one_run(run_dp):
    # All of it back to back, twice: the totals add up and nothing leaks.
    frames = [f for f, _ in CASES.values()] * 2
    r = run_dp(outside=frames)
    assert r.inside_raw == [] and r.outside_raw == [], r.describe()
    want = {}
    for _, counter in CASES.values():
        want[counter] = want.get(counter, 0) + 2
    got = {n: r.c(n) for n in MALFORMED_NAMES if r.c(n)}
    assert got == want, r.describe()


def test_bad_checksum_syn_is_answered(run_dp):
    """Without the NIC's verdict a bare SYN is answered unchecked (it changes no state a
    spoofed SYN could not); the SYN-ACK's own checksums are right."""
    r = run_dp(outside=[eth(ipv4(tcp_hdr(csum_ok=False)))])
    assert len(r.outside_raw) == 1, r.describe()
    p = parse_tcp(r.outside_raw[0])
    assert p.flags == 0x12 and p.ack == (ISN + 1) & 0xFFFFFFFF
    assert p.ip_checksum_ok() and p.tcp_checksum_ok()
    assert r.c("malformed.checksum") == 0
