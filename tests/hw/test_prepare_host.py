"""synwall-prepare-host (python3 -m hw.prepare) against fixture sysfs/procfs trees.

The fixture tree is plain files, so a FakeKernel stands in for Linux behind hw.prepare's one
door to the host (hw.prepare.System): it does what the kernel does on those sysfs writes
(nr_hugepages, driver_override, unbind, drivers_probe) and on modprobe and mount. The real
machine's NICs and hugepages are never touched; the dry-run and refusal tests go through
the real CLI in a subprocess, with the real System, on the fixture tree.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hw import prepare
from hw.sysinfo import DefaultRoute, Host
from tests.hw.hwfixtures import REPO, FakeHost

VIRTIO, PORT_A, PORT_B = "0000:00:03.0", "0000:03:00.0", "0000:03:00.1"


class FakeKernel(prepare.System):
    """Linux's answers to what hw.prepare writes, on a FakeHost."""

    def __init__(self, host: FakeHost, *, max_hugepages=1 << 20, kernel_drivers=None):
        super().__init__(dry_run=False)
        self.h = host
        self.max_hugepages = max_hugepages
        self.kernel_drivers = kernel_drivers or {}     # addr -> driver of a plain probe
        self.modules = {"vfio-pci", "uio_pci_generic"}  # what modprobe can load

    def write(self, path, value):
        self.actions.append("write %r to %s" % (value, path))
        path = Path(path)
        if path.name == "nr_hugepages":
            self.h.set_hugepages(min(int(value), self.max_hugepages))
        elif path.name == "driver_override":
            path.write_text(value)
        elif path.name == "unbind":
            assert path.parent.name == "driver", path
            self.h.unbind(value)
        elif path.name == "drivers_probe":
            dev = self.h.dev(value)
            want = (dev / "driver_override").read_text().strip()
            if want in ("", "(null)"):
                want = self.kernel_drivers.get(value)
            if want and (self.h.sys / "bus/pci/drivers" / want).is_dir() and \
                    self.h.driver_of(value) is None:
                self.h.bind(value, want)
        elif path.name == "enable_unsafe_noiommu_mode":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("Y\n" if value.strip() in ("1", "Y") else "N\n")
        else:
            raise AssertionError("unexpected sysfs write %s" % path)

    def run(self, cmd):
        self.actions.append("run " + " ".join(cmd))
        if cmd[0] == "modprobe":
            if cmd[1] not in self.modules:
                raise prepare.Failed("modprobe: FATAL: Module %s not found" % cmd[1])
            self.h.add_driver(cmd[1])
            if cmd[1] == "vfio-pci":
                p = self.h.sys / "module/vfio/parameters"
                p.mkdir(parents=True, exist_ok=True)
                (p / "enable_unsafe_noiommu_mode").write_text("N\n")
        elif cmd[0] == "mount":
            opts = cmd[cmd.index("-o") + 1]
            assert opts == "pagesize=2048K", opts
            self.h.add_mount("nodev %s hugetlbfs rw,relatime,pagesize=2M 0 0" % cmd[-1])
        else:
            raise AssertionError("unexpected command %s" % cmd)

    def mkdir(self, path):
        self.actions.append("mkdir -p %s" % path)


@pytest.fixture
def host(tmp_path):
    h = FakeHost(tmp_path / "host")
    h.add_pci(VIRTIO, 0x1AF4, 0x1000, driver="virtio-pci", ifname="eth0")
    h.add_pci(PORT_A, 0x8086, 0x10FB, driver="ixgbe", ifname="enp3s0f0")
    h.add_pci(PORT_B, 0x8086, 0x10FB, driver="ixgbe", ifname="enp3s0f1")
    h.add_pci("0000:00:1f.2", 0x8086, 0x2922, cls=0x010601, driver="ahci")   # SATA
    h.add_default_route("eth0")
    h.add_default_route("eth0", v6=True)
    return h


def run_main(host, argv, system):
    lines = []
    rc = prepare.main(argv + host.args(), system=system, out=lines.append)
    return rc, lines


def snapshot(root: Path) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            if p.is_symlink():
                out[str(p)] = ("link", os.readlink(p))
            elif p.is_file():
                out[str(p)] = ("file", p.read_text())
    return out


