"""The source table's limits (--syn-rate, --reflect-rate): a source prefix over its SYN rate
gets only what its bucket holds, a flood whose spoofed source is one victim gets at most the
cap of SYN-ACKs towards it, other sources are untouched, an allowed source is never held, and
the top talkers name the heavy prefixes. A pcap run replays every frame within a few
milliseconds: a bucket gives its burst and, at a rate of 1 a second, nothing more."""

import shutil
import tempfile
from pathlib import Path

from scapy.layers.inet import TCP

from synwall.dp.v1 import dataplane_pb2 as dp
from synwall.dplink import DpLink
from tests.traffic.balance import check_balance
from tests.traffic.dpharness import TEST_KEY, wait_for
from tests.traffic.expect import check_synack
from tests.traffic.pktutil import CLIENT6, IP, SERVER6, Ether, IPv6, syn

HEAVY = "198.18.200.7"
OTHER = "198.18.201.9"
HEAVY6 = "2001:2:0:c8::7"


def syns(src, n, dst=None, first_port=20000):
    kw = {} if dst is None else {"dst": dst}
    return [syn(src, sport=first_port + i, isn=0x1000 + i, options=[("MSS", 1460)], **kw)
            for i in range(n)]


def interleave(*lists):
    out = []
    for i in range(max(len(x) for x in lists)):
        out += [x[i] for x in lists if i < len(x)]
    return out


def answered(r, frames):
    """The frames of `frames` whose SYN-ACK left the outside port (each checked byte for
    byte), in the order of `frames`."""
    sent = {}
    for raw in r.outside_raw:
        f = Ether(raw)
        sent[(f[TCP].dport, (f[IPv6] if IPv6 in f else f[IP]).dst)] = raw
    out = []
    for s in frames:
        raw = sent.get((s[TCP].sport, (s[IPv6] if IPv6 in s else s[IP]).src))
        if raw is not None:
            check_synack(raw, s)
            out.append(s)
    assert len(out) == len(r.outside_raw), "SYN-ACKs for no SYN of the run"
    return out


def replayed(link, n):
    """Has the dataplane received all n frames of its pcap (port.outside_rx)?"""
    try:
        c = link.counters()
    except OSError:
        return False
    return c.total[list(c.names).index("port.outside_rx")] == n


def test_a_source_over_its_syn_rate_gets_its_burst_others_all(run_dp):
    heavy, heavy6, other = syns(HEAVY, 30), syns(HEAVY6, 12, SERVER6), syns(OTHER, 4)
    frames = interleave(heavy, heavy6, other)
    r = run_dp(outside=frames, args=["--protect", "80", "--key", TEST_KEY, "--syn-rate", "1",
                                     "--syn-burst", "5"])
    got = answered(r, frames)
    assert got == interleave(heavy[:5], heavy6[:5], other), r.describe()
    want = {"source.syn_limited": 25 + 7, "syncache.added": 14, "source.reflect_capped": 0}
    assert r.counters(*want) == want, r.describe()
    assert check_balance(r.total) == [], r.describe()


def test_a_reflection_gets_at_most_the_cap_towards_its_victim(run_dp):
    """Spoofed SYNs whose source is one victim, to many ports: at most reflect_burst
    SYN-ACKs reach it; a client elsewhere gets every answer."""
    victim = [syn(HEAVY, sport=1000 + i, dport=80 + (i % 2) * 363, isn=i) for i in range(40)]
    other = syns(OTHER, 4)
    frames = interleave(victim, other)
    r = run_dp(outside=frames, args=["--protect", "80,443:cookie", "--key", TEST_KEY,
                                     "--reflect-rate", "1", "--reflect-burst", "4"])
    got = answered(r, frames)
    assert got == interleave(victim[:4], other), r.describe()
    want = {"source.reflect_capped": 36, "source.syn_limited": 0}
    assert r.counters(*want) == want, r.describe()
    assert check_balance(r.total) == [], r.describe()


def test_an_allowed_source_is_never_held(run_dp, tmp_path):
    rules = tmp_path / "sources"
    rules.write_text("allow %s/32\n" % HEAVY)
    frames = syns(HEAVY, 20)
    r = run_dp(outside=frames, args=["--protect", "80", "--key", TEST_KEY, "--syn-rate", "1",
                                     "--syn-burst", "1", "--reflect-rate", "1",
                                     "--sources", str(rules)])
    assert answered(r, frames) == frames, r.describe()
    want = {"source.syn_limited": 0, "source.reflect_capped": 0, "source.allowed": 20}
    assert r.counters(*want) == want, r.describe()


