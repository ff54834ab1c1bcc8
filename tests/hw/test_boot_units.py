"""Appliance boot: hw/install.sh into a staging root, twice; the installed units checked by
`systemd-analyze verify`; the installed config checked by the installed controller; the
units' command lines run (with --check / --dry-run) against the installed tools."""

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.hw.hwfixtures import DP_BIN, REPO, FakeHost

INSTALL = REPO / "hw" / "install.sh"
UNITS = ("synwall.service", "synwall-prepare.service")


def install(root, *args, check=True):
    r = subprocess.run(["bash", str(INSTALL), "--root", str(root), *args],
                       capture_output=True, text=True, timeout=300)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def snapshot(root: Path) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            st = p.lstat()
            if p.is_symlink():
                out[str(p)] = ("link", os.readlink(p))
            elif p.is_file():
                out[str(p)] = ("file", st.st_mode, st.st_mtime_ns, p.read_bytes())
            else:
                out[str(p)] = ("dir", st.st_mode)
    return out


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """One full install (with the controller's virtualenv) shared by the tests below."""
    if not DP_BIN.exists():
        pytest.fail("%s is not built: run scripts/setup.sh" % DP_BIN)
    if not Path("/usr/bin/python3").exists():
        pytest.fail("/usr/bin/python3 missing (Debian package python3)")
    # A copy: the build may be redone while the tests run, and the second install must see
    # the same binary as the first.
    dp = tmp_path_factory.mktemp("dp") / "synwall-dp"
    shutil.copy2(DP_BIN, dp)
    root = tmp_path_factory.mktemp("root")
    r = install(root, "--dp", str(dp))
    return root, r.stdout, dp


def unit_text(root, name):
    return (root / "etc/systemd/system" / name).read_text()


def unit_value(text, key):
    vals = [ln.split("=", 1)[1] for ln in text.splitlines() if ln.startswith(key + "=")]
    assert len(vals) == 1, (key, vals)
    return vals[0]


# --- install.sh ---------------------------------------------------------------------------------

def test_install_lays_out_the_appliance(staged):
    root, out, dp = staged
    for rel in ("usr/local/bin/synwall-dp", "usr/local/sbin/synwall-hwcheck",
                "usr/local/sbin/synwall-prepare-host", "usr/local/bin/synwalld",
                "usr/local/bin/synwallctl", "usr/local/lib/synwall/hw/check.py",
                "usr/local/lib/synwall/hw/nics.toml"):
        p = root / rel
        assert p.exists(), rel
        if "bin/" in rel:
            assert os.access(p, os.X_OK), rel
    assert (root / "usr/local/bin/synwall-dp").read_bytes() == dp.read_bytes()
    assert os.readlink(root / "usr/local/bin/synwalld") == "../lib/synwall/venv/bin/synwalld"
    cfg = root / "etc/synwall/synwall.toml"
    assert cfg.read_text() == (REPO / "hw/synwall.toml").read_text()
    assert oct(cfg.stat().st_mode & 0o777) == "0o640"
    for u in UNITS:
        assert unit_text(root, u) == (REPO / "hw/systemd" / u).read_text()
        assert "installed  %s" % (root / "etc/systemd/system" / u) in out


def test_second_install_changes_nothing(staged):
    root, _, dp = staged
    before = snapshot(root)
    r = install(root, "--dp", str(dp))
    assert snapshot(root) == before, "a second run rewrote files"
    lines = r.stdout.strip().splitlines()
    assert lines[-1] == "synwall: everything was already installed", r.stdout
    assert all(ln.split()[0] in ("unchanged", "kept") for ln in lines[:-1]), r.stdout
    assert any(ln.startswith("unchanged") and "venv" in ln for ln in lines)


