"""A hostile corpus through synwall-dp: frames of every kind with mutated and lying headers,
floods of SYNs, and of ACKs, RSTs and data for no flow on the outside, hostile server answers on
the inside.

The run must end cleanly (exit 0), with no sanitizer report on stderr, and every frame counted
once (tests/traffic/balance.py). scripts/test.sh runs this once against the AddressSanitizer +
UndefinedBehaviorSanitizer build (SYNWALL_DP=build-asan/dataplane/synwall-dp, docs/FUZZING.md);
with the normal binary it is one more traffic test.

The corpus is made from one seed, the same at every run: templates built with scapy (SYNs of
Linux and Windows, ACKs carrying valid cookies, segments of the --preload-flows flows both ways,
ICMP errors, IPv6 extension headers, AH, VLAN and QinQ, UDP, ARP), each then mutated at the
byte level (a lie in one header field, bytes flipped, truncated or grown) and its checksums
fixed again or not.
"""

import ipaddress
import random
import re
import struct

from scapy.layers.inet6 import IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop
from scapy.layers.ipsec import AH

from tests.traffic.balance import check_balance
from tests.traffic.dpharness import DEFAULT_ARGS, IDLE_MS
from tests.traffic.expect import expected_cookie
from tests.traffic.pktutil import (
    ARP,
    CLIENT_MAC,
    ICMP,
    IP,
    SERVER4,
    SERVER6,
    SERVER_MAC,
    TCP,
    UDP,
    Dot1Q,
    Ether,
    IPv6,
    ones_sum,
    syn,
    tcp_pkt,
)

SEED = 0x5EED
N_MUTATED_OUT = 14000
N_FLOOD = 3000          # of each: SYNs, ACKs, RSTs, data segments for no flow
N_INSIDE = 9000
PRELOAD = 256
FLOOD_NET = int(ipaddress.IPv4Address("198.18.128.0"))
# The preloaded flows (DATAPLANE.md, --preload-flows) live on these addresses: the flood and
# the mutated frames use the rest of the /17.
# Small tables and a tight source quota, so that buckets overflow and quotas refuse.
ARGS = DEFAULT_ARGS + ["--flows", "4096", "--preload-flows", str(PRELOAD), "--hashsize", "64",
                       "--bucketlimit", "8", "--source-halfopen", "4", "--source-prefix", "24,48"]
LINUX = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (0x1A2B3C4D, 0)), ("NOP", None),
         ("WScale", 7)]
WINDOWS = [("MSS", 1460), ("NOP", None), ("WScale", 8), ("NOP", None), ("NOP", None),
           ("SAckOK", b"")]
TS = [("NOP", None), ("NOP", None), ("Timestamp", (0x1A2B3C4E, 0x5A5A0003))]
ETH = Ether(src=CLIENT_MAC, dst=SERVER_MAC)
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|"
                       r"runtime error:|SUMMARY: ")


# --- frames as bytes -----------------------------------------------------------------------

def walk(f):
    """(l3 offset, IP version, l4 offset, l4 length, protocol) of an Ethernet/[802.1Q]/IP
    frame whose first next header is the upper layer, else None."""
    if len(f) < 14:
        return None
    off, et = 14, struct.unpack_from("!H", f, 12)[0]
    if et == 0x8100:
        if len(f) < 18:
            return None
        off, et = 18, struct.unpack_from("!H", f, 16)[0]
    if et == 0x0800 and len(f) >= off + 20 and f[off] >> 4 == 4:
        ihl = (f[off] & 15) * 4
        tot = struct.unpack_from("!H", f, off + 2)[0]
        if ihl < 20 or tot < ihl or off + tot > len(f):
            return None
        return off, 4, off + ihl, tot - ihl, f[off + 9]
    if et == 0x86DD and len(f) >= off + 40 and f[off] >> 4 == 6:
        plen = struct.unpack_from("!H", f, off + 4)[0]
        if off + 40 + plen > len(f):
            return None
        return off, 6, off + 40, plen, f[off + 6]
    return None


