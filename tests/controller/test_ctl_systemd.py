"""synwalld as systemd runs it: reload (SIGHUP) of the boot file, whole or not at all; the
service manager's notifications (READY, RELOADING, STOPPING, STATUS) and a watchdog that is
told only while the dataplane is alive; log lines with syslog priorities in a real journal
(systemd-journald of its own, in a private mount namespace), the dataplane's lines too."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from synwall import systemd
from tests.controller.ctlharness import REPO, require_real, wait_for

PYTHON_ENV = {**os.environ, "PYTHONPATH": "%s:%s" % (REPO / "pyctl", REPO)}


def edit(env, text: str) -> None:
    env.config_path.write_text(env.config_text + textwrap.dedent(text))


# --- reload -----------------------------------------------------------------------------------

def test_reload_applies_the_edited_file_and_keeps_the_api_changes(env_factory):
    env = env_factory("fake").start()
    c = env.client()
    c.set_policy("80", "cookie")  # a change through the API, not in the file
    before = env.ctl.status().config_version
    edit(env, """
        [limits]
        cachelimit = 5000
        [[policy]]
        ports = "443"
        mode = "proxy"
        """)
    assert env.daemon.reload()
    assert env.ctl.runtime.limits.cachelimit == 5000
    assert env.ctl.status().config_version > before
    # the dataplane has it; the file did not change port 80's policy since synwalld read it:
    # the API's stands
    want = {("443", "proxy"), ("80", "cookie")}
    assert {(p.ports, p.mode) for p in c.policies()} >= want
    # the state saved measures against the reloaded file: a restart of synwalld gives the
    # same running config
    env.stop_controller()
    env.start()
    assert env.ctl.runtime.limits.cachelimit == 5000
    assert {(p.ports, p.mode) for p in env.client().policies()} >= want


@pytest.mark.parametrize("text, why", [
    ("""
        [limits]
        cachelimit = 5000
        [[policy]]
        ports = "443"
        mode = "shred"
        """, "policy"),
    ("""
        [limits]
        cachelimit = 99999999
        """, "cachelimit"),
    ("""
        [limits
        """, "synwall.toml"),
])
def test_reload_refuses_a_bad_file_whole(env_factory, caplog, text, why):
    env = env_factory("fake").start()
    before = (env.ctl.runtime.copy(), env.ctl.status().config_version)
    edit(env, text)
    assert not env.daemon.reload()
    assert (env.ctl.runtime, env.ctl.status().config_version) == before
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refused and why in refused[-1] and "nothing changed" in refused[-1]


def test_reload_refuses_api_changes_and_defers_dataplane_sizes(env_factory, caplog):
    caplog.set_level(logging.INFO, "synwalld")
    env = env_factory("fake").start()
    text = env.config_text.replace('unix_socket = "%s"' % env.socket_path,
                                   'unix_socket = "%s"' % (env.runtime_dir / "other.sock"))
    env.config_path.write_text(text)
    assert not env.daemon.reload()
    assert "api.unix_socket changed" in caplog.records[-1].getMessage()

    env.config_path.write_text(env.config_text.replace("hashsize = 1024", "hashsize = 2048")
                               + "[limits]\nrexmtlimit = 2\n")
    assert env.daemon.reload()
    assert env.ctl.runtime.limits.rexmtlimit == 2
    assert [p.key for p in env.ctl.status().restart_pending] == ["dataplane.hashsize"]
    said = caplog.records[-1].getMessage()
    assert "reloaded" in said and "hashsize" in said and "when the dataplane restarts" in said


# --- synwalld under a service manager ---------------------------------------------------------

class Manager:
    """What systemd is to a Type=notify service with WatchdogSec: the notification socket,
    and the messages received on it, with their time."""

    def __init__(self, path: Path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.path = path
        self.messages: list[tuple[float, str]] = []

    def poll(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            for line in data.decode().splitlines():
                self.messages.append((time.monotonic(), line))

    def wait(self, line: str, timeout: float, after: float = 0.0) -> float:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for t, m in self.messages:
                if m == line and t >= after:
                    return t
            self.poll(0.2)
        raise AssertionError("no %r within %gs: %r" % (line, timeout, self.messages[-10:]))

    def count(self, line: str, since: float) -> int:
        return sum(1 for t, m in self.messages if m == line and t >= since)


def test_notify_watchdog_reload_and_stop(env_factory, tmp_path):
    env = env_factory("fake")
    mgr = Manager(tmp_path / "notify.sock")
    err = open(tmp_path / "synwalld.err", "w+")
    p = subprocess.Popen([sys.executable, "-m", "synwall.daemon", "-c", str(env.config_path),
                          "--stop-dataplane"], stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                         env={**PYTHON_ENV, "NOTIFY_SOCKET": str(mgr.path),
                              "WATCHDOG_USEC": "1000000"})
    try:
        ready = mgr.wait("READY=1", 30)
        assert any(m.startswith("STATUS=dataplane running (pid ") for _, m in mgr.messages)
        mgr.poll(2.5)
        assert mgr.count("WATCHDOG=1", ready) >= 3  # every half second while alive

        # a dataplane that stops answering is not vouched for: no WATCHDOG=1 while it hangs
        dp = env.dp_pid()
        os.kill(dp, signal.SIGSTOP)
        try:
            mgr.poll(1.0)  # a tick already under way may still say it
            hung = time.monotonic()
            mgr.poll(6.5)  # past the control socket's 5 s timeout
            assert mgr.count("WATCHDOG=1", hung) == 0
            assert any(m.startswith("STATUS=dataplane (pid %d) does not answer" % dp)
                       for t, m in mgr.messages if t >= hung - 1.0)
        finally:
            os.kill(dp, signal.SIGCONT)
        mgr.wait("WATCHDOG=1", 10, after=time.monotonic())

        # a killed dataplane: none until the supervisor has started another (the fake one
        # may have ended itself after its hang: the one running now)
        dp = env.dp_pid()
        os.kill(dp, signal.SIGKILL)
        wait_for(lambda: env.dp_pid() != dp, 20)
        back = mgr.wait("WATCHDOG=1", 10, after=time.monotonic())
        assert any(m.startswith("STATUS=dataplane running (pid %d)" % env.dp_pid())
                   for t, m in mgr.messages if t >= back - 1.0)

        # SIGHUP: RELOADING=1, then READY=1 once the file is applied
        edit(env, """
            [[policy]]
            ports = "8443"
            mode = "proxy"
            """)
        hup = time.monotonic()
        p.send_signal(signal.SIGHUP)
        reloading = mgr.wait("RELOADING=1", 10, after=hup)
        mgr.wait("READY=1", 10, after=reloading)
        r = subprocess.run([sys.executable, "-m", "synwall.cli", "--socket",
                            str(env.socket_path), "--json", "policy", "list"],
                           capture_output=True, text=True, env=PYTHON_ENV, timeout=30)
        assert '"8443"' in r.stdout or "8443" in r.stdout, r.stdout + r.stderr

        p.send_signal(signal.SIGTERM)
        assert p.wait(30) == 0
        mgr.wait("STOPPING=1", 1)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        err.seek(0)
        print(err.read())


def test_liveness_during_starts_and_changes(env_factory, monkeypatch):
    """Alive while a restart after a crash is within its grace, not once it is past it (a
    dataplane that cannot be started); not held back by a change holding the lock."""
    env = env_factory("fake").start()
    ctl = env.ctl
    assert ctl.liveness()[0]

    # a long change (a reload of a million source rules) holds the lock: the watchdog is
    # still told, at once
    held, release = threading.Event(), threading.Event()

    def hold():
        with ctl.lock:
            held.set()
            release.wait(10)
    t = threading.Thread(target=hold)
    t.start()
    held.wait(5)
    t0 = time.monotonic()
    alive, why = ctl.liveness()
    release.set()
    t.join()
    assert alive and time.monotonic() - t0 < 2.0, why

    # every start from now on fails
    broken = env.fake_binary("broken-dp", fail="synwall-dp: EAL: no ports")
    env.config_path.write_text(env.config_text.replace(
        json.dumps(str(env.workdir / "fake-synwall-dp")), json.dumps(str(broken))))
    assert env.daemon.reload()
    monkeypatch.setattr(ctl, "start_grace", lambda: 1.5)
    os.kill(env.dp_pid(), signal.SIGKILL)
    wait_for(lambda: ctl.state.value == "starting", 10)
    alive, why = ctl.liveness()
    assert alive and why.startswith("dataplane restarting"), why
    wait_for(lambda: not ctl.liveness()[0], 10)
    assert "dataplane restarting for" in ctl.liveness()[1]


def test_no_service_manager_no_notifications(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert not systemd.notify("READY=1")
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert systemd.watchdog_period() is None  # another process's watchdog
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert systemd.watchdog_period() == 30.0


# --- the journal ------------------------------------------------------------------------------

JOURNALD = Path("/lib/systemd/systemd-journald")

# Run in a private mount namespace: a journald of its own on tmpfs, synwalld (and through it
# the real dataplane) with its stderr on one of that journald's streams, as systemd gives it.
SCENARIO = r'''
import json, os, signal, socket, subprocess, sys, time
config, notify_path, pid_file = sys.argv[1], sys.argv[2], sys.argv[3]
for d in ("/run/systemd", "/run/log", "/var/log/journal"):
    if os.path.isdir(d):
        subprocess.run(["mount", "-t", "tmpfs", "tmpfs", d], check=True)
jd = subprocess.Popen(["/lib/systemd/systemd-journald"], stdin=subprocess.DEVNULL,
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(100):
        if os.path.exists("/run/systemd/journal/stdout"):
            break
        time.sleep(0.05)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect("/run/systemd/journal/stdout")
    s.sendall(b"synwalld\n\n6\n1\n0\n0\n0\n")
    st = os.fstat(s.fileno())
    env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino),
               NOTIFY_SOCKET=notify_path)
    n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    n.bind(notify_path)
    n.settimeout(60)
    d = subprocess.Popen([sys.executable, "-m", "synwall.daemon", "-c", config,
                          "--stop-dataplane"], stdin=subprocess.DEVNULL, stdout=s, stderr=s,
                         env=env)
    s.close()
    try:
        while b"READY=1" not in n.recv(4096):
            pass
        with open(config, "a") as f:
            f.write("\n[[policy]]\nports = \"443\"\nmode = \"shred\"\n")
        d.send_signal(signal.SIGHUP)
        while b"READY=1" not in n.recv(4096):
            pass
        pid = json.load(open(pid_file))["pid"]
    finally:
        d.send_signal(signal.SIGTERM)
        d.wait(60)
    subprocess.run(["journalctl", "--sync"], check=True)
    out = subprocess.run(["journalctl", "--no-pager", "-o", "json", "-t", "synwalld",
                          "-t", "synwall-dp"], capture_output=True,
                         check=True).stdout.decode().splitlines()
    keep = ("SYSLOG_IDENTIFIER", "PRIORITY", "MESSAGE", "_PID", "_TRANSPORT")
    print(json.dumps({"dataplane_pid": pid, "entries": [
        {k: e.get(k) for k in keep} for e in map(json.loads, out)]}))
finally:
    jd.terminate()
    jd.wait(10)
'''


def test_log_lines_reach_the_journal_with_priorities(env_factory, tmp_path):
    """synwalld's lines carry their priority (info, and err for a refused reload); the
    dataplane's are the journal's too, under synwall-dp with its own pid, at info (its
    standard output) and err (its standard error), DPDK's among them, none of them twice."""
    require_real()
    for tool in ("unshare", "journalctl", "systemd-cat"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            pytest.skip("%s not installed (Debian packages util-linux, systemd)" % tool)
    if not JOURNALD.exists():
        pytest.skip("systemd-journald not installed (Debian package systemd)")
    env = env_factory("real")
    script = tmp_path / "scenario.py"
    script.write_text(SCENARIO)
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable,
                        str(script), str(env.config_path), str(tmp_path / "notify.sock"),
                        str(env.runtime_dir / "dataplane.pid")],
                       capture_output=True, text=True, env=PYTHON_ENV, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    entries = got["entries"]

    def lines(ident, prio=None):
        return [e["MESSAGE"] for e in entries if e["SYSLOG_IDENTIFIER"] == ident
                and (prio is None or e["PRIORITY"] == str(prio))]
    assert any(m.startswith("synwalld: serving on") for m in lines("synwalld", 6))
    refused = [m for m in lines("synwalld", 3) if "reload of" in m and "refused" in m]
    assert refused and "shred" in refused[0]
    dp = [e for e in entries if e["SYSLOG_IDENTIFIER"] == "synwall-dp"]
    assert dp and {e["_PID"] for e in dp} == {str(got["dataplane_pid"])}
    info = lines("synwall-dp", 6)
    assert any(m.startswith("synwall-dp: ") and "worker(s)" in m for m in info)
    # EAL's own lines, at info, once each: not also through syslog
    assert {e["PRIORITY"] for e in dp} <= {"6", "3"}
    # DPDK's own lines (TELEMETRY:, EAL:, ...) are among them, each once: through the
    # dataplane's streams, not also through syslog
    lib = [e["MESSAGE"] for e in dp if not e["MESSAGE"].startswith("synwall-dp")]
    assert lib and len(lib) == len(set(lib))
    assert {e["_TRANSPORT"] for e in dp} == {"stdout"}


def test_priority_formatter_prefixes_every_line():
    f = systemd.PriorityFormatter("synwalld: %(message)s")
    rec = logging.LogRecord("synwalld", logging.WARNING, __file__, 1, "a\nb", None, None)
    assert f.format(rec) == "<4>synwalld: a\n<4>b"
    assert [systemd.priority(lv) for lv in (logging.DEBUG, logging.INFO, logging.WARNING,
                                             logging.ERROR, logging.CRITICAL)] == [7, 6, 4, 3, 2]
