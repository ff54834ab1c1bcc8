"""What the host's sysfs and procfs say about NICs, hugepages, the IOMMU, routes and the CPU.

Everything is read under a sysfs root and a procfs root (/sys and /proc by default), so that
tests can point them at fixture trees. The routes come from `ip -j route show table all`
(every table, IPv4 and IPv6) on the real host, from a JSON file of the same in tests, and from
/proc/net/route and /proc/net/ipv6_route when neither is there. Nothing here writes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

PCI_ADDR = re.compile(r"^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$")
SHORT_PCI_ADDR = re.compile(r"^[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$")
DPDK_KMODS = ("vfio-pci", "uio_pci_generic", "igb_uio")
# The x86-64 baseline of Debian's DPDK build (-march=corei7: Nehalem); without these it
# dies with SIGILL before printing anything (QEMU's default CPU model lacks them).
REQUIRED_CPU_FLAGS = ("ssse3", "sse4_1", "sse4_2", "popcnt")
# Used at run time when present: vector RX/TX paths (i40e, ice, ixgbe), CRC/hash helpers.
OPTIONAL_CPU_FLAGS = ("avx2", "avx512f", "avx512bw", "pclmulqdq", "aes")
RTF_UP, RTF_REJECT = 0x0001, 0x0200
# How far up or down a stack of interfaces is followed (VLAN on a bridge on a bond on a NIC
# is 3): a bound on the walk, whatever sysfs says.
MAX_STACK = 64


def _read(p: Path, default: str | None = None) -> str | None:
    try:
        return p.read_text().strip()
    except OSError:
        return default


def _hex(p: Path) -> int | None:
    v = _read(p)
    try:
        return int(v, 16) if v is not None else None
    except ValueError:
        return None


@dataclass
class PciDevice:
    addr: str
    vendor: int
    device: int
    subvendor: int
    subdevice: int
    pci_class: int
    driver: str | None
    numa_node: int
    driver_override: str | None
    iommu_group: str | None
    ifnames: list = field(default_factory=list)

    @property
    def id(self) -> str:
        return "%04x:%04x" % (self.vendor, self.device)

    @property
    def dpdk_bound(self) -> bool:
        return self.driver in DPDK_KMODS


@dataclass(frozen=True)
class DefaultRoute:
    dev: str        # the interface it leaves by
    family: str     # "IPv4" or "IPv6"
    table: str      # "main", or another table's name or number


@dataclass(frozen=True)
class RouteCarrier:
    """An interface of a NIC under which a default route leaves: `path` goes from the NIC's
    interface to the route's (one item when the route is on the NIC's interface itself)."""
    ifname: str
    path: tuple[str, ...]
    route: DefaultRoute


class Host:
    def __init__(self, sysfs_root: str = "/sys", proc_root: str = "/proc",
                 routes_json: str | None = None):
        self.sys = Path(sysfs_root)
        self.proc = Path(proc_root)
        # {"ipv4": [...], "ipv6": [...]}: `ip -j -4|-6 route show table all` (fixture trees)
        self.routes_json = routes_json

    # --- PCI ----------------------------------------------------------------------------
    def pci_dir(self, addr: str) -> Path:
        return self.sys / "bus/pci/devices" / addr

    def pci_device(self, addr: str) -> PciDevice | None:
        d = self.pci_dir(addr)
        if not d.exists():
            return None
        drv = d / "driver"
        grp = d / "iommu_group"
        numa = _read(d / "numa_node", "-1")
        override = _read(d / "driver_override")
        return PciDevice(
            addr=addr, vendor=_hex(d / "vendor") or 0, device=_hex(d / "device") or 0,
            subvendor=_hex(d / "subsystem_vendor") or 0xFFFF,
            subdevice=_hex(d / "subsystem_device") or 0xFFFF,
            pci_class=_hex(d / "class") or 0,
            driver=os.path.basename(os.readlink(drv)) if drv.is_symlink() else None,
            numa_node=int(numa) if numa and numa.lstrip("-").isdigit() else -1,
            driver_override=None if override in (None, "(null)", "") else override,
            iommu_group=os.path.basename(os.readlink(grp)) if grp.is_symlink() else None,
            ifnames=self.ifnames_of(addr))

    def pci_devices(self) -> list[PciDevice]:
        base = self.sys / "bus/pci/devices"
        if not base.is_dir():
            return []
        out = []
        for name in sorted(os.listdir(base)):
            dev = self.pci_device(name)
            if dev is not None:
                out.append(dev)
        return out

    def network_devices(self) -> list[PciDevice]:
        """PCI class 0x02xxxx: network controllers."""
        return [d for d in self.pci_devices() if d.pci_class >> 16 == 0x02]

    def ifnames_of(self, addr: str) -> list[str]:
        """The kernel interfaces of a PCI device: /sys/class/net/X whose device is the PCI
        function or a child of it (virtio-net hangs its netdev off virtioN)."""
        net = self.sys / "class/net"
        if not net.is_dir():
            return []
        out = []
        for name in sorted(os.listdir(net)):
            dev = net / name / "device"
            if not dev.exists():
                continue
            real = Path(os.path.realpath(dev))
            for part in [real] + list(real.parents)[:3]:
                if part.name == addr:
                    out.append(name)
                    break
        return out

    def resolve_port(self, ref: str) -> str | None:
        """A PCI address (0000:03:00.0 or 03:00.0) or an interface name -> PCI address."""
        if SHORT_PCI_ADDR.match(ref):
            ref = "0000:" + ref
        if PCI_ADDR.match(ref):
            return ref.lower() if self.pci_dir(ref.lower()).exists() else None
        dev = self.sys / "class/net" / ref / "device"
        if not dev.exists():
            return None
        real = Path(os.path.realpath(dev))
        for part in [real] + list(real.parents)[:3]:
            if PCI_ADDR.match(part.name):
                return part.name
        return None

    def kmod_loaded(self, name: str) -> bool:
        return (self.sys / "bus/pci/drivers" / name).is_dir()

    # --- routes -------------------------------------------------------------------------
    def _ip_routes(self) -> dict | None:
        """The routes of every table as `ip -j` gives them, {"ipv4": [...], "ipv6": [...]};
        None when they cannot be had that way (a fixture tree without them, no ip)."""
        if self.routes_json is not None:
            return json.loads(Path(self.routes_json).read_text())
        if (str(self.sys), str(self.proc)) != ("/sys", "/proc"):
            return None  # a fixture tree: the host's own routes are not its
        out = {}
        for family in ("4", "6"):
            try:
                r = subprocess.run(["ip", "-j", "-" + family, "route", "show", "table", "all"],
                                   capture_output=True, text=True, timeout=10)
                out["ipv" + family] = json.loads(r.stdout) if r.returncode == 0 else None
            except (OSError, subprocess.TimeoutExpired, ValueError):
                out["ipv" + family] = None
            if out["ipv" + family] is None:
                return None
        return out

    def default_routes(self) -> list[DefaultRoute]:
        """The default routes of the host, of every routing table, IPv4 and IPv6 (those
        that carry traffic: not unreachable, blackhole or prohibit ones, nor over lo)."""
        tables = self._ip_routes()
        if tables is None:
            return [DefaultRoute(d, f, "main") for d, f in self._proc_default_routes()]
        out = []
        for key, family in (("ipv4", "IPv4"), ("ipv6", "IPv6")):
            for r in tables.get(key) or []:
                if not isinstance(r, dict) or \
                        r.get("dst") not in ("default", "0.0.0.0/0", "::/0") or \
                        r.get("type", "unicast") != "unicast":
                    continue
                devs = [r.get("dev")] + [h.get("dev") for h in r.get("nexthops") or []
                                         if isinstance(h, dict)]
                for dev in devs:
                    if isinstance(dev, str) and dev and dev != "lo":
                        route = DefaultRoute(dev, family, str(r.get("table", "main")))
                        if route not in out:
                            out.append(route)
        return out

    def default_route_ifaces(self) -> set[str]:
        """Interfaces a default route leaves by (any table, IPv4 or IPv6)."""
        return {r.dev for r in self.default_routes()}

    def _net_links(self, ifname: str, kind: str) -> list[str]:
        """The interfaces above ("upper": its master, upper_*) or below ("lower": lower_*)
        ifname, as sysfs links them."""
        d = self.sys / "class/net" / ifname
        out = []
        if kind == "upper" and (d / "master").is_symlink():
            out.append(os.path.basename(os.readlink(d / "master")))
        try:
            names = sorted(os.listdir(d))
        except OSError:
            return out
        prefix = kind + "_"
        out += [n[len(prefix):] for n in names if n.startswith(prefix)]
        return list(dict.fromkeys(out))

    def _stack(self, ifname: str, kind: str) -> dict[str, tuple[str, ...]]:
        """Every interface reached from ifname going up (or down) the stack, with its path
        from ifname (ifname itself included)."""
        paths = {ifname: (ifname,)}
        todo = [ifname]
        while todo and len(paths) < MAX_STACK:
            cur = todo.pop(0)
            for nxt in self._net_links(cur, kind):
                if nxt not in paths and len(paths[cur]) < MAX_STACK:
                    paths[nxt] = paths[cur] + (nxt,)
                    todo.append(nxt)
        return paths

    def default_route_carriers(self, ifnames: list[str],
                               routes: list[DefaultRoute] | None = None
                               ) -> list[RouteCarrier]:
        """The interfaces among ifnames (a NIC's) under which a default route leaves: on the
        interface itself, or on a bond, bridge, team, VLAN, macvlan or VRF stacked on it,
        followed up from the NIC (master, upper_*) and down from the route (lower_*)."""
        routes = self.default_routes() if routes is None else routes
        out = []
        for ifname in ifnames:
            up = self._stack(ifname, "upper")
            for r in routes:
                path = up.get(r.dev)
                if path is None:
                    down = self._stack(r.dev, "lower").get(ifname)
                    path = tuple(reversed(down)) if down is not None else None
                if path is not None:
                    out.append(RouteCarrier(ifname, path, r))
        return out

    def _proc_default_routes(self) -> list[tuple[str, str]]:
        """(interface, family) of the default routes in /proc (the main IPv4 table only)."""
        out = []
        text = _read(self.proc / "net/route", "") or ""
        for line in text.splitlines()[1:]:
            f = line.split()
            if len(f) >= 8 and f[1] == "00000000" and f[7] == "00000000" and \
                    int(f[3], 16) & RTF_UP and (f[0], "IPv4") not in out:
                out.append((f[0], "IPv4"))
        text = _read(self.proc / "net/ipv6_route", "") or ""
        for line in text.splitlines():
            f = line.split()
            if len(f) >= 10 and f[0] == "0" * 32 and f[1] == "00":
                flags = int(f[8], 16)
                if flags & RTF_UP and not flags & RTF_REJECT and f[9] != "lo" and \
                        (f[9], "IPv6") not in out:
                    out.append((f[9], "IPv6"))
        return out

    # --- hugepages ----------------------------------------------------------------------
    def hugepage_sizes(self) -> dict:
        """{size_kb: {'nr': n, 'free': n}} from /sys/kernel/mm/hugepages."""
        base = self.sys / "kernel/mm/hugepages"
        out = {}
        if base.is_dir():
            for name in sorted(os.listdir(base)):
                m = re.fullmatch(r"hugepages-(\d+)kB", name)
                if m:
                    out[int(m.group(1))] = {
                        "nr": int(_read(base / name / "nr_hugepages", "0") or 0),
                        "free": int(_read(base / name / "free_hugepages", "0") or 0)}
        return out

    def default_hugepage_kb(self) -> int:
        text = _read(self.proc / "meminfo", "") or ""
        m = re.search(r"^Hugepagesize:\s+(\d+) kB", text, re.M)
        return int(m.group(1)) if m else 2048

    def mounts(self) -> list[tuple[str, str, str, str]]:
        """(device, mount point, fstype, options) from /proc/mounts."""
        out = []
        for line in (_read(self.proc / "mounts", "") or "").splitlines():
            f = line.split()
            if len(f) >= 4:
                out.append((f[0], f[1].replace("\\040", " "), f[2], f[3]))
        return out

    def hugetlbfs_mounts(self) -> list[dict]:
        out = []
        default_kb = self.default_hugepage_kb()
        for _, point, fstype, opts in self.mounts():
            if fstype != "hugetlbfs":
                continue
            size = default_kb
            m = re.search(r"pagesize=(\d+)([KMG])", opts)
            if m:
                size = int(m.group(1)) * {"K": 1, "M": 1024, "G": 1024 * 1024}[m.group(2)]
            out.append({"path": point, "pagesize_kb": size})
        return out

    # --- IOMMU, CPU, kernel command line -----------------------------------------------------
    def iommu_groups(self) -> int:
        base = self.sys / "kernel/iommu_groups"
        return len(os.listdir(base)) if base.is_dir() else 0

    def vfio_noiommu(self) -> bool | None:
        v = _read(self.sys / "module/vfio/parameters/enable_unsafe_noiommu_mode")
        return None if v is None else v in ("Y", "1")

    def cmdline(self) -> str:
        return _read(self.proc / "cmdline", "") or ""

    def cpu_flags(self) -> set[str]:
        for line in (_read(self.proc / "cpuinfo", "") or "").splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
        return set()