def test_operator_config_is_never_overwritten(tmp_path):
    root = tmp_path / "root"
    (root / "etc/synwall").mkdir(parents=True)
    mine = '[dataplane]\noutside = "0000:05:00.0"\ninside = "0000:05:00.1"\n'
    (root / "etc/synwall/synwall.toml").write_text(mine)
    r = install(root, "--no-controller")
    assert (root / "etc/synwall/synwall.toml").read_text() == mine
    assert "kept       %s" % (root / "etc/synwall/synwall.toml") in r.stdout
    # but a changed unit is replaced by the packaged one
    unit = root / "etc/systemd/system/synwall.service"
    unit.write_text(unit.read_text().replace("Restart=on-failure", "Restart=no"))
    r = install(root, "--no-controller")
    assert "installed  %s" % unit in r.stdout
    assert "Restart=on-failure" in unit.read_text()


def test_prefix_is_carried_into_units_and_config(tmp_path):
    root = tmp_path / "root"
    install(root, "--no-controller", "--prefix", "/opt/synwall")
    svc = unit_text(root, "synwall.service")
    assert unit_value(svc, "ExecStart").startswith("/opt/synwall/bin/synwalld ")
    prep = unit_text(root, "synwall-prepare.service")
    assert unit_value(prep, "ExecStart").startswith("/opt/synwall/sbin/synwall-prepare-host ")
    assert 'binary = "/opt/synwall/bin/synwall-dp"' in \
        (root / "etc/synwall/synwall.toml").read_text()
    assert (root / "opt/synwall/bin/synwall-dp").exists()
    assert not (root / "usr/local").exists()
    r = install(root, "--prefix", "relative", check=False)
    assert r.returncode == 2 and "--prefix must be absolute" in r.stderr


def test_enable_makes_synwall_require_prepare(tmp_path):
    if shutil.which("systemctl") is None:
        pytest.skip("systemctl not installed (Debian package systemd)")
    root = tmp_path / "root"
    install(root, "--no-controller", "--enable")
    etc = root / "etc/systemd/system"
    assert (etc / "multi-user.target.wants/synwall.service").is_symlink()
    assert (etc / "synwall.service.requires/synwall-prepare.service").is_symlink()


# --- systemd-analyze verify -----------------------------------------------------------------------

VERIFY_NOISE = re.compile(r"Unknown|ignoring|Failed|not executable|Invalid|Missing|"
                          r"bad-setting|[Nn]ot found|deprecated|Cannot|error", re.I)