def fix_checksums(f):
    """Right IPv4 header and TCP/UDP/ICMP/ICMPv6 checksums, where the headers allow."""
    w = walk(f)
    if w is None:
        return f
    l3, ver, l4, l4len, proto = w
    b = bytearray(f)
    if ver == 4:
        b[l3 + 10:l3 + 12] = b"\0\0"
        b[l3 + 10:l3 + 12] = struct.pack("!H", ~ones_sum(bytes(b[l3:l4])) & 0xFFFF)
    field = {6: 16, 17: 6, 1: 2, 58: 2}.get(proto)
    if field is None or l4len < field + 2:
        return bytes(b)
    b[l4 + field:l4 + field + 2] = b"\0\0"
    seg = bytes(b[l4:l4 + l4len])
    if proto == 1 and ver == 4:
        pseudo = b""
    elif ver == 4:
        pseudo = bytes(b[l3 + 12:l3 + 20]) + struct.pack("!BBH", 0, proto, l4len)
    else:
        pseudo = bytes(b[l3 + 8:l3 + 40]) + struct.pack("!IxxxB", l4len, proto)
    b[l4 + field:l4 + field + 2] = struct.pack("!H", ~ones_sum(pseudo + seg) & 0xFFFF)
    return bytes(b)


def mutate(f, rng):
    """One lie or corruption of frame f (bytes)."""
    b = bytearray(f)
    w = walk(f)
    kind = rng.randrange(12)
    if kind == 0 or w is None:                              # bytes flipped anywhere
        for _ in range(rng.randint(1, 4)):
            if b:
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        return bytes(b)
    l3, ver, l4, l4len, proto = w
    if kind == 1:                                           # truncated
        return bytes(b[:rng.randrange(len(b))])
    if kind == 2:                                           # grown: padding or garbage
        return bytes(b) + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    if kind == 3 and ver == 4:                              # IHL lies
        b[l3] = 0x40 | rng.randrange(16)
    elif kind == 3:                                         # IPv6 next header lies
        b[l3 + 6] = rng.choice([0, 6, 17, 43, 44, 50, 51, 58, 59, 60, 135, 255])
    elif kind == 4:                                         # the IP length lies
        at = l3 + (2 if ver == 4 else 4)
        v = rng.choice([0, 1, 19, 20, 39, 40, l4len - 1, l4len + 1, 0xFFFF,
                        rng.randrange(0x10000)])
        b[at:at + 2] = struct.pack("!H", v & 0xFFFF)
    elif kind == 5 and ver == 4:                            # fragment bits, protocol
        b[l3 + 6] = rng.choice([0x20, 0x00, 0x40, 0x1F, 0xFF])
        b[l3 + 7] = rng.randrange(256)
        if rng.random() < 0.3:
            b[l3 + 9] = rng.choice([6, 1, 17, 51, 50, 0])
    elif proto == 6 and l4len >= 20 and kind in (5, 6):     # TCP data offset lies
        b[l4 + 12] = rng.randrange(16) << 4 | (b[l4 + 12] & 15)
    elif proto == 6 and l4len >= 20 and kind == 7:          # TCP flags
        b[l4 + 13] = rng.randrange(256)
    elif proto == 6 and l4len > 20 and kind in (8, 9):      # an option's length lies
        doff = (b[l4 + 12] >> 4) * 4
        if 20 < doff <= l4len:
            at = l4 + 20 + rng.randrange(doff - 20)
            b[at] = rng.choice([0, 1, 2, 3, 4, 5, 8, 30, 255])
            if at + 1 < l4 + doff:
                b[at + 1] = rng.choice([0, 1, 2, 3, 4, 9, 10, 11, 18, 34, 40, 255])
    elif kind == 10:                                        # a second VLAN tag, or a first
        tag = struct.pack("!HH", rng.choice([0x8100, 0x88A8, 0x9100]), rng.randrange(4096))
        b[12:12] = tag
    elif proto in (1, 58) and l4len >= 8 + 20:              # the quoted header lies
        q = l4 + 8
        b[q] = rng.choice([0x45, 0x4F, 0x40, 0x60, 0x00]) if ver == 4 else rng.choice(
            [0x60, 0x40, 0xFF])
        b[q + (9 if ver == 4 else 6)] = rng.choice([6, 17, 58])
    else:                                                   # ports
        b[l4 + 2:l4 + 4] = struct.pack("!H", rng.choice([80, 443, 8080, 22, 0, 65535]))
    return bytes(b)


# --- templates -----------------------------------------------------------------------------

