"""What a blind or spoofing attacker must not achieve, and the paths real stacks need:
IPv6 extension headers, blind RSTs and FINs on established flows, a second SYN with another
ISN, a zero-window probe completing a handshake whose ACK was lost."""
from scapy.layers.inet6 import IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop

from tests.traffic.dpharness import DEFAULT_ARGS
from tests.traffic.expect import expected_cookie
from tests.traffic.pktutil import (
    CLIENT6,
    SERVER6,
    TCP,
    Ether,
    IPv6,
    ack_for,
    parse_tcp,
    syn,
    tcp_pkt,
)

# --preload-flows: flow 0 is 198.18.128.0:1024 -> 198.18.1.1:80, ISN 0, ISS 0, server ISN
# 0x10000, the server expecting seq 1.
PRELOAD = DEFAULT_ARGS + ["--flows", "1024", "--preload-flows", "16"]


def flow0(flags, seq, ack=1, payload=b""):
    return tcp_pkt("198.18.128.0", "198.18.1.1", 1024, 80, seq=seq, ack=ack, flags=flags,
                   payload=payload)


def test_ipv6_extension_headers_do_not_bypass_protection(run_dp):
    base = IPv6(src=CLIENT6, dst=SERVER6)
    t80 = TCP(sport=40001, dport=80, flags="S", seq=5)
    t8080 = TCP(sport=40002, dport=8080, flags="S", seq=6)
    t22 = TCP(sport=40003, dport=22, flags="S", seq=7)
    frames = [
        Ether() / base / IPv6ExtHdrHopByHop() / t80,            # protected: dropped
        Ether() / base / IPv6ExtHdrDestOpt() / t80,             # protected: dropped
        Ether() / base / IPv6ExtHdrFragment(offset=0, m=1) / t80,   # a TCP fragment
        Ether() / base / IPv6ExtHdrDestOpt() / t8080,           # drop port
        Ether() / base / IPv6ExtHdrDestOpt() / t22,             # not protected: bridged
    ]
    r = run_dp(outside=frames)
    assert r.outside_raw == [], r.describe()            # nothing answered
    assert len(r.inside_raw) == 1 and r.inside_raw[0] == bytes(frames[4]), r.describe()
    want = {"malformed.ipv6_ext": 2, "malformed.fragment": 1, "port.policy_drop": 1,
            "port.bridged": 1}
    assert r.counters(*want) == want, r.describe()


def test_blind_rst_and_fin_do_not_close_an_established_flow(run_dp):
    # A spoofed RST (wrong seq), a spoofed FIN far off, then a spoofed SYN: all go to the
    # server for it to judge, and the flow stays (the client's data is still translated).
    frames = [flow0("R", seq=123456), flow0("FA", seq=0x40000000), flow0("S", seq=99),
              flow0("PA", seq=1, payload=b"hello")]
    r = run_dp(outside=frames, args=PRELOAD)
    assert len(r.inside_raw) == 4, r.describe()
    data = parse_tcp(r.inside_raw[3])
    assert data.ack == 1 + 0x10000 and data.payload == b"hello"
    assert r.c("proxy.closed") == 0 and r.c("proxy.flows") == 16, r.describe()
    assert r.outside_raw == [], "the SYN is not answered by synwall: " + r.describe()


def test_exact_rst_closes_and_a_new_syn_then_starts_over(run_dp):
    frames = [flow0("R", seq=1), flow0("S", seq=777)]
    r = run_dp(outside=frames, args=PRELOAD)
    # the RST reaches the server; the SYN finds the flow closing and is answered by synwall
    assert len(r.inside_raw) == 1 and parse_tcp(r.inside_raw[0]).flags & 0x04
    assert len(r.outside_raw) == 1, r.describe()
    sa = parse_tcp(r.outside_raw[0])
    assert sa.flags == 0x12 and sa.ack == 778
    assert r.c("proxy.closed") == 1


def test_second_syn_with_another_isn_does_not_take_over_the_entry(run_dp):
    real = syn(sport=41000, isn=1000, options=[("MSS", 1460)])
    spoof = syn(sport=41000, isn=5000, options=[("MSS", 1460)])
    ack = ack_for(real, expected_cookie(real))
    r = run_dp(outside=[real, spoof, ack])
    # two SYN-ACKs (the second by cookie alone), and the real client's ACK completes
    assert len(r.outside_raw) == 2, r.describe()
    assert parse_tcp(r.outside_raw[1]).ack == 5001
    assert len(r.inside_raw) == 1 and parse_tcp(r.inside_raw[0]).seq == 1000
    want = {"syncache.added": 1, "syncache.sendcookie": 1, "syncache.completed": 1,
            "syncache.recvcookie": 0, "syncache.badack": 0}
    assert r.counters(*want) == want, r.describe()


def test_zero_window_probe_completes_when_the_ack_was_lost(run_dp):
    # After the zero-window SYN-ACK the client never resends its ACK; it probes with
    # seq = ISN. Syncache path (SYN in the same run) and cookie path (a later run).
    s = syn(sport=41100, isn=2000, options=[("MSS", 1460)])
    probe = ack_for(s, expected_cookie(s))
    probe[TCP].seq = 2000
    r = run_dp(outside=[s, probe])
    assert len(r.inside_raw) == 1 and parse_tcp(r.inside_raw[0]).seq == 2000, r.describe()
    assert r.c("syncache.completed") == 1
    r2 = run_dp(outside=[probe])
    assert len(r2.inside_raw) == 1 and parse_tcp(r2.inside_raw[0]).seq == 2000, r2.describe()
    assert r2.c("syncache.recvcookie") == 1
    # a probe with data is not a probe: no second chance
    bad = ack_for(s, expected_cookie(s), payload=b"x")
    bad[TCP].seq = 2000
    r3 = run_dp(outside=[bad])
    assert r3.inside_raw == [] and r3.c("cookie.failed") == 1, r3.describe()


def test_icmp_about_a_spliced_segment_reaches_the_server_in_its_own_numbers(run_dp):
    """Path MTU discovery through the splice: a router's "fragmentation needed" quotes the
    segment as the client side saw it; the server must get its own sequence number back."""
    from scapy.layers.inet import ICMP, IP
    quoted = IP(src="198.18.1.1", dst="198.18.128.0", flags="DF") / \
        TCP(sport=80, dport=1024, seq=5000, ack=1, flags="A")
    icmp = Ether() / IP(src="198.18.2.254", dst="198.18.1.1") / \
        ICMP(type=3, code=4, nexthopmtu=1400) / bytes(quoted)[:28]
    r = run_dp(outside=[icmp], args=PRELOAD)
    assert len(r.inside_raw) == 1, r.describe()
    out = Ether(r.inside_raw[0])
    got = out[ICMP]
    inner = bytes(got.payload)
    assert int.from_bytes(inner[24:28], "big") == 5000 + 0x10000
    # the ICMP checksum is right (scapy recomputes it when deleted)
    sent = got.chksum
    del got.chksum
    assert Ether(bytes(out))[ICMP].chksum == sent
    assert r.c("proxy.icmp") == 1