def cli(host, *argv):
    return subprocess.run([sys.executable, "-m", "hw.prepare", *argv, *host.args()],
                          capture_output=True, text=True, cwd=REPO, timeout=60)


# --- binding and hugepages, then the same again -------------------------------------------------

def test_binds_reserves_mounts_then_changes_nothing(host, tmp_path):
    mnt = str(tmp_path / "huge")
    k = FakeKernel(host)
    argv = ["--hugepages", "512", "--mount", mnt, PORT_A, "enp3s0f1"]
    rc, out = run_main(host, argv, k)
    assert rc == 0, out
    # No IOMMU in this host: uio_pci_generic, loaded first, set as override, then probed.
    assert host.driver_of(PORT_A) == "uio_pci_generic"
    assert host.driver_of(PORT_B) == "uio_pci_generic"
    assert (host.dev(PORT_A) / "driver_override").read_text() == "uio_pci_generic\n"
    assert host.hugepages() == 512
    assert host.sys.joinpath("class/net/enp3s0f0").exists() is False   # netdev gone
    assert host.driver_of(VIRTIO) == "virtio-pci"                         # untouched
    assert "run modprobe uio_pci_generic" in k.actions
    assert "run mount -t hugetlbfs -o pagesize=2048K nodev %s" % mnt in k.actions
    a = host.dev(PORT_A)
    i_override = k.actions.index("write 'uio_pci_generic\\n' to %s" % (
        host.sys / "bus/pci/devices" / PORT_A / "driver_override"))
    i_unbind = k.actions.index("write %r to %s" % (
        PORT_A, host.sys / "bus/pci/devices" / PORT_A / "driver" / "unbind"))
    i_probe = k.actions.index("write %r to %s" % (PORT_A, host.sys / "bus/pci/drivers_probe"))
    assert i_override < i_unbind < i_probe, k.actions
    assert a.exists()
    assert "%s: bound to uio_pci_generic (was ixgbe)" % PORT_A in out

    # The interface name is gone with ixgbe; the tool kept it to find the port again.
    state = host.root / "var/lib/synwall/ports.json"
    assert __import__("json").loads(state.read_text()) == {"enp3s0f1": PORT_B}

    # Again, with the same arguments: nothing is written or run.
    before = snapshot(host.root)
    k2 = FakeKernel(host)
    rc, out = run_main(host, argv, k2)
    assert rc == 0, out
    assert k2.actions == [], k2.actions
    assert snapshot(host.root) == before
    assert "%s: already bound to uio_pci_generic: unchanged" % PORT_A in out
    assert any(x.startswith("hugepages: 512 x 2048kB already reserved") for x in out), out
    assert any(x.startswith("hugetlbfs: 2048kB pages already mounted at %s" % mnt)
               for x in out), out

    # Fewer hugepages asked than reserved: never lowered.
    k3 = FakeKernel(host)
    rc, out = run_main(host, ["--hugepages", "64", PORT_A], k3)
    assert rc == 0 and k3.actions == [] and host.hugepages() == 512


def test_vfio_with_an_iommu(host):
    host.dev(PORT_A)  # exists
    for n, addr in enumerate((PORT_A, PORT_B)):
        g = host.sys / "kernel/iommu_groups" / str(20 + n)
        (g / "devices").mkdir(parents=True)
        (host.dev(addr) / "iommu_group").symlink_to(os.path.relpath(g, host.dev(addr)))
    k = FakeKernel(host)
    rc, out = run_main(host, [PORT_A, PORT_B], k)
    assert rc == 0, out
    assert host.driver_of(PORT_A) == host.driver_of(PORT_B) == "vfio-pci"
    assert "run modprobe vfio-pci" in k.actions and "run modprobe uio_pci_generic" not in k.actions
    # A port already on a DPDK driver is left there by --driver auto...
    k = FakeKernel(host)
    rc, _ = run_main(host, [PORT_A], k)
    assert rc == 0 and k.actions == []
    # ... and moved when a driver is named.
    k = FakeKernel(host)
    rc, out = run_main(host, ["--driver", "uio_pci_generic", PORT_A], k)
    assert rc == 0, out
    assert host.driver_of(PORT_A) == "uio_pci_generic"


