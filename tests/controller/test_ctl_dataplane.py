"""The operator restarts and upgrades the dataplane (`synwallctl dataplane restart`,
`dataplane upgrade BINARY`): synwalld stops it cleanly and starts it again, the same binary
or another of the same state layout, on the same state file, which the new one takes over;
the running config and keys are applied again. An upgrade to a binary of another layout is
refused before anything is stopped; one that does not start gives way to the old binary,
started again; one operation at a time, and never beside the supervisor's own restart.

The fake dataplane (fakedp.py) keeps a flow count in its state file and says, in the real
one's words, whether it took the tables over; its variants (Env.fake_binary) have another
layout, fail at start, never answer, or start slowly. With the real one, in a network
namespace: tests/netns/test_dataplane_upgrade.py."""

import json
import os
import re
import signal
import threading
import time

import pytest

from synwall import cli
from synwall.errors import SynwallError
from synwall.supervisor import proc_start_time
from tests.controller.ctlharness import wait_for

FLOWS = 7  # the fake's tables when it starts them empty (--preload-flows)
LAYOUT = "synwall-dp state layout 1 fingerprint fa4e0001"  # the fake's, by default
OTHER_LAYOUT = "synwall-dp state layout 2 fingerprint 0000beef"


def appliance(env_factory, **kw):
    env = env_factory("fake", extra='args = ["--preload-flows", "%d"]' % FLOWS, **kw)
    env.config_path.write_text(env.config_text + '[[policy]]\nports = "80"\nmode = "proxy"\n')
    return env.start()


def ctl(capsys, env, *args):
    capsys.readouterr()
    rc = cli.main(["--socket", str(env.socket_path), *args])
    out, err = capsys.readouterr()
    return rc, out, err


def flows(env):
    return env.client().counters().total["proxy.flows"]


def running_state(env):
    """What a refused operation must leave as it was."""
    c = env.client()
    st = c.status()
    return (st.dataplane_pid, st.dataplane_binary, st.dataplane_state, st.config_version,
            json.loads((env.runtime_dir / "tables").read_text())["owner_pid"])


def test_restart_takes_the_tables_over_and_applies_the_config_again(env_factory, capsys):
    env = appliance(env_factory)
    c = env.client()
    c.set_policy("443", "cookie")
    c.set_limits(rexmtlimit=1)
    keys = c.key_status()
    old, before = env.dp_pid(), c.status()
    assert flows(env) == FLOWS
    rc, out, err = ctl(capsys, env, "dataplane", "restart")
    assert rc == 0, err
    new = env.dp_pid()
    assert new != old and proc_start_time(old) is None
    lines = out.splitlines()
    assert lines[0] == "dataplane restarted: pid %d -> %d, %s" % (old, new,
                                                                  before.dataplane_binary)
    m = re.fullmatch(r"down (\d+\.\d{3}) s \(from the stop signal to the new one's control "
                     r"socket answering; the old one exited in (\d+\.\d{3}) s\)", lines[1])
    assert m and 0 < float(m[2]) < float(m[1]) < 20, lines
    assert lines[2:4] == [
        "the new dataplane: --state %s: taking over the tables of pid %d (stopped cleanly)"
        % (env.runtime_dir / "tables", old),
        "the new dataplane: queue 0: %d flows and 0 syncache entries taken over" % FLOWS], lines
    st = c.status()
    assert lines[4:] == ["config version %d and keys (epoch %d) applied again"
                         % (st.config_version, keys.epoch)], lines
    # the new dataplane runs the running config, the same keys, the tables it took over
    assert (st.dataplane_state, st.dataplane_pid, st.dataplane_restarts) == ("running", new, 0)
    assert st.config_version > before.config_version, "the config version went backwards"
    dpc = env.dp_link().get_config()
    assert [(r.lo, r.mode) for r in dpc.ports] == [(80, 1), (443, 2)] and dpc.rexmtlimit == 1
    assert c.key_status() == keys and env.dp_link().status().keys_managed
    assert flows(env) == FLOWS
    assert env.dp_log().count("taking over the tables") == 1
    # the same command line, the runtime options aside
    cmds = [ln.split(" ", 3)[3] for ln in env.dp_log().splitlines()
            if ln.startswith("--- synwalld: starting")]
    assert len(cmds) == 2 and cmds[0] != cmds[1]  # (--protect, --rexmtlimit: the config's)
    assert cmds[1].startswith(cmds[0].split(" --cachelimit")[0])
    # --json: the same answer as fields
    rc, out, err = ctl(capsys, env, "--json", "dataplane", "restart")
    r = json.loads(out)
    assert rc == 0 and (r["old_pid"], r["pid"]) == (new, env.dp_pid()), out
    assert r["binary"] == r["old_binary"] == r["boot_binary"] == before.dataplane_binary
    assert 0 < r["stop_seconds"] < r["down_seconds"] and r["state_layout"] == "", r
    assert not r["forced"] and len(r["tables"]) == 2, r


