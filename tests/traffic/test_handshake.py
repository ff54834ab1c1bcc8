"""2, 3, 8. Completing ACKs (cookie path and syncache path), bad ACKs, cookies replayed to
another port or presented after key rotation, duplicate SYNs and RSTs of half-open entries."""

import pytest

from tests.traffic import cookie_ref
from tests.traffic.dpharness import TEST_KEY
from tests.traffic.expect import check_server_syn, check_synack, expected_cookie
from tests.traffic.pktutil import (
    ALL_OPTS,
    CLIENT4,
    CLIENT6,
    ICMP,
    IP,
    SERVER4,
    SERVER6,
    TCP,
    Ether,
    ack_for,
    parse_tcp,
    rst_for,
    syn,
    tcp_pkt,
    ts_option,
)

ACK_TSVAL = 0x01020310


def nack_msg(src, sport, dst, dport):
    return ("ACK from %s:%d to %s:%d matches no pending handshake and carries no valid "
            "cookie: dropped (spoofed ACK or port scan)" % (src, sport, dst, dport))


def synack_of(run_dp, s, args=None):
    """Run the SYN alone; return the parsed SYN-ACK (checked against the contract)."""
    r = run_dp(outside=[s], args=args)
    assert len(r.outside_raw) == 1, r.describe()
    return r, parse_tcp(r.outside_raw[0])


# --- 2. the completing ACK ----------------------------------------------------------------

COOKIE_PATH_CASES = {
    "ipv4_proxy_port": lambda: syn(dport=80, options=ALL_OPTS),
    "ipv4_cookie_port": lambda: syn(dport=443, options=ALL_OPTS),
    "ipv6_proxy_port": lambda: syn(CLIENT6, SERVER6, dport=80, options=ALL_OPTS),
    "vlan_cookie_port": lambda: syn(dport=443, options=ALL_OPTS, vlan=0x2005),
}


@pytest.mark.parametrize("case", list(COOKIE_PATH_CASES))
def test_cookie_ack_opens_server_syn(run_dp, case):
    # Run 1 answers the SYN; run 2 (same --key, fresh process: no syncache entry) gets only
    # the ACK, so the handshake can complete only through the cookie.
    s = COOKIE_PATH_CASES[case]()
    r1 = run_dp(outside=[s])
    assert len(r1.outside_raw) == 1, r1.describe()
    sa = check_synack(r1.outside_raw[0], s)
    our_tsval, _ = ts_option(sa)

    a = ack_for(s, sa.seq, window=200,
                options=[("NOP", None), ("NOP", None), ("Timestamp", (ACK_TSVAL, our_tsval))])
    r2 = run_dp(outside=[a])
    assert r2.outside_raw == [], "nothing goes back to the client yet: " + r2.describe()
    assert len(r2.inside_raw) == 1, "want one server SYN: " + r2.describe()
    # MSS 1400 comes back as the table's 1360, less 12: the client does timestamps and
    # this server is not known to, so synwall keeps room to add them to its segments.
    # WS 7 is in the table; window 200 << 7.
    check_server_syn(r2.inside_raw[0], a, isn=s["TCP"].seq, mss=1360 - 12, sack=True,
                     ts_val=ACK_TSVAL, wscale=7, window=200 << 7)
    want = {"syncache.completed": 1, "syncache.recvcookie": 1, "cookie.failed": 0,
            "syncache.badack": 0, "port.inside_tx": 1, "port.outside_tx": 0}
    assert r2.counters(*want) == want, r2.describe()


def test_cookie_ack_without_options(run_dp):
    # A client that offered nothing: MSS 536 from the cookie, no SACK/TS/WS, window as sent.
    s = syn(options=[], sport=40100)
    _, sa = synack_of(run_dp, s)
    a = ack_for(s, sa.seq, window=1000)
    r = run_dp(outside=[a])
    assert len(r.inside_raw) == 1 and r.outside_raw == [], r.describe()
    check_server_syn(r.inside_raw[0], a, isn=s["TCP"].seq, mss=536, sack=False, ts_val=None,
                     wscale=None, window=1000)
    assert r.counters("syncache.completed", "syncache.recvcookie") == {
        "syncache.completed": 1, "syncache.recvcookie": 1}, r.describe()


