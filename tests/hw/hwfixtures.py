"""Helpers of the tests in tests/hw: fixture sysfs/procfs trees, network namespaces with raw
sockets opened inside them.

A module of the package `tests.hw`, not a conftest: its helpers are imported by name, and the
package's full name keeps it from hiding the real hw/ package."""

import ctypes
import json
import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PMD_DIR = Path("/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0")
DP_BIN = Path(os.environ.get("SYNWALL_DP", REPO / "build" / "dataplane" / "synwall-dp"))


# --- fixture sysfs / procfs trees -----------------------------------------------------------

class FakeHost:
    """A sysfs and a procfs tree in a temporary folder, laid out as Linux lays them out (the
    parts hw.check and hw.prepare read): PCI devices with their driver symlinks, network
    interfaces and the virtual ones stacked on them (bonds, bridges, VLANs: master, upper_*,
    lower_* links), hugepages, IOMMU groups, /proc/mounts, /proc/net/route, /proc/cpuinfo;
    and the routes of every table as `ip -j route show table all` prints them (routes.json,
    given to the tools with --routes-json)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.sys = self.root / "sys"
        self.proc = self.root / "proc"
        for d in ("bus/pci/devices", "bus/pci/drivers", "devices/pci0000:00", "class/net",
                  "kernel/iommu_groups", "module"):
            (self.sys / d).mkdir(parents=True, exist_ok=True)
        (self.sys / "bus/pci/drivers_probe").write_text("")
        (self.proc / "net").mkdir(parents=True, exist_ok=True)
        self.routes = []  # interfaces with a default route in the main table
        self.routes6 = []
        self.ip_routes = {"ipv4": [], "ipv6": []}  # other `ip -j` routes (routes.json only)
        self.routes_json = self.root / "routes.json"
        self.set_hugepages(0, 0)
        self.set_mounts([])
        self.set_cpu_flags("fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx avx2")
        self.set_cmdline("BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro")
        self._write_routes()

    # PCI devices and drivers
    def add_driver(self, name: str) -> Path:
        d = self.sys / "bus/pci/drivers" / name
        d.mkdir(parents=True, exist_ok=True)
        for f in ("bind", "unbind", "new_id"):
            (d / f).touch()
        return d

    def add_pci(self, addr: str, vendor: int, device: int, *, cls: int = 0x020000,
                driver: str | None = None, ifname: str | None = None, numa: int = -1,
                subsys: tuple = (0x8086, 0x0000), iommu_group: int | None = None) -> Path:
        dev = self.sys / "devices/pci0000:00" / addr
        dev.mkdir(parents=True, exist_ok=True)
        (dev / "vendor").write_text("0x%04x\n" % vendor)
        (dev / "device").write_text("0x%04x\n" % device)
        (dev / "subsystem_vendor").write_text("0x%04x\n" % subsys[0])
        (dev / "subsystem_device").write_text("0x%04x\n" % subsys[1])
        (dev / "class").write_text("0x%06x\n" % cls)
        (dev / "numa_node").write_text("%d\n" % numa)
        (dev / "driver_override").write_text("(null)\n")
        link = self.sys / "bus/pci/devices" / addr
        if not link.is_symlink():
            link.symlink_to(os.path.relpath(dev, link.parent))
        if driver:
            self.bind(addr, driver)
        if ifname:
            self.add_netdev(addr, ifname)
        if iommu_group is not None:
            g = self.sys / "kernel/iommu_groups" / str(iommu_group)
            (g / "devices").mkdir(parents=True, exist_ok=True)
            (dev / "iommu_group").symlink_to(os.path.relpath(g, dev))
            (g / "devices" / addr).symlink_to(os.path.relpath(dev, g / "devices"))
        return dev

    def dev(self, addr: str) -> Path:
        return self.sys / "devices/pci0000:00" / addr

    def bind(self, addr: str, driver: str) -> None:
        drv = self.add_driver(driver)
        dev = self.dev(addr)
        if (dev / "driver").is_symlink():
            self.unbind(addr)
        (dev / "driver").symlink_to(os.path.relpath(drv, dev))
        (drv / addr).symlink_to(os.path.relpath(dev, drv))

    def unbind(self, addr: str) -> None:
        dev = self.dev(addr)
        drv = (dev / "driver").resolve()
        (dev / "driver").unlink()
        (drv / addr).unlink(missing_ok=True)
        # A kernel network driver's interfaces go away with it.
        net = dev / "net"
        if net.is_dir():
            for n in net.iterdir():
                (self.sys / "class/net" / n.name).unlink(missing_ok=True)
            shutil.rmtree(net)

    def driver_of(self, addr: str):
        link = self.dev(addr) / "driver"
        return link.resolve().name if link.is_symlink() else None

    def add_netdev(self, addr: str, ifname: str) -> None:
        dev = self.dev(addr)
        (dev / "net" / ifname).mkdir(parents=True, exist_ok=True)
        link = self.sys / "class/net" / ifname
        link.symlink_to(os.path.relpath(dev / "net" / ifname, link.parent))
        (dev / "net" / ifname / "device").symlink_to("../..")

    def add_virtual_netdev(self, ifname: str, lowers=(), *, master: bool) -> None:
        """A virtual interface stacked on `lowers`, linked as Linux links it: a bond, bridge,
        team or VRF is their master (`master` and `upper_` on each, `lower_` on it); a VLAN or
        macvlan only their upper."""
        d = self.sys / "devices/virtual/net" / ifname
        d.mkdir(parents=True, exist_ok=True)
        link = self.sys / "class/net" / ifname
        link.symlink_to(os.path.relpath(d, link.parent))
        for low in lowers:
            ld = (self.sys / "class/net" / low).resolve()
            (ld / ("upper_" + ifname)).symlink_to(os.path.relpath(d, ld))
            if master:
                (ld / "master").symlink_to(os.path.relpath(d, ld))
            (d / ("lower_" + low)).symlink_to(os.path.relpath(ld, d))

    def add_route(self, route: dict, v6: bool = False) -> None:
        """Any route, as `ip -j route show table all` gives it (routes.json only)."""
        self.ip_routes["ipv6" if v6 else "ipv4"].append(route)
        self._write_routes()

    # hugepages, IOMMU, CPU, routes
    def set_hugepages(self, nr: int, free: int | None = None, size_kb: int = 2048) -> None:
        d = self.sys / "kernel/mm/hugepages" / ("hugepages-%dkB" % size_kb)
        d.mkdir(parents=True, exist_ok=True)
        (d / "nr_hugepages").write_text("%d\n" % nr)
        (d / "free_hugepages").write_text("%d\n" % (nr if free is None else free))
        (self.proc / "meminfo").write_text(
            "MemTotal:       16384000 kB\nHugePages_Total:   %5d\nHugePages_Free:    %5d\n"
            "Hugepagesize:       %d kB\n" % (nr, nr if free is None else free, size_kb))

    def hugepages(self, size_kb: int = 2048) -> int:
        d = self.sys / "kernel/mm/hugepages" / ("hugepages-%dkB" % size_kb)
        return int((d / "nr_hugepages").read_text())

    def set_mounts(self, extra) -> None:
        lines = ["sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0",
                 "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0"] + list(extra)
        (self.proc / "mounts").write_text("\n".join(lines) + "\n")

    def add_mount(self, line: str) -> None:
        text = (self.proc / "mounts").read_text()
        (self.proc / "mounts").write_text(text + line + "\n")

    def set_cpu_flags(self, flags: str) -> None:
        cpu = ("processor\t: {n}\nvendor_id\t: GenuineIntel\nmodel name\t: Fake CPU\n"
               "flags\t\t: {flags}\n\n")
        (self.proc / "cpuinfo").write_text("".join(cpu.format(n=n, flags=flags)
                                                   for n in range(2)))

    def set_cmdline(self, text: str) -> None:
        (self.proc / "cmdline").write_text(text + "\n")

    def add_default_route(self, ifname: str, v6: bool = False) -> None:
        (self.routes6 if v6 else self.routes).append(ifname)
        self._write_routes()

    def _write_routes(self) -> None:
        head = ("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\t"
                "Window\tIRTT\n")
        rows = ["lo\t0000007F\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0"]
        for ifn in self.routes:
            rows.append("%s\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0" % ifn)
        rows.append("eth9\t0012C6C0\t00000000\t0001\t0\t0\t0\t0000FEFF\t0\t0\t0")
        (self.proc / "net/route").write_text(head + "\n".join(rows) + "\n")
        z = "0" * 32
        rows6 = ["%s 40 %s 00 %s 00000100 00000001 00000000 00000001 eth9" % (
            "20010002000000000000000000000000", z, z)]
        for ifn in self.routes6:
            rows6.append("%s 00 %s 00 fe800000000000000000000000000001 00000400 00000001 "
                         "00000000 00000003 %8s" % (z, z, ifn))
        rows6.append("%s 00 %s 00 %s ffffffff 00000001 00000000 00200200       lo" % (z, z, z))
        (self.proc / "net/ipv6_route").write_text("\n".join(rows6) + "\n")
        # The same routes (and the others added) as ip -j prints them, with the local table's
        # routes that a real host always has.
        v4 = [{"dst": "default", "gateway": "198.18.0.1", "dev": ifn, "flags": []}
              for ifn in self.routes]
        v4 += [{"dst": "198.18.0.0/24", "dev": "eth9", "protocol": "kernel", "scope": "link",
                "flags": []},
               {"type": "local", "dst": "127.0.0.0/8", "dev": "lo", "table": "local",
                "protocol": "kernel", "scope": "host", "flags": []}]
        v6 = [{"dst": "default", "gateway": "fe80::1", "dev": ifn, "metric": 1024,
               "flags": [], "pref": "medium"} for ifn in self.routes6]
        v6 += [{"dst": "2001:2::/64", "dev": "eth9", "protocol": "kernel", "metric": 256,
                "flags": []},
               {"type": "unreachable", "dst": "default", "dev": "lo", "metric": 4278198272,
                "flags": [], "pref": "medium", "table": "unreach"}]
        self.routes_json.write_text(json.dumps({"ipv4": v4 + self.ip_routes["ipv4"],
                                                "ipv6": v6 + self.ip_routes["ipv6"]}))

    def args(self) -> list:
        return ["--sysfs-root", str(self.sys), "--proc-root", str(self.proc),
                "--routes-json", str(self.routes_json)]


# --- network namespaces ---------------------------------------------------------------------

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def in_netns(name: str, fn):
    """Run fn() in a thread that has joined network namespace `name`; return its result.
    Sockets made there stay in that namespace after the thread ends."""
    box = {}

    def run():
        try:
            fd = os.open("/run/netns/%s" % name, os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns(%s)" % name)
            finally:
                os.close(fd)
            box["v"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed back to the caller
            box["e"] = e

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "e" in box:
        raise box["e"]
    return box["v"]


def raw_socket(ifname: str) -> socket.socket:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((ifname, 0))
    return s


def sh(*cmd, check=True, **kw):
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True, **kw)
