"""synwallctl against a live synwalld: each subcommand's output and exit code (0 ok, 1 failed,
2 usage or bad input, errors on one line); the Unix socket is the owner's only; TCP needs
mutual TLS (refused at start without it) and works with it (roles: test_ctl_auth.py)."""

import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from synwall import cli
from tests.controller.pki import Pki

CTL = Path(sys.executable).parent / "synwallctl"
SYNWALLD = Path(sys.executable).parent / "synwalld"


@pytest.fixture
def live(env_factory):
    env = env_factory("fake")
    env.config_path.write_text(env.config_text + textwrap.dedent("""
        [[policy]]
        ports = "80"
        mode = "proxy"
        """))
    return env.start()


def run(capsys, env, *args):
    """synwallctl in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    rc = cli.main(["--socket", str(env.socket_path), *args])
    out, err = capsys.readouterr()
    return rc, out, err


def ok(capsys, env, *args):
    rc, out, err = run(capsys, env, *args)
    assert rc == 0 and err == "", (args, rc, err)
    return out


def fails(capsys, env, code, *args):
    rc, out, err = run(capsys, env, *args)
    assert rc == code, (args, rc, out, err)
    assert out == "" and err.count("\n") == 1 and err.startswith("synwallctl"), (args, err)
    return err


def test_entry_points_are_installed(live):
    assert CTL.exists() and SYNWALLD.exists()
    r = subprocess.run([str(CTL), "--socket", str(live.socket_path), "status"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^dataplane: running, pid %d, 1 worker\(s\), 0 restart\(s\)$"
                     % live.dp_pid(), r.stdout, re.M), r.stdout
    r = subprocess.run([str(CTL), "--socket", "/nonexistent/api.sock", "status"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and r.stdout == "", r
    assert r.stderr == ("synwallctl: cannot reach synwalld at unix:/nonexistent/api.sock: "
                        "No such file or directory\n"), r.stderr


def test_status(capsys, live):
    out = ok(capsys, live, "status")
    lines = out.splitlines()
    assert re.fullmatch(r"synwalld \d+\.\d+\.\d+, up \d+s", lines[0]), lines
    assert lines[1] == "dataplane: running, pid %d, 1 worker(s), 0 restart(s)" % live.dp_pid()
    assert lines[2] == "ports: outside fake_out, inside fake_in"
    assert re.fullmatch(r"config version \d+, key epoch 1", lines[3]), lines
    st = json.loads(ok(capsys, live, "--json", "status"))
    assert st["dataplane_pid"] == live.dp_pid() and st["dataplane_state"] == "running"


NETSTAT = """\
syncache:
    0 SYNs added to the syncache
    0 SYN-ACKs retransmitted
    0 duplicate SYNs answered again
    0 entries dropped (none: a full syncache evicts instead)
    0 handshakes completed (by an entry or a cookie)
    0 entries evicted by full buckets
    0 entries evicted by a full syncache
    0 entries removed by their clients' RSTs
    0 entries timed out, their SYN-ACK retransmits spent
    0 handshakes aborted: no room in the flow table
    0 ACKs with the wrong numbers for their entries, dropped
    0 ICMP unreachables for entries
    0 entry allocation failures (none: a full syncache evicts)
    0 SYNs answered by cookie alone, no entry kept
    0 ACKs with a valid cookie and no entry
    5 entries in the syncache now
    0 workers' syncaches paused now (cookies only, after bucket overflows)
