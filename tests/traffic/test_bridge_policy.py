"""6, 7. What is not a protected port's TCP crosses unchanged, in order, both ways; a drop
port lets nothing through."""

from scapy.layers.inet6 import ICMPv6EchoRequest
from scapy.layers.l2 import LLC, STP

from tests.traffic.pktutil import (
    ALL_OPTS,
    ARP,
    CLIENT4,
    CLIENT6,
    CLIENT_MAC,
    ICMP,
    IP,
    SERVER4,
    SERVER6,
    SERVER_MAC,
    TCP,
    UDP,
    Dot1Q,
    Ether,
    IPv6,
    syn,
    tcp_pkt,
)


def outside_to_inside():
    return [
        Ether(src=CLIENT_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=CLIENT_MAC,
                                                             psrc=CLIENT4, pdst=SERVER4),
        Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IP(src=CLIENT4, dst=SERVER4)
        / UDP(sport=5353, dport=53) / b"query",
        Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IP(src=CLIENT4, dst=SERVER4)
        / ICMP(type=8, id=1, seq=1) / b"ping-payload",
        Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IPv6(src=CLIENT6, dst=SERVER6)
        / UDP(sport=5000, dport=5001) / b"v6 datagram",
        Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IPv6(src=CLIENT6, dst=SERVER6)
        / ICMPv6EchoRequest(id=2, seq=3),
        # TCP to ports without a policy: SYN, data, FIN, RST, all untouched.
        syn(dport=22, options=ALL_OPTS),
        tcp_pkt(dport=22, seq=1, ack=2, flags="PA", payload=b"SSH-2.0-test\r\n"),
        tcp_pkt(CLIENT6, SERVER6, dport=8443, seq=9, flags="S"),
        tcp_pkt(dport=81, seq=5, ack=6, flags="FA"),
        tcp_pkt(dport=79, seq=5, flags="R", window=0),
        # Tagged UDP, an STP BPDU (LLC, no ethertype) and a short frame with padding.
        Ether(src=CLIENT_MAC, dst=SERVER_MAC) / Dot1Q(vlan=7) / IP(src=CLIENT4, dst=SERVER4)
        / UDP(sport=1, dport=2) / b"tagged",
        Ether(src=CLIENT_MAC, dst="01:80:c2:00:00:00") / LLC() / STP(),
        bytes(Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IP(src=CLIENT4, dst=SERVER4)
              / UDP(sport=7, dport=7)) + b"\0" * 18,
    ]


def inside_to_outside():
    return [
        Ether(src=SERVER_MAC, dst=CLIENT_MAC) / ARP(op=2, hwsrc=SERVER_MAC, psrc=SERVER4,
                                                    hwdst=CLIENT_MAC, pdst=CLIENT4),
        Ether(src=SERVER_MAC, dst=CLIENT_MAC) / IP(src=SERVER4, dst=CLIENT4)
        / UDP(sport=53, dport=5353) / b"answer",
        Ether(src=SERVER_MAC, dst=CLIENT_MAC) / IP(src=SERVER4, dst=CLIENT4)
        / ICMP(type=0, id=1, seq=1) / b"ping-payload",
        Ether(src=SERVER_MAC, dst=CLIENT_MAC) / IPv6(src=SERVER6, dst=CLIENT6)
        / UDP(sport=5001, dport=5000) / b"v6 reply",
        Ether(src=SERVER_MAC, dst=CLIENT_MAC) / IP(src=SERVER4, dst=CLIENT4)
        / TCP(sport=22, dport=40000, seq=100, ack=0x12345679, flags="SA", window=65535,
              options=[("MSS", 1460)]),
        Ether(src=SERVER_MAC, dst=CLIENT_MAC) / IP(src=SERVER4, dst=CLIENT4)
        / TCP(sport=22, dport=40000, seq=101, ack=0x12345679, flags="PA") / b"banner",
        # The server side opening a connection outward, even to port 80, is not policed.
        Ether(src=SERVER_MAC, dst=CLIENT_MAC) / IP(src=SERVER4, dst=CLIENT4)
        / TCP(sport=33000, dport=80, seq=1, flags="S"),
        Ether(src=SERVER_MAC, dst=CLIENT_MAC) / IP(src=SERVER4, dst=CLIENT4)
        / TCP(sport=8080, dport=40000, seq=1, ack=1, flags="A"),
    ]


def test_bridged_byte_identical_in_order_both_ways(run_dp):
    out_in = [bytes(p) for p in outside_to_inside()]
    in_out = [bytes(p) for p in inside_to_outside()]
    r = run_dp(outside=out_in, inside=in_out)
    assert r.inside_raw == out_in, _diff("outside->inside", out_in, r.inside_raw)
    assert r.outside_raw == in_out, _diff("inside->outside", in_out, r.outside_raw)
    want = {"port.outside_rx": len(out_in), "port.inside_rx": len(in_out),
            "port.inside_tx": len(out_in), "port.outside_tx": len(in_out),
            "port.bridged": len(out_in) + len(in_out), "port.tx_dropped": 0,
            "syncache.added": 0, "syncache.sendcookie": 0, "port.policy_drop": 0}
    assert r.counters(*want) == want, r.describe()


def _diff(what, want, got):
    got = got or []
    lines = ["%s: %d frames in, %d out" % (what, len(want), len(got))]
    for i in range(max(len(want), len(got))):
        w = want[i].hex() if i < len(want) else "-"
        g = got[i].hex() if i < len(got) else "-"
        if w != g:
            lines.append("frame %d\n  want %s\n  got  %s" % (i, w, g))
    return "\n".join(lines)


def test_policy_drop_port(run_dp):
    frames = [
        syn(dport=8080, options=ALL_OPTS),
        tcp_pkt(dport=8080, seq=1, ack=1, flags="A"),
        tcp_pkt(dport=8080, seq=1, ack=1, flags="PA", payload=b"GET / HTTP/1.0\r\n\r\n"),
        tcp_pkt(dport=8080, seq=1, flags="R", window=0),
        syn(CLIENT6, SERVER6, dport=8080),
        syn(dport=8080, vlan=0x0101),
    ]
    r = run_dp(outside=frames)
    assert r.outside_raw == [] and r.inside_raw == [], r.describe()
    want = {"port.policy_drop": len(frames), "port.outside_rx": len(frames),
            "syncache.added": 0, "syncache.sendcookie": 0, "port.bridged": 0}
    assert r.counters(*want) == want, r.describe()


def test_policy_by_range_and_pass(run_dp):
    # LO-HI ranges and the explicit pass mode.
    frames = [syn(dport=9000), syn(dport=9005), syn(dport=9010), syn(dport=9011),
              syn(dport=80)]
    r = run_dp(outside=frames,
               args=["--protect", "9000-9010:drop,80:pass", "--key", "00" * 16])
    assert r.inside_raw == [bytes(frames[3]), bytes(frames[4])], r.describe()
    assert r.outside_raw == [], r.describe()
    assert r.c("port.policy_drop") == 3, r.describe()