def test_vfio_without_iommu_is_refused_unless_noiommu(host):
    before = snapshot(host.root)
    k = FakeKernel(host)
    rc, out = run_main(host, ["--driver", "vfio-pci", PORT_A], k)
    assert rc == 1 and k.actions == [] and snapshot(host.root) == before
    assert "no IOMMU group" in out[-1]
    k = FakeKernel(host)
    rc, out = run_main(host, ["--vfio-noiommu", PORT_A], k)
    assert rc == 0, out
    assert host.driver_of(PORT_A) == "vfio-pci"
    p = host.sys / "module/vfio/parameters/enable_unsafe_noiommu_mode"
    assert p.read_text() == "Y\n"


def test_reports_a_binding_that_did_not_take(host):
    k = FakeKernel(host)
    k.modules = {"vfio-pci", "uio_pci_generic"}
    host.add_driver("uio_pci_generic")
    # The fake kernel binds nothing on probe when the override names a driver folder that
    # vanished (as when a module is unloaded in between): the tool must notice.
    orig = k.write

    def write(path, value):
        orig(path, value)
        if Path(path).name == "driver_override":
            (host.sys / "bus/pci/drivers/uio_pci_generic").rename(host.sys / "gone")
    k.write = write
    rc, out = run_main(host, [PORT_A], k)
    assert rc == 1
    assert out[-1] == ("synwall-prepare-host: %s: still bound to no driver after binding to "
                       "uio_pci_generic (dmesg says why)" % PORT_A)


def test_reports_hugepages_the_kernel_could_not_give(host, tmp_path):
    k = FakeKernel(host, max_hugepages=100)
    rc, out = run_main(host, ["--hugepages", "1024", "--mount", str(tmp_path / "h")], k)
    assert rc == 1
    assert "asked 1024 x 2048kB, the kernel reserved 100" in out[-1]
    assert "hugepages=1024" in out[-1]


# --- refusals and dry runs, through the real CLI ----------------------------------------------

@pytest.mark.parametrize("ref", ["eth0", VIRTIO, "00:03.0"])
def test_refuses_the_default_route_port_and_changes_nothing(host, ref):
    before = snapshot(host.root)
    r = cli(host, "--hugepages", "256", PORT_A, ref)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1] == (
        "synwall-prepare-host: refusing to take %s (eth0): it carries the host's default "
        "route; synwall needs two other ports" % VIRTIO)
    assert snapshot(host.root) == before, "nothing may change, not even PORT_A or hugepages"


def test_refuses_an_ipv6_only_default_route(host):
    host.routes = []
    host.add_default_route("enp3s0f1", v6=True)
    r = cli(host, PORT_A, PORT_B)
    assert r.returncode == 1
    assert "refusing to take %s (enp3s0f1)" % PORT_B in r.stdout


# --- default routes behind stacked interfaces and in other tables ---------------------------

def refusal(host, *ports):
    r = cli(host, "--dry-run", *ports)
    assert r.returncode == 1, r.stdout + r.stderr
    return r.stdout.strip().splitlines()[-1]


def test_refuses_a_nic_under_a_bond_that_carries_the_default_route(host):
    host.add_virtual_netdev("bond0", ["enp3s0f0"], master=True)
    host.add_route({"dst": "default", "gateway": "198.18.0.1", "dev": "bond0", "flags": []})
    before = snapshot(host.root)
    assert refusal(host, PORT_A, PORT_B) == (
        "synwall-prepare-host: refusing to take %s (enp3s0f0): it carries the host's default "
        "route (through bond0); synwall needs two other ports" % PORT_A)
    assert snapshot(host.root) == before


def test_refuses_a_nic_under_a_vlan_with_an_ipv6_default_route(host):
    host.add_virtual_netdev("enp3s0f1.100", ["enp3s0f1"], master=False)
    host.add_route({"dst": "default", "gateway": "fe80::1", "dev": "enp3s0f1.100",
                    "flags": []}, v6=True)
    assert refusal(host, PORT_A, PORT_B) == (
        "synwall-prepare-host: refusing to take %s (enp3s0f1): it carries the host's default "
        "route (through enp3s0f1.100); synwall needs two other ports" % PORT_B)


