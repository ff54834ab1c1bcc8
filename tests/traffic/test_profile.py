"""Server profiles: the SYN-ACK offers a client only the options the server behind the port
does (--profile), so the server SYN asks for nothing the client was not granted."""
import pytest

from tests.traffic import cookie_ref
from tests.traffic.dpharness import DEFAULT_ARGS, TEST_KEY
from tests.traffic.expect import check_server_syn
from tests.traffic.pktutil import ALL_OPTS, ack_for, parse_tcp, syn

NO_OPTIONS = ["--profile", "80@mss=1200,ts=0,sack=0,ws=none"]


def real_opts(p):
    return [(k, v) for k, v in p.real_opts()]


def test_profile_limits_what_the_synack_offers(run_dp):
    s = syn(dport=80, options=ALL_OPTS)            # MSS 1400, SACK, TS, WS 7
    r = run_dp(outside=[s], args=DEFAULT_ARGS + NO_OPTIONS)
    assert len(r.outside_raw) == 1, r.describe()
    sa = parse_tcp(r.outside_raw[0])
    # Only MSS, and the profile's (smaller than the client's).
    assert sa.real_opts() == [(2, (1200).to_bytes(2, "big"))], sa.options
    assert sa.tcp_checksum_ok()
    # The cookie remembers what was agreed: no SACK, no window scale.
    t = s["TCP"]
    want = cookie_ref.cookie(TEST_KEY, s["IP"].src, s["IP"].dst, t.sport, t.dport, t.seq,
                             mss=1400, wscale=None, sack=False,
                             key_bit=cookie_ref.FIXED_KEY_BIT)
    assert sa.seq == want


def test_profile_port_range_and_other_ports_keep_the_default(run_dp):
    s443 = syn(dport=443, sport=40001, options=ALL_OPTS)
    s80 = syn(dport=80, sport=40002, options=ALL_OPTS)
    r = run_dp(outside=[s443, s80], args=DEFAULT_ARGS + ["--profile", "80-100@sack=0"])
    a443, a80 = (parse_tcp(x) for x in r.outside_raw)

    def kinds(p):
        return [k for k, _ in p.real_opts()]

    assert kinds(a443) == [2, 4, 8, 3]              # MSS, SACK_PERM, TS, WS
    assert kinds(a80) == [2, 8, 3]                  # no SACK_PERM on 80


@pytest.mark.parametrize("path", ["syncache", "cookie"])
def test_server_syn_carries_only_what_was_agreed(run_dp, path):
    s = syn(dport=80, options=ALL_OPTS)
    r1 = run_dp(outside=[s], args=DEFAULT_ARGS + NO_OPTIONS)
    sa = parse_tcp(r1.outside_raw[0])
    # No timestamps were agreed, so the ACK carries none.
    a = ack_for(s, sa.seq, window=3000)
    r = run_dp(outside=[s, a] if path == "syncache" else [a], args=DEFAULT_ARGS + NO_OPTIONS)
    assert len(r.inside_raw) == 1, r.describe()
    # MSS: the client's own (exact from the syncache, the table's from a cookie); no room
    # kept for timestamps (none agreed); no SACK, TS or WS; the window unscaled.
    check_server_syn(r.inside_raw[0], a, isn=s["TCP"].seq,
                     mss=1400 if path == "syncache" else 1360, sack=False, ts_val=None,
                     wscale=None, window=3000)
