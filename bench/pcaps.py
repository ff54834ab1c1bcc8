"""The packets of the benchmark, written straight to pcap files (scapy would take minutes).

Every frame is IPv4/TCP with correct checksums, addresses only from 198.18.0.0/15: clients
from 198.18.128.0/17, the protected server 198.18.1.1 port 80 (the pcap runs), or whatever the
namespace comparison passes in. SYNs carry the options a Linux client sends (MSS 1460,
SACK_PERM, timestamps, window scale 7: synlab.flood.syn_frame); ACKs carry NOP NOP TS like a
Linux client's; the server's SYN-ACK carries MSS, SACK_PERM, TS and WS 7.
"""
from __future__ import annotations

import ipaddress
import random
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "traffic"))

import cookie_ref  # noqa: E402

from synlab.flood import _csum, mac_bytes, syn_frame  # noqa: E402

CLIENT_MAC = "02:00:00:00:00:01"
SERVER_MAC = "02:00:00:00:00:02"
SERVER_IP = "198.18.1.1"
SERVER_PORT = 80
FLOOD_BASE = int(ipaddress.IPv4Address("198.18.128.0"))
FLOOD_SPAN = 1 << 15            # 198.18.128.0/17

# What the SYN offers (synlab.flood.syn_frame) and so what the cookie encodes; the ACK's
# TSecr echoes the SYN-ACK's: the window shift it offered (synwall's default --wscale 7) in
# the low nibble, and above it the cookie MAC's other 8 bits (docs/DATAPLANE.md, "The
# cookie").
SYN_MSS, SYN_WSCALE, SYN_SACK = 1460, 7, True
OUR_WSCALE = 7

TH_FIN, TH_SYN, TH_RST, TH_PSH, TH_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def tcp_frame(smac: bytes, dmac: bytes, src: bytes, dst: bytes, sport: int, dport: int,
              seq: int, ack: int, flags: int, win: int, opts: bytes = b"",
              payload: bytes = b"") -> bytes:
    assert len(opts) % 4 == 0
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (5 + len(opts) // 4) << 4, flags, win, 0, 0) + opts + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", _csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    frame = dmac + smac + b"\x08\x00" + ip + tcp
    return frame + b"\0" * (60 - len(frame)) if len(frame) < 60 else frame


def ts_opt(tsval: int, tsecr: int) -> bytes:
    return bytes([1, 1, 8, 10]) + struct.pack("!II", tsval & 0xFFFFFFFF, tsecr & 0xFFFFFFFF)


def synack_opts(tsval: int, tsecr: int) -> bytes:
    """What a Linux server's SYN-ACK carries: MSS, SACK_PERM, TS, NOP, WS 7."""
    return struct.pack("!BBH", 2, 4, 1460) + bytes([4, 2, 8, 10]) + \
        struct.pack("!II", tsval, tsecr) + bytes([1, 3, 3, 7])


def arp_reply(smac: bytes, dmac: bytes, sip: bytes, dip: bytes) -> bytes:
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, smac, sip, dmac, dip)
    frame = dmac + smac + b"\x08\x06" + arp
    return frame + b"\0" * (60 - len(frame))


