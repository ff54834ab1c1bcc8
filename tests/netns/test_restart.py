"""Spliced connections survive the dataplane's end: kill -9, a clean stop and start, a
region of another layout. synwall-dp keeps its tables in a state file (--state) that the
next synwall-dp on it takes over; real Linux stacks on both sides, transfers checked byte
for byte (SHA-256)."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from synlab.httpd import blob_sha256
from synlab.wire import REPO, SERVER_IP, SERVER_IP6, nft_load, sh
from tests.netns.appliance import Download, IdleConnection, supervised

KEY = "000102030405060708090a0b0c0d0e0f"
MB = 1 << 20


def args(state):
    return ["--protect", "80", "--key", KEY, "--state", str(state)]


def kill9(wire):
    wire.dp.send_signal(signal.SIGKILL)
    wire.dp.wait()
    wire.dp = None


@pytest.mark.parametrize("addr", [SERVER_IP, SERVER_IP6], ids=["ipv4", "ipv6"])
def test_download_goes_on_across_kill_9(wire, tmp_path, addr):
    state = tmp_path / "tables"
    wire.start_httpd(addr)
    wire.start(tmp_path, args(state))
    size = 6 * MB
    d = Download(wire, addr, size, 6)
    d.start()
    time.sleep(2)
    kill9(wire)
    t0 = time.monotonic()
    wire.start(tmp_path, args(state))
    gap = time.monotonic() - t0
    log = wire.log()
    assert "ended without stopping: rebuilt" in log, log
    assert "queue 0: 1 flows and 0 syncache entries taken over, tables rebuilt" in log, log
    assert d.sha256() == blob_sha256(size)
    total = wire.stop()["total"]
    # the flow went on where it was: no new handshake, nothing unknown on either side
    assert total["proxy.established"] == 0, total
    assert total["proxy.to_server"] > 0 and total["proxy.to_client"] > 0, total
    for name in ("cookie.failed", "proxy.server_no_flow", "proxy.reset_sent",
                 "proxy.ack_no_handshake", "proxy.unexpected"):
        assert total.get(name, 0) == 0, (name, total)
    assert gap < 10, gap


def test_flows_of_a_port_no_longer_protected_go_on(wire, tmp_path):
    """A restart whose command line protects no port (the controller's policies not yet
    pushed, or other ranges): the flows taken over on port 80 are still translated until
    they end, where bridging them untranslated would break them; new connections to the
    port, now in `pass`, go straight to the server."""
    state = tmp_path / "tables"
    wire.start_httpd(SERVER_IP)
    wire.start(tmp_path, args(state))
    size = 6 * MB
    d = Download(wire, SERVER_IP, size, 6)
    d.start()
    time.sleep(2)
    wire.stop()
    wire.start(tmp_path, ["--key", KEY, "--state", str(state)])
    log = wire.log()
    assert ("1 server port(s) of flows taken over are not protected: those flows are still "
            "translated until they end") in log, log
    assert d.sha256() == blob_sha256(size)
    assert wire.client("sequential", SERVER_IP, 3)["ok"] == 3
    total = wire.stop()["total"]
    assert total["proxy.to_client"] > 0 and total["proxy.to_server"] > 0, total
    assert total["proxy.established"] == 0, total
    for name in ("proxy.server_no_flow", "proxy.reset_sent", "proxy.unexpected"):
        assert total.get(name, 0) == 0, (name, total)


def test_idle_connection_and_new_ones_across_a_clean_restart(wire, tmp_path):
    """A connection idle across a clean stop and start is answered after it, on the flow
    the new process took over from the saved tables, without a rebuild; new connections
    are spliced as usual."""
    state = tmp_path / "tables"
    ready, go = tmp_path / "ready", tmp_path / "go"
    wire.start_httpd(SERVER_IP)
    wire.start(tmp_path, args(state))
    code = f"""
import json, os, socket, time
from synlab.client import HELLO, read_hello
s = socket.create_connection(({SERVER_IP!r}, 80), timeout=20)
req = b"GET /hello HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
s.sendall(req)
first = read_hello(s)
open({str(ready)!r}, "w").close()
deadline = time.monotonic() + 30
while not os.path.exists({str(go)!r}) and time.monotonic() < deadline:
    time.sleep(0.05)
