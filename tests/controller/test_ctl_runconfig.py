"""The running config as a boot file: `synwallctl config show` prints one that, given to
synwalld, runs the same config (the round trip); `config save` writes it into the boot file
(the file's [dataplane] and [api] kept, the file before kept as FILE.bak, written whole);
`config diff` shows the boot file against it. Re-attaching to a running dataplane applies the
boot file's runtime edits and reports its start-time edits until the dataplane restarts."""

import json
import logging
import os
import shutil
import signal
import stat
import tomllib

import pytest

from synwall import bootconfig, cli, model, tomlwriter
from synwall.client import ServerProfile
from synwall.controller import Controller
from synwall.errors import FailedPrecondition, SynwallError
from tests.controller.ctlharness import wait_for

MASTER = "000102030405060708090a0b0c0d0e0f"
BOOT = """
[limits]
rexmtlimit = 2
[[policy]]
ports = "80"
mode = "proxy"
# an operator's comment
"""


def started(env_factory, kind="fake", boot=BOOT, **kw):
    env = env_factory(kind, **kw)
    env.config_path.write_text(env.config_text + boot)
    return env.start()


def ctl(capsys, env, *args, code=0):
    capsys.readouterr()
    rc = cli.main(["--socket", str(env.socket_path), *args])
    out, err = capsys.readouterr()
    assert rc == code, (args, rc, out, err)
    assert (err == "") == (code == 0), err
    return out if code == 0 else err


def changes(c):
    """Runtime changes of every kind: policies with profiles and idle timeouts, a pass port
    with a profile, limits, the key schedule."""
    c.set_policy("443", "proxy", idle_timeout=7200)
    c.set_policy("8000-8080", "cookie", ServerProfile(mss=1400, timestamps=False))
    c.set_policy("8050", "drop")
    c.set_policy("9000", "pass", ServerProfile(window_scaling=False))
    c.set_limits(cachelimit=5000, rexmtlimit=1, syncookies_only=True)
    c.set_key_schedule(interval=120, max_clock_skew=5)


def test_show_is_a_boot_file_that_runs_the_same_config(env_factory, capsys, dpkind):
    env = started(env_factory, dpkind, extra="idle_timeout = 600\nsource_prefix = [24, 56]\n")
    c = env.client()
    changes(c)
    shown = ctl(capsys, env, "config", "show")
    doc = tomllib.loads(shown)  # TOML
    assert doc["limits"]["cachelimit"] == 5000 and doc["keys"]["rotation_interval"] == 120
    assert doc["dataplane"]["idle_timeout"] == 600 and doc["dataplane"]["hashsize"] == 1024
    runtime, keys = env.ctl.runtime.copy(), c.key_status()
    assert json.loads(ctl(capsys, env, "--json", "config", "show"))["toml"] == shown

    # synwalld on that file alone, no saved state: the same running config
    env.stop_all()
    shutil.rmtree(env.state_dir)
    shown_file = env.workdir / "shown.toml"
    shown_file.write_text(shown)
    env.config_path = shown_file
    env.start()
    assert not env.ctl.attached
    assert env.ctl.runtime.limits == runtime.limits
    assert env.ctl.runtime.policies == runtime.policies
    k = env.client().key_status()
    assert (k.rotation_interval_s, k.max_clock_skew_s) == (keys.rotation_interval_s,
                                                           keys.max_clock_skew_s)
    assert ctl(capsys, env, "config", "show") == shown, "the round trip changed something"
    assert ctl(capsys, env, "config", "diff") == ""


def test_diff_shows_the_boot_file_against_the_running_config(env_factory, capsys):
    env = started(env_factory)
    assert ctl(capsys, env, "config", "diff") == ""
    c = env.client()
    c.set_policy("443", "cookie")
    c.set_limits(rexmtlimit=5)
    out = ctl(capsys, env, "config", "diff")
    lines = out.splitlines()
    assert lines[:2] == ["--- %s" % env.config_path, "+++ running"], lines
    changed = [ln for ln in lines[2:] if ln[:1] in "+-"]
    assert changed == ["-rexmtlimit = 2", "+rexmtlimit = 5", "+[[policy]]", '+ports = "443"',
                       '+mode = "cookie"', "+"], out
    data = json.loads(ctl(capsys, env, "--json", "config", "diff"))
    assert data == {"boot_file": str(env.config_path), "differs": True, "diff": out}
    # an edit of the boot file on disk shows too, before any restart
    env.config_path.write_text(env.config_path.read_text().replace('"80"', '"81"'))
    out = ctl(capsys, env, "config", "diff")
    assert '-ports = "81"' in out and '+ports = "80"' in out
    env.config_path.write_text("[limits\n")
    err = ctl(capsys, env, "config", "diff", code=1)
    assert err.startswith("synwallctl: the boot file does not load: %s: not valid TOML"
                          % env.config_path) and err.count("\n") == 1, err


