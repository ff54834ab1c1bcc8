"""4. A SYN flood against a tiny syncache: the cache stays within its limits, every SYN is
still answered with a valid cookie, and a legitimate client gets through."""

import ipaddress
import random
import struct

from tests.traffic import cookie_ref
from tests.traffic.dpharness import TEST_KEY
from tests.traffic.expect import check_server_syn, check_synack, expected_cookie
from tests.traffic.pktutil import SERVER4, ack_for, ones_sum, parse_tcp, syn, tcp_pkt

FLOOD = 100_000
FLOOD_NET = int(ipaddress.IPv4Address("198.18.128.0"))  # 198.18.128.0/17: 32768 addresses
LEGIT_AT = 10  # the legitimate client's SYN arrives among the first of the flood
DPORT = 80


def flood_src(i):
    """(address, port, ISN) of spoofed SYN i: distinct (address, port) pairs in the /17."""
    return FLOOD_NET + (i & 0x7FFF), 1024 + (i >> 15), (i * 2654435761 + 12345) & 0xFFFFFFFF


def flood_frames():
    """100k SYNs from one scapy template, patched: source address, port and ISN, both
    checksums recomputed incrementally (one's complement sums of the unchanged words)."""
    tmpl = bytes(syn(src="0.0.0.0", dst=SERVER4, sport=0, dport=DPORT, isn=0,
                     options=[("MSS", 1460)], ip_kw=dict(id=0)))
    eth, ip, tcp = tmpl[:14], bytearray(tmpl[14:34]), bytearray(tmpl[34:])
    ip[10:12] = b"\0\0"
    tcp[16:18] = b"\0\0"
    ip_base = ones_sum(bytes(ip))  # source address is 0 in the template
    tcp_base = ones_sum(bytes(tcp) + ip[16:20] + struct.pack("!BBH", 0, 6, len(tcp)))
    ip_head, ip_dst = bytes(ip[:10]), bytes(ip[16:20])
    tcp_mid, tcp_tail = bytes(tcp[8:16]), bytes(tcp[18:])
    frames = []
    pack_src, pack_ports = struct.Struct("!HI").pack, struct.Struct("!HHI").pack
    for i in range(FLOOD):
        a, sport, isn = flood_src(i)
        s = ip_base + (a >> 16) + (a & 0xFFFF)
        s = (s & 0xFFFF) + (s >> 16)
        s = (s & 0xFFFF) + (s >> 16)
        t = tcp_base + (a >> 16) + (a & 0xFFFF) + sport + (isn >> 16) + (isn & 0xFFFF)
        t = (t & 0xFFFF) + (t >> 16)
        t = (t & 0xFFFF) + (t >> 16)
        frames.append(eth + ip_head + pack_src(~s & 0xFFFF, a) + ip_dst
                      + pack_ports(sport, DPORT, isn) + tcp_mid
                      + struct.pack("!H", ~t & 0xFFFF) + tcp_tail)
    return frames


def test_flood_generator_builds_valid_syns():
    frames = flood_frames()
    for i in (0, 1, 32767, 32768, FLOOD - 1):
        p = parse_tcp(frames[i])
        a, sport, isn = flood_src(i)
        assert (p.src, p.sport, p.seq, p.flags) == (str(ipaddress.IPv4Address(a)), sport,
                                                    isn, 0x02)
        assert p.ip_checksum_ok() and p.tcp_checksum_ok()
    assert len({flood_src(i)[:2] for i in range(FLOOD)}) == FLOOD


