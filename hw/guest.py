"""A minimal Linux guest that runs synwall-dp on emulated Intel NICs through DPDK's PCI PMD.

The image is an initramfs (newc cpio, gzip) made from the host's own files: busybox-static,
synwall-dp with every shared library it needs (found from DT_NEEDED with pyelftools), the few
DPDK PMDs the run needs (PCI bus, mempool ring, e1000), and uio/uio_pci_generic from the
kernel's modules. The kernel is the host's Debian kernel (/boot/vmlinuz-*). Nothing is
downloaded.

Two details matter:

* Debian's DPDK keeps every PMD in /usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0 and puts symlinks
  to them in /usr/lib/x86_64-linux-gnu. EAL dlopens the PMD folder; the dynamic loader finds
  the same libraries through the library folder. Both names must lead to the same file (we
  copy symlinks as symlinks, like `cp -a`), or each PMD is loaded twice and EAL aborts with
  "tailq is already registered".
* EAL loads every PMD in that folder, so the guest's folder holds only the PMDs the run uses
  (and what they need): the host's holds dozens whose libraries (mlx5, ...) are not there.

The guest's /init binds the NICs, runs synwall-dp on them, stops it (SIGINT) when the host
writes a line to the second serial port, prints the stats JSON between markers on the
console, and powers off. `parse_console` reads that back.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shlex
import stat
from dataclasses import dataclass, field
from pathlib import Path

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

LIB_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
            "/lib", "/usr/lib")
PMD_DIR = "/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0"
# The PMDs a run on emulated e1000 NICs needs: the PCI bus, the default mempool handler
# (ring_mp_mc) and the e1000 family driver (net_e1000_em, net_e1000_igb).
E1000_PMDS = ("librte_bus_pci", "librte_mempool_ring", "librte_net_e1000")
BUSYBOX = "/bin/busybox"
UIO_MODULES = ("kernel/drivers/uio/uio.ko", "kernel/drivers/uio/uio_pci_generic.ko")
# Loaded with dlopen, so not in any DT_NEEDED: glibc's pthread_cancel (EAL stops its
# interrupt thread with it at rte_eal_cleanup) aborts the process without libgcc_s.
DLOPENED = ("libgcc_s.so.1",)

STATS_BEGIN = "SWG-STATS-BEGIN"
STATS_END = "SWG-STATS-END"
EXIT_MARK = "SWG-DP-EXIT"
READY_MARK = re.compile(r"synwall-dp: \d+ worker\(s\)")


# --- ELF dependencies --------------------------------------------------------------------

def elf_needed(path: str) -> tuple[list[str], list[str]]:
    """(DT_NEEDED names, RUNPATH/RPATH dirs) of an ELF file."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        needed, paths = [], []
        for sec in elf.iter_sections():
            if not isinstance(sec, DynamicSection):
                continue
            for tag in sec.iter_tags():
                if tag.entry.d_tag == "DT_NEEDED":
                    needed.append(tag.needed)
                elif tag.entry.d_tag == "DT_RUNPATH":
                    paths += tag.runpath.split(":")
                elif tag.entry.d_tag == "DT_RPATH":
                    paths += tag.rpath.split(":")
        interp = None
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_INTERP":
                interp = seg.get_interp_name()
        if interp:
            needed.append(interp)
    return needed, paths


def resolve_lib(name: str, extra_dirs=()) -> str:
    if name.startswith("/"):
        return name
    for d in list(extra_dirs) + list(LIB_DIRS):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError("shared library %s not found in %s" % (name, ", ".join(LIB_DIRS)))


def lib_closure(roots) -> list[str]:
    """Every shared object (host paths as the loader would open them) the roots need."""
    seen: dict[str, None] = {}
    todo = list(roots)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen[p] = None
        needed, runpath = elf_needed(p)
        for n in needed:
            todo.append(resolve_lib(n, runpath))
    return list(seen)


# --- the file tree -------------------------------------------------------------------------