def test_save_writes_the_running_config_into_the_boot_file(env_factory, capsys):
    env = started(env_factory)
    # the file as the operator wrote it: a relative path, a start-time edit not yet applied
    text = env.config_path.read_text().replace('state_dir = "%s"' % env.state_dir,
                                               'state_dir = "state"')
    text = text.replace("hashsize = 1024", "hashsize = 2048")
    env.config_path.write_text(text)
    env.config_path.chmod(0o640)
    c = env.client()
    changes(c)
    out = ctl(capsys, env, "config", "save")
    backup = env.config_path.with_name("synwall.toml.bak")
    assert out == "%s: the running config saved (config version %d); the file before is %s\n" \
        % (env.config_path, c.status().config_version, backup), out
    assert backup.read_text() == text and stat.S_IMODE(backup.stat().st_mode) == 0o640
    assert stat.S_IMODE(env.config_path.stat().st_mode) == 0o640
    saved = env.config_path.read_text()
    assert saved.startswith("# synwall boot config, written by `synwallctl config save` on ")
    assert "its comments are not kept" in saved and "an operator's comment" not in saved
    doc = tomllib.loads(saved)
    # the file's own [dataplane] and [api], as written
    assert doc["dataplane"] == tomllib.loads(text)["dataplane"]
    assert doc["dataplane"]["state_dir"] == "state" and doc["dataplane"]["hashsize"] == 2048
    assert doc["api"] == tomllib.loads(text)["api"]
    b = bootconfig.load(str(env.config_path))
    assert b.runtime.limits == env.ctl.runtime.limits
    assert b.runtime.policies == env.ctl.runtime.policies
    assert (b.keys.rotation_interval, b.keys.max_clock_skew, b.keys.master_secret) == (
        120, 5, None)
    # nothing left to diff but the start-time edit, which waits for a dataplane restart
    diff = [ln for ln in ctl(capsys, env, "config", "diff").splitlines()[2:] if ln[:1] in "+-"]
    assert diff == ["-hashsize = 2048", "+hashsize = 1024"], diff
    # and the next start measures the saved state against the saved file: nothing to say
    env.stop_controller()
    env.start()
    assert env.ctl.runtime.policies == b.runtime.policies


def test_save_keeps_a_master_secret_file_and_writes_one_set_through_the_api(env_factory,
                                                                           capsys):
    key_file = None

    def with_master_file(env):
        nonlocal key_file
        key_file = env.workdir / "master.key"
        key_file.write_text(MASTER + "\n")
        key_file.chmod(0o600)
        return 'master_secret_file = "%s"\n' % key_file
    env = env_factory("fake")
    keys = with_master_file(env)
    env.config_text = env.config_text.replace("[keys]\n", "[keys]\n" + keys)
    env.config_path.write_text(env.config_text + BOOT)
    env.start()
    shown = ctl(capsys, env, "config", "show")
    assert tomllib.loads(shown)["keys"]["master_secret_file"] == str(key_file)
    ctl(capsys, env, "config", "save")
    assert tomllib.loads(env.config_path.read_text())["keys"]["master_secret_file"] == \
        str(key_file)

    # a master secret set through the API: never shown, written inline by save, 0600
    other = bytes(range(16, 32))
    c = env.client()
    fp = c.set_key_schedule(master_secret=other).master_fingerprint
    for out in (ctl(capsys, env, "config", "show"), ctl(capsys, env, "config", "diff")):
        assert other.hex() not in out
        assert "# master_secret: not shown (fingerprint %s)" % fp in out, out
    env.config_path.chmod(0o644)
    ctl(capsys, env, "config", "save")
    doc = tomllib.loads(env.config_path.read_text())
    assert doc["keys"]["master_secret"] == other.hex() and "master_secret_file" not in doc["keys"]
    assert stat.S_IMODE(env.config_path.stat().st_mode) == 0o600, "a secret in a 0644 file"
    env.stop_all()
    env.start()
    assert env.client().key_status().master_fingerprint == fp


def test_save_refuses_a_boot_file_it_cannot_keep_and_writes_nothing(env_factory, capsys):
    env = started(env_factory)
    env.client().set_policy("443", "proxy")
    for text, why in (("[dataplane\n", "not valid TOML"),
                      ("[dataplane]\nhashsiz = 4\n", "dataplane.hashsiz: unknown key")):
        env.config_path.write_text(text)
        err = ctl(capsys, env, "config", "save", code=1)
        assert why in err and "nothing was written" in err and err.count("\n") == 1, err
        assert env.config_path.read_text() == text
        assert not env.config_path.with_name("synwall.toml.bak").exists()


def test_save_through_a_symbolic_link_writes_its_target(env_factory, capsys):
    env = env_factory("fake")
    real = env.workdir / "real.toml"
    real.write_text(env.config_text + BOOT)
    env.config_path.unlink()
    env.config_path.symlink_to(real)
    env.start()
    env.client().set_policy("443", "proxy")
    out = ctl(capsys, env, "--json", "config", "save")
    assert json.loads(out)["boot_file"] == str(real)
    assert env.config_path.is_symlink() and (env.workdir / "real.toml.bak").exists()
    assert '"443"' in real.read_text()


