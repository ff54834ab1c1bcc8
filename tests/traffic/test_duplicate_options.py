"""A TCP segment with two timestamps options or two SACK options (no stack sends one) is
malformed on a protected port, from either side: the splice rewrites one option of a kind,
and the other would reach, untranslated, a side that may never have agreed to it."""

from scapy.layers.inet import IP, TCP

from tests.traffic.pktutil import CLIENT4, CLIENT_MAC, SERVER4, SERVER_MAC, frame, syn, tcp_pkt

TS = ("Timestamp", (1000, 0))
SACK = ("SAck", (0x1000, 0x2000))


def test_syn_with_two_timestamps_is_dropped(run_dp):
    r = run_dp(outside=[syn(options=[("MSS", 1460), TS, ("NOP", None), ("NOP", None),
                                     ("Timestamp", (2000, 0))])])
    assert r.outside_raw == [] and r.inside_raw == [], r.describe()
    want = {"malformed.tcp_option": 1, "syncache.added": 0, "syncache.sendcookie": 0}
    assert r.counters(*want) == want, r.describe()


def test_one_of_each_is_fine(run_dp):
    r = run_dp(outside=[syn(options=[("MSS", 1460), ("SAckOK", b""), TS])])
    assert len(r.outside_raw) == 1, r.describe()
    assert r.c("malformed.tcp_option") == 0 and r.c("syncache.added") == 1, r.describe()


def test_ack_with_two_sack_options_is_dropped(run_dp):
    p = tcp_pkt(flags="A", seq=0x12345679, ack=0x1000,
                options=[("NOP", None), ("NOP", None), SACK, ("NOP", None), ("NOP", None),
                         ("SAck", (0x3000, 0x4000))])
    r = run_dp(outside=[p])
    assert r.outside_raw == [] and r.inside_raw == [], r.describe()
    want = {"malformed.tcp_option": 1, "cookie.failed": 0}
    assert r.counters(*want) == want, r.describe()


def test_server_segment_with_two_timestamps_does_not_leave(run_dp):
    p = frame(IP(src=SERVER4, dst=CLIENT4)
              / TCP(sport=80, dport=40000, seq=1, ack=1, flags="PA",
                    options=[("NOP", None), ("NOP", None), TS, ("NOP", None), ("NOP", None),
                             ("Timestamp", (3000, 4000))]) / b"data",
              src_mac=SERVER_MAC, dst_mac=CLIENT_MAC)
    r = run_dp(inside=[p])
    assert r.outside_raw == [], r.describe()
    want = {"malformed.tcp_option": 1, "port.bridged": 0, "proxy.server_no_flow": 0}
    assert r.counters(*want) == want, r.describe()
