"""Writes the seed corpora of the libFuzzer harnesses (docs/FUZZING.md) from realistic frames.

    .venv/bin/python -m tests.fuzz.make_corpus [OUTDIR]     (default tests/fuzz/corpus)

One directory per harness, one small file per seed, the same bytes at every run:
- parse/: frames as they come: Linux, Windows and bare SYNs, ACKs and data with timestamps and
  SACK, IPv4 options, IPv6 with every extension header, VLAN, QinQ, fragments, AH, ICMP
  errors, ARP, UDP, padding, truncations;
- proxy/: the 32-byte flow header of fuzz_proxy.c and a segment, for each rewrite (client to
  server, server to client with and without the timestamps option to add, the server's
  SYN-ACK, windows);
- pipeline/: operation streams of fuzz_pipeline.c: whole connections (IPv4, IPv6, VLAN;
  servers with and without timestamps or SACK), floods of ACKs, RSTs and data for no flow,
  hostile server answers, ICMP errors, mode changes with adoption, timers, small tables;
  ports with TX checksum offload; full flow tables and syncaches (eviction of the oldest, of
  the heaviest source, from full buckets; a cachelimit lowered at run time; the syncache's
  pause and its doubling; more entries due than a timer round takes); a zero-window probe
  completing a handshake by cookie; server segments behind extension headers and AH.
"""

import struct
import sys
from pathlib import Path

from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, TCPerror
from scapy.layers.inet6 import (
    ICMPv6PacketTooBig,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
)
from scapy.layers.ipsec import AH
from scapy.layers.l2 import ARP, Dot1AD, Dot1Q, Ether
from scapy.packet import Raw

C4, S4 = "198.18.0.10", "198.18.1.1"
C6, S6 = "2001:2::10", "2001:2:0:1::1"
CMAC, SMAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
ETH = Ether(src=CMAC, dst=SMAC)

LINUX_SYN = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (0x1A2B3C4D, 0)), ("NOP", None),
             ("WScale", 7)]
WINDOWS_SYN = [("MSS", 1460), ("NOP", None), ("WScale", 8), ("NOP", None), ("NOP", None),
               ("SAckOK", b"")]
TS = [("NOP", None), ("NOP", None), ("Timestamp", (0x1A2B3C4E, 0x5A5A0003))]
# An authentication header with TCP behind it (scapy fills in neither its next header nor
# its length): 12 bytes and a 12-byte ICV, 6 words, of which the length field says 6 - 2.
AH_TCP = {"nh": 6, "payloadlen": 4, "spi": 1, "icv": b"\0" * 12}


def ip(src, dst, **kw):
    """IPv6, or IPv4 with DF as Linux sends it."""
    return IPv6(src=src, dst=dst, **kw) if ":" in src else IP(src=src, dst=dst, flags="DF", **kw)


def seg(src=C4, dst=S4, sport=40000, dport=80, flags="S", seq=0, ack=0, options=(),
        payload=b"", window=64240, vlan=None, from_server=False):
    eth = Ether(src=SMAC, dst=CMAC) if from_server else Ether(src=CMAC, dst=SMAC)
    if vlan is not None:
        eth = eth / Dot1Q(vlan=vlan)
    p = eth / ip(src, dst) / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack,
                                 window=window, options=list(options))
    return bytes(p / payload) if payload else bytes(p)


def srv(flags, seq=0, ack=0, options=(), payload=b"", v6=False, sport=40000, dport=80,
        window=65160, vlan=None, client=None):
    """A server's segment to client sport (the client's address is the destination)."""
    return seg(S6 if v6 else S4, client or (C6 if v6 else C4), dport, sport, flags, seq, ack,
               options, payload, window, vlan, from_server=True)


def cli(flags, seq=0, ack=0, options=(), payload=b"", v6=False, sport=40000, dport=80,
        window=502, vlan=None, client=None):
    return seg(client or (C6 if v6 else C4), S6 if v6 else S4, sport, dport, flags, seq, ack,
               options, payload, window, vlan)


