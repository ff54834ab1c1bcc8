"""The running config survives synwalld's restarts, with the dataplane stopped too (a cold
start: systemd's restart, a reboot): every accepted change is saved durably before the API
answers, and at start the boot file and the saved runtime changes are merged by the rule of
synwall.runconfig (a boot-file value edited since the save wins, and is logged; otherwise the
saved runtime value). A state file that cannot be used is refused with one log line, the boot
file alone applies. The config version never goes backwards."""

import errno
import json
import logging
import os
import signal

import pytest

from synwall import durable, model
from synwall.errors import SynwallError
from synwall.supervisor import proc_start_time
from tests.controller.ctlharness import wait_for

BOOT = """
[limits]
rexmtlimit = 2
[[policy]]
ports = "80"
mode = "proxy"
"""


def boot_env(env_factory, kind="fake", extra_boot=BOOT, **kw):
    env = env_factory(kind, **kw)
    env.config_path.write_text(env.config_text + extra_boot)
    return env


def edit_boot(env, text):
    env.config_path.write_text(env.config_text + text)


def view(c):
    lim = c.limits()
    return ([(p.ports, p.mode, p.profile.mss) for p in c.policies()],
            (lim.cachelimit, lim.rexmtlimit, lim.mss), c.key_status().rotation_interval_s)


def dp_config(env):
    link = env.dp_link()
    try:
        return model.canonical_dp_config(link.get_config())
    finally:
        link.close()


def synwalld_log(caplog, level=logging.INFO):
    return [r for r in caplog.records if r.name == "synwalld" and r.levelno >= level]


def test_runtime_changes_survive_a_cold_start(env_factory, dpkind):
    env = boot_env(env_factory, dpkind).start()
    c = env.client()
    c.set_policy("443", "cookie")
    c.set_policy("80", "drop")
    c.set_limits(rexmtlimit=1, cachelimit=777)
    c.set_key_schedule(interval=60)
    keys = c.key_status()
    want, want_dp = view(c), dp_config(env)
    pid = env.dp_pid()

    env.stop_all()
    assert proc_start_time(pid) is None, "synwalld --stop-dataplane left the dataplane running"
    env.start()
    assert not env.ctl.attached, "a cold start re-attached"
    c = env.client()
    assert view(c) == want == ([("80", "drop", None), ("443", "cookie", None)],
                               (777, 1, 1460), 60)
    assert dp_config(env) == want_dp, "the new dataplane does not have the running config"
    # random secrets carry on: a cookie handed out before the restart still validates
    k = c.key_status()
    assert (k.epoch, k.current_fingerprint) == (keys.epoch, keys.current_fingerprint)


def test_each_change_is_on_disk_when_the_call_returns(env_factory):
    env = boot_env(env_factory).start()
    c = env.client()
    runtime = env.state_dir / "runtime.json"
    c.set_policy("443", "proxy")
    assert [p["lo"] for p in json.loads(runtime.read_text())["policies"]] == [80, 443]
    c.set_limits(rexmtlimit=5)
    assert json.loads(runtime.read_text())["limits"]["rexmtlimit"] == 5
    c.delete_policy("80")
    assert [p["lo"] for p in json.loads(runtime.read_text())["policies"]] == [443]
    c.apply_config('[[policy]]\nports = "25"\nmode = "drop"\n', "new.toml")
    d = json.loads(runtime.read_text())
    assert [p["lo"] for p in d["policies"]] == [25] and d["limits"]["rexmtlimit"] == 3
    # with the boot file's values beside them, which the next start compares
    assert [p["lo"] for p in d["boot"]["policies"]] == [80] and \
        d["boot"]["limits"]["rexmtlimit"] == 2
    c.set_key_schedule(interval=120)
    assert json.loads((env.state_dir / "keys.json").read_text())["interval"] == 120


def test_durable_writes_flush_the_file_and_its_directory(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.readlink("/proc/self/fd/%d" % fd))
        real_fsync(fd)
    monkeypatch.setattr(os, "fsync", fsync)
    target = tmp_path / "state.json"
    target.write_text("old\n")
    durable.write_atomic(target, b"new\n", 0o640)
    assert target.read_text() == "new\n" and oct(target.stat().st_mode & 0o777) == "0o640"
    assert len(synced) == 2 and synced[0].startswith(str(tmp_path / ".state.json.")) and \
        synced[1] == str(tmp_path), synced
    # a write that fails leaves the old file whole, and no temporary file behind
    monkeypatch.setattr(os, "replace", lambda a, b: (_ for _ in ()).throw(
        OSError(errno.EIO, "I/O error")))
    with pytest.raises(OSError):
        durable.write_atomic(target, b"newer\n")
    assert target.read_text() == "new\n" and os.listdir(tmp_path) == ["state.json"]


