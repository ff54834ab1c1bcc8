"""What the dataplane must send, field by field (docs/DATAPLANE.md "The SYN-ACK" and
"The server SYN"), as assertion helpers shared by the traffic tests."""

import struct

from tests.traffic import cookie_ref
from tests.traffic.dpharness import TEST_KEY
from tests.traffic.pktutil import (
    IP,
    OPT_EOL,
    OPT_MSS,
    OPT_NOP,
    OPT_SACK_PERM,
    OPT_TS,
    OPT_WS,
    TCP,
    TCP_ACK,
    TCP_SYN,
    Dot1Q,
    Ether,
    IPv6,
    flag_names,
    fmt_opts,
    options_match,
    parse_tcp,
    syn_options,
    synack_option_layout,
    ts_option,
)


def vlan_tci(pkt):
    if Dot1Q not in pkt:
        return None
    d = pkt[Dot1Q]
    return d.prio << 13 | d.dei << 12 | d.vlan


def l3_of(pkt):
    return pkt[IPv6] if IPv6 in pkt else pkt[IP]


def scapy_checksums_ok(raw):
    """Second opinion on the checksums: scapy recomputes them with the fields deleted."""
    pkt = Ether(raw)
    rebuilt = pkt.copy()
    del rebuilt[TCP].chksum
    if IP in rebuilt:
        del rebuilt[IP].chksum
    rebuilt = Ether(bytes(rebuilt))
    if IP in pkt and rebuilt[IP].chksum != pkt[IP].chksum:
        return False
    return rebuilt[TCP].chksum == pkt[TCP].chksum


def expected_cookie(syn_pkt, key=TEST_KEY, key_bit=cookie_ref.FIXED_KEY_BIT):
    ip, t = l3_of(syn_pkt), syn_pkt[TCP]
    mss, ws, sack, _ = syn_options(syn_pkt)
    return cookie_ref.cookie(key, ip.src, ip.dst, t.sport, t.dport, t.seq, mss=mss, wscale=ws,
                             sack=sack, key_bit=key_bit)


def cookie_mismatch(got, want):
    return "seq %#010x %s, cookie_ref says %#010x %s" % (
        got, cookie_ref.decode(got), want, cookie_ref.decode(want))


def check_synack(raw, syn_pkt, *, key=TEST_KEY, mss_cap=1460, wscale=7,
                 key_bit=cookie_ref.FIXED_KEY_BIT, check_cookie=True):
    """Assert that raw is the SYN-ACK DATAPLANE.md requires for syn_pkt; return it parsed."""
    p = parse_tcp(raw)
    ip, t, eth = l3_of(syn_pkt), syn_pkt[TCP], syn_pkt[Ether]
    mss, ws, sack, tsval = syn_options(syn_pkt)

    assert (p.eth_src, p.eth_dst) == (eth.dst, eth.src), "MACs not swapped"
    assert p.vlan_tci == vlan_tci(syn_pkt), "802.1Q TCI %r, SYN had %r" % (
        p.vlan_tci, vlan_tci(syn_pkt))
    assert (p.src, p.dst) == (ip.dst, ip.src), "addresses not swapped"
    if p.version == 4:
        assert IP in syn_pkt
        assert p.ihl == 5, "IHL %d" % p.ihl
        assert p.tos == 0, "TOS %#x" % p.tos
        assert p.ip_id == 0, "IP ID %d" % p.ip_id
        assert p.frag == 0x4000, "flags/fragment %#06x, want DF only" % p.frag
        assert p.ttl == 64, "TTL %d" % p.ttl
        assert p.ip_checksum_ok(), "bad IPv4 header checksum %s" % p.ip_hdr.hex()
    else:
        assert IPv6 in syn_pkt
        assert p.tclass == 0, "traffic class %#x" % p.tclass
        assert p.flow == 0, "flow label %#x" % p.flow
        assert p.hlim == 64, "hop limit %d" % p.hlim
    assert len(raw) == p.l2_len + p.ip_total, \
        "frame is %d bytes, headers say %d (trailing bytes)" % (len(raw), p.l2_len + p.ip_total)
    assert p.ip_total == (20 if p.version == 4 else 40) + len(p.segment)

    assert (p.sport, p.dport) == (t.dport, t.sport), "ports not swapped"
    assert p.ack == (t.seq + 1) & 0xFFFFFFFF, "ack %#x, want ISN+1 %#x" % (p.ack, t.seq + 1)
    assert p.flags == 0x12, "flags %s (%#x), want SA" % (flag_names(p.flags), p.flags)
    assert p.res_ns == 0, "reserved bits %#x" % p.res_ns
    assert p.window == 0, "window %d, want 0" % p.window
    assert p.urg == 0, "urgent pointer %d" % p.urg
    assert p.payload == b"", "SYN-ACK carries %d payload bytes" % len(p.payload)
    assert p.tcp_checksum_ok(), "bad TCP checksum %#06x" % p.tcp_csum
    assert scapy_checksums_ok(raw), "scapy computes other checksums"

    want = synack_option_layout(min(536 if mss is None else mss, mss_cap), sack, tsval,
                                wscale if ws is not None else None)
    assert options_match(p.options, want), "options %s, want %s (TSval free)" % (
        fmt_opts(p.options), fmt_opts([(k, b"" if k == OPT_TS else v) for k, v in want]))

    if check_cookie:
        c = expected_cookie(syn_pkt, key, key_bit)
        assert p.seq == c, cookie_mismatch(p.seq, c)
    if check_cookie and tsval is not None:
        # the TSval carries the MAC's other 8 bits above the shift offered
        our_tsval = ts_option(p)[0]
        low = cookie_ref.synack_tsval_low(key, ip.src, ip.dst, t.sport, t.dport, t.seq, p.seq,
                                          wscale if ws is not None else 15)
        assert our_tsval & 0xFFF == low, "TSval %#x, low 12 bits want %#05x" % (our_tsval, low)
    return p