def verify(root, unit_paths):
    """systemd-analyze verify with the staged PREFIX bind-mounted over /usr/local in a private
    mount namespace, so that the units' ExecStart= paths are the installed files (verify
    checks them on the running system's tree). Returns (rc, output)."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not installed (Debian package systemd)")
    if os.geteuid() != 0:
        pytest.skip("needs root for a private mount namespace (unshare -m)")
    script = "mount --bind %s /usr/local && exec systemd-analyze verify %s" % (
        shlex.quote(str(root / "usr/local")), " ".join(shlex.quote(str(p)) for p in unit_paths))
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True,
                       timeout=120)
    return r.returncode, r.stdout + r.stderr


def test_installed_units_pass_systemd_analyze_verify(staged):
    root = staged[0]
    rc, out = verify(root, [root / "etc/systemd/system" / u for u in UNITS])
    assert rc == 0, out
    assert not VERIFY_NOISE.search(out), out


def test_verify_would_catch_a_broken_unit(staged, tmp_path):
    """The check above is not blind: a misspelt key and a missing program are reported."""
    root = staged[0]
    bad = tmp_path / "synwall.service"
    bad.write_text(unit_text(root, "synwall.service")
                   .replace("KillMode=process", "KillMod=process")
                   .replace("/usr/local/bin/synwalld", "/usr/local/bin/synwalld-nope"))
    rc, out = verify(root, [bad])
    assert "Unknown key 'KillMod'" in out or "Unknown key name 'KillMod'" in out, out
    assert "synwalld-nope" in out and rc != 0, out


def test_units_say_what_the_appliance_needs():
    svc = (REPO / "hw/systemd/synwall.service").read_text()
    assert unit_value(svc, "ExecStart") == \
        "/usr/local/bin/synwalld --config /etc/synwall/synwall.toml --stop-dataplane"
    assert unit_value(svc, "Restart") == "on-failure"
    assert unit_value(svc, "RestartPreventExitStatus") == "2"     # bad config: no loop
    assert unit_value(svc, "StandardError") == "journal"
    # The dataplane outlives a controller crash (synwalld re-attaches): systemd must not kill
    # the cgroup when synwalld dies, nor remove /run/synwall between restarts.
    assert unit_value(svc, "KillMode") == "process"
    assert unit_value(svc, "RuntimeDirectory") == "synwall"
    assert unit_value(svc, "RuntimeDirectoryPreserve") == "restart"
    assert unit_value(svc, "StateDirectory") == "synwall"
    assert unit_value(svc, "LimitMEMLOCK") == "infinity"
    # systemd knows when synwalld serves, how to reload it, and watches the dataplane through
    # it (only the main process may say so: the dataplane must not)
    assert unit_value(svc, "Type") == "notify"
    assert unit_value(svc, "NotifyAccess") == "main"
    assert unit_value(svc, "ExecReload") == "/bin/kill -HUP $MAINPID"
    assert unit_value(svc, "WatchdogSec")
    prep = (REPO / "hw/systemd/synwall-prepare.service").read_text()
    assert unit_value(prep, "Type") == "oneshot"
    assert "synwall.service" in unit_value(prep, "Before")
    assert unit_value(prep, "RequiredBy") == "synwall.service"


EXPOSURE = re.compile(r"Overall exposure level for \S+: (\d+\.\d+)")


def exposure(unit: Path) -> float:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not installed (Debian package systemd)")
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", str(unit)],
                       capture_output=True, text=True, timeout=60)
    m = EXPOSURE.search(r.stdout)
    assert m, r.stdout + r.stderr
    return float(m.group(1))


def test_service_is_hardened(tmp_path):
    """systemd-analyze security rates the unit below 5 ("OK"), with the capabilities the
    dataplane needs and nothing else; a unit without the hardening rates far worse, so the
    measurement would see it go."""
    svc = REPO / "hw/systemd/synwall.service"
    assert exposure(svc) < 5.0
    caps = set(unit_value(svc.read_text(), "CapabilityBoundingSet").split())
    assert caps == {"CAP_IPC_LOCK", "CAP_SYS_ADMIN", "CAP_SYS_RAWIO", "CAP_NET_ADMIN",
                    "CAP_NET_RAW", "CAP_DAC_OVERRIDE", "CAP_CHOWN"}
    bare = tmp_path / "synwall.service"
    keep = ("[", "Description", "ExecStart", "Type", "KillMode", "WantedBy")
    bare.write_text("".join(line for line in svc.read_text().splitlines(keepends=True)
                            if line.startswith(keep)))
    assert exposure(bare) > 8.0


# --- the units' command lines against the installed programs ----------------------------------

def expand(cmdline, env):
    """systemd's expansion of ExecStart=: ${VAR} is one word, $VAR splits on whitespace."""
    words = []
    for w in shlex.split(cmdline):
        m = re.fullmatch(r"\$\{(\w+)\}", w)
        if m:
            words.append(env.get(m.group(1), ""))
            continue
        m = re.fullmatch(r"\$(\w+)", w)
        if m:
            words += env.get(m.group(1), "").split()
            continue
        words.append(w)
    return words


def read_env(path):
    env = {}
    for ln in Path(path).read_text().splitlines():
        ln = ln.strip()
        if ln and not ln.startswith("#"):
            k, v = ln.split("=", 1)
            env[k] = v.strip('"')
    return env


