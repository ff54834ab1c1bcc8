"""Packet builders (scapy) for the inputs, and a strict byte-level parser for the outputs.

The outputs are parsed by hand, not with scapy, so that a test sees the exact bytes the
dataplane wrote (option layout, padding, reserved bits, trailing bytes) and checks checksums
by summing, independently of scapy's own builder.
"""

import ipaddress
import struct
from dataclasses import dataclass, field

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Dot1Q, Ether

# Locally administered MACs; addresses from the benchmarking ranges only.
CLIENT_MAC = "02:00:00:00:00:01"
SERVER_MAC = "02:00:00:00:00:02"
CLIENT4 = "198.18.0.10"
SERVER4 = "198.18.1.1"
CLIENT6 = "2001:2::10"
SERVER6 = "2001:2:0:1::1"

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20

OPT_EOL, OPT_NOP, OPT_MSS, OPT_WS, OPT_SACK_PERM, OPT_TS = 0, 1, 2, 3, 4, 8
OPT_NAMES = {0: "EOL", 1: "NOP", 2: "MSS", 3: "WS", 4: "SACK_PERM", 8: "TS"}

ALL_OPTS = [("MSS", 1400), ("SAckOK", b""), ("Timestamp", (0x01020304, 0)), ("NOP", None),
            ("WScale", 7)]


def l3(src, dst, **kw):
    """IPv4 or IPv6 header by the address family of src."""
    if ":" in src:
        return IPv6(src=src, dst=dst, **kw)
    return IP(src=src, dst=dst, **kw)


def frame(l3pkt, *, vlan=None, src_mac=CLIENT_MAC, dst_mac=SERVER_MAC):
    eth = Ether(src=src_mac, dst=dst_mac)
    if vlan is not None:  # vlan is the full TCI
        eth = eth / Dot1Q(prio=vlan >> 13, dei=(vlan >> 12) & 1, vlan=vlan & 0xFFF)
    return eth / l3pkt


def tcp_pkt(src=CLIENT4, dst=SERVER4, sport=40000, dport=80, *, seq=0, ack=0, flags="S",
            window=64240, options=(), payload=b"", vlan=None, ip_kw=None, tcp_kw=None):
    ip = l3(src, dst, **(ip_kw or {}))
    tcp = TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, window=window,
              options=list(options), **(tcp_kw or {}))
    pkt = frame(ip / tcp, vlan=vlan)
    if payload:
        pkt = pkt / payload
    return pkt


def syn(src=CLIENT4, dst=SERVER4, sport=40000, dport=80, isn=0x12345678, options=(), **kw):
    return tcp_pkt(src, dst, sport, dport, seq=isn, flags="S", options=options, **kw)


def ack_for(syn_pkt, iss, *, ack=None, options=(), window=502, flags="A", payload=b""):
    """The client's third packet for syn_pkt: seq = ISN + 1, ack = iss + 1 unless given."""
    ipl = syn_pkt[IPv6] if IPv6 in syn_pkt else syn_pkt[IP]
    t = syn_pkt[TCP]
    vlan = syn_pkt[Dot1Q].vlan | syn_pkt[Dot1Q].prio << 13 | syn_pkt[Dot1Q].dei << 12 \
        if Dot1Q in syn_pkt else None
    return tcp_pkt(ipl.src, ipl.dst, t.sport, t.dport, seq=(t.seq + 1) & 0xFFFFFFFF,
                   ack=((iss + 1) & 0xFFFFFFFF) if ack is None else ack, flags=flags,
                   window=window, options=options, payload=payload, vlan=vlan)


def rst_for(syn_pkt, seq):
    ipl = syn_pkt[IPv6] if IPv6 in syn_pkt else syn_pkt[IP]
    t = syn_pkt[TCP]
    return tcp_pkt(ipl.src, ipl.dst, t.sport, t.dport, seq=seq, flags="R", window=0)


def syn_options(syn_pkt):
    """(mss, wscale, sack, ts_val) the client offered, None/False where absent."""
    mss = ws = ts = None
    sack = False
    for name, val in syn_pkt[TCP].options:
        if name == "MSS":
            mss = val
        elif name == "WScale":
            ws = val
        elif name == "SAckOK":
            sack = True
        elif name == "Timestamp":
            ts = val[0]
    return mss, ws, sack, ts


