"""Source lists replaced at run time (the control socket's load_sources) under real Linux
stacks: a client whose prefix is denied gets no connection, and its SYNs reach neither an
answer nor the server; other clients are served throughout; the lists removed, the denied
client is served again, and a connection opened before a deny of someone else goes on."""

import shutil
import tempfile
from pathlib import Path

from synlab.wire import SERVER_IP, nft_syn_count, nft_syn_counter, sh
from synwall.dplink import DpLink

OTHER = "198.18.0.77"           # another client, in the client namespace too


def test_a_deny_loaded_at_run_time_takes_effect_and_goes_away(wire, tmp_path):
    d = Path(tempfile.mkdtemp(prefix="swsrc", dir="/tmp"))     # a short Unix socket path
    ctl = d / "dp.ctl"
    try:
        sh("ip", "addr", "add", OTHER + "/24", "dev", "cli0", ns=wire.client_ns)
        wire.start_httpd(SERVER_IP)
        nft_syn_counter(wire.server_ns, 80)
        wire.start(tmp_path, ["--protect", "80", "--key", "00" * 16, "--ctl", str(ctl)])
        link = DpLink(str(ctl), timeout=10)
        assert wire.client("sequential", SERVER_IP, 3)["ok"] == 3
        syns_before = nft_syn_count(wire.server_ns)

        # the client namespace's own address denied: its connections fail, OTHER's work
        rules = tmp_path / "sources"
        rules.write_text("deny 198.18.0.1/32\n")
        link.load_sources(str(rules))
        assert link.status().source_prefixes4 == 1
        out = wire.python(wire.client_ns, f"""
import json, socket
r = {{}}
for src in ("198.18.0.1", {OTHER!r}):
    s = socket.socket()
    s.settimeout(2)
    s.bind((src, 0))
    try:
        s.connect(({SERVER_IP!r}, 80))
        r[src] = "connected"
    except OSError as e:
        r[src] = type(e).__name__
    s.close()
print(json.dumps(r))
""", timeout=30)
        assert '"198.18.0.1": "TimeoutError"' in out and f'"{OTHER}": "connected"' in out, out
        total = wire.telemetry("/synwall/stats")
        assert total["source.denied"] >= 1, total
        # only OTHER's handshake reached the server
        assert nft_syn_count(wire.server_ns) == syns_before + 1

        # removed: served again
        link.load_sources("")
        assert link.status().source_prefixes4 == 0
        assert wire.client("sequential", SERVER_IP, 3)["ok"] == 3
        link.close()
        final = wire.stop()["total"]
        assert final["source.denied"] >= 1 and final["proxy.established"] == 3 + 1 + 3, final
    finally:
        shutil.rmtree(d, ignore_errors=True)
