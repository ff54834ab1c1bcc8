"""1. A SYN to a protected port is answered with the cookie SYN-ACK of DATAPLANE.md, byte by
byte, out of the outside port, and nothing reaches the inside."""

import pytest
from scapy.layers.inet import IPOption_EOL, IPOption_NOP

from tests.traffic.dpharness import DEFAULT_ARGS, MALFORMED_NAMES
from tests.traffic.expect import check_synack
from tests.traffic.pktutil import ALL_OPTS, CLIENT6, SERVER6, syn

TS = ("Timestamp", (0x01020304, 0))

# name -> (SYN builder taking the destination port, extra args, (mss_cap, wscale) in force)
VARIANTS = {
    "no_options": (lambda port: syn(dport=port, options=[]), [], (1460, 7)),
    "all_options": (lambda port: syn(dport=port, options=ALL_OPTS), [], (1460, 7)),
    "ipv6": (lambda port: syn(CLIENT6, SERVER6, dport=port, options=ALL_OPTS,
                              ip_kw=dict(tc=0x28, fl=0x12345, hlim=50)), [], (1460, 7)),
    "vlan": (lambda port: syn(dport=port, options=ALL_OPTS, vlan=0x6064), [], (1460, 7)),
    "ipv4_options_tos_ttl": (
        lambda port: syn(dport=port, options=[("MSS", 1460)],
                         ip_kw=dict(tos=0x10, id=999, ttl=50, flags=0,
                                    options=[IPOption_NOP(), IPOption_NOP(), IPOption_NOP(),
                                             IPOption_EOL()]),
                         tcp_kw=dict(urgptr=7)), [], (1460, 7)),
    "ts_only": (lambda port: syn(dport=port, options=[("MSS", 1460), ("NOP", None),
                                                      ("NOP", None), TS]), [], (1460, 7)),
    "sack_ws": (lambda port: syn(dport=port, options=[("MSS", 1460), ("NOP", None),
                                                      ("NOP", None), ("SAckOK", b""),
                                                      ("NOP", None), ("WScale", 2)]),
                [], (1460, 7)),
    "sack_only": (lambda port: syn(dport=port, options=[("MSS", 1460), ("NOP", None),
                                                        ("NOP", None), ("SAckOK", b"")]),
                  [], (1460, 7)),
    "ws_only_14": (lambda port: syn(dport=port, options=[("MSS", 1300), ("NOP", None),
                                                         ("WScale", 14)]), [], (1460, 7)),
    "mss_9000": (lambda port: syn(dport=port, options=[("MSS", 9000)]), [], (1460, 7)),
    "mss_arg_1300": (lambda port: syn(dport=port, options=ALL_OPTS), ["--mss", "1300"],
                     (1300, 7)),
    "wscale_arg_3": (lambda port: syn(dport=port, options=ALL_OPTS), ["--wscale", "3"],
                     (1460, 3)),
}

MODES = {"proxy": 80, "cookie": 443}


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_syn_answered_with_cookie_synack(run_dp, variant, mode):
    build, extra, (mss_cap, wscale) = VARIANTS[variant]
    s = build(MODES[mode])
    r = run_dp(outside=[s], args=DEFAULT_ARGS + extra)

    assert r.inside_raw == [], "a SYN to a protected port reached the inside: " + r.describe()
    assert len(r.outside_raw) == 1, "want exactly one SYN-ACK out: " + r.describe()
    check_synack(r.outside_raw[0], s, mss_cap=mss_cap, wscale=wscale)

    if mode == "proxy":
        want = {"syncache.added": 1, "syncache.sendcookie": 0, "syncache.count": 1}
    else:
        want = {"syncache.added": 0, "syncache.sendcookie": 1, "syncache.count": 0}
    want.update({"port.outside_rx": 1, "port.outside_tx": 1, "port.inside_tx": 0,
                 "port.bridged": 0, "syncache.dupsyn": 0})
    assert r.counters(*want) == want, r.describe()
    assert {n: r.c(n) for n in MALFORMED_NAMES if r.c(n)} == {}


def test_syncookies_only_keeps_no_entry(run_dp):
    # --syncookies-only 1: a proxy port answers from the cookie alone.
    s = syn(options=ALL_OPTS)
    r = run_dp(outside=[s], args=DEFAULT_ARGS + ["--syncookies-only", "1"])
    assert len(r.outside_raw) == 1 and r.inside_raw == [], r.describe()
    check_synack(r.outside_raw[0], s)
    want = {"syncache.added": 0, "syncache.sendcookie": 1, "syncache.count": 0}
    assert r.counters(*want) == want, r.describe()


def test_syns_answered_in_order_with_their_own_cookies(run_dp):
    # Several clients in one run: every SYN gets its own SYN-ACK, in arrival order.
    syns = [syn(src="198.18.0.%d" % (20 + i), sport=41000 + i, isn=0x1000 * i + 7,
                dport=(80, 443)[i % 2], options=ALL_OPTS) for i in range(8)]
    syns.append(syn(CLIENT6, SERVER6, sport=42000, isn=5, options=[("MSS", 1440)]))
    r = run_dp(outside=syns)
    assert r.inside_raw == [] and len(r.outside_raw) == len(syns), r.describe()
    for raw, s in zip(r.outside_raw, syns, strict=True):
        check_synack(raw, s)
    assert r.c("syncache.added") == 5 and r.c("syncache.sendcookie") == 4, r.describe()
