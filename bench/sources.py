"""Measurement 11: what per-source policy costs a SYN, and the memory it takes.

The SYN file of measurement 1 (distinct SYNs from random sources of 198.18.128.0/17, a Linux
client's options) replayed from memory to port 80 in cookie mode, one worker, as measurement
1 runs synwall, under each configuration in turn (their order rotated from run to run, so
that a drift of the machine's speed does not favour one):

- no source table (`--source-table 0`) and no lists: the base;
- the source table of the default (65536 prefixes a worker): top talkers, no limit;
- the table with both limits on (`--syn-rate` and `--reflect-rate` at their largest: every
  SYN and SYN-ACK draws on its prefix's buckets, none is refused);
- the default table and source lists of 10 000 and of 1 000 000 prefixes (`deny` rules of
  random lengths /16 to /32 over the IPv4 unicast space outside 198.18.0.0/15, so that no
  SYN of the file is denied; and an `allow` /32 in each /24 of the file's sources, its .255,
  so that every lookup reads both levels of the DIR-24-8 table: the dearer case).

Each run checks that every SYN was answered (the limits refused none, the lists denied none).
The rate is in SYNs answered a second; the cost beside it is the difference in nanoseconds
per SYN with the base of the same run. The lists' memory is what the dataplane says its set
took of EAL's heap (`--sources` line), the source table's its size (64 bytes an entry, 64 per
8 entries).
"""
from __future__ import annotations

import ipaddress
import random
import re
from pathlib import Path

from . import suite
from .dpdk import pcap_vdev

TABLE_DEFAULT = 65536
LIST_SIZES = (10000, 1000000)
FLOOD_NET = ipaddress.IPv4Network("198.18.128.0/17")
KEEP_OUT = ipaddress.IPv4Network("198.18.0.0/15")
SOURCES_LINE = re.compile(r"--sources \S+: (\d+) IPv4 and (\d+) IPv6 prefixes.* ([\d.]+) MB")


def table_bytes(entries: int) -> int:
    return entries * 64 + entries // 8 * 64


def write_rules(path: Path, n: int, seed: int = 11) -> int:
    """n rules: n - 128 random denies outside 198.18.0.0/15 and an allow of each /24 of the
    flood's .255. Returns the rules written."""
    rnd = random.Random(seed)
    lo, hi = int(KEEP_OUT.network_address), int(KEEP_OUT.broadcast_address)
    seen = set()
    lines = []
    for net in FLOOD_NET.subnets(new_prefix=24):
        lines.append(f"allow {net.broadcast_address}/32")
    while len(lines) < n:
        length = rnd.randint(16, 32)
        first = rnd.choice([o for o in range(1, 224) if o not in (10, 127)])
        addr = first << 24 | rnd.getrandbits(24)
        addr &= (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
        end = addr | ((1 << (32 - length)) - 1)
        if end >= lo and addr <= hi:
            continue            # would cover some of 198.18.0.0/15
        if (addr, length) in seen:
            continue
        seen.add((addr, length))
        lines.append(f"deny {ipaddress.IPv4Address(addr)}/{length}")
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


def m_sources(ctx: suite.Ctx) -> dict:
    n = ctx.sizes.syn_pcap
    sizes = ctx.sizes.source_lists
    sec = suite.section("sources", "Per-source policy: the cost of a SYN", distinct_syns=n,
                        mode="cookie (port 80)", list_sizes=list(sizes),
                        table_entries=TABLE_DEFAULT, table_bytes=table_bytes(TABLE_DEFAULT))
    pcap = suite.syn_file(ctx)
    vdev = pcap_vdev("net_pcap0", pcap)
    base = ["--protect", "80:cookie", "--mbufs", str(ctx.mbufs(n))]
    configs = [
        ("no source table", base + ["--source-table", "0"], 0),
        ("source table", base, 0),
        ("source table, SYN rate and reflection cap", base + [
            "--syn-rate", "100000000", "--reflect-rate", "100000000"], 0),
    ]
    for size in sizes:
        rules = ctx.work / f"sources-{size}.rules"
        written = write_rules(rules, size)
        configs.append((f"{written} prefixes", base + ["--sources", str(rules)],
                        size * 700 + (256 << 20)))
    memory: dict[str, float] = {}

    def sources_mb(proc) -> dict:
        m = SOURCES_LINE.search(proc.log())
        return {"sources_mb": float(m.group(3)), "prefixes4": int(m.group(1))} if m else {}

    for r in range(ctx.runs):
        shift = r % len(configs)
        base_pps = None
        for label, args, extra in configs[shift:] + configs[:shift]:
            res = suite.run_synwall(ctx, "sources", vdev, args, frames=n, table_bytes=extra,
                                    after=sources_mb)
            f = res["final"]
            suite.check(sec, f"{label}, run {r + 1}: every SYN answered, none limited, "
                        "capped or denied",
                        f.get("syncache.sendcookie") == f.get("port.outside_rx") > 0 and
                        not f.get("source.syn_limited") and not f.get("source.reflect_capped")
                        and not f.get("source.denied"))
            if "sources_mb" in res:
                memory[label] = res["sources_mb"]
            suite.add_run(sec, label, "pps", res["pps"], suite.brief(res))
            if label == "no source table":
                base_pps = res["pps"]
            ctx.log(f"  run {r + 1} {label:44s} {res['pps'] / 1e6:7.2f} Mpps  "
                    f"cpu {res['cpu_share'] or 0:.0%}  load {res['load_before']}")
        if base_pps:
            for label, *_ in configs:
                row = sec["rows"].get(label)
                if row and row["runs"] and row["runs"][-1]:
                    row["detail"][-1]["ns_more"] = round(1e9 / row["runs"][-1] - 1e9 / base_pps,
                                                         2)
    sec["params"]["sources_mb"] = memory
    sec["params"]["synwall_argv"] = res["argv"]
    return sec
