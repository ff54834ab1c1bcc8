"""Source prefix lists (--sources FILE): a denied prefix gets nothing back and nothing of it
reaches the server, whatever it sends; a port range's own list decides on its ports before
the global one; an allowed source is not held to the source quotas; a bad file is one line and
exit 2 before any port starts."""

from scapy.layers.inet6 import ICMPv6EchoRequest

from tests.traffic.balance import check_balance
from tests.traffic.dpharness import TEST_KEY
from tests.traffic.expect import check_synack
from tests.traffic.pktutil import (
    CLIENT4,
    CLIENT6,
    CLIENT_MAC,
    ICMP,
    IP,
    SERVER4,
    SERVER6,
    SERVER_MAC,
    UDP,
    Ether,
    IPv6,
    syn,
    tcp_pkt,
)

DENIED4 = "198.18.200.7"
DENIED6 = "2001:2:0:c8::7"


def sources(tmp_path, text, name="sources"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_a_denied_prefix_gets_nothing_and_reaches_nothing(run_dp, tmp_path):
    path = sources(tmp_path, "# flooders\ndeny 198.18.200.0/24\ndeny 2001:2:0:c8::/64\n")
    denied = [
        syn(DENIED4, options=[("MSS", 1460)]),
        syn(DENIED4, dport=443),
        tcp_pkt(DENIED4, dport=80, seq=5, ack=0x12345679, flags="A"),
        tcp_pkt(DENIED4, dport=22, seq=1, ack=1, flags="PA", payload=b"not protected"),
        Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IP(src=DENIED4, dst=SERVER4)
        / UDP(sport=53, dport=53) / b"udp",
        Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IP(src=DENIED4, dst=SERVER4)
        / ICMP(type=8) / b"ping",
        Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IP(src=DENIED4, dst=SERVER4, flags="MF")
        / UDP(sport=1, dport=2) / b"fragment",
        syn(DENIED6, SERVER6),
        Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IPv6(src=DENIED6, dst=SERVER6)
        / ICMPv6EchoRequest(),
    ]
    others = [
        syn(options=[("MSS", 1460)]),
        syn("198.18.201.7", sport=40001),
        syn(CLIENT6, SERVER6),
        Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IP(src=CLIENT4, dst=SERVER4)
        / UDP(sport=53, dport=53) / b"udp",
    ]
    frames = []
    for i in range(len(denied)):
        frames += [denied[i]] + ([others[i]] if i < len(others) else [])
    r = run_dp(outside=frames, args=["--protect", "80,443:cookie", "--key", TEST_KEY,
                                     "--sources", path])
    assert "--sources %s: 1 IPv4 and 1 IPv6 prefixes" % path in r.stdout, r.stdout
    assert [bytes(f) for f in r.inside_raw] == [bytes(others[3])], r.describe()
    assert len(r.outside_raw) == 3, r.describe()
    for synack, s in zip(r.outside_raw, others[:3], strict=True):
        check_synack(synack, s)
    want = {"source.denied": len(denied), "source.allowed": 0, "syncache.added": 3,
            "port.bridged": 1, "port.outside_rx": len(frames)}
    assert r.counters(*want) == want, r.describe()
    assert check_balance(r.total) == [], r.describe()


def test_a_port_ranges_own_list_comes_first(run_dp, tmp_path):
    """Port 8000-8080 denies 198.18.0.0/24 where the global list says nothing; port 22
    allows a /32 the global list denies; an address the port's list does not cover is the
    global list's."""
    path = sources(tmp_path, "deny 198.18.0.0/24 8000-8080\n"
                             "deny 198.18.5.0/24\n"
                             "allow 198.18.5.5/32 22\n")
    frames = [
        syn(dport=8080),                    # denied by the range's list
        syn(dport=80),                      # no list says anything
        syn("198.18.5.5", dport=22),        # allowed on 22 by its list
        syn("198.18.5.5", dport=80),        # denied by the global list
        syn("198.18.5.6", dport=22),        # port 22's list is silent: the global denies
        syn("198.18.5.5", dport=8080),      # the range's list is silent: the global denies
    ]
    r = run_dp(outside=frames, args=["--protect", "80,22,8000-8080", "--key", TEST_KEY,
                                     "--sources", path])
    assert len(r.outside_raw) == 2, r.describe()
    check_synack(r.outside_raw[0], frames[1])
    check_synack(r.outside_raw[1], frames[2])
    want = {"source.denied": 4, "source.allowed": 1, "syncache.added": 2}
    assert r.counters(*want) == want, r.describe()


def test_an_allowed_source_is_not_held_to_the_quotas(run_dp, tmp_path):
    """One syncache entry per source (--source-halfopen 1) and no cookies: a source's second
    SYN could only take another's room, and is dropped; an allowed source keeps both."""
    args = ["--protect", "80", "--key", TEST_KEY, "--syncookies", "0", "--source-halfopen",
            "1"]
    frames = [syn(sport=40000 + i, isn=0x1000 + i) for i in range(3)]
    r = run_dp(outside=frames, args=args)
    want = {"syncache.added": 1, "syncache.source_quota_dropped": 2}
    assert r.counters(*want) == want, r.describe()
    path = sources(tmp_path, "allow 198.18.0.0/24\n")
    r = run_dp(outside=frames, args=args + ["--sources", path])
    want = {"syncache.added": 3, "syncache.source_quota_dropped": 0, "source.allowed": 3}
    assert r.counters(*want) == want, r.describe()
    assert len(r.outside_raw) == 3, r.describe()


def test_a_bad_file_is_one_line_and_exit_2(run_dp, tmp_path):
    cases = {
        "deny 198.18.200.0/24\ndeny 198.18.201.1/24\n":
            "line 2: \"198.18.201.1/24\" has bits set past its length",
        "allow 198.18.0.0/16 70000\n":
            "line 1: \"70000\" is not a port or a range LO-HI of 1..65535",
        "block 198.18.0.0/16\n": "line 1: \"block\": not deny, allow or limit",
        "deny 198.18.5.0/24\nallow 198.18.5.0/24\n":
            "rules 0 and 1: the same prefix in the same list, one deny and one allow",
    }
    for i, (text, why) in enumerate(cases.items()):
        path = sources(tmp_path, text, "bad%d" % i)
        r = run_dp(outside=[syn()], args=["--protect", "80", "--key", TEST_KEY, "--sources",
                                          path], expect_rc=2, timeout=30)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip() and
                 not ln.startswith(("EAL:", "TELEMETRY:"))]
        assert lines == ["synwall-dp: --sources: %s: %s" % (path, why)], r.stderr
        assert not r.outside_raw and not r.inside_raw
    r = run_dp(outside=[syn()], args=["--protect", "80", "--sources", str(tmp_path / "none")],
               expect_rc=2, timeout=30)
    assert "synwall-dp: --sources: %s: No such file or directory" % (tmp_path / "none") in \
        r.stderr, r.stderr
