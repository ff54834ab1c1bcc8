"""One source cannot take the flow table from the others. An abusive client (one address
of the client namespace, many ports) opens more connections than the whole table holds (256
flows per worker) and keeps them busy, so that none is ever idle long enough to be evicted:
without a quota the others would find no room (their downloads time out). With a quota of
32 it gets 32, the rest of its handshakes are refused (and its further SYNs get cookies
instead of syncache entries), while clients from another address keep connecting and
downloading, byte-exact, none refused. Real Linux stacks both sides; one worker."""

import json
import select
import time

import pytest

from synlab.httpd import blob_sha256
from synlab.wire import SERVER_IP, SERVER_IP6

KEY = "000102030405060708090a0b0c0d0e0f"
MB = 1 << 20
ABUSER = {"ipv4": ("198.18.128.1", 17), "ipv6": ("2001:2:0:8000::1", 64)}
QUOTA, HALFOPEN, CONNECTIONS = 32, 16, 300


def first_line(proc, timeout):
    """The first line proc prints, within timeout seconds."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        raise AssertionError("no report from the abusive client in %s s" % timeout)
    return json.loads(proc.stdout.readline())


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_abuser_gets_its_quota_and_the_others_are_served(wire, tmp_path, family):
    server = SERVER_IP if family == "ipv4" else SERVER_IP6
    abuser, plen = ABUSER[family]
    wire.add_client_address(abuser, plen)
    wire.start_httpd(server)
    wire.start(tmp_path, ["--protect", "80", "--key", KEY, "--flows", "256",
                          "--source-flows", str(QUOTA), "--source-halfopen", str(HALFOPEN)])

    bad = wire.client_background("hold_connections", server, CONNECTIONS, abuser)
    report = first_line(bad, 60)
    assert report["connected"] == CONNECTIONS, report
    # one worker: exactly its quota is served, and held
    assert report["answered"] == QUOTA, report
    mid = wire.telemetry("/synwall/stats")
    assert mid["proxy.source_quota"] >= CONNECTIONS - QUOTA, mid

    # the others meanwhile: downloads at once, then short connections one after another
    t0 = time.monotonic()
    dl = wire.client("concurrent_downloads", server, 16, MB)
    assert dl["sha256"] == [blob_sha256(MB)] * 16, dl
    seq = wire.client("sequential", server, 100)
    assert seq["ok"] == 100, seq
    took = time.monotonic() - t0

    held = wire.telemetry("/synwall/stats")
    bad.stdin.close()
    bad.wait(timeout=30)
    total = wire.stop()["total"]
    # the abuser's further handshakes kept being refused, its further SYNs got cookies
    assert total["proxy.source_quota"] >= mid["proxy.source_quota"], total
    assert total["syncache.source_quota"] >= CONNECTIONS - QUOTA - HALFOPEN, total
    assert total["syncache.source_quota_dropped"] == 0, total
    # nobody else was refused, nothing was evicted: the table never filled
    assert total["syncache.aborted"] == 0 and total["proxy.evicted"] == 0, total
    assert total["proxy.adopt_source_quota"] == 0, total
    # the abuser's 32 were still there while the others ran
    assert held["proxy.flows"] >= QUOTA, (held, took)
    assert total["proxy.established"] == QUOTA + 16 + 100, total