def test_forged_cookie_from_reference_opens_server_syn(run_dp):
    # The ACK alone, its cookie computed by cookie_ref: proves the reference and the C agree
    # on the MAC input and the key layout (window capped at 65535 after scaling).
    s = syn(sport=40200, isn=0xFEDCBA98, options=[("MSS", 1460), ("NOP", None),
                                                  ("WScale", 7)])
    a = ack_for(s, expected_cookie(s), window=1000)
    r = run_dp(outside=[a])
    assert len(r.inside_raw) == 1, r.describe()
    check_server_syn(r.inside_raw[0], a, isn=0xFEDCBA98, mss=1460, sack=False, ts_val=None,
                     wscale=7, window=65535)
    assert r.c("syncache.recvcookie") == 1, r.describe()


def test_timestamped_cookie_from_reference_checks_all_32_bits(run_dp):
    # With timestamps the ACK's TSecr must echo the MAC's other 8 bits (cookie_ref's
    # SipHash, bits 32..39) above the shift offered: each of those bits wrong fails, the
    # clock bits above them are free, and the right ones open the server side.
    s = syn(sport=40250, isn=0x0BADF00D, options=[("MSS", 1460), ("SAckOK", b""),
                                                  ("Timestamp", (0x0A0B0C0D, 0)),
                                                  ("NOP", None), ("WScale", 7)])
    iss = expected_cookie(s)
    low = cookie_ref.synack_tsval_low(TEST_KEY, s["IP"].src, s["IP"].dst, 40250, 80,
                                      0x0BADF00D, iss, 7)

    def ack(tsecr):
        return ack_for(s, iss, window=1000,
                       options=[("NOP", None), ("NOP", None), ("Timestamp", (ACK_TSVAL, tsecr))])
    wrong = [ack(0x77777000 | low ^ 1 << bit) for bit in range(4, 12)]
    r = run_dp(outside=wrong + [ack(0x77777000 | low)])
    assert len(r.inside_raw) == 1, r.describe()
    check_server_syn(r.inside_raw[0], wrong[0], isn=0x0BADF00D, mss=1460 - 12, sack=True,
                     ts_val=ACK_TSVAL, wscale=7, window=65535)
    assert r.counters("syncache.recvcookie", "cookie.failed") == {
        "syncache.recvcookie": 1, "cookie.failed": 8}, r.describe()


def test_syncache_ack_opens_server_syn_with_exact_options(run_dp):
    # SYN then ACK in one run: the syncache entry completes the handshake, so the server SYN
    # carries the client's exact MSS (1400, not the table's 1360; less 12 for timestamps
    # the unknown server may not do) and shift (3, not 2).
    s = syn(options=[("MSS", 1400), ("SAckOK", b""), ("Timestamp", (0x01020304, 0)),
                     ("NOP", None), ("WScale", 3)])
    a = ack_for(s, expected_cookie(s), window=5000,
                options=[("NOP", None), ("NOP", None), ("Timestamp", (ACK_TSVAL, 0))])
    r = run_dp(outside=[s, a])
    assert len(r.outside_raw) == 1, "one SYN-ACK, nothing else: " + r.describe()
    check_synack(r.outside_raw[0], s)
    assert len(r.inside_raw) == 1, r.describe()
    check_server_syn(r.inside_raw[0], a, isn=s["TCP"].seq, mss=1400 - 12, sack=True,
                     ts_val=ACK_TSVAL, wscale=3, window=5000 << 3)
    want = {"syncache.added": 1, "syncache.completed": 1, "syncache.recvcookie": 0,
            "syncache.count": 0, "cookie.failed": 0}
    assert r.counters(*want) == want, r.describe()


def test_retransmitted_ack_while_opening_sends_no_second_syn(run_dp):
    s = syn(options=[("MSS", 1460)])
    a = ack_for(s, expected_cookie(s))
    r = run_dp(outside=[s, a, a])
    assert len(r.inside_raw) == 1, "exactly one server SYN: " + r.describe()
    want = {"syncache.completed": 1, "proxy.ack_opening": 1}
    assert r.counters(*want) == want, r.describe()


@pytest.mark.parametrize("delta", [1, -1])
def test_ack_one_off_fails_cookie(run_dp, delta):
    s = syn(sport=40300, options=[("MSS", 1460), ("SAckOK", b"")])
    _, sa = synack_of(run_dp, s)
    bad = ack_for(s, sa.seq, ack=(sa.seq + 1 + delta) & 0xFFFFFFFF)
    good = ack_for(s, sa.seq)
    # The bad ACK first, then the right one: only the second may open the server side.
    r = run_dp(outside=[bad, good])
    assert r.outside_raw == [], r.describe()
    assert len(r.inside_raw) == 1, r.describe()
    check_server_syn(r.inside_raw[0], good, isn=s["TCP"].seq, mss=1460, sack=True,
                     ts_val=None, wscale=None, window=502)
    want = {"cookie.failed": 1, "syncache.completed": 1, "syncache.recvcookie": 1}
    assert r.counters(*want) == want, r.describe()
    assert nack_msg(CLIENT4, 40300, SERVER4, 80) in r.stderr, \
        "log line missing; stderr:\n" + r.stderr


