"""synwall-hwcheck: is this host ready to run synwall on its NICs?

    python3 -m hw.check [--ports A,B] [--json] [--sysfs-root DIR] [--proc-root DIR]
                        [--pmd-dir DIR] [--firmware-root DIR]

Lists the network PCI devices (sysfs class 0x02xxxx) and, for each: whether synwall supports
it (hw/nics.toml) and which installed DPDK PMD claims it (the pmdinfo embedded in the PMD
files, read with pyelftools), its kernel driver, whether that is a DPDK driver (vfio-pci,
uio_pci_generic), its NUMA node, its interfaces and whether one carries the default route.
Then the host: hugepages reserved and mounted, the IOMMU, the CPU flags the fast path uses,
the DPDK installation. Each line starts with its verdict; the last line is the overall one.

Exit status: 0 ready (at least two supported ports bound to a DPDK driver, or the --ports
given, hugepages reserved and mounted, the CPU baseline present), 1 not ready, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hw import nics, pmdinfo
from hw.sysinfo import DPDK_KMODS, OPTIONAL_CPU_FLAGS, REQUIRED_CPU_FLAGS, Host

ICE_DDP = ("updates/intel/ice/ddp/ice.pkg", "intel/ice/ddp/ice.pkg")
OK, WARN, FAIL = "ok", "warn", "FAIL"


def device_report(dev, pmds, catalog, default_routes, host) -> dict:
    listed = nics.lookup(catalog, dev.vendor, dev.device)
    claims = [p.name for p in pmdinfo.claimed_by(pmds, dev.vendor, dev.device, dev.subvendor,
                                                  dev.subdevice)]
    r = {"pci": dev.addr, "id": dev.id, "name": listed.name if listed else None,
         "family": listed.family["id"] if listed else None,
         "pmd": claims[0] if claims else None, "pmds": claims,
         "kernel_driver": dev.driver, "dpdk_bound": dev.dpdk_bound,
         "numa_node": dev.numa_node, "iommu_group": dev.iommu_group,
         "interfaces": dev.ifnames,
         "default_route": sorted({c.ifname for c in host.default_route_carriers(
             dev.ifnames, default_routes)})}
    want_pmd = listed.family["pmd"] if listed else None
    if listed is None:
        r["supported"] = False
        r["status"] = "unsupported"
        r["why"] = ("%s is not an Intel NIC synwall supports (hw/SUPPORTED.md)%s"
                    % (dev.id, "; DPDK would drive it with %s" % claims[0] if claims else
                       "; no installed DPDK PMD claims it"))
    elif want_pmd not in claims:
        r["supported"] = True
        r["status"] = "no-pmd"
        r["why"] = ("supported, but %s is not installed (Debian package dpdk: %s)"
                    % (want_pmd, listed.family["library"]))
    elif dev.dpdk_bound:
        r["supported"] = True
        r["status"] = "ready"
        r["why"] = "bound to %s, %s will drive it" % (dev.driver, want_pmd)
        if dev.driver == "vfio-pci" and dev.iommu_group is None and host.iommu_groups() == 0 \
                and not host.vfio_noiommu():
            r["status"] = "bound-no-iommu"
            r["why"] = "bound to vfio-pci, but there is no IOMMU and no-IOMMU mode is off"
    else:
        r["supported"] = True
        r["status"] = "not-bound"
        held = "kernel driver %s" % dev.driver if dev.driver else "no driver"
        r["why"] = "supported (%s), has %s: bind it to vfio-pci or uio_pci_generic " \
                   "(synwall-prepare-host %s)" % (want_pmd, held, dev.addr)
        if r["default_route"]:
            r["why"] += "; but it carries the default route (%s): keep it for the host" \
                        % ", ".join(r["default_route"])
    if listed and listed.family["id"] == "ice" and want_pmd in claims:
        r["ddp_package"] = None
    return r


def hugepage_report(host) -> dict:
    sizes = host.hugepage_sizes()
    mounts = host.hugetlbfs_mounts()
    reserved = {k: v for k, v in sizes.items() if v["nr"] > 0}
    mounted_sizes = {m["pagesize_kb"] for m in mounts}
    usable = [k for k in reserved if k in mounted_sizes]
    r = {"sizes": {str(k): v for k, v in sizes.items()}, "mounts": mounts,
         "usable_kb": sorted(usable)}
    if not reserved:
        r["status"], r["why"] = FAIL, "none reserved (synwall-prepare-host --hugepages N)"
    elif not usable:
        r["status"] = FAIL
        r["why"] = "reserved (%s) but no hugetlbfs mounted for that size" % ", ".join(
            "%d x %dkB" % (v["nr"], k) for k, v in sorted(reserved.items()))
    else:
        r["status"] = OK
        r["why"] = "; ".join("%d x %dkB reserved (%d free)" % (v["nr"], k, v["free"])
                             for k, v in sorted(reserved.items())) + \
            "; hugetlbfs at " + ", ".join(m["path"] for m in mounts)
    return r


def iommu_report(host) -> dict:
    groups = host.iommu_groups()
    noiommu = host.vfio_noiommu()
    cmd = host.cmdline().split()
    flags = [w for w in cmd if w.startswith(("intel_iommu=", "amd_iommu=", "iommu="))]
    r = {"groups": groups, "cmdline": flags, "vfio_noiommu": noiommu}
    if groups > 0:
        r["state"], r["driver"] = "on", "vfio-pci"
        r["status"], r["why"] = OK, "on (%d groups): bind ports to vfio-pci" % groups
    else:
        r["state"], r["driver"] = "off", "uio_pci_generic"
        hint = "intel_iommu=on iommu=pt on the kernel command line enables it"
        r["status"] = WARN
        r["why"] = "off: bind ports to uio_pci_generic (or vfio-pci in no-IOMMU mode); %s" \
                   % hint
    return r


def cpu_report(host) -> dict:
    flags = host.cpu_flags()
    missing = [f for f in REQUIRED_CPU_FLAGS if f not in flags]
    have_opt = [f for f in OPTIONAL_CPU_FLAGS if f in flags]
    r = {"required": list(REQUIRED_CPU_FLAGS), "missing": missing,
         "optional_present": have_opt,
         "optional_absent": [f for f in OPTIONAL_CPU_FLAGS if f not in flags]}
    if missing:
        r["status"] = FAIL
        r["why"] = "missing %s: Debian's DPDK needs them (it dies with SIGILL); in a VM " \
                   "pass the host CPU (-cpu host / -cpu max)" % " ".join(missing)
    else:
        r["status"] = OK
        r["why"] = "%s present; %s" % (" ".join(REQUIRED_CPU_FLAGS), ", ".join(
            ["%s present" % f for f in have_opt] +
            ["%s absent" % f for f in r["optional_absent"]]))
    return r


def dpdk_report(pmds, pmd_dirs) -> dict:
    net = sorted({p.name for p in pmds if p.name.startswith("net_")})
    abi = pmdinfo.dpdk_abi_dir(pmd_dirs)
    r = {"pmd_dir": abi, "pmds": len(pmds), "net_pmds": net}
    if not pmds:
        r["status"] = FAIL
        r["why"] = "no DPDK PMDs under %s (apt-get install dpdk)" % ", ".join(pmd_dirs)
    else:
        r["status"] = OK
        r["why"] = "%d PCI/vdev drivers in %s (%d net_*)" % (len(pmds), abi, len(net))
    return r


def run_checks(host: Host, *, pmd_dirs, firmware_root: Path, ports=None) -> dict:
    catalog = nics.load()
    pmds = pmdinfo.load(pmd_dirs)
    default_routes = host.default_routes()
    devs = host.network_devices()
    reports = [device_report(d, pmds, catalog, default_routes, host) for d in devs]
    for r in reports:
        if "ddp_package" in r:
            found = [str(firmware_root / p) for p in ICE_DDP if (firmware_root / p).is_file()]
            r["ddp_package"] = found[0] if found else None
            if not found:
                r["why"] += "; WARNING: no ice DDP package in %s (intel/ice/ddp/ice.pkg): " \
                            "net_ice would run in safe mode, without RSS" % firmware_root
    res = {"devices": reports, "hugepages": hugepage_report(host),
           "iommu": iommu_report(host), "cpu": cpu_report(host),
           "dpdk": dpdk_report(pmds, pmd_dirs),
           "kernel_modules": {k: host.kmod_loaded(k) for k in DPDK_KMODS}}
    reasons = []
    if ports:
        wanted = []
        for ref in ports:
            addr = host.resolve_port(ref)
            if addr is None:
                reasons.append("port %s: no such PCI device or interface" % ref)
                continue
            match = [r for r in reports if r["pci"] == addr]
            if not match:
                reasons.append("port %s (%s): not a network device" % (ref, addr))
                continue
            wanted.append(match[0])
        for r in wanted:
            if r["status"] != "ready":
                reasons.append("port %s: %s" % (r["pci"], r["why"]))
        ready_ports = [r["pci"] for r in wanted if r["status"] == "ready"]
    else:
        ready_ports = [r["pci"] for r in reports if r["status"] == "ready"]
        if len(ready_ports) < 2:
            reasons.append("%d supported port(s) bound to a DPDK driver, synwall needs 2 "
                           "(outside and inside)" % len(ready_ports))
    for k in ("hugepages", "cpu", "dpdk"):
        if res[k]["status"] == FAIL:
            reasons.append("%s: %s" % (k, res[k]["why"]))
    res["verdict"] = {"ready": not reasons, "ports": ready_ports, "reasons": reasons}
    return res


STATUS_TAG = {"ready": "[ready]", "not-bound": "[bind]", "no-pmd": "[no-pmd]",
              "unsupported": "[unsupported]", "bound-no-iommu": "[FAIL]"}


def format_text(res: dict) -> str:
    out = ["network PCI devices:"]
    if not res["devices"]:
        out.append("  (none)")
    for r in res["devices"]:
        extra = []
        if r["interfaces"]:
            extra.append("if " + ",".join(r["interfaces"]))
        if r["default_route"]:
            extra.append("DEFAULT ROUTE")
        out.append("  %-14s %s %-10s %-16s PMD %-15s driver %-16s NUMA %-2d %s" % (
            STATUS_TAG[r["status"]], r["pci"], r["id"], (r["family"] or "-"), r["pmd"] or "-",
            r["kernel_driver"] or "-", r["numa_node"], " ".join(extra)))
        out.append("  %14s %s" % ("", r["why"]))
    for k, label in (("hugepages", "hugepages"), ("iommu", "IOMMU"), ("cpu", "CPU"),
                     ("dpdk", "DPDK")):
        out.append("[%s] %s: %s" % (res[k]["status"], label, res[k]["why"]))
    km = res["kernel_modules"]
    out.append("[%s] kernel drivers: %s" % (
        OK if km["vfio-pci"] or km["uio_pci_generic"] else WARN,
        ", ".join("%s %s" % (k, "loaded" if v else "not loaded") for k, v in km.items())))
    v = res["verdict"]
    if v["ready"]:
        out.append("verdict: READY: ports %s" % ", ".join(v["ports"]))
    else:
        out.append("verdict: NOT READY: " + "; ".join(v["reasons"]))
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="synwall-hwcheck",
                                 description="Check that this host can run synwall on its NICs")
    ap.add_argument("--ports", help="comma list of the ports synwall will use (PCI addresses "
                    "or interface names); default: any two supported ports")
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    ap.add_argument("--sysfs-root", default="/sys")
    ap.add_argument("--proc-root", default="/proc")
    ap.add_argument("--routes-json", metavar="FILE",
                    help="the routes as {\"ipv4\": [...], \"ipv6\": [...]} from `ip -j -4|-6 "
                    "route show table all`, instead of asking ip (fixture trees)")
    ap.add_argument("--pmd-dir", action="append",
                    help="where the DPDK PMDs are (default %s)" % pmdinfo.PMD_DIRS[0])
    ap.add_argument("--firmware-root", default="/lib/firmware")
    a = ap.parse_args(argv)
    host = Host(a.sysfs_root, a.proc_root, a.routes_json)
    res = run_checks(host, pmd_dirs=a.pmd_dir or list(pmdinfo.PMD_DIRS),
                     firmware_root=Path(a.firmware_root),
                     ports=[p for p in (a.ports or "").split(",") if p])
    if a.json:
        print(json.dumps(res, indent=2, sort_keys=True))
    else:
        print(format_text(res))
    return 0 if res["verdict"]["ready"] else 1


if __name__ == "__main__":
    sys.exit(main())