class PcapWriter:
    def __init__(self, path: Path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.n = 0

    def write(self, frame: bytes) -> None:
        self.f.write(struct.pack("<IIII", 1700000000 + self.n // 1000000, self.n % 1000000,
                                 len(frame), len(frame)))
        self.f.write(frame)
        self.n += 1

    def close(self) -> None:
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def count_frames(path: Path) -> int:
    data = Path(path).read_bytes()
    off, n = 24, 0
    while off + 16 <= len(data):
        (caplen,) = struct.unpack_from("<I", data, off + 8)
        off += 16 + caplen
        n += 1
    return n


@dataclass
class Client:
    """One client connection attempt: its address, port, ISN and SYN TSval."""
    src: bytes
    sport: int
    isn: int
    tsval: int


def random_clients(count: int, seed: int) -> list[Client]:
    """count distinct (address, port) from 198.18.128.0/17, random ISNs and TSvals."""
    rnd = random.Random(seed)
    seen: set[int] = set()
    out = []
    while len(out) < count:
        a = FLOOD_BASE + rnd.randrange(1, FLOOD_SPAN - 1)
        p = rnd.randrange(1024, 65536)
        key = a << 16 | p
        if key in seen:
            continue
        seen.add(key)
        out.append(Client(struct.pack("!I", a), p, rnd.getrandbits(32), rnd.getrandbits(32)))
    return out


def _ip(a: str | bytes) -> bytes:
    return a if isinstance(a, bytes) else ipaddress.IPv4Address(a).packed


def syn(c: Client, dst: bytes, dport: int, smac: bytes, dmac: bytes) -> bytes:
    return syn_frame(smac, dmac, c.src, dst, c.sport, dport, c.isn, c.tsval)


def cookie_for(key: str, c: Client, dst: bytes, dport: int) -> int:
    return cookie_ref.cookie(key, ipaddress.IPv4Address(c.src), ipaddress.IPv4Address(dst),
                             c.sport, dport, c.isn, mss=SYN_MSS, wscale=SYN_WSCALE,
                             sack=SYN_SACK, key_bit=cookie_ref.FIXED_KEY_BIT)


def synack_tsval_for(key: str, c: Client, dst: bytes, dport: int, iss: int) -> int:
    """A TSval of synwall's SYN-ACK with cookie iss to c: the MAC's other 8 bits and our
    shift in its low 12 bits (what the cookie path checks), any clock above them."""
    return 0x5A5A5000 | cookie_ref.synack_tsval_low(
        key, ipaddress.IPv4Address(c.src), ipaddress.IPv4Address(dst), c.sport, dport,
        c.isn, iss, OUR_WSCALE)


def handshake_ack(c: Client, dst: bytes, dport: int, iss: int, smac: bytes, dmac: bytes,
                  synack_tsval: int | None = None) -> bytes:
    """The client's third segment: seq = ISN + 1, ack = ISS + 1, NOP NOP TS."""
    tsecr = synack_tsval if synack_tsval is not None else (0x5A5A5A50 | OUR_WSCALE)
    return tcp_frame(smac, dmac, c.src, dst, c.sport, dport, c.isn + 1, iss + 1, TH_ACK,
                     64240 >> SYN_WSCALE, ts_opt(c.tsval + 1, tsecr))


# --- the files -------------------------------------------------------------------------

def write_syns(path: Path, count: int, seed: int = 1, dst: str = SERVER_IP,
               dport: int = SERVER_PORT, smac: str = CLIENT_MAC,
               dmac: str = SERVER_MAC) -> int:
    """count distinct SYNs (random sources and ports in 198.18.128.0/17), real options."""
    s, d, ip = mac_bytes(smac), mac_bytes(dmac), _ip(dst)
    with PcapWriter(path) as w:
        for c in random_clients(count, seed):
            w.write(syn(c, ip, dport, s, d))
    return count


def write_bad_acks(path: Path, count: int, seed: int = 2) -> int:
    """count ACKs from random sources whose ack number is no cookie (random, like a spoofer's
    or a port scanner's): every one fails the cookie check. Same options as a real ACK."""
    s, d, ip = mac_bytes(CLIENT_MAC), mac_bytes(SERVER_MAC), _ip(SERVER_IP)
    rnd = random.Random(seed ^ 0x5EED)
    with PcapWriter(path) as w:
        for c in random_clients(count, seed):
            w.write(handshake_ack(c, ip, SERVER_PORT, rnd.getrandbits(32), s, d))
    return count


def write_valid_acks(path: Path, count: int, key: str, seed: int = 3) -> int:
    """count ACKs, distinct tuples, each carrying the valid cookie of its (never sent) SYN."""
    s, d, ip = mac_bytes(CLIENT_MAC), mac_bytes(SERVER_MAC), _ip(SERVER_IP)
    with PcapWriter(path) as w:
        for c in random_clients(count, seed):
            iss = cookie_for(key, c, ip, SERVER_PORT)
            w.write(handshake_ack(c, ip, SERVER_PORT, iss, s, d,
                                  synack_tsval_for(key, c, ip, SERVER_PORT, iss)))
    return count


HANDSHAKE_BLOCK = 16    # handshakes per 32-frame block of each file


def write_handshakes(outside: Path, inside: Path, count: int, key: str, seed: int = 4) -> dict:
    """Complete handshakes through the proxy, for two files replayed side by side.

    outside, per block of 32 frames: the SYNs of 16 clients, then their ACKs (valid cookies,
    so they complete against the syncache entry the SYN made).
    inside, per block of 32 frames: the server's SYN-ACKs (ack = client ISN + 1) for the 16
    clients of the *previous* outside block, then 16 ARP replies from the server (filler:
    bridged unchanged). The worker reads a burst from outside, then one from inside, each
    loop; the one-block lag makes every SYN-ACK arrive after the ACK that opened its flow
    whatever the burst size (16, 32, 64...). The filler keeps both files at 2 frames per
    handshake, so that they advance together.
    """
    count -= count % HANDSHAKE_BLOCK
    cm, sm, ip = mac_bytes(CLIENT_MAC), mac_bytes(SERVER_MAC), _ip(SERVER_IP)
    clients = random_clients(count, seed)
    rnd = random.Random(seed ^ 0xACE)
    arp = arp_reply(sm, cm, ip, struct.pack("!I", FLOOD_BASE + 1))
    n_out = n_in = 0
    with PcapWriter(outside) as wo, PcapWriter(inside) as wi:
        for _ in range(2 * HANDSHAKE_BLOCK):
            wi.write(arp)
        for b in range(0, count, HANDSHAKE_BLOCK):
            blk = clients[b:b + HANDSHAKE_BLOCK]
            for c in blk:
                wo.write(syn(c, ip, SERVER_PORT, cm, sm))
            for c in blk:
                iss = cookie_for(key, c, ip, SERVER_PORT)
                wo.write(handshake_ack(c, ip, SERVER_PORT, iss, cm, sm,
                                       synack_tsval_for(key, c, ip, SERVER_PORT, iss)))
            for c in blk:
                srv_isn = rnd.getrandbits(32)
                # The server's TSecr echoes the server SYN's TSval (the client's).
                wi.write(tcp_frame(sm, cm, ip, c.src, SERVER_PORT, c.sport, srv_isn,
                                   c.isn + 1, TH_SYN | TH_ACK, 65160,
                                   synack_opts(rnd.getrandbits(32), c.tsval + 1)))
            for _ in blk:
                wi.write(arp)
        n_out, n_in = wo.n, wi.n
    return {"handshakes": count, "outside_frames": n_out, "inside_frames": n_in}


# --- established flows (--preload-flows) -----------------------------------------------

PRELOAD_SERVER = SERVER_IP
PRELOAD_SEQ_DELTA = 0x10000


def preload_tuple(i: int) -> tuple[bytes, int]:
    """Flow i of --preload-flows: client 198.18.128.0 + (i >> 14), port 1024 + (i & 0x3fff)."""
    return struct.pack("!I", (FLOOD_BASE + (i >> 14)) & 0xFFFFFFFF), 1024 + (i & 0x3FFF)


def data_segment(i: int, payload: bytes, smac: bytes, dmac: bytes, ip: bytes) -> bytes:
    src, sport = preload_tuple(i)
    return tcp_frame(smac, dmac, src, ip, sport, SERVER_PORT, i + 1, (i * 7 + 1), TH_PSH | TH_ACK,
                     502, b"", payload)


def flow_sequence(flows: int, frames: int, seed: int) -> list[int]:
    """frames flow indices from [0, flows): every flow once in random order (as many as fit),
    repeated in new random orders until frames are there."""
    rnd = random.Random(seed)
    out: list[int] = []
    while len(out) < frames:
        take = min(flows, frames - len(out))
        out.extend(rnd.sample(range(flows), take))
    return out


def write_data(path: Path, flows: int, frames: int, payload_len: int = 64, seed: int = 5) -> dict:
    """Client -> server data segments (PSH|ACK, payload_len bytes) of preloaded flows."""
    s, d, ip = mac_bytes(CLIENT_MAC), mac_bytes(SERVER_MAC), _ip(PRELOAD_SERVER)
    payload = bytes((j * 7) & 0xFF for j in range(payload_len))
    seq = flow_sequence(flows, frames, seed)
    with PcapWriter(path) as w:
        for i in seq:
            w.write(data_segment(i, payload, s, d, ip))
    return {"frames": frames, "distinct_flows": len(set(seq))}
