"""synwall-prepare-host: reserve and mount hugepages, bind synwall's ports to a DPDK driver.

    synwall-prepare-host [--hugepages N] [--hugepage-size KB] [--mount DIR]
                         [--driver auto|vfio-pci|uio_pci_generic] [--vfio-noiommu]
                         [--from-config /etc/synwall/synwall.toml] [--dry-run] [--json]
                         [--state-dir DIR] [--sysfs-root DIR] [--proc-root DIR]
                         [--routes-json FILE] [PORT...]

PORT is a PCI address (0000:03:00.0 or 03:00.0) or a kernel interface name (eth1). The
interface goes away once the port leaves its kernel driver, so the names bound are kept in
STATE_DIR/ports.json (default /var/lib/synwall; beside the fixture tree with --sysfs-root),
and a second run with the same name finds its port there.

Idempotent: what is already as asked is left alone (a second run changes nothing), and
nothing is ever taken away (hugepages are never lowered, mounts never removed). Everything is
checked before anything is changed, and a port is refused, with nothing done at all, when:
it is not a network device; one of its interfaces carries the host's default route (IPv4 or
IPv6, in any routing table, on the interface itself or on a bond, bridge, team, VLAN, macvlan
or VRF stacked on it: taking it would cut the host off); the chosen driver cannot serve it
(vfio-pci without an IOMMU, unless --vfio-noiommu).

Driver: `auto` picks vfio-pci when the IOMMU is on (the device has an IOMMU group), else
uio_pci_generic; a port already bound to either is left as it is. Binding writes the driver to
the device's driver_override (so that the kernel driver does not take it back on a rescan),
unbinds it from its current driver and asks the PCI core to probe it again.

Exit status: 0 done (or nothing to do), 1 refused or failed, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from hw import nics
from hw.sysinfo import DPDK_KMODS, PCI_ADDR, SHORT_PCI_ADDR, Host

DEFAULT_MOUNT = "/dev/hugepages"


class Refused(Exception):
    """A precondition failed: nothing was changed."""


class Failed(Exception):
    """An action did not take effect."""


class System:
    """The only place that changes the host: sysfs writes and two commands. In a dry run
    it records instead of doing. Tests replace it with a fake kernel."""

    def __init__(self, dry_run: bool = False):
        self.dry_run = dry_run
        self.actions: list[str] = []

    def write(self, path: Path, value: str) -> None:
        self.actions.append("write %r to %s" % (value, path))
        if not self.dry_run:
            with open(path, "w") as f:
                f.write(value)

    def run(self, cmd: list[str]) -> None:
        self.actions.append("run " + " ".join(cmd))
        if not self.dry_run:
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                raise Failed("%s: %s" % (" ".join(cmd), (r.stderr or r.stdout).strip()))

    def mkdir(self, path: Path) -> None:
        self.actions.append("mkdir -p %s" % path)
        if not self.dry_run:
            Path(path).mkdir(parents=True, exist_ok=True)


class Preparer:
    def __init__(self, host: Host, system: System, out=print, state_dir: Path | None = None):
        self.host, self.sys, self.out = host, system, out
        self.dry = system.dry_run
        self.state_file = Path(state_dir) / "ports.json" if state_dir else None
        self.names = self._load_names()

    def _load_names(self) -> dict:
        try:
            data = json.loads(self.state_file.read_text()) if self.state_file else {}
        except (OSError, ValueError):
            data = {}
        return data if isinstance(data, dict) else {}

    def _save_names(self, new: dict) -> None:
        merged = dict(self.names, **new)
        if not self.state_file or self.dry or merged == self.names:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(merged, indent=1, sort_keys=True) + "\n")
        tmp.replace(self.state_file)
        self.names = merged

    def resolve(self, ref: str) -> str | None:
        addr = self.host.resolve_port(ref)
        if addr is None and ref in self.names:
            dev = self.host.pci_device(self.names[ref])
            # Only while the port is still away from its kernel driver, as we left it.
            if dev is not None and dev.dpdk_bound:
                addr = dev.addr
        return addr

    def say(self, msg: str) -> None:
        self.out(("dry run: " if self.dry else "") + msg)

    # --- checks (no changes) ---------------------------------------------------------------
    def plan_ports(self, refs: list[str], driver: str, vfio_noiommu: bool) -> list[tuple]:
        """[(addr, target driver or None if already fine)] or Refused."""
        catalog = nics.load()
        routes = self.host.default_routes()
        seen, plan = set(), []
        for ref in refs:
            addr = self.resolve(ref)
            if addr is None:
                raise Refused("%s: no such PCI device or network interface" % ref)
            if addr in seen:
                raise Refused("%s: given twice" % addr)
            seen.add(addr)
            dev = self.host.pci_device(addr)
            if dev.pci_class >> 16 != 0x02:
                raise Refused("%s: PCI class %06x is not a network controller"
                              % (addr, dev.pci_class))
            carriers = self.host.default_route_carriers(dev.ifnames, routes)
            if carriers:
                raise Refused("refusing to take %s (%s): it carries the host's default route%s; "
                              "synwall needs two other ports" % (
                                  addr, ", ".join(sorted({c.ifname for c in carriers})),
                                  route_detail(carriers)))
            if nics.lookup(catalog, dev.vendor, dev.device) is None:
                self.say("%s: warning: %s is not on synwall's supported list (hw/SUPPORTED.md)"
                         % (addr, dev.id))
            target = driver
            if driver == "auto":
                if dev.driver in DPDK_KMODS:
                    plan.append((addr, None, dev.driver))
                    continue
                target = "vfio-pci" if dev.iommu_group or vfio_noiommu else "uio_pci_generic"
            if target == "vfio-pci" and dev.iommu_group is None and not vfio_noiommu and \
                    not self.host.vfio_noiommu():
                raise Refused("%s: no IOMMU group, so vfio-pci cannot take it: use "
                              "--driver uio_pci_generic, or --vfio-noiommu (unsafe: no DMA "
                              "isolation), or enable the IOMMU (intel_iommu=on iommu=pt)"
                              % addr)
            plan.append((addr, None if dev.driver == target else target, dev.driver))
        return plan

    # --- actions ----------------------------------------------------------------------------
    def hugepages(self, count: int, size_kb: int) -> None:
        sizes = self.host.hugepage_sizes()
        if size_kb not in sizes:
            raise Refused("this kernel has no %dkB hugepages (it has: %s)" % (
                size_kb, ", ".join("%dkB" % k for k in sizes) or "none"))
        have = sizes[size_kb]["nr"]
        if have >= count:
            self.say("hugepages: %d x %dkB already reserved (asked %d): unchanged"
                     % (have, size_kb, count))
            return
        path = self.host.sys / "kernel/mm/hugepages" / ("hugepages-%dkB" % size_kb) / \
            "nr_hugepages"
        self.sys.write(path, "%d\n" % count)
        if self.dry:
            self.say("hugepages: would reserve %d x %dkB (now %d)" % (count, size_kb, have))
            return
        got = self.host.hugepage_sizes()[size_kb]["nr"]
        if got < count:
            raise Failed("hugepages: asked %d x %dkB, the kernel reserved %d (memory too "
                         "fragmented or too small: reserve them at boot with "
                         "hugepagesz=%dK hugepages=%d on the kernel command line)"
                         % (count, size_kb, got, size_kb, count))
        self.say("hugepages: reserved %d x %dkB (was %d)" % (got, size_kb, have))

    def mount(self, path: str, size_kb: int) -> None:
        for m in self.host.hugetlbfs_mounts():
            if m["pagesize_kb"] == size_kb:
                self.say("hugetlbfs: %dkB pages already mounted at %s: unchanged"
                         % (size_kb, m["path"]))
                return
        self.sys.mkdir(Path(path))
        self.sys.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=%dK" % size_kb, "nodev",
                      path])
        if self.dry:
            self.say("hugetlbfs: would mount %dkB pages at %s" % (size_kb, path))
            return
        if not any(m["pagesize_kb"] == size_kb for m in self.host.hugetlbfs_mounts()):
            raise Failed("hugetlbfs: mount at %s did not appear in /proc/mounts" % path)
        self.say("hugetlbfs: mounted %dkB pages at %s" % (size_kb, path))

    def load_driver(self, name: str) -> None:
        if self.host.kmod_loaded(name):
            return
        self.sys.run(["modprobe", name])
        if not self.dry and not self.host.kmod_loaded(name):
            raise Failed("modprobe %s: the driver did not appear in %s" % (
                name, self.host.sys / "bus/pci/drivers"))

    def bind(self, addr: str, target: str, current: str | None) -> None:
        dev = self.host.pci_dir(addr)
        self.sys.write(dev / "driver_override", target + "\n")
        if current:
            self.sys.write(dev / "driver" / "unbind", addr)
        self.sys.write(self.host.sys / "bus/pci/drivers_probe", addr)
        if self.dry:
            self.say("%s: would bind to %s (now %s)" % (addr, target, current or "no driver"))
            return
        now = self.host.pci_device(addr).driver
        if now != target:
            raise Failed("%s: still bound to %s after binding to %s (dmesg says why)"
                         % (addr, now or "no driver", target))
        self.say("%s: bound to %s (was %s)" % (addr, target, current or "no driver"))

    def prepare(self, ports, *, hugepages: int | None, size_kb: int, mount: str,
                driver: str, vfio_noiommu: bool) -> dict:
        plan = self.plan_ports(ports, driver, vfio_noiommu)  # may refuse: nothing done yet
        # Interface names given, while they still exist (binding removes them).
        names = {ref: self.host.resolve_port(ref) for ref in ports
                 if (self.host.sys / "class/net" / ref).exists()}
        if hugepages:
            self.hugepages(hugepages, size_kb)
            self.mount(mount, size_kb)
        if vfio_noiommu and any(t == "vfio-pci" for _, t, _ in plan):
            self.load_driver("vfio-pci")
            p = self.host.sys / "module/vfio/parameters/enable_unsafe_noiommu_mode"
            if self.host.vfio_noiommu() is not True:
                self.sys.write(p, "1\n")
        for addr, target, current in plan:
            if target is None:
                self.say("%s: already bound to %s: unchanged" % (addr, current))
                continue
            self.load_driver(target)
            self.bind(addr, target, current)
        self._save_names(names)
        return {"ports": [{"pci": a, "driver": t or c, "changed": t is not None}
                          for a, t, c in plan],
                "actions": list(self.sys.actions), "dry_run": self.dry}


def route_detail(carriers) -> str:
    """How the route reaches the NIC, when it is not simply on its interface in the main
    table: " (through bond0, br0; IPv6, routing table mgmt)"."""
    parts = []
    for c in carriers:
        words = []
        if len(c.path) > 1:
            words.append("through " + ", ".join(c.path[1:]))
        if c.route.table != "main":
            words.append("%s routing table %s" % (c.route.family, c.route.table))
        if words and "; ".join(words) not in parts:
            parts.append("; ".join(words))
    return " (%s)" % "; ".join(parts) if parts else ""


def ports_from_config(path: str) -> list[str]:
    """The PCI addresses among [dataplane] outside/inside of a synwalld boot config (port ids
    and vdevs need no binding)."""
    try:
        doc = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise Refused("--from-config %s: %s" % (path, e)) from None
    dp = doc.get("dataplane", {})
    out = []
    for key in ("outside", "inside"):
        dev = str(dp.get(key, "")).split(",", 1)[0]
        if PCI_ADDR.match(dev) or SHORT_PCI_ADDR.match(dev):
            out.append(dev)
    return out


def main(argv=None, system: System | None = None, out=print) -> int:
    ap = argparse.ArgumentParser(prog="synwall-prepare-host",
                                 description="Reserve hugepages and bind synwall's ports to a "
                                 "DPDK driver (idempotent)")
    ap.add_argument("ports", nargs="*", metavar="PORT",
                    help="PCI address (0000:03:00.0) or interface name")
    ap.add_argument("--from-config", metavar="TOML",
                    help="also take the PCI addresses of [dataplane] outside/inside of this "
                    "synwalld boot config")
    ap.add_argument("--hugepages", type=int, default=None,
                    help="hugepages to have reserved, at least (never lowered)")
    ap.add_argument("--hugepage-size", type=int, default=2048, metavar="KB",
                    help="page size in kB (default 2048)")
    ap.add_argument("--mount", default=DEFAULT_MOUNT,
                    help="where to mount hugetlbfs if no mount exists (default %s)"
                    % DEFAULT_MOUNT)
    ap.add_argument("--driver", default="auto", choices=("auto", "vfio-pci", "uio_pci_generic"))
    ap.add_argument("--vfio-noiommu", action="store_true",
                    help="use vfio-pci without an IOMMU (enable_unsafe_noiommu_mode)")
    ap.add_argument("--dry-run", action="store_true", help="say what would be done, do nothing")
    ap.add_argument("--json", action="store_true", help="print a JSON summary at the end")
    ap.add_argument("--state-dir", help="where ports.json (interface name -> PCI address) "
                    "is kept (default /var/lib/synwall)")
    ap.add_argument("--sysfs-root", default="/sys")
    ap.add_argument("--proc-root", default="/proc")
    ap.add_argument("--routes-json", metavar="FILE",
                    help="the routes as {\"ipv4\": [...], \"ipv6\": [...]} from `ip -j -4|-6 "
                    "route show table all`, instead of asking ip (fixture trees)")
    a = ap.parse_args(argv)
    if a.state_dir is None:
        a.state_dir = "/var/lib/synwall" if a.sysfs_root == "/sys" else \
            str(Path(a.sysfs_root).resolve().parent / "var/lib/synwall")
    if a.from_config:
        try:
            a.ports = ports_from_config(a.from_config) + \
                [p for p in a.ports if p not in ports_from_config(a.from_config)]
        except Refused as e:
            out("synwall-prepare-host: %s" % e)
            return 1
    if not a.ports and not a.hugepages:
        ap.error("nothing to do: give ports, --from-config and/or --hugepages")
    if a.hugepages is not None and a.hugepages < 1:
        ap.error("--hugepages: must be at least 1")
    if system is None:
        system = System(a.dry_run)
    if not a.dry_run and a.sysfs_root == "/sys" and os.geteuid() != 0:
        out("synwall-prepare-host: needs root (or --dry-run)")
        return 1
    host = Host(a.sysfs_root, a.proc_root, a.routes_json)
    p = Preparer(host, system, out, Path(a.state_dir))
    try:
        res = p.prepare(a.ports, hugepages=a.hugepages, size_kb=a.hugepage_size,
                        mount=a.mount, driver=a.driver, vfio_noiommu=a.vfio_noiommu)
    except (Refused, Failed) as e:
        out("synwall-prepare-host: %s" % e)
        return 1
    if a.json:
        out(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