def check_server_syn(raw, ack_pkt, *, isn, mss, sack, ts_val, wscale, window):
    """Assert that raw is the server SYN made from the client's completing ACK ack_pkt.

    mss/sack/ts_val/wscale are what the options must carry (ts_val None: no timestamps,
    wscale None: no window scale); window is the expected window field.
    """
    p = parse_tcp(raw)
    ip, t, eth = l3_of(ack_pkt), ack_pkt[TCP], ack_pkt[Ether]
    assert (p.eth_src, p.eth_dst) == (eth.src, eth.dst), "MACs changed"
    assert p.vlan_tci == vlan_tci(ack_pkt), "802.1Q TCI %r, ACK had %r" % (
        p.vlan_tci, vlan_tci(ack_pkt))
    assert (p.src, p.dst) == (ip.src, ip.dst), "addresses changed"
    if p.version == 4:
        assert p.ip_id == 0, "IP ID %d" % p.ip_id
        assert p.frag == 0x4000, "flags/fragment %#06x, want DF only" % p.frag
        assert p.ttl == 64, "TTL %d" % p.ttl
        assert p.ip_checksum_ok(), "bad IPv4 header checksum"
    assert len(raw) == p.l2_len + p.ip_total, "trailing bytes after the IP packet"
    assert (p.sport, p.dport) == (t.sport, t.dport), "ports changed"
    assert p.seq == isn, "seq %#x, want the client's ISN %#x" % (p.seq, isn)
    assert p.ack == 0, "ack %#x, want 0" % p.ack
    assert p.flags == TCP_SYN, "flags %s, want S" % flag_names(p.flags)
    assert p.res_ns == 0
    assert p.window == window, "window %d, want %d" % (p.window, window)
    assert p.urg == 0
    assert p.payload == b"", "server SYN carries %d payload bytes" % len(p.payload)
    assert p.tcp_checksum_ok(), "bad TCP checksum"
    assert scapy_checksums_ok(raw), "scapy computes other checksums"

    want = [(OPT_MSS, struct.pack("!H", mss))]
    if sack:
        want.append((OPT_SACK_PERM, b""))
    if ts_val is not None:
        want.append((OPT_TS, struct.pack("!II", ts_val, 0)))
    if wscale is not None:
        want.append((OPT_WS, bytes([wscale])))
    assert p.real_opts() == want, "options %s, want %s (plus NOP padding)" % (
        fmt_opts(p.options), fmt_opts(want))
    assert all(k in (OPT_NOP, OPT_EOL) for k in p.opt_kinds()
               if k not in (OPT_MSS, OPT_SACK_PERM, OPT_TS, OPT_WS))
    return p


def is_ack_only(flags):
    return flags & (TCP_ACK | TCP_SYN) == TCP_ACK
