"""A server segment on a protected port that belongs to no flow (one synwall ended, or never
had) never leaves: passed on, it would show the client the server's own sequence numbers,
its real ISN among them. The same segment on a port that was never protected is bridged."""

import pytest
from scapy.layers.inet import IP, TCP

from tests.traffic.pktutil import CLIENT4, CLIENT_MAC, SERVER4, SERVER_MAC, frame


def from_server(sport, flags, payload=b""):
    p = frame(IP(src=SERVER4, dst=CLIENT4) / TCP(sport=sport, dport=40000, seq=0x5E5E0001,
                                                  ack=0x12345679, flags=flags),
              src_mac=SERVER_MAC, dst_mac=CLIENT_MAC)
    return p / payload if payload else p


@pytest.mark.parametrize("flags, payload", [("PA", b"server data"), ("FA", b""), ("SA", b""),
                                            ("R", b""), ("A", b"")],
                         ids=["data", "fin", "synack", "rst", "ack"])
def test_protected_port_segment_of_no_flow_does_not_leave(run_dp, flags, payload):
    # 80 is proxy, 443 cookie (DEFAULT_ARGS): neither has a flow for this 4-tuple
    pkts = [from_server(80, flags, payload), from_server(443, flags, payload)]
    r = run_dp(inside=pkts)
    assert r.outside_raw == [], r.describe()
    want = {"proxy.server_no_flow": 2, "port.bridged": 0, "port.outside_tx": 0}
    assert r.counters(*want) == want, r.describe()


def test_unprotected_port_segment_is_bridged_unchanged(run_dp):
    p = bytes(from_server(22, "PA", b"ssh banner"))
    r = run_dp(inside=[p])
    assert r.outside_raw == [p], r.describe()
    assert r.c("proxy.server_no_flow") == 0 and r.c("port.bridged") == 1, r.describe()