def test_upgrade_to_a_binary_of_the_same_layout(env_factory, capsys):
    env = appliance(env_factory)
    c = env.client()
    boot_binary = c.status().dataplane_binary
    boot_text = env.config_path.read_text()
    new_binary = env.fake_binary("synwall-dp-2")
    old = env.dp_pid()
    rc, out, err = ctl(capsys, env, "dataplane", "upgrade", str(new_binary))
    assert rc == 0, err
    new = env.dp_pid()
    lines = out.splitlines()
    assert lines[0] == "state layout: %s, as the running binary's" % LAYOUT
    assert lines[1] == "dataplane upgraded: pid %d -> %d, %s -> %s" % (old, new, boot_binary,
                                                                      new_binary)
    assert lines[2].startswith("down ") and "taking over the tables of pid %d" % old in lines[3]
    assert lines[-1] == ("the boot file's [dataplane] binary is still %s: a cold start, or a "
                         "restart after a crash, runs that one (set it there to keep this one)"
                         % boot_binary)
    assert flows(env) == FLOWS
    st = c.status()
    assert st.dataplane_binary == str(new_binary)
    assert [(p.key, p.running, p.boot) for p in st.restart_pending] == [
        ("dataplane.binary", json.dumps(str(new_binary)), json.dumps(boot_binary))]
    rc, out, _ = ctl(capsys, env, "status")
    assert "\ndataplane binary: %s\n" % new_binary in out
    assert json.loads(ctl(capsys, env, "--json", "status")[1])["dataplane_binary"] == \
        str(new_binary)
    assert env.config_path.read_text() == boot_text, "an upgrade edited the boot file"
    pidfile = json.loads((env.runtime_dir / "dataplane.pid").read_text())
    assert pidfile["cmd"][0] == pidfile["dataplane"]["binary"] == str(new_binary)
    # a restart restarts the binary that runs
    assert c.restart_dataplane().binary == str(new_binary)
    # a restart after a crash starts from the boot file: its binary, on the same tables
    pid = env.dp_pid()
    os.kill(pid, signal.SIGKILL)
    # the supervisor's restart done: counted, its dataplane running (not one status in
    # between, with a new pid and the restart not yet accounted)
    assert wait_for(lambda: (lambda s: s.dataplane_running and s.dataplane_pid != pid and
                             s.dataplane_restarts == 1)(c.status()), 20)
    st = c.status()
    assert (st.dataplane_binary, st.restart_pending, st.dataplane_restarts) == (
        boot_binary, [], 1)
    assert flows(env) == FLOWS
    assert any("taking over the tables of pid %d (ended without stopping: rebuilt)" % pid in ln
               for ln in env.dp_log().splitlines()[-3:]), env.dp_log()


