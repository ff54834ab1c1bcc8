"""The PCI ids each installed DPDK poll-mode driver claims, read from the PMD files themselves.

Every DPDK driver built with RTE_PMD_REGISTER_PCI_TABLE carries, in its .rodata, a string

    PMD_INFO_STRING= {"name": "net_ixgbe", "kmod": "* igb_uio | uio_pci_generic | vfio-pci",
                      "pci_ids": [[32902, 4347, 65535, 65535], ...]}

(buildtools/gen-pmdinfo-cfile.py; the `__rte_pmd_info` of dpdk-pmdinfo.py). Each id is
[vendor, device, subsystem vendor, subsystem device], 65535 (PCI_ANY_ID) matching anything.
This module finds those strings with pyelftools (no dpdk-pmdinfo.py, no objdump).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

PMD_DIRS = ("/usr/lib/x86_64-linux-gnu/dpdk",)   # Debian: .../dpdk/pmds-<ABI>/
MARKER = b"PMD_INFO_STRING="
ANY = 0xFFFF


@dataclass
class Pmd:
    name: str                      # net_ixgbe
    path: str                      # the .so it was read from
    kmod: str = ""                 # the kernel modules it works with
    pci_ids: list = field(default_factory=list)   # [(vendor, device, subvendor, subdevice)]

    def claims(self, vendor: int, device: int, subvendor: int = ANY,
               subdevice: int = ANY) -> bool:
        for v, d, sv, sd in self.pci_ids:
            if v == vendor and d == device and sv in (ANY, subvendor) and \
                    sd in (ANY, subdevice):
                return True
        return False

    @property
    def kmods(self) -> list:
        """'* igb_uio | uio_pci_generic | vfio-pci' -> ['igb_uio', 'uio_pci_generic', ...]"""
        return [k.strip() for k in self.kmod.replace("*", " ").split("|") if k.strip()]


def read_pmd_strings(path: str) -> list[dict]:
    """Every PMD_INFO_STRING JSON object in the read-only data of an ELF file."""
    out = []
    with open(path, "rb") as f:
        try:
            elf = ELFFile(f)
        except ELFError:
            return out
        for sec in elf.iter_sections():
            # .rodata in a shared object; read-only PROGBITS sections in general.
            if sec["sh_type"] != "SHT_PROGBITS" or sec["sh_flags"] & 0x1:  # SHF_WRITE
                continue
            if not (sec.name == ".rodata" or sec.name.startswith(".rodata")):
                continue
            data = sec.data()
            start = 0
            while True:
                i = data.find(MARKER, start)
                if i < 0:
                    break
                end = data.find(b"\0", i)
                end = len(data) if end < 0 else end
                raw = data[i + len(MARKER):end]
                start = end
                try:
                    out.append(json.loads(raw.decode("utf-8", "replace")))
                except ValueError:
                    continue
    return out


def pmd_files(dirs=PMD_DIRS) -> list[str]:
    """The real (non-symlink) librte_*.so* files under dirs, one per library."""
    files = []
    for d in dirs:
        for root, _, names in os.walk(d):
            for n in sorted(names):
                p = os.path.join(root, n)
                if n.startswith("librte_") and ".so" in n and not os.path.islink(p):
                    files.append(p)
    return files


def load(dirs=PMD_DIRS) -> list[Pmd]:
    """Every PCI PMD declared by the files under dirs (vdev-only drivers have no ids)."""
    pmds = []
    for p in pmd_files(dirs):
        for info in read_pmd_strings(p):
            ids = [tuple(int(x) for x in i[:4]) for i in info.get("pci_ids", [])
                   if isinstance(i, list) and len(i) >= 4]
            pmds.append(Pmd(info.get("name", "?"), p, info.get("kmod", ""), ids))
    return pmds


def claimed_by(pmds: list[Pmd], vendor: int, device: int, subvendor: int = ANY,
               subdevice: int = ANY) -> list[Pmd]:
    return [p for p in pmds if p.claims(vendor, device, subvendor, subdevice)]


def dpdk_abi_dir(dirs=PMD_DIRS):
    """The pmds-<ABI> folder EAL loads drivers from, or None."""
    for d in dirs:
        hits = sorted(Path(d).glob("pmds-*")) if Path(d).is_dir() else []
        if hits:
            return str(hits[-1])
    return None


def _main():
    import argparse
    ap = argparse.ArgumentParser(description="PCI ids each installed DPDK PMD claims")
    ap.add_argument("--pmd-dir", action="append", help="folder to scan (default %s)"
                    % PMD_DIRS[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("ids", nargs="*", help="VENDOR:DEVICE ids to look up (hex)")
    a = ap.parse_args()
    pmds = load(a.pmd_dir or PMD_DIRS)
    if a.ids:
        res = {}
        for spec in a.ids:
            v, d = (int(x, 16) for x in spec.split(":"))
            res[spec] = [p.name for p in claimed_by(pmds, v, d)]
        print(json.dumps(res, indent=1) if a.json else
              "\n".join("%s %s" % (k, " ".join(v) or "-") for k, v in res.items()))
        return
    if a.json:
        print(json.dumps([{"name": p.name, "path": p.path, "kmod": p.kmod,
                           "pci_ids": ["%04x:%04x" % i[:2] for i in p.pci_ids]}
                          for p in pmds], indent=1))
    else:
        for p in pmds:
            print("%-24s %4d ids  %s" % (p.name, len(p.pci_ids), os.path.basename(p.path)))


if __name__ == "__main__":
    _main()