def test_a_change_that_cannot_be_saved_is_undone_and_refused(env_factory, monkeypatch):
    env = boot_env(env_factory).start()
    c = env.client()
    before = (view(c), dp_config(env))
    real = durable.write_atomic

    def full_disk(path, data, *a, **kw):
        if path.name in ("runtime.json", "keys.json"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, data, *a, **kw)
    monkeypatch.setattr(durable, "write_atomic", full_disk)
    for call in (lambda: c.set_policy("443", "proxy"), lambda: c.set_limits(rexmtlimit=1),
                 lambda: c.apply_config('[[policy]]\nports = "25"\nmode = "drop"\n'),
                 lambda: c.set_key_schedule(interval=30), lambda: c.rotate_keys()):
        with pytest.raises(SynwallError) as ei:
            call()
        e = ei.value
        assert e.code == "FAILED_PRECONDITION", repr(e)
        assert "No space left on device" in e.message and ("undone" in e.message or
                                                          "nothing was changed" in e.message)
    assert (view(c), dp_config(env)) == before, "a change that was not saved stayed"
    monkeypatch.undo()
    c.set_policy("443", "proxy")  # and once the disk has room again, changes are taken


BAD_STATES = [
    ("not JSON", b"{\"limits\": "),
    ("empty", b""),
    ("not UTF-8", b"\xff\xfe\x00junk"),
    ("a limit out of range", json.dumps({"limits": {"rexmtlimit": 99}, "policies": []})),
    ("an unknown limit", json.dumps({"limits": {"rexmtlimt": 1}, "policies": []})),
    ("a mode that does not exist", json.dumps({"limits": {}, "policies": [
        {"lo": 443, "hi": 443, "mode": "shield"}]})),
    ("a backwards range", json.dumps({"limits": {}, "policies": [
        {"lo": 443, "hi": 80, "mode": "proxy"}]})),
    ("a bad base", json.dumps({"limits": {}, "policies": [], "boot": {"limits": []}})),
    ("a list", b"[]"),
]


@pytest.mark.parametrize("content", [b for _, b in BAD_STATES], ids=[n for n, _ in BAD_STATES])
def test_a_corrupt_runtime_state_is_refused_in_one_line(env_factory, caplog, content):
    env = boot_env(env_factory).start()
    env.client().set_policy("443", "proxy")
    env.stop_all()
    runtime = env.state_dir / "runtime.json"
    runtime.write_bytes(content.encode() if isinstance(content, str) else content)
    caplog.clear()
    caplog.set_level(logging.INFO, logger="synwalld")
    env.start()  # no crash
    errors = synwalld_log(caplog, logging.ERROR)
    assert len(errors) == 1, [r.getMessage() for r in errors]
    msg = errors[0].getMessage()
    assert msg.startswith("%s: refused (" % runtime) and "\n" not in msg, msg
    assert msg.endswith("the boot file's runtime config applies; it is kept as "
                        "runtime.json.corrupt"), msg
    assert (env.state_dir / "runtime.json.corrupt").read_bytes() == (
        content.encode() if isinstance(content, str) else content)
    c = env.client()
    assert view(c)[:2] == ([("80", "proxy", None)], (10240, 2, 1460)), "not the boot file alone"
    # the running config is saved again, whole
    assert [p["lo"] for p in json.loads(runtime.read_text())["policies"]] == [80]


def test_a_corrupt_key_state_is_refused_in_one_line(env_factory, caplog):
    env = boot_env(env_factory).start()
    env.client().set_key_schedule(interval=60)
    env.stop_all()
    keys = env.state_dir / "keys.json"
    keys.write_text('{"interval": 60, "current": "zz"}')
    caplog.set_level(logging.INFO, logger="synwalld")
    env.start()
    errors = synwalld_log(caplog, logging.ERROR)
    assert [r.getMessage() for r in errors] == [
        "%s: refused (no 'epoch'): new secrets, on the boot file's key schedule; it is kept "
        "as keys.json.corrupt" % keys], [r.getMessage() for r in errors]
    assert env.client().key_status().rotation_interval_s == 3600  # the boot file's


EDITED = """
[limits]
rexmtlimit = 4
[[policy]]
ports = "80"
mode = "drop"
[[policy]]
ports = "8080"
mode = "cookie"
profile = { mss = 1400 }
[keys]
rotation_interval = 600
"""


