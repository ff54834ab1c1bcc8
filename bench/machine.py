"""What the benchmark ran on, and the two small C helpers (TSC frequency, entry sizes)."""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
C_DIR = Path(__file__).resolve().parent / "c"


def _run(*cmd: str, **kw) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True, **kw).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def cpuinfo() -> dict:
    model, mhz, flags = "", None, set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        k, _, v = line.partition(":")
        k, v = k.strip(), v.strip()
        if k == "model name" and not model:
            model = v
        elif k == "cpu MHz" and mhz is None:
            mhz = float(v)
        elif k == "flags" and not flags:
            flags = set(v.split())
    return {"model": model, "mhz": mhz, "flags": flags}


def build_helpers(outdir: Path) -> dict:
    """Compile bench/c/*.c into outdir; returns {name: path} of those that built."""
    outdir.mkdir(parents=True, exist_ok=True)
    built = {}
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return built
    tsc = outdir / "tsc_hz"
    if _run(cc, "-O2", "-o", str(tsc), str(C_DIR / "tsc_hz.c")) == "" and tsc.exists():
        built["tsc_hz"] = tsc
    cflags = _run("pkg-config", "--cflags", "libdpdk").split()
    libs = _run("pkg-config", "--libs", "libdpdk").split()
    sizes = outdir / "entry_sizes"
    core = REPO / "build" / "dataplane" / "libsw_core.a"
    if core.exists():
        subprocess.run([cc, "-O2", f"-I{REPO / 'dataplane'}", *cflags, "-o", str(sizes),
                        str(C_DIR / "entry_sizes.c"), str(core), *libs],
                       capture_output=True, text=True)
        if sizes.exists():
            built["entry_sizes"] = sizes
    return built


def tsc_hz(helpers: dict) -> tuple[float, str]:
    """Measured TSC Hz (rdtsc over a sleep), else the CPU MHz of /proc/cpuinfo."""
    if "tsc_hz" in helpers:
        out = _run(str(helpers["tsc_hz"]), "100")
        if out:
            return float(out), "measured: rdtsc over 100 ms sleeps (bench/c/tsc_hz.c), median of 5"
    mhz = cpuinfo()["mhz"] or 0.0
    return mhz * 1e6, "/proc/cpuinfo cpu MHz"


def entry_sizes(helpers: dict) -> dict:
    if "entry_sizes" not in helpers:
        return {}
    out = _run(str(helpers["entry_sizes"]))
    return json.loads(out) if out else {}


def dpdk_version() -> str:
    v = _run("pkg-config", "--modversion", "libdpdk")
    pkg = _run("dpkg-query", "-W", "-f=${Version}", "dpdk")
    return f"{v} (Debian package {pkg})" if pkg else v


def git_state() -> str:
    head = _run("git", "-C", str(REPO), "rev-parse", "--short", "HEAD")
    dirty = _run("git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no",
                 "dataplane")
    return head + (" + uncommitted dataplane changes" if dirty else "")


def describe(tsc: float, tsc_how: str) -> dict:
    ci = cpuinfo()
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    simd = [f for f in ("avx2", "avx512f", "avx512bw", "avx512vl") if f in ci["flags"]]
    return {
        "nproc": os.cpu_count(),
        "cpu_model": ci["model"],
        "cpu_mhz": ci["mhz"],
        "hypervisor": "hypervisor" in ci["flags"],
        "simd": simd,
        "kernel": platform.release(),
        "memory_gib": round(mem_kb / 1048576, 1),
        "dpdk": dpdk_version(),
        "tsc_hz": tsc,
        "tsc_how": tsc_how,
        "git": git_state(),
        "binary_mtime": _mtime(REPO / "build" / "dataplane" / "synwall-dp"),
        "bpftool": _first_line("bpftool", "version"),
    }


def _cpu_ticks() -> dict[int, tuple[str, int]]:
    """{pid: (name, user + system clock ticks)} of every process now."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue                    # gone meanwhile
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        out[int(stat.parent.name)] = (name, int(fields[11]) + int(fields[12]))
    return out


def busy_processes(seconds: float = 1.0, threshold: float = 0.05) -> list[dict]:
    """The processes other than this one that used more than threshold of a CPU over the
    next seconds: whoever would share the measured CPUs with the programs measured."""
    hz = os.sysconf("SC_CLK_TCK")
    before = _cpu_ticks()
    time.sleep(seconds)
    after = _cpu_ticks()
    me = os.getpid()
    busy = []
    for pid, (name, ticks) in after.items():
        if pid == me or pid not in before:
            continue
        share = (ticks - before[pid][1]) / hz / seconds
        if share > threshold:
            busy.append({"pid": pid, "name": name, "cpu_share": round(share, 2)})
    return sorted(busy, key=lambda p: -p["cpu_share"])


def _first_line(*cmd: str) -> str:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
    except OSError:
        return ""
    return re.sub(r"\s+", " ", (r.stdout + r.stderr).strip().split("\n")[0])


def _mtime(p: Path) -> str:
    try:
        import datetime
        return datetime.datetime.fromtimestamp(p.stat().st_mtime, datetime.UTC) \
            .strftime("%Y-%m-%d %H:%M UTC")
    except OSError:
        return ""