def test_lone_bad_ack_dropped_and_logged(run_dp):
    s = syn(sport=40301, options=[("MSS", 1460)])
    bad = ack_for(s, expected_cookie(s) ^ 0x100)  # one MAC bit wrong
    r = run_dp(outside=[bad])
    assert r.outside_raw == [] and r.inside_raw == [], r.describe()
    assert r.c("cookie.failed") == 1 and r.c("syncache.completed") == 0, r.describe()
    assert nack_msg(CLIENT4, 40301, SERVER4, 80) in r.stderr, "stderr:\n" + r.stderr


def test_bad_ack_with_syncache_entry_is_badack(run_dp):
    s = syn(sport=40302, options=[("MSS", 1460)])
    c = expected_cookie(s)
    bad = ack_for(s, c, ack=(c + 2) & 0xFFFFFFFF)
    r = run_dp(outside=[s, bad])
    assert len(r.outside_raw) == 1, r.describe()
    assert r.inside_raw == [], "a wrong ack opened the server side: " + r.describe()
    want = {"syncache.added": 1, "syncache.badack": 1, "syncache.completed": 0}
    assert r.counters(*want) == want, r.describe()


# --- 3. a cookie is bound to its port and its key --------------------------------------------

def test_cookie_replayed_to_other_port_rejected(run_dp):
    s80 = syn(sport=40400, dport=80, options=[("MSS", 1460)])
    _, sa = synack_of(run_dp, s80)
    replay = ack_for(syn(sport=40400, dport=443, options=[("MSS", 1460)]), sa.seq)
    legit = ack_for(s80, sa.seq)
    r = run_dp(outside=[replay, legit])
    assert len(r.inside_raw) == 1, r.describe()
    p = parse_tcp(r.inside_raw[0])
    assert p.dport == 80, "the port-80 cookie opened port %d" % p.dport
    want = {"cookie.failed": 1, "syncache.completed": 1, "syncache.recvcookie": 1}
    assert r.counters(*want) == want, r.describe()


def test_cookie_under_other_key_rejected(run_dp):
    s = syn(sport=40401, options=[("MSS", 1460)])
    a = ack_for(s, expected_cookie(s))
    other = ["--protect", "80", "--key", "ff" + TEST_KEY[2:]]
    r = run_dp(outside=[a], args=other)
    assert r.inside_raw == [] and r.c("cookie.failed") == 1, r.describe()


MASTER = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def epoch_args(epoch):
    return ["--protect", "80", "--master", MASTER, "--epoch", str(epoch)]


def test_key_rotation_by_epoch(run_dp):
    s = syn(sport=40500, isn=0x0BADF00D, options=[("MSS", 1460)])
    s2 = syn(src="198.18.0.11", sport=40501, options=[("MSS", 1460)])

    r10 = run_dp(outside=[s], args=epoch_args(10))
    c10 = check_synack(r10.outside_raw[0], s, check_cookie=False).seq
    assert (c10 >> 7) & 1 == 0, "epoch 10 cookie has key bit 1: %#x" % c10

    # The secrets come from the master and the epoch only: another run agrees.
    r10b = run_dp(outside=[s], args=epoch_args(10))
    assert parse_tcp(r10b.outside_raw[0]).seq == c10, "epoch 10 secret not deterministic"

    a = ack_for(s, c10)
    r11 = run_dp(outside=[a, s2], args=epoch_args(11))
    assert len(r11.inside_raw) == 1, "epoch-10 cookie refused at epoch 11: " + r11.describe()
    check_server_syn(r11.inside_raw[0], a, isn=0x0BADF00D, mss=1460, sack=False, ts_val=None,
                     wscale=None, window=502)
    assert r11.counters("syncache.recvcookie", "cookie.failed") == {
        "syncache.recvcookie": 1, "cookie.failed": 0}, r11.describe()
    assert len(r11.outside_raw) == 1
    c11 = check_synack(r11.outside_raw[0], s2, check_cookie=False).seq
    assert (c11 >> 7) & 1 == 1, "epoch 11 cookie has key bit 0: %#x" % c11

    r12 = run_dp(outside=[a, s], args=epoch_args(12))
    assert r12.inside_raw == [], "epoch-10 cookie accepted at epoch 12: " + r12.describe()
    assert r12.c("cookie.failed") == 1, r12.describe()
    c12 = check_synack(r12.outside_raw[0], s, check_cookie=False).seq
    assert (c12 >> 7) & 1 == 0 and c12 != c10, "epoch 12 reused epoch 10's secret"