@pytest.mark.parametrize("attached", [False, True], ids=["cold start", "re-attach"])
def test_a_boot_file_value_edited_since_the_save_wins_and_is_logged(env_factory, caplog,
                                                                    attached):
    env = boot_env(env_factory).start()
    c = env.client()
    c.set_policy("80", "cookie")  # a runtime change the boot-file edit below overrides
    c.set_policy("443", "proxy")  # a runtime change the boot file leaves alone
    c.set_limits(rexmtlimit=1, mss=1400)
    c.set_key_schedule(interval=60)
    env.stop_controller() if attached else env.stop_all()

    # the boot file's keys section is the harness's [keys]; the edit replaces it
    env.config_text = env.config_text.replace("[keys]\nrotation_interval = 3600\n", "")
    edit_boot(env, EDITED)
    caplog.set_level(logging.INFO, logger="synwalld")
    env.start()
    assert env.ctl.attached == attached
    c = env.client()
    assert view(c) == ([("80", "drop", None), ("443", "proxy", None), ("8080", "cookie", 1400)],
                       (10240, 4, 1400), 600)
    # the dataplane runs it (re-attached: the edited policy was applied to it)
    assert dp_config(env) == model.canonical_dp_config(
        model.to_dp_config(env.ctl.runtime, env.ctl.start_limits))
    assert [(r.lo, r.mode) for r in env.dp_link().get_config().ports] == [
        (80, 3), (443, 1), (8080, 2)]
    notes = [r.getMessage() for r in synwalld_log(caplog, logging.WARNING)]
    assert notes == [
        "limits.rexmtlimit: the boot file has 4, 2 when the runtime state was saved: the boot "
        "file's value applies (the runtime value 1 is dropped)",
        "policy 80: the boot file has drop, proxy when the runtime state was saved: the boot "
        "file's value applies (the runtime value cookie is dropped)",
        "policy 8080: the boot file has cookie (mss 1400), pass when the runtime state was "
        "saved: the boot file's value applies",
        "keys.rotation_interval: the boot file has 600 s, 3600 s when the runtime state was "
        "saved: the boot file's value applies (the runtime value 60 s is dropped)"], notes

    # measured against the edited boot file from now on: the next start changes nothing
    c.set_policy("22", "proxy")
    env.stop_all()
    caplog.clear()
    env.start()
    assert [p.ports for p in env.client().policies()] == ["22", "80", "443", "8080"]
    assert synwalld_log(caplog, logging.WARNING) == []


def test_saved_changes_that_do_not_fit_the_edited_boot_file_give_way_whole(env_factory,
                                                                           caplog):
    env = boot_env(env_factory).start()
    c = env.client()
    c.set_limits(cachelimit=5000)
    c.set_policy("443", "proxy")
    env.stop_all()
    # hashsize 256 x bucketlimit 10: a cachelimit of 5000 does not fit
    env.config_text = env.config_text.replace("hashsize = 1024", "hashsize = 256")
    edit_boot(env, BOOT)
    caplog.set_level(logging.INFO, logger="synwalld")
    env.start()
    c = env.client()
    assert view(c)[:2] == ([("80", "proxy", None)], (2560, 2, 1460)), "half of a merge applied"
    msgs = [r.getMessage() for r in synwalld_log(caplog, logging.WARNING)]
    assert len(msgs) == 1 and "limits.cachelimit: 5000 is out of range: 1..2560" in msgs[0] \
        and msgs[0].endswith("the boot file's runtime config applies"), msgs


def test_a_state_saved_without_the_boot_files_values_applies_as_saved(env_factory):
    env = boot_env(env_factory).start()
    env.stop_all()
    (env.state_dir / "runtime.json").write_text(json.dumps(
        {"limits": {"rexmtlimit": 7}, "policies": [{"lo": 25, "hi": 25, "mode": "drop"}]}))
    env.start()
    assert view(env.client())[:2] == ([("25", "drop", None)], (10240, 7, 1460))


def test_the_config_version_never_goes_backwards(env_factory):
    env = boot_env(env_factory).start()
    c = env.client()
    seen = [c.status().config_version]

    def later():
        v = c.status().config_version
        assert v > seen[-1], "config version %d after %d" % (v, seen[-1])
        seen.append(v)
    for port in range(1000, 1010):
        c.set_policy(str(port), "proxy")
    later()
    env.stop_all()  # a new dataplane counts from 1
    env.start()
    c = env.client()
    later()
    v = c.apply_config('[[policy]]\nports = "25"\nmode = "drop"\n')
    assert v == c.status().config_version > seen[-1]
    seen.append(v)
    env.stop_controller()  # re-attach: the same dataplane counts on
    env.start()
    c = env.client()
    assert c.status().config_version >= seen[-1]
    c.set_policy("26", "drop")
    later()
    os.kill(env.dp_pid(), signal.SIGKILL)  # the supervisor starts a new one
    assert wait_for(lambda: c.status().dataplane_restarts == 1 and
                    c.status().dataplane_running, 20)
    later()
    assert json.loads((env.state_dir / "version.json").read_text())["high"] >= seen[-1]