# --- checksums -------------------------------------------------------------------------

def ones_sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def ipv4_header_ok(hdr: bytes) -> bool:
    return ones_sum(hdr) == 0xFFFF


def l4_checksum_ok(version: int, src: bytes, dst: bytes, proto: int, segment: bytes) -> bool:
    if version == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(segment))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(segment), proto)
    return ones_sum(pseudo + segment) == 0xFFFF


# --- strict output parser --------------------------------------------------------------

@dataclass
class Tcp:
    """One Ethernet/[802.1Q]/IPv4|IPv6/TCP frame, every field as on the wire."""

    raw: bytes
    eth_dst: str = ""
    eth_src: str = ""
    vlan_tci: int = None
    ethertype: int = 0
    version: int = 0
    # IPv4
    ihl: int = 0
    tos: int = 0
    ip_id: int = 0
    frag: int = 0  # flags + fragment offset, as the 16-bit field
    ttl: int = 0
    ip_hdr: bytes = b""
    # IPv6
    tclass: int = 0
    flow: int = 0
    hlim: int = 0
    # both
    ip_total: int = 0  # IPv4 total length, or 40 + IPv6 payload length
    proto: int = 0
    src_b: bytes = b""
    dst_b: bytes = b""
    # TCP
    sport: int = 0
    dport: int = 0
    seq: int = 0
    ack: int = 0
    doff: int = 0
    res_ns: int = 0  # the low nibble of byte 12 (reserved bits and NS): must be 0
    flags: int = 0
    window: int = 0
    tcp_csum: int = 0
    urg: int = 0
    opt_bytes: bytes = b""
    payload: bytes = b""
    segment: bytes = b""
    l2_len: int = 0
    options: list = field(default_factory=list)  # [(kind, value bytes)], NOP as (1, b"")

    @property
    def src(self):
        return str(ipaddress.ip_address(self.src_b))

    @property
    def dst(self):
        return str(ipaddress.ip_address(self.dst_b))

    def ip_checksum_ok(self):
        return self.version == 6 or ipv4_header_ok(self.ip_hdr)

    def tcp_checksum_ok(self):
        return l4_checksum_ok(self.version, self.src_b, self.dst_b, 6, self.segment)

    def opt_kinds(self):
        return [k for k, _ in self.options]

    def opt(self, kind):
        """The value of the first option of this kind, or None."""
        for k, v in self.options:
            if k == kind:
                return v
        return None

    def real_opts(self):
        """The options other than NOP/EOL padding, in order."""
        return [(k, v) for k, v in self.options if k not in (OPT_NOP, OPT_EOL)]


def _mac(b):
    return ":".join("%02x" % x for x in b)


def parse_options(opt: bytes):
    out, i = [], 0
    while i < len(opt):
        kind = opt[i]
        if kind == OPT_EOL:
            out.append((OPT_EOL, opt[i + 1:]))  # the rest must be zero padding
            break
        if kind == OPT_NOP:
            out.append((OPT_NOP, b""))
            i += 1
            continue
        assert i + 1 < len(opt), "option %d has no length byte: %s" % (kind, opt.hex())
        ln = opt[i + 1]
        assert 2 <= ln <= len(opt) - i, "option %d has bad length %d: %s" % (kind, ln, opt.hex())
        out.append((kind, opt[i + 2:i + ln]))
        i += ln
    return out