def test_an_upgrade_to_another_layout_is_refused_before_anything_stops(env_factory, capsys):
    env = appliance(env_factory)
    c = env.client()
    other = env.fake_binary("synwall-dp-2", layout=OTHER_LAYOUT[len("synwall-dp state layout "):])
    before = running_state(env)
    rc, out, err = ctl(capsys, env, "dataplane", "upgrade", str(other))
    assert (rc, out, err.count("\n")) == (1, "", 1), (rc, out, err)
    assert err == (
        'synwallctl: binary: %s has another state layout than the running binary: "%s", the '
        'running %s\'s "%s"; it could not take the tables over (every connection would be '
        "lost): nothing was stopped (with force, `synwallctl dataplane upgrade --force`, it "
        "upgrades anyway, the tables starting empty)\n"
        % (other, OTHER_LAYOUT, before[1], LAYOUT)), err
    assert running_state(env) == before
    with pytest.raises(SynwallError) as ei:
        c.upgrade_dataplane(str(other))
    assert (ei.value.code, ei.value.field) == ("FAILED_PRECONDITION", "binary")
    # --force: upgraded, and the new one says it started its tables empty
    rc, out, err = ctl(capsys, env, "dataplane", "upgrade", "--force", str(other))
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == ("state layout: %s, forced (not the running binary's, or not told)"
                        % OTHER_LAYOUT)
    assert lines[3] == ('the new dataplane: --state %s: not taken over, its layout is "%s", '
                        'this binary\'s "%s": the tables start empty'
                        % (env.runtime_dir / "tables", LAYOUT, OTHER_LAYOUT)), lines
    assert c.status().dataplane_binary == str(other)


@pytest.mark.parametrize("what", ["relative", "missing", "directory", "not executable",
                                  "not normal", "empty"])
def test_an_upgrade_names_an_executable_file_by_its_absolute_path(env_factory, tmp_path, what):
    env = appliance(env_factory)
    plain = tmp_path / "plain"
    plain.write_text("#!/bin/sh\n")
    binary = {"relative": "fake-synwall-dp", "missing": str(tmp_path / "none"),
              "directory": str(tmp_path), "not executable": str(plain),
              "not normal": str(env.workdir) + "/../%s/fake-synwall-dp" % env.workdir.name,
              "empty": ""}[what]
    before = running_state(env)
    with pytest.raises(SynwallError) as ei:
        env.client().upgrade_dataplane(binary)
    e = ei.value
    assert (e.code, e.field) == ("INVALID_ARGUMENT", "binary"), repr(e)
    assert e.message.startswith("binary: ") and e.message.endswith({
        "relative": "fake-synwall-dp is not an absolute path",
        "missing": "none: No such file or directory",
        "directory": "is not a regular file",
        "not executable": "plain is not executable",
        "not normal": "is not a normal path (%s)" % (env.workdir / "fake-synwall-dp"),
        "empty": "required: the absolute path of a synwall-dp on the appliance"}[what]), \
        e.message
    assert running_state(env) == before


def test_an_upgrade_to_what_tells_no_state_layout_is_refused(env_factory, capsys):
    env = appliance(env_factory)
    before = running_state(env)
    rc, out, err = ctl(capsys, env, "dataplane", "upgrade", "/bin/true")
    assert (rc, out) == (1, ""), err
    assert err == ("synwallctl: binary: /bin/true --state-layout exited 0, printing nothing: "
                   "not a synwall-dp that tells its state layout; nothing was stopped (with "
                   "force, `synwallctl dataplane upgrade --force`, it upgrades anyway, the "
                   "tables starting empty)\n"), err
    assert running_state(env) == before


def test_a_binary_that_does_not_start_gives_way_to_the_old_one(env_factory, capsys):
    env = appliance(env_factory)
    c = env.client()
    c.set_policy("443", "cookie")
    binary = c.status().dataplane_binary
    broken = env.fake_binary("synwall-dp-2", fail="synwall-dp: EAL: cannot init\n"
                             "synwall-dp: net_x: no such device")
    old = env.dp_pid()
    rc, out, err = ctl(capsys, env, "dataplane", "upgrade", str(broken))
    assert (rc, out, err.count("\n")) == (1, "", 1), (rc, out, err)
    back = env.dp_pid()
    assert back != old and proc_start_time(old) is None
    m = re.fullmatch(
        r"synwallctl: binary: (\S+) did not start: synwall-dp exited 1 during start-up: "
        r"synwall-dp: EAL: cannot init \| synwall-dp: net_x: no such device; (\S+) runs again "
        r"\(pid (\d+): --state \S+: taking over the tables of pid (\d+) \(stopped cleanly\); "
        r"queue 0: 7 flows and 0 syncache entries taken over\), the dataplane was down "
        r"\d+\.\d\d s\n", err)
    assert m and m.groups() == (str(broken), binary, str(back), str(old)), err
    st = c.status()
    assert (st.dataplane_state, st.dataplane_pid, st.dataplane_binary) == ("running", back,
                                                                          binary)
    assert [(r.lo, r.mode) for r in env.dp_link().get_config().ports] == [(80, 1), (443, 2)]
    assert flows(env) == FLOWS and st.restart_pending == []


