"""Spoofed-SYN flood files for tcpreplay: sources only from 198.18.128.0/17.

Written directly as pcap bytes (scapy would take minutes for a few hundred thousand
packets); checksums are computed here and checked against scapy by the tests.
"""
from __future__ import annotations

import ipaddress
import random
import struct
from pathlib import Path

FLOOD_NET = ipaddress.ip_network("198.18.128.0/17")


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac_bytes(mac: str) -> bytes:
    return bytes(int(x, 16) for x in mac.split(":"))


def syn_frame(src_mac: bytes, dst_mac: bytes, src: bytes, dst: bytes, sport: int, dport: int,
              seq: int, ts: int) -> bytes:
    """An IPv4 SYN with the options a Linux client sends (MSS, SACK_PERM, TS, WS)."""
    opts = struct.pack("!BBH", 2, 4, 1460) + bytes([4, 2, 8, 10]) + \
        struct.pack("!II", ts, 0) + bytes([1, 3, 3, 7])
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (5 + len(opts) // 4) << 4, 0x02,
                      64240, 0, 0) + opts
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", _csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + tcp


def write_flood(path: Path, count: int, src_mac: str, dst_mac: str, dst_ip: str, dport: int,
                seed: int = 1) -> None:
    """count SYNs, each from a random source address of FLOOD_NET and a random port."""
    rnd = random.Random(seed)
    smac, dmac = mac_bytes(src_mac), mac_bytes(dst_mac)
    dst = ipaddress.IPv4Address(dst_ip).packed
    base = int(FLOOD_NET.network_address)
    span = FLOOD_NET.num_addresses
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(count):
            src = struct.pack("!I", base + rnd.randrange(1, span - 1))
            frame = syn_frame(smac, dmac, src, dst, rnd.randrange(1024, 65536), dport,
                              rnd.getrandbits(32), rnd.getrandbits(32))
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(frame), len(frame)))
            f.write(frame)