# --- 8. duplicate SYNs and RSTs of half-open entries --------------------------------------

def test_duplicate_syn_resends_same_synack(run_dp):
    s = syn(sport=40600, options=ALL_OPTS)
    r = run_dp(outside=[s, s])
    assert len(r.outside_raw) == 2 and r.inside_raw == [], r.describe()
    p1 = check_synack(r.outside_raw[0], s)
    p2 = check_synack(r.outside_raw[1], s)
    assert p1.seq == p2.seq
    want = {"syncache.added": 1, "syncache.dupsyn": 1, "syncache.count": 1}
    assert r.counters(*want) == want, r.describe()


def test_rst_with_exact_seq_removes_entry(run_dp):
    s = syn(sport=40601, isn=0x7FFFFFFF, options=[("MSS", 1460)])
    r = run_dp(outside=[s, rst_for(s, 0x80000000)])
    assert len(r.outside_raw) == 1 and r.inside_raw == [], r.describe()
    want = {"syncache.added": 1, "syncache.reset": 1, "syncache.count": 0,
            "proxy.rst_ignored": 0}
    assert r.counters(*want) == want, r.describe()


@pytest.mark.parametrize("seq_delta", [0, 2, 1000])
def test_rst_with_other_seq_ignored(run_dp, seq_delta):
    s = syn(sport=40602, isn=0x7FFFFFFF, options=[("MSS", 1460)])
    r = run_dp(outside=[s, rst_for(s, (0x7FFFFFFF + seq_delta) & 0xFFFFFFFF)])
    assert len(r.outside_raw) == 1 and r.inside_raw == [], r.describe()
    want = {"syncache.added": 1, "syncache.reset": 0, "syncache.count": 1,
            "proxy.rst_ignored": 1}
    assert r.counters(*want) == want, r.describe()


# --- ICMP errors about our SYN-ACKs, and segments that fit no case ---------------------------

def unreach_for(s, iss, router="198.18.0.254"):
    """A router's ICMP port-unreachable about the SYN-ACK we sent for s (quoting 8 bytes
    of its TCP header: ports and seq)."""
    ip, t = s[IP], s[TCP]
    quoted = bytes(IP(src=ip.dst, dst=ip.src, id=0, flags="DF", ttl=64)
                   / TCP(sport=t.dport, dport=t.sport, seq=iss, ack=t.seq + 1, flags="SA",
                         window=0))[:28]
    return Ether(src="02:00:00:00:00:fe", dst=s[Ether].dst) / IP(src=router, dst=ip.dst) \
        / ICMP(type=3, code=3) / quoted


def test_icmp_unreach_about_synack(run_dp):
    s = syn(sport=40800, options=[("MSS", 1460)])
    icmp = unreach_for(s, expected_cookie(s))
    one = run_dp(outside=[s, icmp])
    assert one.inside_raw == [], "the ICMP error is consumed: " + one.describe()
    assert len(one.outside_raw) == 1, one.describe()
    want = {"syncache.unreach": 1, "syncache.count": 1, "port.bridged": 0}
    assert one.counters(*want) == want, one.describe()

    two = run_dp(outside=[s, icmp, icmp])
    assert two.inside_raw == [], two.describe()
    want = {"syncache.unreach": 2, "syncache.count": 0}
    assert two.counters(*want) == want, "the second error removes the entry: " + two.describe()


@pytest.mark.parametrize("flags, counter", [
    ("F", "proxy.unexpected"), ("", "proxy.unexpected"), ("FPU", "proxy.unexpected"),
    ("SA", "proxy.outside_synack")], ids=["fin", "null", "xmas", "synack"])
def test_unexpected_segment_dropped(run_dp, flags, counter):
    p = tcp_pkt(sport=40900, dport=80, seq=77, ack=0, flags=flags)
    r = run_dp(outside=[p])
    assert r.outside_raw == [] and r.inside_raw == [], r.describe()
    assert r.c(counter) == 1, r.describe()