def preloaded(i):
    """Client address and port of preloaded flow i (DATAPLANE.md, --preload-flows)."""
    return str(ipaddress.IPv4Address(FLOOD_NET + (i >> 14))), 1024 + (i & 0x3FFF)


def client_templates(rng):
    out = []
    for dport in (80, 443, 8080, 22):
        out.append(syn(src="198.18.64.1", dport=dport, isn=rng.getrandbits(32), options=LINUX))
    out.append(syn(src="2001:2::64", dst=SERVER6, isn=7, options=LINUX))
    out.append(syn(src="198.18.64.2", isn=9, options=WINDOWS, vlan=100))
    # ACKs with a valid cookie: flows open (their server SYNs leave the inside port)
    for k in range(8):
        s = syn(src="198.18.64.%d" % (10 + k), sport=41000 + k, isn=rng.getrandbits(32),
                options=LINUX)
        t = s[TCP]
        out.append(tcp_pkt(src=s[IP].src, sport=t.sport, seq=t.seq + 1,
                           ack=(expected_cookie(s) + 1) & 0xFFFFFFFF, flags="A",
                           options=TS))
    # segments of the preloaded flows: seq i + 1, acking the server's ISS + 1 = 7i + 1
    for i in rng.sample(range(PRELOAD), 24):
        src, sport = preloaded(i)
        out.append(tcp_pkt(src=src, sport=sport, seq=i + 1, ack=7 * i + 1, flags="PA",
                           options=TS[:2] + [("SAck", (7 * i + 100, 7 * i + 200))],
                           payload=b"GET / HTTP/1.1\r\n\r\n"))
        out.append(tcp_pkt(src=src, sport=sport, seq=i + 1, ack=7 * i + 1, flags="FA"))
    # ICMP errors: about a SYN-ACK, about a preloaded flow's server segment
    out.append(ETH / IP(src="198.18.2.2", dst=SERVER4) / ICMP(type=3, code=1) /
               IP(src=SERVER4, dst="198.18.64.1") / TCP(sport=80, dport=40000, flags="SA"))
    src, sport = preloaded(3)
    out.append(ETH / IP(src="198.18.2.2", dst=SERVER4) / ICMP(type=3, code=4) /
               IP(src=SERVER4, dst=src) / TCP(sport=80, dport=sport, seq=22, flags="A"))
    # headers the parser walks
    t80 = TCP(sport=40001, dport=80, flags="S", seq=5, options=LINUX)
    c6 = "2001:2::65"
    out += [
        ETH / IPv6(src=c6, dst=SERVER6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / t80,
        ETH / IPv6(src=c6, dst=SERVER6) / IPv6ExtHdrFragment(offset=0, m=0) / t80,
        ETH / IPv6(src=c6, dst=SERVER6) / IPv6ExtHdrFragment(offset=0, m=1) / t80,
        ETH / IPv6(src=c6, dst=SERVER6) / AH(spi=1, icv=b"\0" * 12) / t80,
        ETH / IP(src="198.18.64.3", dst=SERVER4) / AH(spi=1, icv=b"\0" * 12) / t80,
        ETH / Dot1Q(vlan=5) / Dot1Q(vlan=6) / IP(src="198.18.64.4", dst=SERVER4) / t80,
        ETH / IP(src="198.18.64.5", dst=SERVER4, options=b"\x94\x04\x00\x00") / t80,
        ETH / IP(src="198.18.64.6", dst=SERVER4) / UDP(sport=5353, dport=53) / b"q",
        Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="198.18.64.7", pdst=SERVER4),
    ]
    return [bytes(p) for p in out]