"""


def test_stats(capsys, live):
    out = ok(capsys, live, "stats")
    assert out.startswith(NETSTAT), out[:1200]
    assert "cookie:\n    0 ACKs with no syncache entry and no valid cookie, dropped\n" in out
    for group in ("proxy:", "port:", "malformed:"):
        assert "\n%s\n" % group in out
    assert re.search(r"^    [1-9]\d* packets received on the outside port$", out, re.M), \
        "port.outside_rx missing"
    out = ok(capsys, live, "stats", "--lcores")
    assert re.search(r"^\s+total\s+lcore 1$", out, re.M), out[:300]
    assert re.search(r"^ +5 +5  entries in the syncache now$", out, re.M), out[:1500]
    data = json.loads(ok(capsys, live, "--json", "stats"))
    assert data["total"]["syncache.added"] == 0 and data["lcores"][0]["lcore"] == 1
    assert set(data["lcores"][0]["counters"]) == set(data["total"])


def test_top(capsys, live):
    out = ok(capsys, live, "top", "--count", "2", "--interval", "0.1")
    assert out.count("synwall top") == 2 and "2/2" in out and "\x1b[" not in out, out
    assert re.search(r"packets in \(outside\)\s+[\d,]+/s", out), out
    lines = ok(capsys, live, "--json", "top", "--count", "3", "--interval", "0.1").splitlines()
    assert len(lines) == 3
    frames = [json.loads(x) for x in lines]
    # the fake dataplane's outside_rx grows by 1000 a read: about 10000/s at 0.1 s
    assert all(f["rates"]["port.outside_rx"] > 1000 for f in frames), frames
    assert "syncache.count" in frames[0]["gauges"]
    fails(capsys, live, 2, "top", "--interval", "0")


def test_policy(capsys, live):
    out = ok(capsys, live, "policy", "list")
    assert out.splitlines() == ["PORTS  MODE   MSS  WSCALE  SACK  TIMESTAMPS",
                                "80     proxy  -    -       -     -"], out
    ok(capsys, live, "policy", "set", "443", "proxy")
    out = ok(capsys, live, "policy", "set", "8000-8080", "cookie", "--mss", "1400",
             "--no-timestamps")
    assert out.splitlines() == [
        "PORTS      MODE    MSS   WSCALE  SACK  TIMESTAMPS",
        "80         proxy   -     -       -     -",
        "443        proxy   -     -       -     -",
        "8000-8080  cookie  1400  -       -     off"], out
    out = ok(capsys, live, "policy", "del", "443")
    assert "443 " not in out
    data = json.loads(ok(capsys, live, "--json", "policy", "list"))
    assert [(p["ports"], p["mode"], p["profile"]["mss"], p["profile"]["timestamps"])
            for p in data] == [("80", "proxy", None, None), ("8000-8080", "cookie", 1400,
                                                              False)]
    err = fails(capsys, live, 1, "policy", "del", "443")
    assert "port 443: no policy set" in err
    err = fails(capsys, live, 2, "policy", "set", "0", "proxy")
    assert "policy.port_lo: port 0 is out of range: 1..65535" in err
    fails(capsys, live, 2, "policy", "set", "443", "shield")
    fails(capsys, live, 2, "policy", "set", "44x", "proxy")
    fails(capsys, live, 2, "policy")


def test_policy_idle_timeout(capsys, live):
    out = ok(capsys, live, "policy", "set", "22", "proxy", "--idle-timeout", "7200")
    assert out.splitlines() == [
        "PORTS  MODE   MSS  WSCALE  SACK  TIMESTAMPS  IDLE",
        "22     proxy  -    -       -     -           7200s",
        "80     proxy  -    -       -     -           -"], out
    data = json.loads(ok(capsys, live, "--json", "policy", "set", "8443", "cookie", "--mss",
                         "1400", "--idle-timeout", "60"))
    assert [(p["ports"], p["mode"], p["profile"]["mss"], p["idle_timeout_s"]) for p in data] == [
        ("22", "proxy", None, 7200), ("80", "proxy", None, None), ("8443", "cookie", 1400, 60)]
    before = ok(capsys, live, "policy", "list")
    err = fails(capsys, live, 2, "policy", "set", "22", "proxy", "--idle-timeout", "0")
    assert "policy.idle_timeout_s: 0 is out of range: 1..2592000 seconds" in err, err
    err = fails(capsys, live, 2, "policy", "set", "22", "proxy", "--idle-timeout", "2592001")
    assert "2592001 is out of range" in err, err
    err = fails(capsys, live, 2, "policy", "set", "22", "proxy", "--idle-timeout=-5")
    assert "policy.idle_timeout_s: -5 is not a non-negative 32-bit integer" in err, err
    err = fails(capsys, live, 2, "policy", "set", "22", "proxy", "--idle-timeout", "2h")
    assert "--idle-timeout" in err, err
    assert ok(capsys, live, "policy", "list") == before, "a refused idle timeout changed it"
    # without the option, the ports' policy is set whole: back to the default idle timeout,
    # and the table without an IDLE column once no policy has one
    ok(capsys, live, "policy", "del", "8443")
    out = ok(capsys, live, "policy", "set", "22", "proxy")
    assert out.splitlines() == ["PORTS  MODE   MSS  WSCALE  SACK  TIMESTAMPS",
                                "22     proxy  -    -       -     -",
                                "80     proxy  -    -       -     -"], out


def test_limits(capsys, live):
    out = ok(capsys, live, "limits", "get")
    assert "cachelimit       10240\n" in out and "hashsize         1024  (start-time only)" in out
    out = ok(capsys, live, "limits", "set", "cachelimit=1000", "rexmtlimit=2")
    assert "cachelimit       1000\n" in out and "rexmtlimit       2\n" in out
    data = json.loads(ok(capsys, live, "--json", "limits", "set", "syncookies=off"))
    assert data["syncookies"] is False and data["cachelimit"] == 1000
    err = fails(capsys, live, 2, "limits", "set", "cachelimit=99999")
    assert "cachelimit: 99999 is out of range: 1..10240" in err
    err = fails(capsys, live, 2, "limits", "set", "hashsize=2048")
    assert "start-time only" in err
    fails(capsys, live, 2, "limits", "set", "bogus=1")
    fails(capsys, live, 2, "limits", "set", "rexmtlimit=two")
    out = ok(capsys, live, "limits", "set", "cookie_check_rate=5000")
    assert "cookie_check_rate 5000\n" in out
    err = fails(capsys, live, 2, "limits", "set", "cookie_check_rate=100000001")
    assert "cookie_check_rate: 100000001 is out of range: 0..100000000" in err
    assert json.loads(ok(capsys, live, "--json", "limits", "get"))["cachelimit"] == 1000


def test_key(capsys, live, tmp_path):
    out = ok(capsys, live, "key", "status")
    m = re.match(r"epoch (\d+)  secret ([0-9a-f]{16}) \(signs new cookies\)\n"
                 r"epoch (\d+)  secret ([0-9a-f]{16})\nrotation every 3600 s, random", out)
    assert m, out
    epoch, fp = int(m.group(1)), m.group(2)
    data = json.loads(ok(capsys, live, "--json", "key", "rotate"))
    assert data["epoch"] == epoch + 1 and data["previous_fingerprint"] == fp
    master = tmp_path / "master.key"
    master.write_text("000102030405060708090a0b0c0d0e0f\n")
    out = ok(capsys, live, "key", "schedule", "--interval", "30", "--master-file", str(master))
    assert "rotation every 30 s, derived from master" in out and "0001020304" not in out
    err = fails(capsys, live, 1, "key", "rotate")
    assert "derive from the master secret" in err
    ok(capsys, live, "key", "schedule", "--clear-master")
    master.write_text("0011")
    fails(capsys, live, 2, "key", "schedule", "--master-file", str(master))
    fails(capsys, live, 2, "key", "schedule")


def test_syncache(capsys, live):
    out = ok(capsys, live, "syncache", "dump")
    lines = out.splitlines()
    assert lines[0].split() == ["LCORE", "CLIENT", "SERVER", "ISN", "ISS", "RXT", "MSS", "WS",
                                "SACK", "TS", "AGE"]
    assert lines[1].split() == ["1", "198.18.0.1:40001", "198.18.1.1:443", "1001", "5001", "0",
                                "1460", "7", "on", "on", "1.5s"], lines
    assert lines[-1] == "5 entries"
    data = json.loads(ok(capsys, live, "--json", "syncache", "dump", "--limit", "3"))
    assert len(data) == 3 and {"client_addr", "age_seconds"} <= set(data[0])
    assert ok(capsys, live, "syncache", "flush") == "5 syncache entries flushed\n"
    assert ok(capsys, live, "syncache", "dump").splitlines()[-1] == "0 entries"


def test_config(capsys, live, tmp_path):
    good = tmp_path / "new.toml"
    good.write_text('[limits]\ncachelimit = 2000\n[[policy]]\nports = "25"\nmode = "drop"\n')
    assert ok(capsys, live, "config", "validate", str(good)) == "%s: valid\n" % good
    assert json.loads(ok(capsys, live, "--json", "limits", "get"))["cachelimit"] == 10240
    out = ok(capsys, live, "config", "apply", str(good))
    assert re.fullmatch(r"%s: applied \(config version \d+\)\n" % re.escape(str(good)), out)
    assert json.loads(ok(capsys, live, "--json", "limits", "get"))["cachelimit"] == 2000
    assert [p["ports"] for p in json.loads(ok(capsys, live, "--json", "policy", "list"))] == \
        ["25"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[limits]\nrexmtlimit = "2"\n')
    err = fails(capsys, live, 2, "config", "apply", str(bad))
    assert err == ("synwallctl: %s: limits.rexmtlimit: expected an integer, got a string "
                   "('2')\n" % bad)
    fails(capsys, live, 2, "config", "validate", str(bad))
    fails(capsys, live, 2, "config", "apply", str(tmp_path / "missing.toml"))
    assert [p["ports"] for p in json.loads(ok(capsys, live, "--json", "policy", "list"))] == \
        ["25"]


def test_unix_socket_is_the_owners_only(env_factory, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("connecting as another user needs root")
    shared = Path(tempfile.mkdtemp(prefix="swctlsock", dir="/tmp"))
    try:
        shared.chmod(0o755)  # others may reach the directory: only the socket's mode protects
        env = env_factory("fake")
        env.config_path.write_text(env.config_text.replace(
            'unix_socket = "%s"' % env.socket_path, 'unix_socket = "%s/api.sock"' % shared))
        env.socket_path = shared / "api.sock"
        env.start()
        st = os.stat(env.socket_path)
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
        control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        control.bind(str(shared / "open.sock"))
        control.listen(1)
        os.chmod(shared / "open.sock", 0o666)

        def as_nobody(path):
            """connect() from a child that became uid/gid 65534 (no exec: nothing to find)."""
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # child: only system calls, then _exit
                try:
                    os.setgroups([])
                    os.setgid(65534)
                    os.setuid(65534)
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    try:
                        s.connect(str(path))
                        os.write(w, b"connected")
                    except PermissionError:
                        os.write(w, b"denied")
                    except OSError as e:
                        os.write(w, str(e).encode())
                finally:
                    os._exit(0)
            os.close(w)
            os.waitpid(pid, 0)
            with os.fdopen(r, "rb") as f:
                return f.read().decode()
        assert as_nobody(shared / "open.sock") == "connected", "the probe itself is broken"
        assert as_nobody(env.socket_path) == "denied"
        control.close()
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_tcp_without_tls_is_refused_at_start(tmp_path):
    p = tmp_path / "tcp.toml"
    p.write_text('[api]\nunix_socket = ""\ntcp = "127.0.0.1:50051"\n')
    r = subprocess.run([str(SYNWALLD), "-c", str(p)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2, r
    assert r.stderr == ("synwalld: %s: api.tcp: a TCP listener needs TLS: set api.tls_cert and "
                        "api.tls_key (plain-text gRPC is served on the Unix socket only)\n"
                        % p), r.stderr


def test_tcp_without_client_certificates_is_refused_at_start(tmp_path):
    pki = Pki(tmp_path)
    p = tmp_path / "tcp.toml"
    p.write_text('[api]\nunix_socket = ""\ntcp = "127.0.0.1:50051"\ntls_cert = "%s"\n'
                 'tls_key = "%s"\n' % (pki.server.cert, pki.server.key))
    r = subprocess.run([str(SYNWALLD), "-c", str(p)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2, r
    assert r.stderr == ("synwalld: %s: api.tls_client_ca: a TCP listener needs client "
                        "certificates: set api.tls_client_ca to the CA that signs them, and "
                        "api.admin_clients to the subjects that may change things (the "
                        "others only read)\n" % p), r.stderr


def test_tcp_with_mutual_tls(capsys, env_factory, tmp_path):
    pki = Pki(tmp_path)
    operator = pki.client("client", "/CN=operator")
    api = ('tcp = "127.0.0.1:0"\ntls_cert = "%s"\ntls_key = "%s"\ntls_client_ca = "%s"\n'
           % (pki.server.cert, pki.server.key, pki.client_ca))
    env = env_factory("fake", api_extra=api)
    env.start()
    addr = "127.0.0.1:%d" % env.daemon.api.tcp_port
    tls = ["--addr", addr, "--tls-ca", str(pki.server.cert)]
    client_cert = ["--tls-cert", str(operator.cert), "--tls-key", str(operator.key)]

    def ctl(*args):
        capsys.readouterr()
        rc = cli.main(["--timeout", "5", *args])
        return (rc,) + capsys.readouterr()

    rc, out, err = ctl(*tls, *client_cert, "status")
    assert rc == 0 and "dataplane: running" in out, err
    rc, out, err = ctl("--addr", addr, *client_cert, "status")  # not trusting the server
    assert rc == 1 and err.count("\n") == 1, (out, err)
    assert "refused the TLS handshake" not in err, err
    rc, out, err = ctl(*tls, "status")  # no client certificate
    assert rc == 1 and err.count("\n") == 1 and "refused the TLS handshake" in err, (out, err)