def test_a_binary_that_does_not_answer_gives_way_to_the_old_one(env_factory):
    env = appliance(env_factory, start_timeout=5)
    c = env.client()
    hangs = env.fake_binary("synwall-dp-2", hang="1")
    with pytest.raises(SynwallError) as ei:
        c.upgrade_dataplane(str(hangs))
    e = ei.value
    assert e.code == "FAILED_PRECONDITION" and e.message.startswith(
        "binary: %s did not start: synwall-dp did not answer on %s within 5s: synwall-dp "
        "(fake): hanging; " % (hangs, env.runtime_dir / "dataplane.ctl")), e.message
    assert c.status().dataplane_running and flows(env) == FLOWS
    assert env.dataplane_pids() == {env.dp_pid()}, "the binary that hung still runs"


def test_one_restart_at_a_time_and_never_beside_the_supervisor(env_factory):
    env = appliance(env_factory)
    c = env.client()
    slow = env.fake_binary("synwall-dp-2", delay="3")
    result = {}

    def upgrade():
        try:
            result["r"] = env.client().upgrade_dataplane(str(slow))
        except SynwallError as e:
            result["e"] = e

    t = threading.Thread(target=upgrade, daemon=True)
    t.start()
    assert wait_for(lambda: c.status().dataplane_state == "starting", 10)
    seen = set()
    with pytest.raises(SynwallError) as ei:
        c.restart_dataplane()
    e = ei.value
    assert e.code == "ABORTED" and re.fullmatch(
        r"the dataplane is being restarted \(upgrade to %s, for \d+\.\d s\): one restart or "
        r"upgrade at a time; nothing was done" % re.escape(str(slow)), e.message), e.message
    with pytest.raises(SynwallError) as ei:
        c.set_policy("443", "proxy")
    assert ei.value.code == "UNAVAILABLE"
    # the supervisor sees no dataplane while the new one starts, and must leave it alone
    while t.is_alive():
        seen |= env.dataplane_pids()
        time.sleep(0.05)
    assert "r" in result, result
    r = result["r"]
    assert len(seen) <= 2 and seen <= {r.old_pid, r.pid}, (seen, r)
    assert env.dataplane_pids() == {r.pid} and c.status().dataplane_restarts == 0
    assert r.down_seconds > 3 and flows(env) == FLOWS


def test_no_restart_while_the_supervisor_restarts_a_dataplane_that_ended(env_factory):
    env = appliance(env_factory)
    c = env.client()
    (env.workdir / "fake-synwall-dp").write_bytes(
        env.fake_binary("slow", delay="3").read_bytes())
    pid = env.dp_pid()
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: env.ctl.launcher.starting, 10), "the supervisor started nothing"
    with pytest.raises(SynwallError) as ei:
        c.restart_dataplane()
    assert (ei.value.code, ei.value.message) == (
        "UNAVAILABLE", "the dataplane is being restarted after it ended: it can be restarted "
        "once it runs")
    assert wait_for(lambda: c.status().dataplane_running, 20)
    assert c.restart_dataplane().old_pid != pid
    assert c.status().dataplane_restarts == 1 and flows(env) == FLOWS


def test_synwalld_stopping_in_the_middle_of_an_upgrade_leaves_no_dataplane(env_factory):
    env = appliance(env_factory)
    slow = env.fake_binary("synwall-dp-2", delay="30")
    c = env.client()
    t = threading.Thread(target=lambda: pytest.raises(SynwallError, env.client(timeout=60)
                                                      .upgrade_dataplane, str(slow)),
                         daemon=True)
    t.start()
    starting = wait_for(lambda: env.ctl.launcher.starting, 10)
    assert starting and c.status().dataplane_state == "starting"
    env.stop_all()
    assert proc_start_time(starting.pid) is None
    assert env.dataplane_pids() == set()
    t.join(30)


