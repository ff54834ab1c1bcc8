"""SipHash-2-4 and the dataplane's key derivation (dataplane/cookie.c, sw_key_derive).

With a shared master secret, the cookie secret of epoch e is

    k0 = SipHash-2-4(master, "synwall cookie key v1" NUL | e as 8 little-endian bytes | 0)
    k1 = the same with a final byte 1

and the 16-byte secret is k0 then k1, each little-endian (how the dataplane reads a 16-byte
key: two little-endian words). A controller and `synwall-dp --master` derive the same secrets,
so appliances behind one ECMP router accept each other's cookies.
"""

from __future__ import annotations

import struct

_MASK = (1 << 64) - 1
_LABEL = b"synwall cookie key v1\0"


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & _MASK


def _rounds(n: int, v0: int, v1: int, v2: int, v3: int) -> tuple[int, int, int, int]:
    for _ in range(n):
        v0 = (v0 + v1) & _MASK
        v1 = _rotl(v1, 13) ^ v0
        v0 = _rotl(v0, 32)
        v2 = (v2 + v3) & _MASK
        v3 = _rotl(v3, 16) ^ v2
        v0 = (v0 + v3) & _MASK
        v3 = _rotl(v3, 21) ^ v0
        v2 = (v2 + v1) & _MASK
        v1 = _rotl(v1, 17) ^ v2
        v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def siphash24(key: bytes, msg: bytes) -> int:
    """SipHash-2-4 of msg under a 16-byte key, as a 64-bit integer (the reference's output)."""
    if len(key) != 16:
        raise ValueError("a SipHash key is 16 bytes")
    k0, k1 = struct.unpack("<QQ", key)
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573
    full = len(msg) - len(msg) % 8
    for off in range(0, full, 8):
        (m,) = struct.unpack_from("<Q", msg, off)
        v3 ^= m
        v0, v1, v2, v3 = _rounds(2, v0, v1, v2, v3)
        v0 ^= m
    last = ((len(msg) & 0xFF) << 56) | int.from_bytes(msg[full:], "little")
    v3 ^= last
    v0, v1, v2, v3 = _rounds(2, v0, v1, v2, v3)
    v0 ^= last
    v2 ^= 0xFF
    v0, v1, v2, v3 = _rounds(4, v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def derive_key(master: bytes, epoch: int) -> bytes:
    """The 16-byte cookie secret of `epoch` under `master` (as sw_key_derive)."""
    base = _LABEL + struct.pack("<Q", epoch & _MASK)
    k0 = siphash24(master, base + b"\0")
    k1 = siphash24(master, base + b"\1")
    return struct.pack("<QQ", k0, k1)