def test_no_source_table_no_limits(run_dp):
    """--source-table 0: nothing is kept per source, so nothing is held."""
    frames = syns(HEAVY, 10)
    r = run_dp(outside=frames, args=["--protect", "80", "--key", TEST_KEY, "--syn-rate", "1",
                                     "--syn-burst", "1", "--source-table", "0"])
    assert answered(r, frames) == frames, r.describe()
    assert r.counters("source.syn_limited") == {"source.syn_limited": 0}


def test_the_top_talkers_name_the_heavy_prefixes(start_dp):
    """The control socket's top_sources: the prefixes by SYNs, heaviest first, with what
    became of them (the limited SYNs); by another count; a bad request refused."""
    d = Path(tempfile.mkdtemp(prefix="swtop", dir="/tmp"))  # Unix paths: 107 bytes at most
    ctl = d / "dp.ctl"
    frames = interleave(syns(HEAVY, 30), syns(OTHER, 4), syns(CLIENT6, 9, SERVER6))
    start_dp(outside=frames, args=["--protect", "80", "--key", TEST_KEY, "--syn-rate", "1",
                                   "--syn-burst", "5", "--source-prefix", "24,48",
                                   "--ctl", str(ctl)])
    link = DpLink(str(ctl), timeout=10)
    try:
        assert wait_for(lambda: replayed(link, len(frames)), 30)
        top = link.request(dp.DpRequest(top_sources=dp.DpRequest.TopSources(max=10))).sources
        got = [(bytes(s.prefix), s.len, s.syns, s.syns_limited) for s in top]
        assert got == [
            (bytes([198, 18, 200, 0]), 24, 30, 25),
            (bytes.fromhex("20010002000000000000000000000000"), 48, 9, 4),
            (bytes([198, 18, 201, 0]), 24, 4, 0),
        ], got
        by = dp.DpRequest.TopSources.SYNS_LIMITED
        req = dp.DpRequest(top_sources=dp.DpRequest.TopSources(by=by, max=1))
        assert [(bytes(s.prefix), s.syns_limited) for s in link.request(req).sources] == \
            [(bytes([198, 18, 200, 0]), 25)]
        resp = link.call(dp.DpRequest(top_sources=dp.DpRequest.TopSources(max=1001)))
        assert not resp.ok and resp.error_field == "max", resp
        st = link.status()
        assert (st.source_table, st.source_v4_len, st.source_v6_len) == (65536, 24, 48)
    finally:
        link.close()
        shutil.rmtree(d, ignore_errors=True)


def test_a_limit_rule_holds_its_whole_prefix_to_one_rate(run_dp, tmp_path):
    """`limit 198.18.200.0/24 1 3`: every source of the /24 together gets 3 answers; a /32
    within it that a deny rule names gets nothing; a source outside gets all. With or
    without the source table."""
    rules = tmp_path / "sources"
    rules.write_text("limit 198.18.200.0/24 1 3\ndeny 198.18.200.66/32\n")
    a, b = syns(HEAVY, 4), syns("198.18.200.8", 4, first_port=30000)
    denied, other = syns("198.18.200.66", 2), syns(OTHER, 3)
    frames = interleave(a, b, denied, other)
    for table in ("65536", "0"):
        r = run_dp(outside=frames, args=["--protect", "80", "--key", TEST_KEY, "--sources",
                                         str(rules), "--source-table", table])
        assert answered(r, frames) == [a[0], b[0], other[0], a[1], other[1], other[2]], \
            r.describe()
        want = {"source.prefix_limited": 5, "source.denied": 2, "source.syn_limited": 0,
                "source.allowed": 0}
        assert r.counters(*want) == want, r.describe()
        assert check_balance(r.total) == [], r.describe()


def test_with_no_limit_the_top_talkers_are_sampled(start_dp):
    """No rate or cap set: one SYN in 16 is counted, as 16; the heavy prefix still comes
    first, its count an estimate within a sample of the truth."""
    d = Path(tempfile.mkdtemp(prefix="swtop", dir="/tmp"))
    ctl = d / "dp.ctl"
    frames = interleave(syns(HEAVY, 320), syns(OTHER, 32), syns(CLIENT6, 8, SERVER6))
    start_dp(outside=frames, args=["--protect", "80", "--key", TEST_KEY, "--ctl", str(ctl)])
    link = DpLink(str(ctl), timeout=10)
    try:
        assert wait_for(lambda: replayed(link, len(frames)), 30)
        top = link.request(dp.DpRequest(top_sources=dp.DpRequest.TopSources(max=10))).sources
        assert bytes(top[0].prefix) == bytes([198, 18, 200, 7]), top
        assert top[0].syns % 16 == 0 and 320 - 32 <= top[0].syns <= 320 + 32, top
        assert sum(s.syns for s in top) == len(frames) // 16 * 16, top
        c = link.counters()
        assert c.total[list(c.names).index("syncache.added")] == len(frames)
    finally:
        link.close()
        shutil.rmtree(d, ignore_errors=True)
