"""Idle connections: an established flow with no segment for its port's idle timeout ends
with an RST to both ends (each with the sequence number it expects), so that neither
stalls; within the timeout an idle connection stays usable. Real Linux stacks both sides."""

import pytest

from synlab.wire import SERVER_IP, SERVER_IP6, nft_counter, nft_load

KEY = "000102030405060708090a0b0c0d0e0f"


def count_server_rsts(ns):
    nft_load(ns, """
table inet swidle {
    counter rsts { }
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport 80 tcp flags & rst == rst counter name rsts
    }
}
""")


@pytest.mark.parametrize("addr", [SERVER_IP, SERVER_IP6], ids=["ipv4", "ipv6"])
def test_idle_past_the_timeout_is_reset_on_both_sides(wire, tmp_path, addr):
    count_server_rsts(wire.server_ns)
    wire.start_httpd(addr)
    wire.start(tmp_path, ["--protect", "80", "--key", KEY, "--idle-timeout", "2"])
    r = wire.client("idle_then_send", addr, 4.0)
    assert r["first"], r
    # The client's stack had the RST already: its next send is refused at once.
    assert r["outcome"] == "reset" and r["seconds"] < 1, r
    # The server's stack got exactly one RST from synwall, accepted (no challenge ACK loop).
    assert nft_counter(wire.server_ns, "inet", "swidle", "rsts") == 1
    total = wire.stop()["total"]
    assert total["proxy.expired"] == 1 and total["proxy.reset_sent"] == 1, total
    assert total["proxy.server_no_flow"] == 0, total


def test_idle_within_the_timeout_stays_usable(wire, tmp_path):
    wire.start_httpd(SERVER_IP)
    wire.start(tmp_path, ["--protect", "80", "--key", KEY, "--idle-timeout", "30"])
    r = wire.client("idle_then_send", SERVER_IP, 3.0)
    assert r == {"first": True, "outcome": "answered", "seconds": r["seconds"]}, r
    total = wire.stop()["total"]
    assert total["proxy.expired"] == 0 and total["proxy.reset_sent"] == 0, total
