"""Independent reference for synwall's SYN cookies (docs/DATAPLANE.md, "The cookie").

Pure Python, written from the SipHash paper (Aumasson & Bernstein, 2012) and the contract, not
from the C code, so that the traffic tests can say what the dataplane's SYN-ACK sequence number
must be and forge ACKs that carry a valid or an invalid cookie.

    ISS = MAC24 << 8 | key << 7 | sack << 6 | ws << 3 | mss

MAC24 is the top 24 bits (``>> 40``) of SipHash-2-4 under the 128-bit secret (the 16 key bytes
in order, read as two little-endian uint64 as in the reference code) over

    src addr (4 or 16 bytes) | dst addr | src port (2, BE) | dst port (2, BE)
    | client ISN (4, BE) | low byte of the ISS (1)

where src/dst are the client's SYN's (the client is the source).
"""

import ipaddress
import struct

MASK64 = (1 << 64) - 1

# Index -> value tables carried in the cookie's low byte.
MSS_TABLE = (536, 1220, 1300, 1360, 1440, 1452, 1460, 8960)
WS_TABLE = (None, 0, 2, 4, 6, 7, 8, 10)  # index 0: the client offered no window scale

# The contract does not say which key bit a fixed --key uses (it has no epoch); the tests
# take it to be epoch 0's parity.
FIXED_KEY_BIT = 0


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & MASK64


def siphash24(key: bytes, msg: bytes) -> int:
    """SipHash-2-4 of msg under a 16-byte key, as the 64-bit integer the reference returns."""
    if len(key) != 16:
        raise ValueError("SipHash key is 16 bytes")
    k0, k1 = struct.unpack("<QQ", key)
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573

    def rounds(n, v0, v1, v2, v3):
        for _ in range(n):
            v0 = (v0 + v1) & MASK64
            v1 = _rotl(v1, 13) ^ v0
            v0 = _rotl(v0, 32)
            v2 = (v2 + v3) & MASK64
            v3 = _rotl(v3, 16) ^ v2
            v0 = (v0 + v3) & MASK64
            v3 = _rotl(v3, 21) ^ v0
            v2 = (v2 + v1) & MASK64
            v1 = _rotl(v1, 17) ^ v2
            v2 = _rotl(v2, 32)
        return v0, v1, v2, v3

    full = len(msg) - len(msg) % 8
    for off in range(0, full, 8):
        (m,) = struct.unpack_from("<Q", msg, off)
        v3 ^= m
        v0, v1, v2, v3 = rounds(2, v0, v1, v2, v3)
        v0 ^= m
    last = ((len(msg) & 0xFF) << 56) | int.from_bytes(msg[full:], "little")
    v3 ^= last
    v0, v1, v2, v3 = rounds(2, v0, v1, v2, v3)
    v0 ^= last
    v2 ^= 0xFF
    v0, v1, v2, v3 = rounds(4, v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def mss_index(client_mss):
    """Index of the largest table MSS <= the client's MSS (536 when it sent none); 0 if smaller."""
    mss = 536 if client_mss is None else client_mss
    idx = 0
    for i, v in enumerate(MSS_TABLE):
        if v <= mss:
            idx = i
    return idx


def ws_index(client_shift):
    """0 when the client offered no window scale, else the largest table shift <= its shift."""
    if client_shift is None:
        return 0
    shift = min(client_shift, 14)  # RFC 7323: a larger shift is taken as 14
    idx = 1
    for i, v in enumerate(WS_TABLE[1:], start=1):
        if v <= shift:
            idx = i
    return idx


def low_byte(*, mss=None, wscale=None, sack=False, key_bit=FIXED_KEY_BIT):
    return (key_bit & 1) << 7 | int(bool(sack)) << 6 | ws_index(wscale) << 3 | mss_index(mss)


def addr_bytes(addr) -> bytes:
    return ipaddress.ip_address(addr).packed


def mac_input(src, dst, sport, dport, isn, low) -> bytes:
    return addr_bytes(src) + addr_bytes(dst) + struct.pack("!HHIB", sport, dport, isn, low)


def mac24(key: bytes, src, dst, sport, dport, isn, low) -> int:
    return siphash24(key, mac_input(src, dst, sport, dport, isn, low)) >> 40


def mac8(key: bytes, src, dst, sport, dport, isn, low) -> int:
    """The MAC's other 8 bits (SipHash bits 32..39), which a SYN-ACK with timestamps carries
    in its TSval's bits 4..11."""
    if isinstance(key, str):
        key = bytes.fromhex(key)
    return (siphash24(key, mac_input(src, dst, sport, dport, isn, low)) >> 32) & 0xFF


def synack_tsval_low(key, src, dst, sport, dport, isn, iss, ws_code) -> int:
    """The low 12 bits of the TSval of the SYN-ACK with cookie iss offering shift ws_code
    (15: none): what a client's TSecr must echo for its ACK's cookie to check out."""
    return mac8(key, src, dst, sport, dport, isn, iss & 0xFF) << 4 | ws_code


def cookie(key, src, dst, sport, dport, isn, *, mss=None, wscale=None, sack=False,
           key_bit=FIXED_KEY_BIT) -> int:
    """The ISS the dataplane must send to the client's SYN (src/dst/ports are the SYN's)."""
    if isinstance(key, str):
        key = bytes.fromhex(key)
    low = low_byte(mss=mss, wscale=wscale, sack=sack, key_bit=key_bit)
    return mac24(key, src, dst, sport, dport, isn, low) << 8 | low


def decode(iss: int) -> dict:
    """Split an ISS into its fields (for readable assertion messages)."""
    low = iss & 0xFF
    return {
        "mac24": iss >> 8,
        "key_bit": low >> 7,
        "sack": (low >> 6) & 1,
        "ws": WS_TABLE[(low >> 3) & 7],
        "mss": MSS_TABLE[low & 7],
    }


def verify(key, src, dst, sport, dport, isn, iss) -> bool:
    """True when iss carries a MAC valid for this SYN under key (whatever its option bits)."""
    if isinstance(key, str):
        key = bytes.fromhex(key)
    low = iss & 0xFF
    return mac24(key, src, dst, sport, dport, isn, low) == iss >> 8