def test_refuses_a_vlan_on_a_bridge_on_a_bond_in_another_table(host):
    host.add_virtual_netdev("bond0", ["enp3s0f0"], master=True)
    host.add_virtual_netdev("br0", ["bond0"], master=True)
    host.add_virtual_netdev("br0.7", ["br0"], master=False)
    host.add_route({"dst": "default", "gateway": "198.18.7.1", "dev": "br0.7", "table": "100",
                    "flags": []})
    assert refusal(host, PORT_A) == (
        "synwall-prepare-host: refusing to take %s (enp3s0f0): it carries the host's default "
        "route (through bond0, br0, br0.7; IPv4 routing table 100); synwall needs two other "
        "ports" % PORT_A)


def test_refuses_a_default_route_of_another_table_or_a_multipath_one(host):
    host.add_route({"dst": "default", "gateway": "198.18.9.1", "dev": "enp3s0f0",
                    "table": "mgmt", "flags": []})
    assert "refusing to take %s (enp3s0f0)" % PORT_A in refusal(host, PORT_A)
    assert "IPv4 routing table mgmt" in refusal(host, PORT_A)
    host.ip_routes["ipv4"].clear()
    host.add_route({"dst": "default", "table": "main", "flags": [], "nexthops": [
        {"gateway": "198.18.0.1", "dev": "eth0", "weight": 1, "flags": []},
        {"gateway": "198.18.1.1", "dev": "enp3s0f1", "weight": 1, "flags": []}]})
    assert "refusing to take %s (enp3s0f1)" % PORT_B in refusal(host, PORT_A, PORT_B)


def test_the_route_is_also_followed_down_from_its_interface(host):
    """A stack whose lower interface lacks its upper link (sysfs written by an older
    kernel, or a driver that links only one way) is found from the route's side."""
    host.add_virtual_netdev("team0", ["enp3s0f0"], master=True)
    nic = (host.sys / "class/net/enp3s0f0").resolve()
    (nic / "master").unlink()
    (nic / "upper_team0").unlink()
    host.add_route({"dst": "default", "gateway": "198.18.0.1", "dev": "team0", "flags": []})
    assert "refusing to take %s (enp3s0f0): it carries the host's default route (through " \
        "team0)" % PORT_A in refusal(host, PORT_A)


def test_routes_that_carry_nothing_and_stacks_of_other_nics_do_not_refuse(host):
    # unreachable, blackhole and prohibit defaults carry no traffic; lo is not a NIC
    for kind in ("unreachable", "blackhole", "prohibit"):
        host.add_route({"type": kind, "dst": "default", "dev": "enp3s0f0", "table": "9",
                        "flags": []})
    # the host's own bond is made of eth0 alone: synwall's ports are not under it
    host.add_virtual_netdev("bond0", ["eth0"], master=True)
    host.add_route({"dst": "default", "gateway": "198.18.0.1", "dev": "bond0", "flags": []})
    r = cli(host, "--dry-run", PORT_A, PORT_B)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "refusing to take %s (eth0): it carries the host's default route (through bond0)" \
        % VIRTIO in refusal(host, VIRTIO)