def test_save_with_no_boot_file_is_refused():
    ctl_ = Controller(bootconfig.parse(bootconfig.embedded_default()))
    with pytest.raises(FailedPrecondition) as ei:
        ctl_.save_config()
    assert "embedded default config" in ei.value.message


def test_a_toml_written_out_reads_back_the_same():
    doc = {"dataplane": {"eal": ["--vdev=net_pcap0,iface=\"x\"\\y", "\x7f\t"],
                         "start_timeout": 2.5, "lcores": "0-1", "hashsize": 4096},
           "policy": [{"ports": "80", "mode": "proxy",
                       "profile": {"mss": 1400, "sack": False}}, {"ports": "1-2", "mode": "drop"}],
           "api": {"odd key": "é", "admin_clients": []}}
    assert tomllib.loads(tomlwriter.dumps(doc, ["a header"])) == doc


# --- re-attaching to a running dataplane ---------------------------------------------------

def test_reattach_applies_runtime_edits_and_reports_start_time_edits(env_factory, capsys,
                                                                     caplog, dpkind):
    env = started(env_factory, dpkind)
    pid = env.dp_pid()
    env.stop_controller()
    text = env.config_path.read_text()
    text = text.replace("hashsize = 1024", "hashsize = 2048")
    if dpkind == "fake":  # (the real dataplane would need a core more to start with it)
        text = text.replace('lcores = "0-1"', 'lcores = "0-2"')
    text = text.replace('ports = "80"\nmode = "proxy"', 'ports = "80"\nmode = "cookie"')
    env.config_path.write_text(text)
    caplog.set_level(logging.INFO, logger="synwalld")
    env.start()
    assert env.ctl.attached and env.dp_pid() == pid
    # the edited policy runs in the dataplane; the sizes are the running dataplane's
    assert [(r.lo, r.mode) for r in env.dp_link().get_config().ports] == [(80, 2)]
    c = env.client()
    assert c.limits().hashsize == 1024
    pending = [("dataplane.hashsize", "1024", "2048")]
    if dpkind == "fake":
        pending.insert(0, ("dataplane.lcores", '"0-1"', '"0-2"'))
    assert [(p.key, p.running, p.boot) for p in c.status().restart_pending] == pending
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "dataplane.hashsize: the running dataplane has 1024, the boot file 2048: it takes " \
        "effect when the dataplane restarts" in warnings, warnings
    out = ctl(capsys, env, "status").splitlines()
    assert out[4] == "dataplane binary: %s" % env.boot().dataplane.binary, out
    assert out[5:] == ["waiting for a dataplane restart (boot-file edits of start-time "
                       "settings):"] + ["  %s: running %s, boot file %s" % p for p in pending]
    st = json.loads(ctl(capsys, env, "--json", "status"))
    assert st["restart_pending"] == [{"key": k, "running": r, "boot": b} for k, r, b in pending]
    assert st["dataplane_pid"] == pid and st["dataplane_running"]  # the fields scripts read
    assert "-hashsize = 2048\n+hashsize = 1024\n" in ctl(capsys, env, "config", "diff")
    # show is the running dataplane's (a boot file for what runs), save keeps the edit
    assert tomllib.loads(ctl(capsys, env, "config", "show"))["dataplane"]["hashsize"] == 1024
    ctl(capsys, env, "config", "save")
    assert tomllib.loads(env.config_path.read_text())["dataplane"]["hashsize"] == 2048

    if dpkind == "fake":
        # once the dataplane restarts, it runs the boot file's settings: nothing waits
        os.kill(pid, signal.SIGKILL)
        assert wait_for(lambda: c.status().dataplane_restarts == 1 and
                        c.status().dataplane_running, 20)
        assert c.status().restart_pending == [] and c.limits().hashsize == 2048
        assert "\nwaiting for" not in ctl(capsys, env, "status")


def test_reattach_without_edits_changes_nothing_and_reports_nothing(env_factory, caplog):
    env = started(env_factory)
    env.client().set_policy("443", "proxy")
    env.stop_controller()
    caplog.set_level(logging.INFO, logger="synwalld")
    env.start()
    assert env.ctl.attached and env.client().status().restart_pending == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert [p.ports for p in env.client().policies()] == ["80", "443"]


def test_reattach_compares_with_the_running_dataplane_for_a_config_from_the_api(env_factory):
    """A start-time key a config apply carries is compared with what runs, not with an edit
    of the boot file that waits for a restart."""
    env = started(env_factory)
    env.stop_controller()
    env.config_path.write_text(env.config_path.read_text().replace(
        'lcores = "0-1"', 'lcores = "0-2"'))
    env.start()
    c = env.client()
    c.apply_config('[dataplane]\nlcores = "0-1"\n[[policy]]\nports = "22"\nmode = "drop"\n')
    with pytest.raises(SynwallError) as ei:
        c.apply_config('[dataplane]\nlcores = "0-2"\n')
    assert ei.value.field == "dataplane.lcores" and "differs from the running '0-1'" in \
        ei.value.message
    assert model.Mode.DROP == env.ctl.runtime.policies.get(22)[0]
