"""What the namespace tests of continuity share: a download in the background, an idle
connection, and synwalld supervising a real synwall-dp on the wire's two ports."""

import shutil
import tempfile
import threading
from pathlib import Path

from synlab.wire import SERVER_IP
from synwall import cli
from tests.controller.ctlharness import Env


class Download(threading.Thread):
    """A paced download in the client namespace, in the background."""

    def __init__(self, wire, addr, size, seconds):
        super().__init__(daemon=True)
        self.wire, self.addr, self.size, self.seconds = wire, addr, size, seconds
        self.result = None
        self.error = None

    def run(self):
        try:
            self.result = self.wire.client("paced_download", self.addr, self.size, self.seconds,
                                           timeout=120)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def sha256(self):
        self.join(90)
        assert not self.is_alive(), "the download did not finish"
        assert self.error is None, self.error
        return self.result


IDLE_CLIENT = """
import socket, sys
from synlab.client import HELLO, read_hello
s = socket.create_connection((sys.argv[1], 80), timeout=30)
req = b"GET /hello HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
s.sendall(req)
print("answered", read_hello(s).endswith(HELLO), flush=True)
for _ in sys.stdin:
    s.sendall(req)
    print("answered", read_hello(s).endswith(HELLO), flush=True)
"""


class IdleConnection:
    """A keep-alive HTTP connection from the client namespace that sits idle between
    requests: one at the start, one more at each poke()."""

    def __init__(self, wire, addr):
        self.proc = wire.spawn(wire.client_ns, IDLE_CLIENT, addr)
        assert self.proc.expect("answered", 20) == "answered True"

    def poke(self):
        """Another request on the same connection: answered in full."""
        self.proc.say()
        assert self.proc.expect("answered", 20) == "answered True"


def supervised(wire, tmp_path, prefix):
    """synwalld (in-process) supervising a real synwall-dp on the wire's two ports, with its
    runtime directory under /tmp/<prefix>...: port 80 protected, an HTTP server on
    SERVER_IP. A generator for a fixture: yields the Env, then closes it."""
    run = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    ports = tuple(wire.vdevs())
    env = Env("real", tmp_path, run, ports=ports)
    wire.start_httpd(SERVER_IP)
    env.start()
    assert cli.main(["--socket", str(env.socket_path), "policy", "set", "80", "proxy"]) == 0
    yield env
    env.close()
    shutil.rmtree(run, ignore_errors=True)