s.sendall(req)
second = read_hello(s)
print(json.dumps({{"first": first.endswith(HELLO), "second": second.endswith(HELLO)}}))
"""
    out = {}
    t = threading.Thread(target=lambda: out.update(
        {"r": wire.python(wire.client_ns, code, timeout=60)}), daemon=True)
    t.start()
    deadline = time.monotonic() + 20
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists()
    first = wire.stop()["total"]
    assert first["proxy.established"] == 1, first
    wire.start(tmp_path, args(state))
    log = wire.log()
    assert "stopped cleanly" in log and "1 flows and 0 syncache entries taken over\n" in log, log
    go.touch()
    t.join(60)
    assert '"second": true' in out.get("r", ""), out
    assert wire.client("sequential", SERVER_IP, 10)["ok"] == 10
    total = wire.stop()["total"]
    assert total["proxy.established"] == 10, total
    assert total.get("cookie.failed", 0) == 0 and total.get("proxy.server_no_flow", 0) == 0


def test_a_region_of_another_layout_is_not_taken_over(wire, tmp_path):
    """A state file whose layout this binary does not know (its header changed) is said
    so, in one line, and started empty; connections are served."""
    state = tmp_path / "tables"
    wire.start_httpd(SERVER_IP)
    wire.start(tmp_path, args(state))
    assert wire.client("sequential", SERVER_IP, 3)["ok"] == 3
    wire.stop()
    with open(state, "r+b") as f:
        f.seek(8)                   # the shape's layout number, after the magic
        f.write((999).to_bytes(4, "little"))
    wire.start(tmp_path, args(state))
    log = wire.log()
    assert "not taken over, its layout is 999" in log and "the tables start empty" in log, log
    assert wire.client("sequential", SERVER_IP, 3)["ok"] == 3
    total = wire.stop()["total"]
    assert total["proxy.established"] == 3, total


@pytest.fixture
def appliance(wire, tmp_path):
    """synwalld supervising synwall-dp, port 80 protected; it gives the dataplane its state
    file in the runtime directory."""
    yield from supervised(wire, tmp_path, "swrs")


def test_download_goes_on_across_kill_9_under_synwalld(appliance, wire):
    """The operator's case: synwalld notices the dataplane's death and starts it again on the
    same state file; the download that was going on finishes byte-exact, and a connection
    idle across it is answered."""
    size = 8 * MB
    c = appliance.client()
    pid = c.status().dataplane_pid
    d = Download(wire, SERVER_IP, size, 8)
    d.start()
    idle = IdleConnection(wire, SERVER_IP)
    time.sleep(2.5)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        st = c.status()
        if st.dataplane_running and st.dataplane_pid not in (0, pid):
            break
        time.sleep(0.1)
    assert st.dataplane_pid not in (0, pid), st
    idle.poke()
    assert d.sha256() == blob_sha256(size)
    total = c.counters().total
    assert total["proxy.established"] == 0, total
    assert total["proxy.to_client"] > 0 and total["cookie.failed"] == 0, total
    assert total["proxy.server_no_flow"] == 0, total


def test_half_open_handshake_completes_across_a_restart(wire, tmp_path):
    """A handshake pending in the syncache when synwall-dp stops completes against the
    entry the next one took over (cookies are off: only the entry can complete it). The
    client's ACK of the SYN-ACK is held back (nftables in the client namespace) until the
    new process runs; then the client's next segments (its ACK of a retransmitted SYN-ACK,
    or its zero-window probe) find the entry."""
    state = tmp_path / "tables"
    opts = args(state) + ["--syncookies", "0"]
    wire.start_httpd(SERVER_IP)
    wire.start(tmp_path, opts)
    nft_load(wire.client_ns, """
table inet hold {
    chain output {
        type filter hook output priority 0; policy accept;
        tcp dport 80 tcp flags & (syn | ack | rst | fin) == ack drop
    }
}
""")
    code = f"""
import socket
from synlab.client import HELLO, read_hello
s = socket.create_connection(({SERVER_IP!r}, 80), timeout=30)
print("connected", flush=True)
s.sendall(b"GET /hello HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
print("answered" if read_hello(s).endswith(HELLO) else "wrong", flush=True)
"""
    p = subprocess.Popen(["ip", "netns", "exec", wire.client_ns, sys.executable, "-c", code],
                         cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                         stdout=subprocess.PIPE, text=True)
    wire.extra_cleanup.append(lambda: (p.kill(), p.wait()))
    assert p.stdout.readline().strip() == "connected"
    first = wire.stop()["total"]
    assert first["syncache.added"] == 1 and first["syncache.completed"] == 0, first
    wire.start(tmp_path, opts)
    assert "0 flows and 1 syncache entries taken over" in wire.log(), wire.log()
    sh("nft", "delete", "table", "inet", "hold", ns=wire.client_ns)
    assert p.stdout.readline().strip() == "answered"
    total = wire.stop()["total"]
    assert total["syncache.completed"] == 1 and total["syncache.recvcookie"] == 0, total
    assert total["proxy.established"] == 1, total
