"""The reference cookie code itself: SipHash-2-4 against the published vectors, and the
cookie encoding against DATAPLANE.md. Every other traffic test trusts this module."""

import struct

import pytest

from tests.traffic import cookie_ref as cr

KEY = bytes(range(16))

# SipHash-2-4 reference vectors (the paper's vectors.h): key 00..0f, message 00..(n-1);
# the 64-bit result as the 8 little-endian bytes the reference prints.
VECTORS = {
    0: "310e0edd47db6f72", 1: "fd67dc93c539f874", 2: "5a4fa9d909806c0d",
    3: "2d7efbd796666785", 4: "b7877127e09427cf", 5: "8da699cd64557618",
    6: "cee3fe586e46c9cb", 7: "37d1018bf50002ab", 8: "6224939a79f5f593",
    9: "b0e4a90bdf82009e", 10: "f3b9dd94c5bb5d7a", 11: "a7ad6b22462fb3f4",
    12: "fbe50e86bc8f1e75", 13: "903d84c02756ea14", 14: "eef27a8e90ca23f7",
    15: "e545be4961ca29a1", 16: "db9bc2577fcc2a3f", 17: "9447be2cf5e99a69",
    18: "9cd38d96f0b3c14b", 19: "bd6179a71dc96dbb", 20: "98eea21af25cd6be",
    21: "c7673b2eb0cbf2d0", 22: "883ea3e395675393", 23: "c8ce5ccd8c030ca8",
    24: "94af49f6c650adb8", 40: "d0a704536ba93e0e", 41: "925958fcd6420cad",
}


def test_siphash_paper_vector():
    # The example in the SipHash paper (appendix A): key 00..0f, message 00..0e.
    assert cr.siphash24(KEY, bytes(range(15))) == 0xA129CA6149BE45E5


@pytest.mark.parametrize("n", sorted(VECTORS))
def test_siphash_reference_vectors(n):
    got = cr.siphash24(KEY, bytes(range(n)))
    assert struct.pack("<Q", got).hex() == VECTORS[n]


def test_key_is_two_little_endian_words():
    # k0 = bytes 0..7 little-endian, as in the reference: swapping the halves must change
    # the result, and so must reading them big-endian.
    msg = b"synwall"
    swapped = KEY[8:] + KEY[:8]
    be = struct.pack("<QQ", *struct.unpack(">QQ", KEY))
    ref = cr.siphash24(KEY, msg)
    assert cr.siphash24(swapped, msg) != ref
    assert cr.siphash24(be, msg) != ref


@pytest.mark.parametrize("mss,idx", [
    (None, 0), (100, 0), (535, 0), (536, 0), (1219, 0), (1220, 1), (1300, 2), (1359, 2),
    (1360, 3), (1400, 3), (1440, 4), (1452, 5), (1459, 5), (1460, 6), (8959, 6), (8960, 7),
    (9000, 7), (65535, 7)])
def test_mss_index(mss, idx):
    assert cr.mss_index(mss) == idx


@pytest.mark.parametrize("ws,idx", [
    (None, 0), (0, 1), (1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (6, 4), (7, 5), (8, 6),
    (9, 6), (10, 7), (14, 7), (15, 7)])
def test_ws_index(ws, idx):
    assert cr.ws_index(ws) == idx


def test_cookie_layout_ipv4():
    src, dst, sport, dport, isn = "198.18.0.10", "198.18.1.1", 40000, 80, 0x12345678
    low = 1 << 7 | 1 << 6 | 5 << 3 | 3  # key 1, SACK, ws 7 (index 5), mss 1400 (index 3)
    msg = bytes([198, 18, 0, 10, 198, 18, 1, 1]) + struct.pack("!HHI", sport, dport, isn) \
        + bytes([low])
    assert cr.mac_input(src, dst, sport, dport, isn, low) == msg
    want = (cr.siphash24(KEY, msg) >> 40) << 8 | low
    got = cr.cookie(KEY, src, dst, sport, dport, isn, mss=1400, wscale=7, sack=True, key_bit=1)
    assert got == want
    assert cr.decode(got) == {"mac24": want >> 8, "key_bit": 1, "sack": 1, "ws": 7,
                              "mss": 1360}
    assert cr.verify(KEY, src, dst, sport, dport, isn, got)
    assert not cr.verify(KEY, src, dst, sport, 443, isn, got)
    assert not cr.verify(KEY, src, dst, sport, dport, isn + 1, got)
    assert not cr.verify(KEY, src, dst, sport, dport, isn, got ^ 0x40)  # flipped SACK bit


def test_cookie_layout_ipv6():
    src, dst = "2001:2::10", "2001:2:0:1::1"
    msg = cr.mac_input(src, dst, 40000, 443, 7, 0)
    assert len(msg) == 16 + 16 + 2 + 2 + 4 + 1
    assert msg[:16] == bytes.fromhex("20010002000000000000000000000010")
    c = cr.cookie(KEY, src, dst, 40000, 443, 7)
    assert c & 0xFF == 0 and c >> 8 == cr.siphash24(KEY, msg) >> 40
    assert c < 1 << 32