# --- parse ----------------------------------------------------------------------------

def parse_seeds():
    tcp80 = TCP(sport=40001, dport=80, flags="S", seq=5, options=LINUX_SYN)
    quoted = IPerror(src=S4, dst=C4) / TCPerror(sport=80, dport=40000, seq=0x11223344,
                                                flags="SA")
    yield "syn_linux", cli("S", 0x12345678, options=LINUX_SYN)
    yield "syn_linux_v6", cli("S", 0x12345678, options=LINUX_SYN, v6=True)
    yield "syn_windows_vlan", cli("S", 7, options=WINDOWS_SYN, vlan=100)
    yield "syn_bare", cli("S", 1)
    yield "ack_ts", cli("A", 0x12345679, 0xABCDEF01, options=TS)
    yield "data_sack", cli("PA", 1000, 2000, options=TS[:2] + [("SAck", (3000, 4000, 5000,
                                                                       6000))],
                           payload=b"GET / HTTP/1.1\r\n\r\n")
    yield "fin_eol", cli("FA", 1, 1, options=[("MSS", 536), ("EOL", None)])
    yield "rst", cli("R", 99)
    yield "ipv4_options", bytes(ETH / IP(src=C4, dst=S4, options=b"\x94\x04\x00\x00") /
                                tcp80)
    yield "ipv4_fragment", bytes(ETH / IP(src=C4, dst=S4, flags="MF") / tcp80)
    yield "ipv4_ah", bytes(ETH / IP(src=C4, dst=S4) / AH(**AH_TCP) / tcp80)
    yield "v6_hbh", bytes(ETH / IPv6(src=C6, dst=S6) / IPv6ExtHdrHopByHop() / tcp80)
    yield "v6_chain", bytes(ETH / IPv6(src=C6, dst=S6) / IPv6ExtHdrHopByHop() /
                            IPv6ExtHdrRouting() / IPv6ExtHdrDestOpt() / tcp80)
    yield "v6_atomic_frag", bytes(ETH / IPv6(src=C6, dst=S6) /
                                  IPv6ExtHdrFragment(offset=0, m=0) / tcp80)
    yield "v6_first_frag", bytes(ETH / IPv6(src=C6, dst=S6) /
                                 IPv6ExtHdrFragment(offset=0, m=1) / tcp80)
    yield "v6_later_frag", bytes(ETH / IPv6(src=C6, dst=S6) /
                                 IPv6ExtHdrFragment(offset=8, m=0, nh=6) / Raw(b"x" * 24))
    yield "v6_ah", bytes(ETH / IPv6(src=C6, dst=S6) / AH(**AH_TCP) / tcp80)
    yield "qinq", bytes(ETH / Dot1AD(vlan=5) / Dot1Q(vlan=6) / IP(src=C4, dst=S4) / tcp80)
    yield "icmp_unreach", bytes(ETH / IP(src="198.18.2.2", dst=S4) /
                                ICMP(type=3, code=1) / quoted)
    yield "icmp6_too_big", bytes(ETH / IPv6(src="2001:2::99", dst=S6) /
                                 ICMPv6PacketTooBig(mtu=1280) /
                                 IPv6(src=S6, dst=C6) / TCP(sport=80, dport=40000, seq=77))
    yield "arp", bytes(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(psrc=C4, pdst=S4))
    yield "udp", bytes(ETH / IP(src=C4, dst=S4) / UDP(sport=5353, dport=53) / b"q")
    padded = cli("A", 1, 1)
    yield "padded", padded + b"\0" * (60 - len(padded))
    yield "truncated", cli("S", 1, options=LINUX_SYN)[:40]


# --- proxy ----------------------------------------------------------------------------

# sw_flow flags (flowtab.h)
VLAN, C_SACK, C_TS, C_WS, S_SACK, S_TS, S_WS = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40
TO_SERVER, TO_CLIENT, SERVER_SYNACK, WINDOWS = 0, 1, 2, 3