def server_templates(rng):
    out = []
    for i in rng.sample(range(PRELOAD), 32):
        cli, cport = preloaded(i)
        isn = 7 * i + 0x10000
        kw = {"src": SERVER4, "dst": cli, "sport": 80, "dport": cport}
        out += [
            tcp_pkt(**kw, seq=isn + 1, ack=i + 1, flags="PA", payload=b"x" * 300,
                    options=[("NOP", None), ("NOP", None), ("SAck", (i + 50, i + 60))]),
            tcp_pkt(**kw, seq=isn + 1, ack=i + 1, flags="A", options=TS),
            tcp_pkt(**kw, seq=isn, ack=i + 1, flags="SA", options=LINUX),        # resent
            tcp_pkt(**kw, seq=isn + 99, ack=i + 1, flags="SA", options=LINUX),   # another ISN
            tcp_pkt(**kw, seq=isn + 301, ack=i + 1, flags="FA"),
        ]
    # answers to nothing synwall opened: SYN-ACKs, RSTs, data from protected ports
    for k in range(16):
        kw = {"src": SERVER4, "dst": "198.18.64.%d" % (10 + k), "sport": 80 if k % 2 else 443,
              "dport": 41000 + k}
        out += [tcp_pkt(**kw, seq=rng.getrandbits(32), ack=rng.getrandbits(32), flags="SA",
                        options=LINUX),
                tcp_pkt(**kw, seq=rng.getrandbits(32), ack=rng.getrandbits(32), flags="RA"),
                tcp_pkt(**kw, seq=rng.getrandbits(32), ack=rng.getrandbits(32), flags="PA",
                        payload=b"y" * 100)]
    # a pass port, UDP, IPv6
    out.append(tcp_pkt(src=SERVER4, dst="198.18.64.1", sport=22, dport=40000, flags="PA",
                       payload=b"ssh"))
    out.append(ETH / IP(src=SERVER4, dst="198.18.64.1") / UDP(sport=53, dport=5353))
    out.append(tcp_pkt(src=SERVER6, dst="2001:2::64", sport=80, dport=40000, flags="A"))
    return [bytes(p) for p in out]


def flood(rng, flags, payload=b""):
    tmpl = bytes(tcp_pkt(src="0.0.0.0", dport=80, flags=flags, payload=payload,
                         options=TS if flags == "A" else ()))
    frames = []
    for _ in range(N_FLOOD):
        b = bytearray(tmpl)
        # sources in the upper half of the /17: none is a preloaded flow's
        b[26:30] = struct.pack("!I", FLOOD_NET + 0x4000 + rng.randrange(0x4000))
        b[34:36] = struct.pack("!H", 1024 + rng.randrange(60000))
        b[38:46] = struct.pack("!II", rng.getrandbits(32), rng.getrandbits(32))
        frames.append(fix_checksums(bytes(b)))
    return frames


def corpus():
    rng = random.Random(SEED)
    ctmpl, stmpl = client_templates(rng), server_templates(rng)
    outside = list(ctmpl)
    for _ in range(N_MUTATED_OUT):
        f = mutate(rng.choice(ctmpl), rng)
        if rng.random() < 0.3:
            f = mutate(f, rng)
        outside.append(fix_checksums(f) if rng.random() < 0.6 else f)
    outside += flood(rng, "S") + flood(rng, "A") + flood(rng, "R") + \
        flood(rng, "PA", b"z" * 200)
    rng.shuffle(outside)
    inside = list(stmpl)
    for _ in range(N_INSIDE):
        f = mutate(rng.choice(stmpl), rng)
        inside.append(fix_checksums(f) if rng.random() < 0.6 else f)
    rng.shuffle(inside)
    return outside, inside


def test_hostile_corpus(run_dp, monkeypatch):
    # a sanitizer report stops the run and fails it; leaks are reported at exit
    monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1:abort_on_error=0")
    monkeypatch.setenv("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    outside, inside = corpus()
    assert 20000 <= len(outside) + len(inside) <= 50000
    r = run_dp(outside=outside, inside=inside, args=ARGS, idle_ms=max(IDLE_MS, 1000),
               timeout=180)
    assert not SANITIZER.search(r.stderr), "sanitizer report:\n" + r.stderr[-8000:]
    c = r.total
    assert c["port.outside_rx"] == len(outside) and c["port.inside_rx"] == len(inside), \
        r.describe()
    bad = check_balance(c)
    assert not bad, "%s\n%s" % ("; ".join(bad), r.describe())
    assert len(r.outside_raw) == c["port.outside_tx"] and \
        len(r.inside_raw) == c["port.inside_tx"], r.describe()
    # the corpus reached what it is for
    for name in ("cookie.failed", "proxy.rst_ignored", "proxy.to_server", "proxy.to_client",
                 "proxy.server_no_flow", "proxy.opened", "syncache.added",
                 "malformed.truncated", "malformed.tcp_option", "malformed.checksum",
                 "malformed.vlan", "port.bridged", "syncache.source_quota"):
        assert c[name] > 0, "%s is 0: %s" % (name, r.describe())