def parse_tcp(raw: bytes) -> Tcp:
    """Parse a frame the dataplane produced; assert it is a well-formed TCP segment."""
    p = Tcp(raw=bytes(raw))
    assert len(raw) >= 14, "frame shorter than Ethernet: %s" % raw.hex()
    p.eth_dst, p.eth_src = _mac(raw[0:6]), _mac(raw[6:12])
    (et,) = struct.unpack_from("!H", raw, 12)
    off = 14
    if et == 0x8100:
        p.vlan_tci, et = struct.unpack_from("!HH", raw, 14)
        off = 18
    p.ethertype, p.l2_len = et, off
    if et == 0x0800:
        vihl = raw[off]
        p.version, p.ihl = vihl >> 4, vihl & 0xF
        assert p.version == 4
        (_, p.tos, p.ip_total, p.ip_id, p.frag, p.ttl, p.proto, _csum, p.src_b,
         p.dst_b) = struct.unpack_from("!BBHHHBBH4s4s", raw, off)
        hl = p.ihl * 4
        p.ip_hdr = raw[off:off + hl]
        l4 = off + hl
    elif et == 0x86DD:
        (vtf, plen, p.proto, p.hlim, p.src_b, p.dst_b) = struct.unpack_from(
            "!IHBB16s16s", raw, off)
        p.version, p.tclass, p.flow = vtf >> 28, (vtf >> 20) & 0xFF, vtf & 0xFFFFF
        p.ip_total = 40 + plen
        l4 = off + 40
    else:
        raise AssertionError("not IPv4/IPv6: ethertype %#06x" % et)
    assert p.proto == 6, "not TCP: protocol %d" % p.proto
    end = off + p.ip_total
    assert end <= len(raw), "IP length %d runs past the %d-byte frame" % (p.ip_total, len(raw))
    p.segment = raw[l4:end]
    (p.sport, p.dport, p.seq, p.ack, b12, p.flags, p.window, p.tcp_csum,
     p.urg) = struct.unpack_from("!HHIIBBHHH", raw, l4)
    p.doff, p.res_ns = b12 >> 4, b12 & 0xF
    p.opt_bytes = raw[l4 + 20:l4 + p.doff * 4]
    p.payload = raw[l4 + p.doff * 4:end]
    p.options = parse_options(p.opt_bytes)
    return p


def flag_names(flags):
    return "".join(n for b, n in ((TCP_FIN, "F"), (TCP_SYN, "S"), (TCP_RST, "R"),
                                  (TCP_PSH, "P"), (TCP_ACK, "A"), (TCP_URG, "U"))
                   if flags & b) or "-"


def fmt_opts(options):
    parts = []
    for k, v in options:
        name = OPT_NAMES.get(k, str(k))
        parts.append(name if not v else "%s=%s" % (name, v.hex()))
    return "[" + ", ".join(parts) + "]"


def synack_option_layout(mss, sack, ts_ecr, wscale):
    """The SYN-ACK's option list per DATAPLANE.md, as [(kind, value)]; the TS value is
    (None, ecr) because TSval is the dataplane's own.

    MSS, then SACK_PERM+TS / NOP NOP TS / NOP NOP SACK_PERM, then NOP WS (the documented
    layouts `MSS, SACK_PERM, TS, NOP, WS` / `MSS, NOP, NOP, TS, NOP, WS` /
    `MSS, NOP, NOP, SACK_PERM, NOP, WS` and the same rule for the other combinations).
    """
    out = [(OPT_MSS, struct.pack("!H", mss))]
    if ts_ecr is not None:
        if sack:
            out.append((OPT_SACK_PERM, b""))
        else:
            out += [(OPT_NOP, b""), (OPT_NOP, b"")]
        out.append((OPT_TS, (None, ts_ecr)))
    elif sack:
        out += [(OPT_NOP, b""), (OPT_NOP, b""), (OPT_SACK_PERM, b"")]
    if wscale is not None:
        out += [(OPT_NOP, b""), (OPT_WS, bytes([wscale]))]
    return out


def options_match(got, want):
    """Compare a parsed option list with synack_option_layout(); TSval is not compared."""
    if [k for k, _ in got] != [k for k, _ in want]:
        return False
    for (k, v), (_, w) in zip(got, want, strict=True):
        if k == OPT_TS:
            if len(v) != 8 or struct.unpack("!I", v[4:])[0] != w[1]:
                return False
        elif v != w:
            return False
    return True


def ts_option(p: Tcp):
    """(TSval, TSecr) of a parsed segment, or None."""
    v = p.opt(OPT_TS)
    if v is None:
        return None
    assert len(v) == 8, "TS option with %d value bytes" % len(v)
    return struct.unpack("!II", v)


__all__ = [n for n in dir() if not n.startswith("_")] + ["ARP", "ICMP", "UDP", "IP", "IPv6",
                                                         "TCP", "Ether", "Dot1Q"]