def test_on_the_real_host_ip_is_asked_for_every_table(tmp_path, monkeypatch):
    """Host() of /sys and /proc runs `ip -j -4|-6 route show table all` (here a stand-in on
    PATH that prints what ip would)."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "ip").write_text(
        "#!/bin/sh\n"
        "echo \"$*\" >> %s\n"
        "case \"$2\" in\n"
        "-4) echo '[{\"dst\":\"default\",\"gateway\":\"198.18.0.1\",\"dev\":\"br0\","
        "\"flags\":[]},{\"type\":\"blackhole\",\"dst\":\"default\",\"table\":\"7\","
        "\"flags\":[]}]' ;;\n"
        "-6) echo '[{\"dst\":\"default\",\"gateway\":\"fe80::1\",\"dev\":\"eth1\","
        "\"table\":\"mgmt\",\"flags\":[]}]' ;;\n"
        "esac\n" % (tmp_path / "calls"))
    (fake / "ip").chmod(0o755)
    monkeypatch.setenv("PATH", "%s:%s" % (fake, os.environ["PATH"]))
    routes = Host().default_routes()
    assert routes == [DefaultRoute("br0", "IPv4", "main"), DefaultRoute("eth1", "IPv6", "mgmt")]
    assert (tmp_path / "calls").read_text().splitlines() == [
        "-j -4 route show table all", "-j -6 route show table all"]


def test_without_the_ip_json_the_proc_files_are_read(host, tmp_path):
    """A fixture tree given without --routes-json (or a host without ip): /proc/net/route and
    ipv6_route, the main table."""
    r = subprocess.run([sys.executable, "-m", "hw.prepare", "--dry-run", VIRTIO,
                        "--sysfs-root", str(host.sys), "--proc-root", str(host.proc)],
                       capture_output=True, text=True, cwd=REPO, timeout=60)
    assert r.returncode == 1 and "refusing to take %s (eth0)" % VIRTIO in r.stdout, r.stdout


@pytest.mark.parametrize("ref,msg", [
    ("0000:00:1f.2", "PCI class 010601 is not a network controller"),
    ("nosuch0", "nosuch0: no such PCI device or network interface"),
    ("0000:09:00.0", "0000:09:00.0: no such PCI device or network interface"),
])
def test_refuses_what_is_not_a_nic(host, ref, msg):
    before = snapshot(host.root)
    r = cli(host, PORT_A, ref)
    assert r.returncode == 1 and msg in r.stdout, r.stdout
    assert snapshot(host.root) == before


def test_dry_run_says_everything_and_does_nothing(host, tmp_path):
    before = snapshot(host.root)
    r = cli(host, "--dry-run", "--json", "--hugepages", "256", "--mount",
            str(tmp_path / "huge"), PORT_A, "enp3s0f1")
    assert r.returncode == 0, r.stdout + r.stderr
    assert snapshot(host.root) == before
    assert not (tmp_path / "huge").exists()
    text = r.stdout
    assert "dry run: hugepages: would reserve 256 x 2048kB (now 0)" in text
    assert "dry run: hugetlbfs: would mount 2048kB pages at %s" % (tmp_path / "huge") in text
    assert "dry run: %s: would bind to uio_pci_generic (now ixgbe)" % PORT_A in text
    assert "dry run: %s: would bind to uio_pci_generic (now ixgbe)" % PORT_B in text
    summary = __import__("json").loads(text[text.index("{"):])
    assert summary["dry_run"] is True
    assert "run modprobe uio_pci_generic" in summary["actions"]
    assert [p["pci"] for p in summary["ports"]] == [PORT_A, PORT_B]


def test_usage_errors(host):
    r = cli(host)
    assert r.returncode == 2 and "nothing to do" in r.stderr
    r = cli(host, "--hugepages", "0")
    assert r.returncode == 2
    r = cli(host, "--driver", "igb_uio", PORT_A)
    assert r.returncode == 2


def test_wrapper_script_runs_from_the_source_tree(host):
    r = subprocess.run([str(REPO / "hw/synwall-prepare-host"), "--dry-run", PORT_A,
                        *host.args()], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, SYNWALL_PYTHON=sys.executable))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "would bind to uio_pci_generic" in r.stdout


def test_ports_from_the_boot_config(host, tmp_path):
    cfg = tmp_path / "synwall.toml"
    cfg.write_text('[dataplane]\noutside = "03:00.0"\n'
                   'inside = "net_af_packet0,iface=veth1"\n')
    r = cli(host, "--dry-run", "--from-config", str(cfg), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    summary = __import__("json").loads(r.stdout[r.stdout.index("{"):])
    assert [p["pci"] for p in summary["ports"]] == [PORT_A], "the vdev needs no binding"
    # The sample appliance config names 0000:03:00.0 and 0000:03:00.1.
    r = cli(host, "--dry-run", "--from-config", str(REPO / "hw/synwall.toml"))
    assert r.returncode == 0, r.stdout
    assert "%s: would bind" % PORT_A in r.stdout and "%s: would bind" % PORT_B in r.stdout
    cfg.write_text("[dataplane\n")
    r = cli(host, "--dry-run", "--from-config", str(cfg))
    assert r.returncode == 1 and "--from-config" in r.stdout
