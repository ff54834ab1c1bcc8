"""Source rules set as an operator sets them, `synwallctl source deny|allow|del` against
synwalld driving synwall-dp between real Linux stacks: a denied client's connection attempt
gets nothing back and nothing of it reaches the server, while another client is served; the
rules survive synwalld's restart (re-attached to the running dataplane, and a cold start with a
new one); deleted, the client is served again."""

import json

import pytest

from synlab.wire import (
    CLIENT_IP,
    CLIENT_IP6,
    SERVER_IP,
    SERVER_IP6,
    nft_syn_count,
    nft_syn_counter,
    sh,
)
from synwall import cli
from tests.netns.appliance import supervised

OTHER = "198.18.0.77"       # another client, in the client namespace too
OTHER6 = "2001:2::77"


@pytest.fixture
def appliance(wire, tmp_path):
    sh("ip", "addr", "add", OTHER + "/24", "dev", "cli0", ns=wire.client_ns)
    sh("ip", "-6", "addr", "add", OTHER6 + "/64", "dev", "cli0", "nodad", ns=wire.client_ns)
    wire.start_httpd(SERVER_IP6)
    yield from supervised(wire, tmp_path, "swcs")


def synwallctl(env, *args):
    assert cli.main(["--socket", str(env.socket_path), *args]) == 0, args


PROBE = """
import json, socket
r = {{}}
for src, dst in {pairs!r}:
    s = socket.socket(socket.AF_INET6 if ":" in src else socket.AF_INET)
    s.settimeout(2)
    s.bind((src, 0))
    try:
        s.connect((dst, 80))
        s.sendall(b"GET /hello HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
        r[src] = "served" if b" 200 " in s.recv(4096).split(b"\\r\\n")[0] else "connected"
    except OSError as e:
        r[src] = type(e).__name__
    s.close()
print(json.dumps(r))
"""


def probe(wire):
    """Each client address's attempt at the server: "served", or the error it met (a
    TimeoutError: nothing came back, neither an answer nor a reset)."""
    pairs = [(CLIENT_IP, SERVER_IP), (OTHER, SERVER_IP), (CLIENT_IP6, SERVER_IP6),
             (OTHER6, SERVER_IP6)]
    return json.loads(wire.python(wire.client_ns, PROBE.format(pairs=pairs), timeout=60))


SERVED = {CLIENT_IP: "served", OTHER: "served", CLIENT_IP6: "served", OTHER6: "served"}
DENIED = {CLIENT_IP: "TimeoutError", OTHER: "served", CLIENT_IP6: "TimeoutError",
          OTHER6: "served"}


def test_a_denied_client_gets_nothing_until_its_rule_is_deleted(appliance, wire):
    env = appliance
    nft_syn_counter(wire.server_ns, 80)
    assert probe(wire) == SERVED
    syns = nft_syn_count(wire.server_ns)
    assert syns == 4

    synwallctl(env, "source", "deny", CLIENT_IP + "/32")
    synwallctl(env, "source", "deny", CLIENT_IP6 + "/128")
    synwallctl(env, "source", "allow", OTHER + "/32")
    assert probe(wire) == DENIED
    # only the other clients' handshakes reached the server
    assert nft_syn_count(wire.server_ns) == syns + 2
    total = env.client().counters().total
    assert total["source.denied"] >= 2 and total["source.allowed"] >= 1, total

    # synwalld restarts, the dataplane goes on: the rules are the running config still
    env.stop_controller()
    env.start()
    assert env.ctl.attached
    assert [r.line() for r in env.client().sources()] == [
        "deny 198.18.0.1/32", "allow 198.18.0.77/32", "deny 2001:2::1/128"]
    assert probe(wire) == DENIED

    # a cold start: a new dataplane denies from its start
    env.stop_all()
    env.start()
    assert not env.ctl.attached
    syns = nft_syn_count(wire.server_ns)
    assert probe(wire) == DENIED
    assert nft_syn_count(wire.server_ns) == syns + 2

    synwallctl(env, "source", "del", CLIENT_IP + "/32")
    synwallctl(env, "source", "del", CLIENT_IP6 + "/128")
    assert probe(wire) == SERVED
    assert [r.line() for r in env.client().sources()] == ["allow 198.18.0.77/32"]