def test_flood_bounded_cache_all_answered_legit_client_passes(run_dp):
    frames = flood_frames()
    legit = syn(src="198.18.0.77", sport=55555, isn=0x31415926, options=[("MSS", 1460)])
    legit_ack = ack_for(legit, expected_cookie(legit))
    outside = frames[:LEGIT_AT] + [bytes(legit)] + frames[LEGIT_AT:] + [bytes(legit_ack)]

    args = ["--protect", "80", "--key", TEST_KEY, "--hashsize", "64", "--bucketlimit", "4",
            "--cachelimit", "128"]
    r = run_dp(outside=outside, args=args, timeout=120)

    c = r.counters("syncache.count", "syncache.added", "syncache.sendcookie",
                   "syncache.bucketoverflow", "syncache.cacheoverflow", "syncache.completed",
                   "syncache.dupsyn", "port.outside_rx", "port.outside_tx")
    assert c["syncache.count"] <= 128, c
    assert c["syncache.bucketoverflow"] + c["syncache.cacheoverflow"] > 0, c
    assert c["syncache.added"] + c["syncache.sendcookie"] == FLOOD + 1, \
        "every SYN is either kept or answered from a cookie: %s" % c
    assert c["syncache.dupsyn"] == 0, c
    assert c["port.outside_rx"] == FLOOD + 2 and c["port.outside_tx"] == FLOOD + 1, c

    # Every SYN answered, in order, with ack = ISN + 1 and a cookie valid under the key.
    out = r.outside_raw
    assert len(out) == FLOOD + 1, "%d SYN-ACKs for %d SYNs" % (len(out), FLOOD + 1)
    check_synack(out[LEGIT_AT], legit)
    flood_out = out[:LEGIT_AT] + out[LEGIT_AT + 1:]
    hdr = struct.Struct("!4s4s")  # IPv4 src, dst at offset 26
    tcph = struct.Struct("!HHIIBB")  # ports, seq, ack, data offset, flags at offset 34
    server = ipaddress.IPv4Address(SERVER4).packed
    bad = []
    for i, f in enumerate(flood_out):
        a, sport, isn = flood_src(i)
        src, dst = hdr.unpack_from(f, 26)
        sp, dp, seq, ack, _, flags = tcph.unpack_from(f, 34)
        if (src, dst, sp, dp, ack, flags) != (server, a.to_bytes(4, "big"), DPORT, sport,
                                              (isn + 1) & 0xFFFFFFFF, 0x12):
            bad.append(i)
    assert not bad, "%d SYN-ACKs do not answer their SYN, first at %d: %s" % (
        len(bad), bad[0], flood_out[bad[0]].hex())

    rng = random.Random(7)
    key = bytes.fromhex(TEST_KEY)
    for i in rng.sample(range(FLOOD), 300) + [0, FLOOD - 1]:
        a, sport, isn = flood_src(i)
        seq = tcph.unpack_from(flood_out[i], 34)[2]
        want = cookie_ref.cookie(key, str(ipaddress.IPv4Address(a)), SERVER4, sport, DPORT,
                                 isn, mss=1460)
        assert seq == want, "SYN %d: %s" % (i, (hex(seq), cookie_ref.decode(seq),
                                                hex(want), cookie_ref.decode(want)))
    # Deep spot checks of whole SYN-ACKs across the flood.
    for i in (0, 5000, 50000, FLOOD - 1):
        a, sport, isn = flood_src(i)
        check_synack(flood_out[i], syn(src=str(ipaddress.IPv4Address(a)), sport=sport,
                                       isn=isn, options=[("MSS", 1460)]))

    # The legitimate client's ACK, after the whole flood, still opens the server side.
    assert len(r.inside_raw) == 1, "legit client got no server SYN: " + r.describe()
    check_server_syn(r.inside_raw[0], legit_ack, isn=0x31415926, mss=1460, sack=False,
                     ts_val=None, wscale=None, window=502)
    assert c["syncache.completed"] == 1, c


def test_cache_limit_drops_oldest_without_bucket_overflow(run_dp):
    # Roomy buckets, small cache: the cache limit is what bites; every SYN gets an entry and
    # the oldest one goes (cacheoverflow), without pausing into cookie-only mode.
    n = 20_000
    frames = flood_frames()[:n]
    args = ["--protect", "80", "--key", TEST_KEY, "--hashsize", "64", "--bucketlimit", "255",
            "--cachelimit", "128"]
    r = run_dp(outside=frames, args=args)
    assert len(r.outside_raw) == n, r.describe()
    want = {"syncache.added": n, "syncache.sendcookie": 0, "syncache.cacheoverflow": n - 128,
            "syncache.bucketoverflow": 0, "syncache.count": 128}
    assert r.counters(*want) == want, r.describe()


def test_ack_flood_without_timestamps_is_checked_within_its_budget(run_dp):
    """--cookie-check-rate 1: one check a second. A flood of random zero-length ACKs
    without timestamps (sources in 198.18.128.0/17) gets that one check (the first ACK's
    first reading); every other such ACK is dropped unchecked, a real client's cookie ACK
    among them. A client with timestamps is checked all the same, on 32 bits, and gets in."""
    n = 3000
    rng = random.Random(11)
    flood = [bytes(tcp_pkt(str(ipaddress.IPv4Address(FLOOD_NET + rng.randrange(32768))),
                           SERVER4, rng.randrange(1024, 65536), DPORT,
                           seq=rng.getrandbits(32), ack=rng.getrandbits(32), flags="A"))
             for _ in range(n)]
    ts_client = syn(src="198.18.0.78", sport=55556, isn=0x27182818,
                    options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (0x01010101, 0)),
                             ("NOP", None), ("WScale", 7)])
    plain_client = syn(src="198.18.0.79", sport=55557, isn=0x16180339,
                       options=[("MSS", 1460)])
    ts_iss, plain_iss = expected_cookie(ts_client), expected_cookie(plain_client)
    tsecr = 0x10000000 | cookie_ref.synack_tsval_low(TEST_KEY, "198.18.0.78", SERVER4, 55556,
                                                     DPORT, 0x27182818, ts_iss, 7)
    ts_ack = ack_for(ts_client, ts_iss, options=[("NOP", None), ("NOP", None),
                                                  ("Timestamp", (0x01010102, tsecr))])
    plain_ack = ack_for(plain_client, plain_iss)
    outside = [bytes(ts_client), bytes(plain_client)] + flood + [bytes(plain_ack),
                                                                 bytes(ts_ack)]
    args = ["--protect", "80:cookie", "--key", TEST_KEY, "--cookie-check-rate", "1"]
    r = run_dp(outside=outside, args=args, timeout=120)

    want = {"cookie.failed": 1, "cookie.limited": n, "syncache.recvcookie": 1,
            "syncache.sendcookie": 2, "proxy.opened": 1}
    assert r.counters(*want) == want, r.describe()
    assert len(r.inside_raw) == 1, r.describe()
    check_server_syn(r.inside_raw[0], ts_ack, isn=0x27182818, mss=1460 - 12, sack=True,
                     ts_val=0x01010102, wscale=7, window=502 << 7)
