"""The dataplane's life as synwalld reports and ends it: status never shows a dead process
as the one starting; `synwalld --stop-dataplane` returns only once the dataplane has exited,
also when it stops in the middle of starting a new one."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from synwall import cli
from synwall.errors import SynwallError
from synwall.supervisor import proc_start_time
from tests.controller.ctlharness import wait_for

SYNWALLD = Path(sys.executable).parent / "synwalld"


def replace_dataplane(env, script):
    """What the fake dataplane's wrapper runs from now on (the next start of it)."""
    (env.workdir / "fake-synwall-dp").write_text("#!/bin/sh\n" + script)


def test_status_never_shows_a_dead_dataplane_as_starting(env_factory, capsys):
    env = env_factory("fake").start()
    c = env.client()
    old = env.dp_pid()
    replace_dataplane(env, "exit 3\n")  # every restart fails: the supervisor keeps trying
    os.kill(old, signal.SIGKILL)
    # dead once the kernel has ended it (a zombie, or reaped): until then it runs, and
    # status may rightly show it
    assert wait_for(lambda: proc_start_time(old) is None, 10), "the dataplane did not die"
    seen = set()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        st = c.status()
        assert st.dataplane_pid != old, "status shows the dead dataplane: %s" % st
        assert not st.dataplane_running or st.dataplane_pid, st
        seen.add((st.dataplane_state, st.dataplane_pid))
        time.sleep(0.01)
    assert ("starting", 0) in seen, seen
    capsys.readouterr()
    assert cli.main(["--socket", str(env.socket_path), "status"]) == 0
    assert "\ndataplane: starting\n" in capsys.readouterr().out


def test_stopping_during_a_restart_leaves_no_dataplane(env_factory):
    env = env_factory("fake").start()
    c = env.client()
    old = env.dp_pid()
    replace_dataplane(env, "exec sleep 120\n")  # starts, never answers (start_timeout 20 s)
    os.kill(old, signal.SIGKILL)
    starting = wait_for(lambda: env.ctl.launcher.starting, 10)
    assert starting, "the supervisor did not start a new dataplane"
    st = c.status()
    assert (st.dataplane_state, st.dataplane_pid) == ("starting", starting.pid), st
    env.stop_all()  # synwalld --stop-dataplane, while it waits for the new one
    assert proc_start_time(starting.pid) is None, \
        "synwalld stopped and left the dataplane it was starting running"
    assert not (env.runtime_dir / "dataplane.pid").exists()


def run_synwalld(env, *args):
    p = subprocess.Popen([str(SYNWALLD), "-c", str(env.config_path), *args],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def serving():
        if p.poll() is not None:
            return True
        try:
            return env.client(timeout=2).status().dataplane_running
        except SynwallError:
            return False
    assert wait_for(serving, 30, 0.2)
    assert p.poll() is None, p.stderr.read()
    env.pids.add(env.dp_pid())
    return p


def stop(p):
    p.send_signal(signal.SIGTERM)
    assert p.wait(60) == 0, p.stderr.read()


def test_stop_dataplane_returns_once_the_dataplane_has_exited(env_factory):
    env = env_factory("real")
    # started by this synwalld (its child), then found running by the next (not its child)
    p = run_synwalld(env, "--stop-dataplane")
    pid = env.dp_pid()
    stop(p)
    assert proc_start_time(pid) is None, "synwalld returned before its dataplane exited"
    p = run_synwalld(env)
    pid = env.dp_pid()
    stop(p)
    assert proc_start_time(pid) is not None, "without --stop-dataplane, it keeps running"
    p = run_synwalld(env, "--stop-dataplane")
    assert env.dp_pid() == pid
    stop(p)
    assert proc_start_time(pid) is None, "synwalld returned before the dataplane exited"
    assert not (env.runtime_dir / "dataplane.pid").exists()
    stats = json.loads((env.state_dir / "dataplane-stats.json").read_text())
    assert stats, "the dataplane did not stop cleanly (no final counters)"