@dataclass
class Tree:
    """Files for the image: guest path -> ('dir'|'file'|'link', host path/data/target, mode)."""
    entries: dict = field(default_factory=dict)

    def mkdir(self, gpath: str, mode: int = 0o755) -> None:
        parts = gpath.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            p = "/" + "/".join(parts[:i])
            if p not in self.entries:
                self.entries[p] = ("dir", None, mode)

    def add_data(self, gpath: str, data: bytes, mode: int = 0o644) -> None:
        self.mkdir(os.path.dirname(gpath))
        self.entries[gpath] = ("file", data, mode)

    def add_symlink(self, gpath: str, target: str) -> None:
        self.mkdir(os.path.dirname(gpath))
        self.entries[gpath] = ("link", target, 0o777)

    def add_host(self, hpath: str, gpath: str | None = None) -> None:
        """Copy a host path like `cp -a`: a symlink stays a symlink (and its target comes
        along); the guest path is the host path with its folder's symlinks resolved, so
        /lib/x/y lands in /usr/lib/x/y, where the guest's /lib -> usr/lib leads too."""
        d = os.path.realpath(os.path.dirname(hpath))
        hp = os.path.join(d, os.path.basename(hpath))
        gp = gpath or hp
        if gp in self.entries:
            return
        st = os.lstat(hp)
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(hp)
            self.add_symlink(gp, target)
            if gpath is None:
                self.add_host(target if target.startswith("/") else os.path.join(d, target))
        elif stat.S_ISREG(st.st_mode):
            self.mkdir(os.path.dirname(gp))
            self.entries[gp] = ("file", hp, stat.S_IMODE(st.st_mode))
        else:
            raise ValueError("%s: not a file or symlink" % hp)

    def cpio(self) -> bytes:
        """The tree as a newc cpio archive (what the kernel unpacks as initramfs)."""
        out = io.BytesIO()
        ino = 1

        def entry(name: str, mode: int, data: bytes) -> None:
            nonlocal ino
            nm = name.encode() + b"\0"
            hdr = "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X" % (
                ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nm), 0)
            ino += 1
            out.write(hdr.encode() + nm)
            out.write(b"\0" * (-(110 + len(nm)) % 4))
            out.write(data)
            out.write(b"\0" * (-len(data) % 4))

        for gp in sorted(self.entries):
            kind, src, mode = self.entries[gp]
            name = gp.lstrip("/")
            if kind == "dir":
                entry(name, stat.S_IFDIR | mode, b"")
            elif kind == "link":
                entry(name, stat.S_IFLNK | 0o777, src.encode())
            else:
                data = src if isinstance(src, bytes) else Path(src).read_bytes()
                entry(name, stat.S_IFREG | mode, data)
        entry("TRAILER!!!", 0, b"")
        return out.getvalue()


def base_tree() -> Tree:
    """Folders and the merged-/usr symlinks of a Debian root, busybox, the loader's paths."""
    t = Tree()
    for d in ("/proc", "/sys", "/dev", "/tmp", "/run", "/var", "/etc", "/mnt",
              "/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/modules"):
        t.mkdir(d)
    t.add_symlink("/var/run", "../run")
    # Debian 12 is merged-/usr: /lib -> usr/lib and so on; keep the guest the same.
    for top in ("/bin", "/sbin", "/lib", "/lib64"):
        if os.path.islink(top):
            t.add_symlink(top, os.readlink(top))
        else:
            t.mkdir(top)
    t.add_host(BUSYBOX)
    return t


# --- the guest's /init -----------------------------------------------------------------------

INIT_TEMPLATE = r"""#!/bin/busybox sh
# synwall test guest: bind the NICs, run synwall-dp, print its counters, power off.
/bin/busybox --install -s /bin 2>/dev/null || /bin/busybox --install -s /usr/bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/hugepages
mount -t hugetlbfs nodev /dev/hugepages
echo "SWG: kernel $(uname -r), hugepages $(cat /proc/sys/vm/nr_hugepages) reserved"
echo "SWG: cpu flags: $(grep -o 'sse4_2\|avx2\|avx512f' /proc/cpuinfo | sort -u | tr '\n' ' ')"
for m in {modules}; do insmod /modules/$m || echo "SWG: insmod $m failed"; done
for d in /sys/bus/pci/devices/*; do
    id="$(cat $d/vendor):$(cat $d/device)"
    case " {pci_ids} " in
    *" $id "*)
        echo {driver} > $d/driver_override
        echo ${{d##*/}} > /sys/bus/pci/drivers_probe
        echo "SWG: bound ${{d##*/}} ($id) to $(basename $(readlink $d/driver))";;
    esac
done
# The host writes a line to the second serial port to stop the dataplane.
{dp_cmd} &
dp=$!
(read -r line < /dev/ttyS1; echo "SWG: stop requested"; kill -INT $dp) &
watcher=$!
wait $dp
rc=$?
kill $watcher 2>/dev/null
echo "{exit_mark} $rc"
echo "{stats_begin}"
cat /tmp/stats.json 2>/dev/null
echo
echo "{stats_end}"
sync
poweroff -f
"""