def test_a_dataplane_found_running_is_restarted_with_its_own_settings(env_factory):
    """synwalld re-attached to an upgraded dataplane whose boot file has changed since: a
    restart keeps what runs (the binary, the sizes: the tables' shape), the boot file's
    edits stay waiting."""
    env = appliance(env_factory)
    new_binary = env.fake_binary("synwall-dp-2")
    env.client().upgrade_dataplane(str(new_binary))
    env.stop_controller()
    env.config_path.write_text(env.config_path.read_text().replace("hashsize = 1024",
                                                                   "hashsize = 2048"))
    env.start()
    assert env.ctl.attached
    c = env.client()
    pending = [("dataplane.binary", json.dumps(str(new_binary)),
                json.dumps(str(env.workdir / "fake-synwall-dp"))),
               ("dataplane.hashsize", "1024", "2048")]
    st = c.status()
    assert st.dataplane_binary == str(new_binary)
    assert [(p.key, p.running, p.boot) for p in st.restart_pending] == pending
    pid = env.dp_pid()
    r = c.restart_dataplane()
    assert (r.old_pid, r.binary) == (pid, str(new_binary)) and proc_start_time(pid) is None
    assert "taking over the tables of pid %d (stopped cleanly)" % pid in r.tables[0], r.tables
    st = c.status()
    assert [(p.key, p.running, p.boot) for p in st.restart_pending] == pending
    assert c.limits().hashsize == 1024 and flows(env) == FLOWS


def test_a_restart_after_the_binary_was_replaced_in_place_is_refused(env_factory, tmp_path,
                                                                     capsys):
    """A package upgrade replaces the binary's file under the running dataplane (a new file
    renamed over the path). A restart would run what the path holds now: of another state
    layout, it could not take the tables over, so the restart is refused before anything
    stops, naming both layouts: the one the running program tells (its /proc/PID/exe, the
    file it started from) and the one the path's file tells. With --force it restarts."""
    from synwall.supervisor import state_layout
    from tests.controller.ctlharness import DP_BIN
    env = env_factory("real")
    binary = tmp_path / "synwall-dp"
    binary.write_bytes(DP_BIN.read_bytes())
    binary.chmod(0o755)
    env.config_path.write_text(env.config_text.replace(json.dumps(str(DP_BIN)),
                                                       json.dumps(str(binary))))
    env.start()
    c = env.client()
    old = env.dp_pid()
    running = state_layout(str(DP_BIN))
    assert state_layout("/proc/%d/exe" % old) == running
    # the same layout in the path's new file: a restart goes ahead
    new = tmp_path / "synwall-dp.new"
    new.write_bytes(DP_BIN.read_bytes())
    new.chmod(0o755)
    os.replace(new, binary)
    rc, out, err = ctl(capsys, env, "dataplane", "restart")
    assert rc == 0 and "taking over the tables of pid %d (stopped cleanly)" % old in out, err
    old = env.dp_pid()
    # another layout in the path's file
    new.write_text('#!/bin/sh\nif [ "$1" = --state-layout ]; then\n'
                   '    echo "%s"; exit 0\nfi\nexec %s "$@"\n' % (OTHER_LAYOUT, DP_BIN))
    new.chmod(0o755)
    os.replace(new, binary)
    rc, out, err = ctl(capsys, env, "dataplane", "restart")
    assert rc == 1 and out == "", (out, err)
    assert err == ("synwallctl: binary: %s has been replaced since the dataplane (pid %d) "
                   "started from it: it now has state layout \"%s\", the running program "
                   "\"%s\"; it could not take the tables over (every connection would be "
                   "lost): nothing was stopped (with force, `synwallctl dataplane restart "
                   "--force`, it restarts anyway, the tables starting empty)\n"
                   % (binary, old, OTHER_LAYOUT, running)), err
    st = c.status()
    assert (st.dataplane_pid, st.dataplane_state) == (old, "running")
    assert proc_start_time(old) is not None
    rc, out, err = ctl(capsys, env, "--json", "dataplane", "restart", "--force")
    assert rc == 0, err
    r = json.loads(out)
    assert r["forced"] and r["old_pid"] == old and r["pid"] == env.dp_pid() != old, r