def proxy_hdr(mode, flags, ws_client=7, ws_ours=7, ws_srv=7, seq_delta=0x10000,
              ts_delta=0x2000, ts_recent=0x1A2B3C4E, srv_ack=1, srv_nxt=0, tsval=0x5A5A1003,
              win=1000, fix=1, mss8=1460 // 8):
    """The 32-byte header of fuzz_proxy.c (iss/irs for SERVER_SYNACK at 20/24)."""
    return struct.pack(">BBBBIIIIIIHBB", mode, flags, ws_client | ws_ours << 4, ws_srv,
                       seq_delta, ts_delta, ts_recent, srv_ack, srv_nxt, tsval, win, fix, mss8)


def proxy_seeds():
    all_c = C_SACK | C_TS | C_WS
    data = b"x" * 100
    sack4 = [("SAck", (1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000))]
    yield "to_server_all", proxy_hdr(TO_SERVER, all_c | S_SACK | S_TS | S_WS) + \
        cli("PA", 1, 1, options=TS, payload=data)
    yield "to_server_sack", proxy_hdr(TO_SERVER, all_c | S_TS) + \
        cli("A", 1, 1, options=TS[:2] + [("SAck", (100, 200, 300, 400))])
    yield "to_server_no_ws", proxy_hdr(TO_SERVER, all_c | S_SACK | S_TS) + \
        cli("A", 1, 1, options=TS, window=5000, v6=True)
    yield "to_client_ts", proxy_hdr(TO_CLIENT, all_c | S_SACK | S_TS | S_WS) + \
        srv("PA", 1, 1, options=TS, payload=data)
    yield "to_client_add_ts", proxy_hdr(TO_CLIENT, all_c | S_SACK | S_WS) + \
        srv("PA", 1, 1, payload=data)
    yield "to_client_add_ts_sack4", proxy_hdr(TO_CLIENT, all_c | S_SACK | S_WS) + \
        srv("A", 1, 1, options=[("NOP", None), ("NOP", None)] + sack4)
    yield "to_client_add_ts_no_sack", proxy_hdr(TO_CLIENT, C_TS | C_WS | S_WS) + \
        srv("A", 1, 1, options=[("NOP", None), ("NOP", None)] + sack4, v6=True)
    yield "to_client_no_room", proxy_hdr(TO_CLIENT, C_TS) + \
        srv("A", 1, 1, options=[("MSS", 1460)] * 8)
    yield "to_client_rescale", proxy_hdr(TO_CLIENT, all_c | S_WS, ws_ours=7, ws_srv=2) + \
        srv("A", 1, 1, options=TS, window=300, vlan=7)
    yield "server_synack", proxy_hdr(SERVER_SYNACK, all_c, srv_nxt=0x11111111,
                                     tsval=0x22222222) + \
        srv("SA", 0x50000000, 0x22222223, options=LINUX_SYN)
    yield "windows", proxy_hdr(WINDOWS, C_WS, ws_client=2, ws_ours=9, ws_srv=14, win=7)


# --- pipeline -------------------------------------------------------------------------

# a frame's control byte (fuzz_pipeline.c, next_frame)
FIX_CSUM, FIX_NUMBERS, FIX_TS, REPEAT = 0x01, 0x02, 0x04, 0x08
ANSWER, NEXT_PORT = 0x40, 0x80
FIX = FIX_CSUM | FIX_NUMBERS | FIX_TS
# header sizes: syncache buckets (8, 16, 64), bucketlimit 1 + (0..7) << 2, flows by index
FLOWS = {64: 0, 128: 1, 1024: 2, 12: 3, 16: 4, 20: 5, 40: 6, 256: 7}
TX_CSUM_OUTSIDE, TX_CSUM_INSIDE = 0x40, 0x80


def sizes(hashsize=64, bucketlimit=8, flows=1024):
    return {8: 0, 16: 1, 64: 2}[hashsize] | (bucketlimit - 1) << 2 | FLOWS[flows] << 5


def header(flags=0, rexmt=3, retries=3, idle=0, sizes=2 | 7 << 2 | 2 << 5, climit=255,
           prof=7 | 7 << 3 | 1 << 7, adopt=0, quota=0):
    """The 9-byte header of fuzz_pipeline.c (quota: flows per source in bits 0-1, syncache
    entries per source in bits 2-3, /24 and /48 prefixes with 0x10 and 0x20, TX checksum
    offload on the outside and inside ports with 0x40 and 0x80; adopt: the adoption window
    in bits 0-2, the source table with 0x10, its SYN rate with 0x20, its cap of SYN-ACKs
    with 0x40)."""
    return bytes([flags, rexmt, retries, idle, sizes, climit, prof, adopt, quota])


def fr(data, ctl=FIX):
    return bytes([ctl]) + struct.pack(">H", len(data)) + data


def repeat(ctl=REPEAT):
    return bytes([ctl])


def outside(*frames):
    assert 1 <= len(frames) <= 32
    return bytes([0 | (len(frames) - 1) << 3]) + b"".join(frames)


def inside(*frames):
    assert 1 <= len(frames) <= 32
    return bytes([1 | (len(frames) - 1) << 3]) + b"".join(frames)


def clock(ms=0, seconds=None, rounds=1):
    v = 0x8000 | seconds if seconds is not None else ms
    return bytes([3 | (rounds - 1) << 3]) + struct.pack(">H", v)


def mode(port_index, new_mode):
    """port_index into (80, 8080, 23, 22, 443, 8443); mode 0 pass 1 proxy 2 cookie 3 drop."""
    return bytes([4 | port_index << 3, new_mode])


def fail_allocs(n):
    return bytes([5 | n << 3])


def cachelimit(v):
    """The syncache's cachelimit at run time: 1 + v % (hashsize x bucketlimit)."""
    return bytes([7, v])


def syncookies(on, only=False):
    return bytes([7 | 1 << 3, (1 if on else 0) | (2 if only else 0)])


def flood(first, n, ctl=REPEAT):
    """Frame first, then n - 1 repeats of it, each from the next client (address, or port
    with NEXT_PORT)."""
    return [first] + [repeat(ctl)] * (n - 1)


def connection(v6=False, vlan=None, server_opts=LINUX_SYN, dport=80, close=True, sport=40000,
               request=b"GET / HTTP/1.1\r\n\r\n"):
    """A whole connection, numbered relative to the conversation (fuzz_pipeline.c)."""
    kw = {"v6": v6, "vlan": vlan, "dport": dport, "sport": sport}
    skw = {"v6": v6, "vlan": vlan, "sport": sport, "dport": dport}
    n = len(request)
    s_ts = any(o[0] == "Timestamp" for o in server_opts)
    sack_blocks = [("NOP", None), ("NOP", None), ("SAck", (1, 11, 21, 31, 41, 51, 61, 71))]
    ops = [
        outside(fr(cli("S", 0x12345678, options=LINUX_SYN, **kw))),
        outside(fr(cli("A", 0, 0, options=TS, **kw))),
        inside(fr(srv("SA", 0x50000000, 0, options=server_opts, **skw))),
        outside(fr(cli("PA", 0, 0, options=TS, payload=request, **kw))),
        inside(fr(srv("PA", 0, n, options=TS if s_ts else (), payload=b"x" * 200, **skw)),
               fr(srv("A", 200, n, options=sack_blocks, **skw))),
        outside(fr(cli("A", n, 200, options=TS[:2] + [("SAck", (300, 400))], **kw))),
    ]
    if close:
        ops += [
            outside(fr(cli("FA", n, 200, options=TS, **kw))),
            inside(fr(srv("FA", 200, n + 1, options=TS if s_ts else (), **skw))),
            outside(fr(cli("A", n + 1, 201, options=TS, **kw))),
            clock(seconds=130, rounds=8),
        ]
    return b"".join(ops)


def pipeline_seeds():
    h = header()
    yield "conn_v4", h + connection()
    yield "conn_v6", h + connection(v6=True)
    yield "conn_vlan_cookie_port", h + connection(vlan=42, dport=8080)
    yield "conn_server_no_ts", h + connection(server_opts=[("MSS", 1400), ("SAckOK", b""),
                                                           ("NOP", None), ("WScale", 2)])
    yield "conn_server_bare", h + connection(server_opts=[("MSS", 1300)], v6=True)
    yield "conn_syncookies_only", header(flags=0x02) + connection(close=False)
    # a client sending more than its server's MSS: an ICMP error of synwall's tells it
    yield "conn_too_big", h + connection(server_opts=[("MSS", 536), ("SAckOK", b""),
                                                      ("NOP", None), ("WScale", 2)],
                                         request=b"P" * 1000, close=False) + \
        connection(v6=True, server_opts=[("MSS", 1220)], request=b"Q" * 1300, close=False)
    # source quotas: one source's handshakes and SYNs beyond its share
    yield "quota_flows", header(quota=1 | 1 << 2) + b"".join(
        connection(sport=41000 + k, close=k == 0) for k in range(3))
    yield "quota_syncache", header(quota=2 << 2 | 0x10, flags=0) + outside(
        *[fr(cli("S", 100 + k, options=LINUX_SYN, sport=42000 + k)) for k in range(8)])
    # the source table (adopt 0x10) with a SYN rate (0x20) and a cap of SYN-ACKs (0x40):
    # one client's SYNs over both, their retransmits, a connection and bad cookies counted
    yield "source_limits", header(adopt=0x70, flags=0) + outside(
        *[fr(cli("S", 100 + k, options=LINUX_SYN, sport=43000 + k)) for k in range(8)]) + \
        clock(ms=1100, rounds=4) + connection(sport=43100) + clock(seconds=3, rounds=4)
    yield "source_table_flood", header(adopt=0x10) + connection(close=False) + outside(
        fr(cli("S", 1, options=LINUX_SYN)), *[repeat(REPEAT | FIX_CSUM)] * 31) + \
        outside(fr(cli("A", 0x1000, 0x2000, options=TS), ctl=FIX_CSUM), *[repeat()] * 31)
    yield "conn_idle_expiry", header(idle=2) + connection(close=False) + \
        clock(seconds=5, rounds=8)
    yield "conn_pass_to_proxy_adopt", header(flags=0x08, adopt=5) + \
        mode(4, 0) + mode(4, 1) + \
        inside(fr(srv("A", 1000, 2000, options=TS, sport=41000, dport=443))) + \
        outside(fr(cli("PA", 2000, 1000, payload=b"hi", sport=41000, dport=443),
                   ctl=FIX_CSUM)) + mode(4, 0) + \
        outside(fr(cli("A", 2002, 1000, sport=41000, dport=443), ctl=FIX_CSUM))
    # floods for no flow: ACKs with bad cookies, RSTs, data, from many clients
    ack = fr(cli("A", 0x1000, 0x2000, options=TS), ctl=FIX_CSUM)
    rst = fr(cli("R", 0x1000), ctl=FIX_CSUM)
    data = fr(cli("PA", 0x1000, 0x2000, payload=b"z" * 64), ctl=FIX_CSUM)
    yield "flood_ack", h + outside(ack, *[repeat()] * 31) + outside(ack, *[repeat()] * 31)
    yield "flood_rst_data", h + outside(rst, *[repeat()] * 15, data, *[repeat()] * 15)
    yield "flood_syn_small_tables", header(sizes=0 | 0 << 2 | 0 << 5, climit=3) + \
        outside(fr(cli("S", 1, options=LINUX_SYN)), *[repeat(REPEAT | FIX_CSUM)] * 31) + \
        clock(ms=1100, rounds=4) + clock(seconds=20, rounds=8)
    # hostile server answers while a flow opens and after
    syn = outside(fr(cli("S", 0x12345678, options=LINUX_SYN)))
    ack3 = outside(fr(cli("A", 0, 0, options=TS)))
    yield "server_hostile", h + syn + ack3 + inside(
        fr(srv("SA", 0x50000000, 77, options=LINUX_SYN)),          # wrong ack
        fr(srv("PA", 1, 0, payload=b"early")),                      # data while opening
        fr(srv("SA", 0x50000000, 0, options=LINUX_SYN)),            # right
        fr(srv("SA", 0x50000000, 0, options=LINUX_SYN)),            # resent
        fr(srv("SA", 0x60000000, 0, options=LINUX_SYN)),            # another ISN
        fr(srv("A", 0, 0, options=TS, sport=40999)),                # no flow
        fr(srv("R", 0, 0)))
    yield "server_rst_while_opening", h + syn + ack3 + inside(fr(srv("RA", 0, 0)))
    yield "server_silent", header(retries=2) + syn + ack3 + fail_allocs(1) + \
        clock(ms=1000, rounds=4) + clock(seconds=2, rounds=4) + clock(seconds=8, rounds=8)
    yield "synack_retransmits", header(rexmt=3) + syn + fail_allocs(1) + \
        clock(ms=1000, rounds=8) + clock(seconds=2, rounds=8) + clock(seconds=4, rounds=8)
    # ICMP errors quoting our SYN-ACK, and a spliced segment
    q_synack = bytes(ETH / IP(src="198.18.2.2", dst=S4) /
                     ICMP(type=3, code=1) / IPerror(src=S4, dst=C4) /
                     TCPerror(sport=80, dport=40000, seq=0, flags="SA"))
    yield "icmp_unreach", h + syn + outside(fr(q_synack)) + outside(fr(q_synack))
    q_data = bytes(ETH / IP(src="198.18.2.2", dst=S4) / ICMP(type=3, code=4) /
                   IPerror(src=S4, dst=C4) / TCPerror(sport=80, dport=40000, seq=1))
    yield "icmp_frag_needed_spliced", h + connection(close=False) + outside(fr(q_data))
    # everything malformed, both ways
    frames = [fr(b, ctl=FIX_CSUM) for _, b in parse_seeds()]
    yield "malformed_outside", h + outside(*frames[:24])
    yield "malformed_inside", header(flags=0x04) + inside(*frames[:24])
    yield "rx_csum_flags", header(flags=0x80) + outside(
        fr(cli("S", 5, options=LINUX_SYN), ctl=FIX | 0x10),
        fr(cli("A", 5, 5), ctl=0x20), fr(cli("A", 6, 6), ctl=0x30))
    yield from full_table_seeds()


def full_table_seeds():
    # ports that offload checksums: synwall's segments leave with pseudo-header sums and
    # the offload flags (both ports; IPv4, IPv6 with a VLAN tag, an ICMP error of its own)
    yield "tx_offload", header(quota=TX_CSUM_OUTSIDE | TX_CSUM_INSIDE) + connection() + \
        connection(v6=True, vlan=7, sport=40001) + \
        connection(server_opts=[("MSS", 536)], request=b"P" * 1000, close=False, sport=40002)
    yield "tx_offload_outside", header(quota=TX_CSUM_OUTSIDE, retries=1, rexmt=2) + \
        outside(fr(cli("S", 0x12345678, options=LINUX_SYN))) + \
        outside(fr(cli("A", 0, 0, options=TS))) + \
        clock(ms=1100, rounds=2) + clock(seconds=3, rounds=4)
    # ACKs with cookies made for them (ANSWER): one flood opens as many flows as it has
    # frames. The cookie's low byte (ack - 1): SACK, window-scale index 2, MSS index 3.
    ack = cli("A", 0x1000, 0x5C, options=TS)
    ack_b = cli("A", 0x2000, 0x5C, options=TS, sport=50000)
    synack = srv("SA", 0x50000000, 0, options=LINUX_SYN)
    step = clock(ms=1100) + clock(ms=2100) + clock(ms=4100) + clock(ms=8100)
    # a table of 12 flows (its limit before its 16 slots): 4 established, 4 still opening
    # (their server SYN's timeout grown to 16 s), idle 11 s, then 8 more handshakes: the
    # least recently used go, the established with an RST both ways, the opening ones with
    # an RST to the client
    yield "flows_full_lru", header(sizes=sizes(flows=12), retries=10) + \
        outside(*flood(fr(ack, ANSWER | FIX_CSUM), 8, REPEAT | ANSWER)) + \
        inside(*flood(fr(synack, ANSWER | FIX_CSUM), 4, REPEAT | ANSWER)) + \
        step + clock(seconds=11) + \
        outside(*flood(fr(ack_b, ANSWER | FIX_CSUM), 8, REPEAT | ANSWER))
    # adopted flows on a port just protected (443): 3 light sources, one of 6 flows (one
    # address, 6 ports), light ones until the table of 16 is full. One closes (the client's
    # RST): the next flow takes its place at once; 11 s later two more take the heavy
    # source's, though the light ones are idler
    ack443 = srv("A", 1000, 2000, options=TS, sport=41000, dport=443)

    def ack_to(client, sport):
        return fr(srv("A", 1000, 2000, sport=sport, dport=443, client=client), FIX_CSUM)

    yield "flows_full_heavy", header(sizes=sizes(flows=16)) + mode(4, 0) + mode(4, 1) + \
        inside(*flood(fr(ack443, FIX_CSUM), 3)) + \
        inside(*flood(ack_to("198.18.0.50", 42000), 6, REPEAT | NEXT_PORT)) + \
        inside(*flood(ack_to("198.18.0.100", 43000), 9)) + \
        outside(fr(cli("R", 2000, sport=41000, dport=443), FIX_CSUM)) + \
        inside(ack_to("198.18.0.200", 44000)) + clock(seconds=11) + \
        inside(*flood(ack_to("198.18.0.201", 44000), 2))
    # 20 flows in 4 buckets of 8: a flow's two buckets fill before the table does
    yield "flows_full_buckets", header(sizes=sizes(flows=20)) + mode(4, 0) + mode(4, 1) + \
        inside(*flood(fr(ack443, FIX_CSUM), 32)) + clock(seconds=11) + \
        inside(*flood(ack_to("198.18.0.200", 44000), 16, REPEAT | NEXT_PORT))
    # a syncache of 41 in 64 x 8 slots, without cookies (a full bucket would pause it): the
    # cache overflows (its oldest entry goes); the limit lowered to 5 at run time, the next
    # SYNs shrink it a few entries each
    syn = fr(cli("S", 0x100, options=LINUX_SYN), FIX_CSUM)
    syn_b = fr(cli("S", 0x200, options=LINUX_SYN, sport=50000), FIX_CSUM)
    yield "syncache_full_shrink", header(flags=0x01, sizes=sizes(bucketlimit=8), climit=40) + \
        outside(*flood(syn, 32)) + outside(*flood(syn_b, 32)) + cachelimit(4) + \
        outside(*flood(syn, 8, REPEAT | NEXT_PORT))
    # one entry per source and no cookies: the others' SYNs are dropped; cookies on again,
    # they get cookies
    yield "syncache_quota_no_cookies", header(flags=0x01, quota=1 << 2) + \
        outside(*flood(syn, 4, REPEAT | NEXT_PORT)) + syncookies(True) + \
        outside(*flood(syn_b, 4, REPEAT | NEXT_PORT))
    # buckets of one entry: a SYN flood overflows them and pauses the syncache (cookies
    # only) for 16 s; the flood back 17 s later, within one more pause: 32 s
    yield "syncache_pause", header(sizes=sizes(hashsize=8, bucketlimit=1)) + \
        outside(*flood(syn, 16)) + clock(seconds=17) + outside(*flood(syn_b, 16)) + \
        clock(seconds=33) + outside(*flood(syn, 4))
    # 96 entries due at once: the sweep stops at its bound of entries a round and owes the
    # rest to the next rounds
    syn_c = fr(cli("S", 0x300, options=LINUX_SYN, sport=51000), FIX_CSUM)
    yield "syncache_timers_capped", header() + outside(*flood(syn, 32)) + \
        outside(*flood(syn_b, 32)) + outside(*flood(syn_c, 32)) + clock(ms=1100, rounds=4)
    # a zero-window probe (seq = the ISN) as the only ACK, on the cookie path: it completes
    yield "probe_cookie", header(flags=0x02) + \
        outside(fr(cli("S", 0x12345678, options=LINUX_SYN))) + \
        outside(fr(cli("A", 0xFFFFFFFF, 0, options=TS)))
    # FINs both ways, then a SYN on the same 4-tuple: the closing flow gives way to the new
    # handshake, as a server in TIME_WAIT would
    n = len(b"GET / HTTP/1.1\r\n\r\n")
    yield "conn_reuse_closing", header() + connection(close=False) + \
        outside(fr(cli("FA", n, 200, options=TS))) + \
        inside(fr(srv("FA", 200, n + 1, options=TS))) + \
        outside(fr(cli("A", n + 1, 201, options=TS))) + \
        outside(fr(cli("S", 0x22222222, options=LINUX_SYN)))
    # segments larger than the server's MSS: without DF (no ICMP error: a router would
    # fragment it), and with DF when the ICMP error finds no mbuf
    big = bytearray(cli("PA", n, 200, options=TS, payload=b"P" * 1000))
    big[14 + 6] &= ~0x40
    yield "too_big_no_df_nombuf", header() + \
        connection(server_opts=[("MSS", 536)], close=False) + outside(fr(bytes(big))) + \
        fail_allocs(1) + outside(fr(cli("PA", n + 1000, 200, options=TS, payload=b"Q" * 1000)))
    # server segments behind IPv6 extension headers and AH, from a protected port (dropped:
    # they cannot be translated), then once the port passes (bridged)
    t_srv = TCP(sport=80, dport=40000, flags="A", seq=1, ack=1)
    ext = [bytes(Ether(src=SMAC, dst=CMAC) / IPv6(src=S6, dst=C6) / IPv6ExtHdrHopByHop() /
                 t_srv),
           bytes(Ether(src=SMAC, dst=CMAC) / IP(src=S4, dst=C4) / AH(**AH_TCP) /
                 t_srv)]
    yield "inside_ext_headers", header() + inside(*[fr(b, FIX_CSUM) for b in ext]) + \
        mode(0, 0) + inside(*[fr(b, FIX_CSUM) for b in ext])


def srclist_seeds():
    """Files of source rules (synwall-dp --sources): a plain list, port lists with comments
    and a /0 each way, and ones refused (bits past the length, a conflict only the build
    finds is parsed fine)."""
    yield "two", b"deny 198.18.200.0/24\ndeny 2001:2::/48\n"
    yield "ports", (b"# list\nallow 198.18.0.0/16 22\ndeny 0.0.0.0/0 8000-8080\n\n"
                    b"  deny 198.18.5.5/32   # one\r\nallow ::/0\n")
    yield "hostbits", b"deny 198.18.5.1/24\n"
    yield "conflict", b"deny 198.18.5.0/24\nallow 198.18.5.0/24\n"
    yield "limits", (b"limit 198.18.200.0/24 10 5\ndeny 198.18.200.66/32\n"
                     b"limit 2001:2::/48 7\nallow 198.18.0.0/16 22\n")
    yield "limit_bad", b"limit 198.18.0.0/16 0\nlimit 198.18.1.0/24 5 80-90\n"


def main(argv):
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent / "corpus"
    for name, seeds in (("parse", parse_seeds()), ("proxy", proxy_seeds()),
                        ("pipeline", pipeline_seeds()), ("srclist", srclist_seeds())):
        d = out / name
        d.mkdir(parents=True, exist_ok=True)
        for old in d.iterdir():
            old.unlink()
        n = 0
        for seed_name, data in seeds:
            (d / seed_name).write_bytes(data)
            n += 1
        print("%s: %d seeds" % (d, n))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