def init_script(dp_args: list[str], *, pci_ids=("0x8086:0x100e",),
                driver: str = "uio_pci_generic") -> str:
    dp_cmd = " ".join(shlex.quote(a) for a in ["/usr/bin/synwall-dp"] + list(dp_args))
    return INIT_TEMPLATE.format(
        modules=" ".join(os.path.basename(m) for m in UIO_MODULES),
        pci_ids=" ".join(pci_ids), driver=driver, dp_cmd=dp_cmd, exit_mark=EXIT_MARK,
        stats_begin=STATS_BEGIN, stats_end=STATS_END)


# --- building --------------------------------------------------------------------------------

def pmd_files(names=E1000_PMDS) -> list[str]:
    """Every name (librte_x.so, .so.23, .so.23.0) of the wanted PMDs in the PMD folder."""
    out = []
    for n in names:
        hits = sorted(str(p) for p in Path(PMD_DIR).glob(n + ".so*"))
        if not hits:
            raise FileNotFoundError("%s: no %s.so* (is Debian's dpdk installed?)" % (PMD_DIR, n))
        out += hits
    return out


def find_kernel(release: str | None = None) -> tuple[str, str]:
    """(vmlinuz path, release) of a Debian kernel on this host that has uio_pci_generic."""
    cands = sorted(Path("/boot").glob("vmlinuz-*"), reverse=True)
    for k in cands:
        rel = k.name[len("vmlinuz-"):]
        if release and rel != release:
            continue
        if all((Path("/lib/modules") / rel / m).is_file() for m in UIO_MODULES):
            return str(k), rel
    raise FileNotFoundError("no /boot/vmlinuz-* with uio_pci_generic in /lib/modules "
                            "(apt-get install linux-image-amd64)")


def build_initramfs(out: str, dp_binary: str, dp_args: list[str], *, kernel_release: str,
                    pmds=E1000_PMDS, pci_ids=("0x8086:0x100e",),
                    driver: str = "uio_pci_generic") -> dict:
    """Write the gzip'ed cpio to out; returns a summary (files, bytes)."""
    t = base_tree()
    t.add_host(dp_binary, "/usr/bin/synwall-dp")
    pmd_paths = pmd_files(pmds)
    roots = [dp_binary] + [p for p in pmd_paths if not os.path.islink(p)]
    roots += [resolve_lib(n) for n in DLOPENED]
    for lib in lib_closure(roots):
        t.add_host(lib)
    for p in pmd_paths:
        t.add_host(p)
        # ... and its name in the library folder (a symlink into the PMD folder on Debian).
        alias = os.path.join(os.path.dirname(os.path.dirname(PMD_DIR)), os.path.basename(p))
        if os.path.islink(alias):
            t.add_host(alias)
    for m in UIO_MODULES:
        t.add_host(str(Path("/lib/modules") / kernel_release / m),
                   "/modules/" + os.path.basename(m))
    t.add_data("/init", init_script(dp_args, pci_ids=pci_ids, driver=driver).encode(), 0o755)
    data = gzip.compress(t.cpio(), compresslevel=1)
    Path(out).write_bytes(data)
    return {"entries": len(t.entries), "bytes": len(data),
            "pmd_dir": sorted(p for p in t.entries if p.startswith(PMD_DIR + "/"))}


# --- reading the console back --------------------------------------------------------------

def parse_console(text: str) -> dict:
    """{'exit': rc or None, 'stats': dict or None} from the guest's serial console."""
    res = {"exit": None, "stats": None}
    m = re.search(re.escape(EXIT_MARK) + r" (\d+)", text)
    if m:
        res["exit"] = int(m.group(1))
    m = re.search(re.escape(STATS_BEGIN) + r"\r?\n(.*?)" + re.escape(STATS_END), text, re.S)
    if m and m.group(1).strip():
        res["stats"] = json.loads(m.group(1).replace("\r", ""))
    return res