def test_installed_controller_accepts_the_unit_command_and_the_sample_config(staged):
    root = staged[0]
    argv = shlex.split(unit_value(unit_text(root, "synwall.service"), "ExecStart"))
    argv = [str(root) + a if a.startswith(("/usr/local/", "/etc/synwall/")) else a
            for a in argv]
    r = subprocess.run(argv + ["--check"], capture_output=True, text=True, timeout=60)
    cfg = root / "etc/synwall/synwall.toml"
    # --check also looks for what the config names on this host: the sample's NICs and the
    # installed binary at its real path (not the staging root's), which a build machine has
    # not; anything else it says is a fault of the config
    missing = ["synwalld: %s: dataplane.%s: PCI device %s is not present (no "
               "/sys/bus/pci/devices/%s)" % (cfg, k, dev, dev)
               for k, dev in (("outside", "0000:03:00.0"), ("inside", "0000:03:00.1"))
               if not Path("/sys/bus/pci/devices", dev).exists()]
    if not os.access("/usr/local/bin/synwall-dp", os.X_OK):
        missing.append("synwalld: %s: dataplane.binary: /usr/local/bin/synwall-dp is not an "
                       "executable file" % cfg)
    assert r.stderr.splitlines() == missing, r.stdout + r.stderr
    assert r.returncode == (1 if missing else 0), r.stdout + r.stderr
    assert r.stdout.strip() == ("" if missing else "%s: ok" % cfg)
    # and it is not a rubber stamp: a bad value is refused with exit 2 (no restart loop)
    bad = root / "etc/synwall/bad.toml"
    bad.write_text((root / "etc/synwall/synwall.toml").read_text()
                   .replace("hashsize = 4096", "hashsize = 4095"))
    r = subprocess.run([argv[0], "--config", str(bad), "--check"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "dataplane.hashsize" in r.stderr, r.stderr


def test_prepare_unit_command_runs_against_a_fixture_host(staged, tmp_path):
    """ExecStart= of synwall-prepare.service, expanded with the installed prepare.env, run
    with the installed wrapper (Debian's python3 and python3-pyelftools) in --dry-run on a
    fixture host whose ports are the sample config's."""
    root = staged[0]
    unit = unit_text(root, "synwall-prepare.service")
    env = {}
    for part in shlex.split(unit_value(unit, "Environment")):
        k, v = part.split("=", 1)
        env[k] = v
    env.update(read_env(root / "etc/synwall/prepare.env"))
    argv = expand(unit_value(unit, "ExecStart"), env)
    argv = [str(root) + a if a.startswith(("/usr/local/", "/etc/synwall/")) else a
            for a in argv]
    h = FakeHost(tmp_path / "host")
    h.add_pci("0000:00:03.0", 0x1AF4, 0x1000, driver="virtio-pci", ifname="eth0")
    h.add_default_route("eth0")
    h.add_pci("0000:03:00.0", 0x8086, 0x10FB, driver="ixgbe", ifname="enp3s0f0")
    h.add_pci("0000:03:00.1", 0x8086, 0x10FB, driver="ixgbe", ifname="enp3s0f1")
    r = subprocess.run(argv + ["--dry-run"] + h.args(), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "would reserve 1024 x 2048kB" in r.stdout
    assert "0000:03:00.0: would bind to uio_pci_generic (now ixgbe)" in r.stdout
    assert "0000:03:00.1: would bind to uio_pci_generic (now ixgbe)" in r.stdout
    # With the config's outside port on the default-route interface, boot refuses.
    cfg = root / "etc/synwall/synwall.toml"
    h2 = FakeHost(tmp_path / "host2")
    h2.add_pci("0000:03:00.0", 0x8086, 0x10FB, driver="ixgbe", ifname="eno1")
    h2.add_pci("0000:03:00.1", 0x8086, 0x10FB, driver="ixgbe", ifname="eno2")
    h2.add_default_route("eno1")
    r = subprocess.run(argv + ["--dry-run"] + h2.args(), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1
    assert "refusing to take 0000:03:00.0 (eno1)" in r.stdout
    assert cfg.exists()


def test_sample_config_parses_with_the_controllers_parser():
    from synwall import bootconfig
    boot = bootconfig.parse((REPO / "hw/synwall.toml").read_text(), "hw/synwall.toml",
                            REPO / "hw")
    d = boot.dataplane
    assert (d.outside, d.inside) == ("0000:03:00.0", "0000:03:00.1")
    assert bootconfig.eal_port_args(d.outside) == ["-a", "0000:03:00.0"]
    assert d.binary == "/usr/local/bin/synwall-dp"
    assert d.lcores == "1-3"
    assert boot.api.unix_socket == "/run/synwall/api.sock"
