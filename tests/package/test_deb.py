"""The Debian packages (docs/PACKAGE.md), built by scripts/package.sh from this tree, checked
by lintian, installed with apt into a fresh Debian 12 root made by mmdebstrap (their
dependencies resolved from Debian), run there, and purged.

The root is used through chroot in private mount and PID namespaces (`unshare`): its /proc and
/sys are mounted there only, every process started in it ends with the namespace, and no
systemd runs in it (the packages' maintainer scripts start nothing either way, and a
policy-rc.d refuses any start). The appliance's run is in a network namespace of its own too.
The root is deleted at the end, after checking that nothing is mounted under it.

Packages come from the host's Debian mirror (its apt sources); the .debs apt fetches are kept
in .cache/debian-archives, and the host's /var/cache/apt/archives is used read-only (hard
links), so that a second run downloads nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE_SH = REPO / "scripts" / "package.sh"
OUT = REPO / "build-deb"
CACHE = REPO / ".cache" / "debian-archives"
HOST_ARCHIVES = Path("/var/cache/apt/archives")
PACKAGES = ("synwall-dataplane", "synwall", "synwall-hwtools")
# The virtual ports the appliance runs on in the root (synwall-dataplane suggests them).
VIRTUAL_PORT_DRIVERS = ("librte-bus-vdev23", "librte-net-null23")
# Generated beside the packaging; the package must carry each one the tree has.
MANPAGES = {"docs/man/synwalld.8": "usr/share/man/man8/synwalld.8.gz",
            "docs/man/synwallctl.8": "usr/share/man/man8/synwallctl.8.gz",
            "docs/man/synwall.toml.5": "usr/share/man/man5/synwall.toml.5.gz"}
COMPLETIONS = ("docs/completion/synwallctl", "docs/completion/synwalld")
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8", "HOME": "/root",
       "DEBIAN_FRONTEND": "noninteractive"}


def run(argv: list[str], timeout: float, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)


def in_root(root: Path, *argv: str, timeout: float = 120, sysfs: bool = False,
            network: bool = True) -> subprocess.CompletedProcess[str]:
    """argv run in the root by chroot, in new mount and PID namespaces (proc, and sysfs if
    asked, mounted there only; the namespace's processes end with it), and without the host's
    network unless asked."""
    mounts = 'mount -t proc proc "$r/proc"; '
    if sysfs:
        mounts += 'mount -t sysfs sysfs "$r/sys"; '
    script = 'set -e; r=$1; shift; %sexec chroot "$r" "$@"' % mounts
    ns = ["unshare", "--mount", "--pid", "--fork", "--kill-child"]
    if not network:
        ns.append("--net")
    return run(ns + ["sh", "-c", script, "sh", str(root), *argv], timeout, env=ENV)


def host_debian_sources() -> list[str]:
    """The host's Debian apt sources, as one-line entries (mmdebstrap MIRROR arguments)."""
    lines = []
    etc = Path("/etc/apt")
    files = [etc / "sources.list"] + sorted((etc / "sources.list.d").glob("*.list"))
    for f in files:
        if f.is_file():
            lines += [ln.strip() for ln in f.read_text().splitlines()
                      if ln.strip().startswith("deb ") and "debian.org" in ln]
    for f in sorted((etc / "sources.list.d").glob("*.sources")):
        for stanza in re.split(r"\n\s*\n", f.read_text()):
            fields: dict[str, str] = {}
            for ln in stanza.splitlines():
                if ":" in ln and not ln.startswith(("#", " ")):
                    k, v = ln.split(":", 1)
                    fields[k.strip().lower()] = v.strip()
            if "deb" not in fields.get("types", "").split() or \
                    fields.get("enabled", "yes") == "no":
                continue
            opts = " [signed-by=%s]" % fields["signed-by"] if "signed-by" in fields else ""
            for uri in fields.get("uris", "").split():
                if "debian.org" not in uri:
                    continue
                for suite in fields.get("suites", "").split():
                    lines.append("deb%s %s %s %s" % (opts, uri, suite,
                                                     fields.get("components", "main")))
    return lines or ["deb http://deb.debian.org/debian bookworm main",
                     "deb http://deb.debian.org/debian bookworm-updates main",
                     "deb http://deb.debian.org/debian-security bookworm-security main"]


def seed_archives(dest: Path) -> None:
    """Hard links to the .debs already fetched (ours, then the host's) in dest: apt takes
    those whose size and hash are the ones it wants, and fetches the others."""
    dest.mkdir(parents=True, exist_ok=True)
    for src in (CACHE, HOST_ARCHIVES):
        for deb in src.glob("*.deb") if src.is_dir() else ():
            target = dest / deb.name
            if not target.exists():
                try:
                    os.link(deb, target)
                except OSError:
                    return  # another filesystem: apt fetches what it needs
    return


def keep_fetched(archives: Path) -> None:
    """The .debs apt fetched into archives (no other link to them), linked into CACHE."""
    CACHE.mkdir(parents=True, exist_ok=True)
    for deb in archives.glob("*.deb"):
        if deb.stat().st_nlink == 1 and not (CACHE / deb.name).exists():
            os.link(deb, CACHE / deb.name)


def mounts_under(root: Path) -> list[str]:
    prefix = str(root) + "/"
    with open("/proc/self/mountinfo") as f:
        points = [ln.split()[4] for ln in f]
    return [p for p in points if p == str(root) or p.startswith(prefix)]


def expected_unit(name: str) -> str:
    return (REPO / "hw/systemd" / name).read_text().replace("/usr/local", "/usr")


# --- the packages ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def debs() -> dict[str, Path]:
    """scripts/package.sh: built from this tree, or found already built from it in build-deb/."""
    if shutil.which("dpkg-buildpackage") is None or shutil.which("lintian") is None:
        pytest.fail("dpkg-dev or lintian missing: run scripts/setup.sh")
    r = run(["bash", str(PACKAGE_SH)], timeout=2400)
    if not (OUT / "lintian.txt").exists():
        pytest.fail("scripts/package.sh did not build the packages:\n%s%s"
                    % (r.stdout, r.stderr[-4000:]))
    found = {}
    for pkg in PACKAGES:
        hits = sorted(OUT.glob("%s_*.deb" % pkg))
        assert len(hits) == 1, (pkg, hits)
        found[pkg] = hits[0]
    return found


def test_lintian_reports_no_errors_or_warnings(debs: dict[str, Path]) -> None:
    report = (OUT / "lintian.txt").read_text()
    bad = [ln for ln in report.splitlines() if ln.startswith(("E: ", "W: "))]
    assert bad == [], "\n".join(bad)


def test_versions_agree(debs: dict[str, Path]) -> None:
    """The packages carry the version the dataplane and the controller call themselves."""
    meson = re.search(r"version: '([^']+)'", (REPO / "meson.build").read_text())
    pyctl = re.search(r'^version = "([^"]+)"', (REPO / "pyctl/pyproject.toml").read_text(),
                      re.M)
    assert meson and pyctl
    for pkg, deb in debs.items():
        v = run(["dpkg-deb", "-f", str(deb), "Version"], 30).stdout.strip()
        assert v == meson.group(1) == pyctl.group(1), (pkg, v)


def test_maintainer_scripts_start_and_restart_nothing(debs: dict[str, Path],
                                                      tmp_path: Path) -> None:
    """An upgrade leaves a running appliance alone, an install starts nothing and enables
    nothing; only removing synwall stops synwall.service."""
    for pkg, deb in debs.items():
        ctl = tmp_path / pkg
        run(["dpkg-deb", "-e", str(deb), str(ctl)], 30).check_returncode()
        for script in ("preinst", "postinst", "prerm", "postrm"):
            p = ctl / script
            text = p.read_text() if p.exists() else ""
            invokes = re.findall(r"deb-systemd-invoke (\S+)", text)
            if pkg == "synwall" and script == "prerm":
                assert invokes == ["stop"], invokes
                assert '"$1" = remove' in text
            else:
                assert invokes == [], (pkg, script, invokes)
            assert not re.search(r"systemctl (?!--system daemon-reload)", text), (pkg, script)


# --- a fresh Debian 12 with them ------------------------------------------------------------

@pytest.fixture(scope="module")
def root(debs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[dict[str, object]]:
    if os.geteuid() != 0:
        pytest.skip("needs root: mmdebstrap's root mode, chroot, unshare")
    if shutil.which("mmdebstrap") is None:
        pytest.fail("mmdebstrap missing: run scripts/setup.sh")
    base = tmp_path_factory.mktemp("debroot")
    rootdir = base / "root"
    archives = "/var/cache/apt/archives"
    CACHE.mkdir(parents=True, exist_ok=True)
    # seed_archives and keep_fetched for mmdebstrap's own apt (its hooks are shell)
    seed = 'mkdir -p "$1%s" && for d in %s %s; do find "$d" -maxdepth 1 -name "*.deb" ' \
        '-exec cp -l -n -t "$1%s" {} + 2>/dev/null || true; done' % (
            archives, CACHE, HOST_ARCHIVES, archives)
    keep = 'find "$1%s" -maxdepth 1 -name "*.deb" -links 1 -exec cp -l -n -t %s {} +' % (
        archives, CACHE)
    r = run(["mmdebstrap", "--variant=apt", "--mode=root", "--format=directory",
             "--skip=essential/unlink", "--skip=cleanup/apt/lists",
             "--aptopt=Acquire::Languages \"none\"",
             "--setup-hook=" + seed, "--customize-hook=" + keep,
             "bookworm", str(rootdir), *host_debian_sources()], timeout=600, env=ENV)
    assert r.returncode == 0, r.stderr[-4000:]
    try:
        # No service may start in the root, whatever a maintainer script asks.
        rc = rootdir / "usr/sbin/policy-rc.d"
        rc.write_text("#!/bin/sh\nexit 101\n")
        rc.chmod(0o755)
        (rootdir / "tmp/debs").mkdir()
        for deb in debs.values():
            shutil.copy2(deb, rootdir / "tmp/debs" / deb.name)
        seed_archives(rootdir / archives.lstrip("/"))
        r = in_root(rootdir, "apt-get", "install", "-y", "--no-install-recommends",
                    *("/tmp/debs/" + d.name for d in debs.values()), *VIRTUAL_PORT_DRIVERS,
                    timeout=600)
        keep_fetched(rootdir / archives.lstrip("/"))
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        files = in_root(rootdir, "dpkg-query", "-L", *PACKAGES, timeout=60)
        assert files.returncode == 0, files.stderr
        shutil.rmtree(rootdir / "tmp/debs")
        yield {"dir": rootdir, "apt": r.stdout, "files": files.stdout.split("\n")}
    finally:
        left = mounts_under(rootdir)
        assert left == [], "not deleting %s: mounted under it: %s" % (rootdir, left)
        shutil.rmtree(base)


def test_apt_installs_them_with_their_dependencies_from_debian(root: dict[str, object]
                                                                ) -> None:
    rootdir = root["dir"]
    assert isinstance(rootdir, Path)
    r = in_root(rootdir, "dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}\n",
                *PACKAGES, "librte-eal23", "librte-mempool-ring23", "librte-net-ixgbe23",
                "python3", "python3-pyelftools", "procps")
    status = dict(ln.split(None, 1) for ln in r.stdout.splitlines())
    assert all(s.strip() == "ii" for s in status.values()), status
    # and none of the units is enabled, none started
    etc = rootdir / "etc/systemd/system"
    assert sorted(str(p) for p in etc.rglob("synwall*")) == []


def test_installed_files(root: dict[str, object]) -> None:
    rootdir = root["dir"]
    assert isinstance(rootdir, Path)
    units = rootdir / "lib/systemd/system"
    for name in ("synwall.service", "synwall-prepare.service"):
        text = (units / name).read_text()
        assert text == expected_unit(name), name
        assert "/usr/local" not in text
    svc = (units / "synwall.service").read_text()
    assert "ExecStart=/usr/bin/synwalld --config /etc/synwall/synwall.toml" in svc
    assert "ExecStart=/usr/sbin/synwall-prepare-host " in \
        (units / "synwall-prepare.service").read_text()
    # the boot config and prepare.env: conffiles, as the tree has them with the prefix /usr
    info = rootdir / "var/lib/dpkg/info"
    assert (info / "synwall.conffiles").read_text().split() == ["/etc/synwall/synwall.toml"]
    assert (info / "synwall-hwtools.conffiles").read_text().split() == \
        ["/etc/synwall/prepare.env"]
    cfg = rootdir / "etc/synwall/synwall.toml"
    assert cfg.read_text() == (REPO / "hw/synwall.toml").read_text().replace(
        "/usr/local", "/usr")
    assert 'binary = "/usr/bin/synwall-dp"' in cfg.read_text()
    assert oct(cfg.stat().st_mode & 0o777) == "0o640"
    # the units' Documentation= is a file of the package, uncompressed
    assert (rootdir / "usr/share/doc/synwall/README.md").is_file()
    for src, page in MANPAGES.items():
        if (REPO / src).exists():
            assert (rootdir / page).is_file(), page
    for name in ("synwall-dp", "synwall-hwcheck", "synwall-prepare-host"):
        assert (rootdir / "usr/share/man/man8" / (name + ".8.gz")).is_file(), name
    for src in COMPLETIONS:
        if (REPO / src).exists():
            comp = rootdir / "usr/share/bash-completion/completions" / Path(src).name
            assert comp.read_text() == (REPO / src).read_text(), comp
    # the private modules, byte-compiled by the postinst
    assert list((rootdir / "usr/lib/synwall/python/synwall/__pycache__").glob("daemon.*.pyc"))
    for prog in ("usr/bin/synwalld", "usr/bin/synwallctl", "usr/bin/synwall-dp",
                 "usr/sbin/synwall-hwcheck", "usr/sbin/synwall-prepare-host"):
        assert os.access(rootdir / prog, os.X_OK), prog


def test_synwalld_check_passes_on_virtual_ports(root: dict[str, object]) -> None:
    rootdir = root["dir"]
    assert isinstance(rootdir, Path)
    shipped = (rootdir / "etc/synwall/synwall.toml").read_text()
    (rootdir / "root/null.toml").write_text(
        shipped.replace('"0000:03:00.0"', '"net_null0"').replace('"0000:03:00.1"',
                                                                 '"net_null1"'))
    r = in_root(rootdir, "synwalld", "--config", "/root/null.toml", "--check")
    assert (r.returncode, r.stdout, r.stderr) == (0, "/root/null.toml: ok\n", "")
    # the shipped config as it is: only its sample PCI ports are not on this machine
    r = in_root(rootdir, "synwalld", "--check")
    assert r.returncode == 1, r.stdout + r.stderr
    keys = re.findall(r"dataplane\.(\w+): ", r.stderr)
    assert keys == ["outside", "inside"], r.stderr
    r = in_root(rootdir, "synwallctl", "--help")
    assert r.returncode == 0 and "synwallctl" in r.stdout, r.stderr


def test_synwall_dp_tells_its_layout_and_options(root: dict[str, object]) -> None:
    rootdir = root["dir"]
    assert isinstance(rootdir, Path)
    r = in_root(rootdir, "synwall-dp", "--state-layout")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"synwall-dp state layout \d+ fingerprint [0-9a-f]{8}\n", r.stdout)
    r = in_root(rootdir, "synwall-dp", "--", "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: synwall-dp "), r.stderr


def test_host_tools_run_on_debians_python(root: dict[str, object]) -> None:
    """The wrappers find their modules in /usr/lib/synwall/hw, and pyelftools in Debian's."""
    rootdir = root["dir"]
    assert isinstance(rootdir, Path)
    for prog in ("synwall-hwcheck", "synwall-prepare-host"):
        r = in_root(rootdir, prog, "--help")
        assert r.returncode == 0 and r.stdout.startswith("usage: %s " % prog), r.stderr
    r = in_root(rootdir, "python3", "-c", "import sys; sys.path.insert(0, '/usr/lib/synwall'); "
                "import hw.pmdinfo, elftools; print(elftools.__file__)")
    assert r.stdout.startswith("/usr/lib/python3/dist-packages/elftools/"), r.stderr


RUN_CONFIG = """\
[dataplane]
eal = ["--no-pci", "--no-huge", "-m", "512"]
lcores = "0-1"
outside = "net_null0"
inside = "net_null1"
hashsize = 1024
bucketlimit = 10
flows = 4096
file_prefix = "swpkgtest"
start_timeout = 60

[api]
unix_socket = "/run/synwall/api.sock"
"""

# synwalld as synwall.service runs it, until synwallctl sees the dataplane running, then
# stopped as systemd stops it (SIGTERM; --stop-dataplane stops the dataplane too).
RUN_SCRIPT = """\
mkdir -p -m 0750 /run/synwall /var/lib/synwall
synwalld --config /root/run.toml --stop-dataplane 2>/root/synwalld.log &
pid=$!
for i in $(seq 1 120); do
    if synwallctl status >/root/status.txt 2>&1 && grep -q '^dataplane: running' /root/status.txt
    then
        break
    fi
    kill -0 $pid 2>/dev/null || break
    sleep 0.5
done
cat /root/status.txt
kill -TERM $pid
wait $pid
echo "synwalld exit $?"
"""


def test_the_appliance_runs_on_virtual_ports(root: dict[str, object]) -> None:
    """synwalld starts the packaged synwall-dp on net_null ports with only the drivers the
    packages depend on (and net_null): EAL loads every driver installed, so a missing
    dependency of one shows here."""
    rootdir = root["dir"]
    assert isinstance(rootdir, Path)
    (rootdir / "root/run.toml").write_text(RUN_CONFIG)
    r = in_root(rootdir, "sh", "-c", RUN_SCRIPT, timeout=180, sysfs=True, network=False)
    log = (rootdir / "root/synwalld.log").read_text()
    assert "dataplane: running, pid" in r.stdout, r.stdout + log
    assert "ports: outside net_null0, inside net_null1" in r.stdout, r.stdout
    assert r.stdout.rstrip().endswith("synwalld exit 0"), r.stdout + log
    for f in ("run.toml", "synwalld.log", "status.txt"):
        (rootdir / "root" / f).unlink()
    # EAL's runtime files, not the packages'
    shutil.rmtree(rootdir / "run/dpdk", ignore_errors=True)


def test_purge_leaves_nothing_of_theirs(root: dict[str, object]) -> None:
    rootdir = root["dir"]
    assert isinstance(rootdir, Path)
    (rootdir / "root/null.toml").unlink(missing_ok=True)
    # what the programs write besides the packages' files: the backup `synwallctl config
    # save` leaves, synwall-prepare-host's port names, the controller's state
    (rootdir / "etc/synwall/synwall.toml.bak").write_text("# a saved config\n")
    state = rootdir / "var/lib/synwall"
    state.mkdir(exist_ok=True)
    (state / "ports.json").write_text("{}\n")
    (state / "runtime.json").write_text("{}\n")
    r = in_root(rootdir, "apt-get", "purge", "-y", *PACKAGES, timeout=300, network=False)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    r = in_root(rootdir, "dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}\n",
                *PACKAGES)
    assert all(ln.split()[1:] in ([], ["un"]) for ln in r.stdout.splitlines()), r.stdout
    # every path they had is gone, but directories other packages have too
    files = root["files"]
    assert isinstance(files, list)
    left = [p for p in files if p and p != "/." and os.path.lexists(str(rootdir) + p)]
    shared = in_root(rootdir, "dpkg-query", "-S", *left) if left else None
    owned = {ln.split(": ", 1)[1] for ln in shared.stdout.splitlines()} if shared else set()
    assert [p for p in left if p not in owned or not os.path.isdir(str(rootdir) + p)] == []
    # and nothing else named after them, but dpkg's and apt's logs (which policy keeps)
    logs = ("var/log/", "var/lib/dpkg/status-old", "var/lib/dpkg/diversions-old",
            "var/cache/debconf/")
    named = [str(p.relative_to(rootdir)) for p in rootdir.rglob("*synwall*")
             if not str(p.relative_to(rootdir)).startswith(logs)]
    assert named == []
