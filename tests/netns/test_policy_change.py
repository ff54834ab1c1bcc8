"""Open connections survive changes of their port's mode, made as an operator makes them:
`synwallctl policy set` against synwalld, which drives synwall-dp between real Linux stacks.

A connection opened while its port was `pass` is adopted when the port becomes protected
(the server's segments prove it); one spliced while the port was protected stays translated
after the port goes back to `pass`; `proxy` and `cookie` share the flows. Each download is
paced over several seconds so that the changes fall in the middle of it, and is checked
byte for byte (SHA-256).
"""

import json
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

from synlab.httpd import blob_sha256
from synlab.wire import SERVER_IP, SERVER_IP6
from synwall import cli
from tests.controller.ctlharness import Env
from tests.netns.appliance import Download

MB = 1 << 20


@pytest.fixture
def appliance(wire, tmp_path):
    """synwalld (in-process) with a real synwall-dp on the wire's two ports; port 80 starts
    in `pass` mode."""
    run = Path(tempfile.mkdtemp(prefix="swpc", dir="/tmp"))
    ports = ("net_af_packet0,iface=%s" % wire.outside_if,
             "net_af_packet1,iface=%s" % wire.inside_if)
    env = Env("real", tmp_path, run, ports=ports,
              extra='args = ["--adopt-window", "60"]\n')
    wire.start_httpd(SERVER_IP)
    wire.start_httpd(SERVER_IP6)
    env.start()
    yield env
    env.close()
    shutil.rmtree(run, ignore_errors=True)


def synwallctl(env, *args):
    rc = cli.main(["--socket", str(env.socket_path), *args])
    assert rc == 0, args


def counters(env):
    return env.client().counters().total


@pytest.mark.parametrize("addr", [SERVER_IP, SERVER_IP6], ids=["ipv4", "ipv6"])
def test_downloads_survive_pass_proxy_pass_cookie_proxy(appliance, wire, addr):
    size = 6 * MB
    before = Download(wire, addr, size, 8)          # opened in pass mode
    before.start()
    time.sleep(1.5)
    synwallctl(appliance, "policy", "set", "80", "proxy")
    time.sleep(1)
    spliced = Download(wire, addr, size, 6)         # opened through the SYN proxy
    spliced.start()
    time.sleep(2)
    synwallctl(appliance, "policy", "set", "80", "pass")
    time.sleep(1.5)
    synwallctl(appliance, "policy", "set", "80", "cookie")
    time.sleep(1)
    synwallctl(appliance, "policy", "set", "80", "proxy")
    assert before.sha256() == blob_sha256(size)
    assert spliced.sha256() == blob_sha256(size)
    total = counters(appliance)
    assert total["proxy.adopted"] == 1, json.dumps(total)
    assert total["proxy.established"] == 1, json.dumps(total)
    assert total["cookie.failed"] == 0, json.dumps(total)
    # New connections after all that are spliced as usual.
    assert wire.client("sequential", addr, 20)["ok"] == 20
    assert counters(appliance)["proxy.established"] == 21


def test_a_connection_idle_across_the_change_is_adopted_by_its_next_segment(appliance, wire,
                                                                          tmp_path):
    """Opened in pass mode, silent while the port becomes protected, then the client speaks
    first: its segment (no flow, no cookie) is passed within the adoption window, and the
    server's answer adopts the connection."""
    ready, go = tmp_path / "ready", tmp_path / "go"
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
print(json.dumps([first.endswith(HELLO), second.endswith(HELLO)]))
"""
    result = {}
    t = threading.Thread(target=lambda: result.update(
        out=wire.python(wire.client_ns, code, timeout=60)), daemon=True)
    t.start()
    deadline = time.monotonic() + 20
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists(), "the first request was not answered in pass mode"
    synwallctl(appliance, "policy", "set", "80", "proxy")
    time.sleep(1)
    go.touch()
    t.join(40)
    assert json.loads(result["out"]) == [True, True]
    total = counters(appliance)
    assert total["proxy.adopt_passed"] >= 1, json.dumps(total)
    assert total["proxy.adopted"] == 1, json.dumps(total)
    assert total["cookie.failed"] == 0, json.dumps(total)
