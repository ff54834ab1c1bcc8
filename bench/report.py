"""BENCHMARKS.md and bench/out/bench.png from results.json.

The numbers and tables are generated; the method text is bench/METHOD.md, written by hand and
copied in as it is.
"""
from __future__ import annotations

import os
import statistics
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PLOT = "bench.png"


# --- numbers ---------------------------------------------------------------------------

def stats(values) -> dict | None:
    v = [x for x in values if x is not None]
    if not v:
        return None
    med = statistics.median(v)
    return {"median": med, "min": min(v), "max": max(v), "n": len(v),
            "spread": (max(v) - min(v)) / med if med else 0.0}


def row_stats(sec: dict | None, label: str) -> dict | None:
    if not sec or label not in sec["rows"]:
        return None
    return stats(sec["rows"][label]["runs"])


def med_of(sec: dict, label: str, key: str):
    vals = [d.get(key) for d in sec["rows"][label]["detail"] if d.get(key) is not None]
    return statistics.median(vals) if vals else None


def M(x, digits=2) -> str:
    return "–" if x is None else f"{x / 1e6:.{digits}f}"


def pct(x) -> str:
    return "–" if x is None else f"{x:.0%}"


def rate_table(sec: dict, unit: str, tsc: float | None = None, labels=None) -> list[str]:
    head = f"| | median {unit} | min | max | spread | runs | worker CPU share | per worker CPU-second"
    sep = "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---:"
    if tsc:
        head += " | cycles/packet | cycles/packet on CPU"
        sep += " | ---: | ---:"
    lines = [head + " |", sep + " |"]
    for label in labels or sec["rows"]:
        st = row_stats(sec, label)
        if st is None:
            lines.append(f"| {label} | no result | | | | | | |")
            continue
        cpu = med_of(sec, label, "cpu_share")
        per_cpu = st["median"] / cpu if cpu else None
        line = (f"| {label} | **{M(st['median'])}** | {M(st['min'])} | {M(st['max'])} | "
                f"{st['spread']:.1%} | {st['n']} | {pct(cpu)} | {M(per_cpu)}")
        if tsc:
            line += f" | {tsc / st['median']:.0f} | " + (
                f"{tsc * cpu / st['median']:.0f}" if cpu else "–")
        lines.append(line + " |")
    return lines


def raw_table(sec: dict, keys: list[tuple[str, str]]) -> list[str]:
    lines = ["| row | run | value | " + " | ".join(k[1] for k in keys) + " | set aside |",
             "| --- | ---: | ---: | " + " | ".join("---" for _ in keys) + " | --- |"]
    rows = dict(sec["rows"])
    if sec.get("diag"):
        rows[sec["diag"]["label"]] = sec["diag"]
    for label, row in rows.items():
        for i, (v, d) in enumerate(zip(row["runs"], row["detail"])):
            cells = []
            for k, _ in keys:
                x = d.get(k)
                if isinstance(x, float):
                    x = f"{x:.3f}" if abs(x) < 100 else f"{x:.0f}"
                cells.append("" if x is None else str(x))
            val = "–" if v is None else f"{v:.0f}"
            aside = "; ".join(f"{(a.get('pps') or a.get('rate') or 0):.0f} at CPU share "
                              f"{a.get('cpu_share') or 0:.0%}" for a in d.get("set_aside", []))
            lines.append(f"| {label} | {i + 1} | {val} | " + " | ".join(cells) +
                         f" | {aside} |")
    return lines


# --- targets ---------------------------------------------------------------------------

def targets(R: dict) -> list[tuple[str, str, str]]:
    S = R["sections"]
    out = []
    for sid, name in (("syn", "SYN → SYN-ACK ≥ 0.8 × testpmd 5tswap (same vdev, same run)"),
                      ("badack", "Invalid ACK ≥ 0.8 × testpmd 5tswap (same vdev, same run)")):
        sw, tp = row_stats(S.get(sid), "synwall"), row_stats(S.get(sid), "testpmd")
        if not (sw and tp):
            out.append((name, "not measured", "–"))
            continue
        r = sw["median"] / tp["median"]
        res = f"{r:.2f} × ({M(sw['median'])} vs {M(tp['median'])} Mpps, medians)"
        verdict = "**met**" if r >= 0.8 else (
            f"**missed** by {0.8 - r:.2f} × ({(0.8 - r) / 0.8:.0%} short: needs "
            f"{M(0.8 * tp['median'])} Mpps)")
        why = profile_budget(R, sid)
        if r < 0.8 and why:
            verdict += f": {why}"
        out.append((name, res, verdict))
    hs = row_stats(S.get("handshake"), "synwall")
    name = "≥ 1 M proxied handshakes per second per lcore"
    if hs:
        res = f"{M(hs['median'])} M/s (median; SYN, ACK, server SYN-ACK + one bridged filler)"
        verdict = "**met**" if hs["median"] >= 1e6 else (
            f"**missed**: {1e6 / hs['median']:.1f} × short ({M(1e6 - hs['median'])} M/s more "
            "needed)")
        out.append((name, res, verdict))
    else:
        out.append((name, "not measured", "–"))
    mem = S.get("memory")
    for what, sz, slot, stored in (("Syncache entry ≤ 64 bytes", "sizeof_sc_entry",
                                    "sc_bytes_per_slot", "sc_bytes_per_stored"),
                                   ("Flow entry ≤ 64 bytes", "sizeof_flow",
                                    "flow_bytes_per_slot", "flow_bytes_per_stored")):
        if not mem:
            out.append((what, "not measured", "–"))
            continue
        s = mem["params"].get(sz)
        big = max((mem["flows"] if "flow" in slot else mem["syncache"]).values(),
                  key=lambda r: r["slots"])
        res = (f"sizeof {s} B; resident {mem[slot]:.1f} B per slot, {mem[stored]:.1f} B per "
               f"stored entry (measured, {big['slots']}-slot table)")
        verdict = ("**met** (sizeof)" if s is not None and s <= 64 else "**missed** (sizeof)")
        if mem[slot] > 64:
            verdict += f"; the table adds {mem[slot] - 64:.1f} B per slot resident"
        out.append((what, res, verdict))
    data = S.get("data")
    name = "Cost at 1 M flows within 2 × of 1 k flows"
    if data and len(data["rows"]) >= 2:
        labels = list(data["rows"])
        lo, hi = row_stats(data, labels[0]), row_stats(data, labels[-1])
        if lo and hi:
            r = lo["median"] / hi["median"]
            res = (f"{r:.2f} × the cost ({M(lo['median'])} M seg/s at {labels[0]}, "
                   f"{M(hi['median'])} at {labels[-1]})")
            out.append((name, res, "**met**" if r <= 2 else f"**missed** by {r - 2:.2f} ×"))
    else:
        out.append((name, "not measured", "–"))
    return out


# --- the plot --------------------------------------------------------------------------

def plot(R: dict, path: Path) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    S = R["sections"]
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    fig.suptitle(f"synwall benchmarks — {R['machine']['cpu_model']}, one worker lcore, "
                 f"{R['machine']['memory_mode']}" + (" (QUICK)" if R["quick"] else ""),
                 fontsize=12)

    def bars(ax, labels, sts, color, title, ylabel, target=None, tlabel=""):
        meds = [s["median"] / 1e6 if s else 0 for s in sts]
        err = [[(s["median"] - s["min"]) / 1e6 if s else 0 for s in sts],
               [(s["max"] - s["median"]) / 1e6 if s else 0 for s in sts]]
        ax.bar(range(len(labels)), meds, yerr=err, color=color, capsize=4)
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, fontsize=8)
        for i, (m, st) in enumerate(zip(meds, sts)):
            ax.annotate(f"{m:.2f}", (i, st["max"] / 1e6 if st else m), ha="center",
                        va="bottom", fontsize=8, xytext=(0, 3), textcoords="offset points")
        ax.set_ylim(0, max([s["max"] / 1e6 for s in sts if s] + [target or 0, 0.001]) * 1.15)
        if target is not None:
            ax.axhline(target, color="red", ls="--", lw=1)
            ax.text(-0.45, target, tlabel, color="red", ha="left", va="bottom", fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel)

    # 1, 2: against testpmd
    ax = axes[0][0]
    labels, sts, cols = [], [], []
    for sid, name in (("syn", "SYN"), ("badack", "bad ACK")):
        for who, col in (("synwall", "tab:blue"), ("testpmd", "tab:gray")):
            labels.append(f"{name}\n{who}")
            sts.append(row_stats(S.get(sid), who))
            cols.append(col)
    bars(ax, labels, sts, cols, "1, 2: packets/s vs testpmd 5tswap (same vdev)", "Mpps")
    top = max((s["max"] for s in sts if s), default=0) / 1e6
    for i in (0, 2):
        if sts[i] and sts[i + 1]:
            ax.annotate(f"ratio {sts[i]['median'] / sts[i + 1]['median']:.2f} ×\n(target 0.8)",
                        (i + 0.5, top * 1.08), ha="center", va="bottom", fontsize=9)
    ax.set_ylim(0, top * 1.3 if top else 1)

    # 3: valid ACKs, handshakes
    bars(axes[0][1], ["valid cookie ACKs\n(server SYNs)", "complete proxied\nhandshakes"],
         [row_stats(S.get("validack"), "synwall"), row_stats(S.get("handshake"), "synwall")],
         ["tab:green", "tab:olive"], "3: first pass, per second", "M/s", 1.0, "target 1 M/s")

    # 4: table size
    ax = axes[0][2]
    data = S.get("data")
    if data:
        xs, ys, lo, hi = [], [], [], []
        for label in data["rows"]:
            st = row_stats(data, label)
            if st:
                xs.append(int(label.split()[0]))
                ys.append(st["median"] / 1e6)
                lo.append((st["median"] - st["min"]) / 1e6)
                hi.append((st["max"] - st["median"]) / 1e6)
        ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=4, color="tab:purple")
        if ys:
            ax.axhline(ys[0] / 2, color="red", ls="--", lw=1)
            ax.text(xs[-1], ys[0] / 2, "½ × the 1 k rate (target floor)", color="red",
                    ha="right", va="bottom", fontsize=8)
        for x, y in zip(xs, ys):
            ax.annotate(f"{y:.2f}", (x, y), fontsize=8, xytext=(4, 4), textcoords="offset points")
        dg = stats(data.get("diag", {}).get("runs", []))
        if dg and xs:
            ax.plot([xs[-1]], [dg["median"] / 1e6], marker="x", color="black", ls="none")
            ax.annotate(f"{dg['median'] / 1e6:.2f}: same table,\nsegments to {xs[0]} flows only",
                        (xs[-1], dg["median"] / 1e6), fontsize=8, ha="right",
                        xytext=(-6, -4), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_ylim(bottom=0)
    ax.set_title("4: data segments translated/s vs flows in table", fontsize=10)
    ax.set_xlabel("established flows in the table")
    ax.set_ylabel("M segments/s")

    # 5: occupancy
    occ = S.get("occupancy")
    labels = ["empty\n(cookie\nport)"]
    sts = [row_stats(S.get("syn"), "synwall")]
    short = {"filling": "filling\n0→50 %\n(insert)", "half": "half full\n(dup SYNs)",
             "full": "full\n(insert +\nevict)", "paused": "paused\n(cookie\nonly)"}
    if occ:
        for label in occ["rows"]:
            labels.append(short.get(label.split()[0], label))
            sts.append(row_stats(occ, label))
    bars(axes[1][0], labels, sts, "tab:orange", "5: SYN → SYN-ACK vs syncache state", "M SYN/s")

    # 7: Linux
    lx = S.get("linux")
    ax = axes[1][1]
    if lx:
        labels = list(lx["rows"])
        off = [med_of(lx, lab, "offered_pps") or 0 for lab in labels]
        ans = [(row_stats(lx, lab) or {"median": 0})["median"] for lab in labels]
        busy = [med_of(lx, lab, "cpu1_busy") for lab in labels]
        x = range(len(labels))
        ax.bar([i - 0.2 for i in x], [o / 1e3 for o in off], 0.4, color="tab:gray",
               label="SYNs offered")
        ax.bar([i + 0.2 for i in x], [a / 1e3 for a in ans], 0.4, color="tab:cyan",
               label="SYN-ACKs received")
        for i, (a, b) in enumerate(zip(ans, busy)):
            ax.annotate(f"{a / 1e3:.0f} k/s\nCPU1 {b:.0%}" if b is not None else f"{a / 1e3:.0f}",
                        (i + 0.2, a / 1e3), ha="center", va="bottom", fontsize=8,
                        xytext=(0, 3), textcoords="offset points")
        ax.set_xticks(list(x))
        ax.set_xticklabels(labels)
        ax.set_ylim(0, max(off + ans + [1]) / 1e3 * 1.25)
        ax.legend(fontsize=8, loc="lower center")
    ax.set_title("7: same tcpreplay flood, same veth pair", fontsize=10)
    ax.set_ylabel("k packets/s")

    # 8: cycles per packet
    ax = axes[1][2]
    tsc = R["machine"].get("tsc_hz")
    cyc = cycles(R)
    if cyc and tsc:
        labels = [c[0] for c in cyc]
        vals = [c[1] for c in cyc]
        ax.barh(range(len(labels)), vals, color="tab:brown")
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(labels, fontsize=8)
        ax.invert_yaxis()
        for i, v in enumerate(vals):
            ax.annotate(f"{v:.0f}", (v, i), va="center", fontsize=8, xytext=(3, 0),
                        textcoords="offset points")
    ax.set_title(f"8: cycles per packet (TSC {tsc / 1e9:.2f} GHz / rate)" if tsc else "8",
                 fontsize=10)
    ax.set_xlabel("cycles")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def cycles(R: dict) -> list[tuple[str, float, float | None]]:
    """(label, TSC Hz / median rate, TSC Hz x CPU share / median rate) for 1, 2 and 5."""
    S, tsc = R["sections"], R["machine"].get("tsc_hz")
    out = []
    if not tsc:
        return out
    for sid, prefix in (("syn", "1 SYN"), ("badack", "2 bad ACK")):
        for who in ("synwall", "testpmd"):
            st = row_stats(S.get(sid), who)
            if st:
                cpu = med_of(S[sid], who, "cpu_share")
                out.append((f"{prefix}, {who}", tsc / st["median"],
                            tsc * cpu / st["median"] if cpu else None))
    st = row_stats(S.get("syn"), "synwall")
    if st:
        cpu = med_of(S["syn"], "synwall", "cpu_share")
        out.append(("5 empty (cookie port)", tsc / st["median"],
                    tsc * cpu / st["median"] if cpu else None))
    occ = S.get("occupancy")
    if occ:
        for label in occ["rows"]:
            st = row_stats(occ, label)
            if st:
                cpu = med_of(occ, label, "cpu_share")
                out.append((f"5 {label}", tsc / st["median"],
                            tsc * cpu / st["median"] if cpu else None))
    return out


# --- the document ----------------------------------------------------------------------

def write(R: dict, out: Path, md: Path) -> None:
    png = out / PLOT
    have_plot = plot(R, png)
    m, S = R["machine"], R["sections"]
    rel_png = os.path.relpath(png, md.parent)
    L: list[str] = []
    mode = ("QUICK smoke mode: one short run each, small files — not for quoting"
            if R["quick"] else "full run")
    L += ["# synwall benchmarks", "",
          f"Generated by `bash scripts/bench.sh` ({mode}), "
          f"{m.get('started', '')}, {m.get('elapsed_s', '?')} s. "
          f"{R['runs']} run(s) per measurement; steady rates over a {R['window']:g} s window "
          f"after {R['warm']:g} s of warm-up. The tables, the plot and the raw numbers are "
          "written by the command (`bench/report.py`); the method is `bench/METHOD.md`. "
          "Raw data: `bench/out/results.json`.", ""]
    if R.get("errors"):
        L += ["**Measurements that failed:** " + "; ".join(
            f"{k}: {v.splitlines()[0]}" for k, v in R["errors"].items()), ""]

    L += ["## Targets (issue 5)", "", "| target | result | verdict |", "| --- | --- | --- |"]
    L += [f"| {a} | {b} | {c} |" for a, b, c in targets(R)]
    L += [""]
    L += why_notes(R)

    L += ["## Machine", "", "| | |", "| --- | --- |",
          f"| CPUs (`nproc`) | {m['nproc']} |",
          f"| CPU model | {m['cpu_model']} ({m['cpu_mhz']} MHz; "
          f"{'virtual machine' if m['hypervisor'] else 'bare metal'}; SIMD: "
          f"{', '.join(m['simd']) or 'none'}) |",
          f"| kernel | {m['kernel']} |",
          f"| DPDK | {m['dpdk']} |",
          f"| memory | {m['memory_gib']} GiB; DPDK memory: {m['memory_mode']} — "
          f"{m['hugepage_note']} |",
          f"| TSC | {m['tsc_hz'] / 1e9:.4f} GHz ({m['tsc_how']}) |",
          f"| synwall | git {m['git']}; binary built {m['binary_mtime']} |",
          f"| tcpreplay | {m.get('tcpreplay', '')} |",
          f"| load average (1, 5, 15 min) | {m.get('load_start')} at the start, "
          f"{m.get('load_end')} at the end; each run's is in the raw numbers |",
          f"| time per measurement | " + ", ".join(
              f"{k} {v:g} s" for k, v in R.get("timing", {}).items()) + " |", ""]
    share = [d.get("cpu_share") for s in S.values() for r in s["rows"].values()
             for d in r["detail"] if isinstance(d, dict) and d.get("cpu_share") is not None
             and d.get("seconds", d.get("fit_seconds", 0)) >= 0.05]
    aside = [a for s in S.values() for r in s["rows"].values() for d in r["detail"]
             if isinstance(d, dict) for a in d.get("set_aside", [])]
    if aside:
        L += [f"**Runs made again**: {len(aside)} run(s) in which another process had CPU 1 "
              "for more than 10 % of the time were set aside and made again (at most twice "
              "per run); they are listed under 'set aside' in the raw numbers.", ""]
    if share and min(share) < 0.95:
        L += [f"**Other load**: in some windows the worker lcore had CPU 1 only "
              f"{min(share):.0%} of the time (other processes on the machine). The "
              "'worker CPU share' column says so per row; 'per worker CPU-second' divides it "
              "out. Quote the full-CPU numbers only from a run where the share is ~100 %.", ""]

    if have_plot:
        L += ["## Plot", "", f"![synwall benchmarks]({rel_png})", ""]
    tsc = m.get("tsc_hz")

    L += ["## Results", ""]
    sec = S.get("syn")
    if sec:
        L += ["### 1. SYN → cookie SYN-ACK, against testpmd 5tswap", "",
              f"{sec['params']['distinct_syns']} distinct SYNs (random sources in "
              "198.18.128.0/17, MSS/SACK/TS/WS options) replayed from memory "
              "(`net_pcap`, `infinite_rx=1`), SYN-ACKs dropped by the pcap PMD's TX; port 80 "
              "in `cookie` mode. Rate: the outside port's received packets (`/ethdev/stats,0`)."
              , ""]
        L += rate_table(sec, "Mpps", tsc)
        L += ["", ratio_line(sec), ""]
    sec = S.get("badack")
    if sec:
        L += ["### 2. Invalid-ACK flood, against testpmd 5tswap", "",
              f"{sec['params']['distinct_acks']} distinct ACKs (NOP NOP TS, random ack "
              "numbers) to port 80 in `proxy` mode: each one misses the flow table and the "
              "syncache, has its checksum verified in software, fails the cookie check "
              "(`cookie.failed`) and is dropped; the rate-limited log line is printed once "
              "a second with the count of the others.", ""]
        L += rate_table(sec, "Mpps", tsc)
        L += ["", ratio_line(sec), ""]
    for sid, title in (("validack", "3a. Valid cookie ACKs (server SYNs opened)"),
                       ("handshake", "3b. Complete proxied handshakes")):
        sec = S.get(sid)
        if not sec:
            continue
        L += [f"### {title}", ""]
        if sid == "validack":
            L += [f"{sec['params']['distinct_acks']} distinct ACKs, each with the valid cookie "
                  "of its (never sent) SYN, port 80 `proxy`, `--flows "
                  f"{sec['params']['flows']}`. Only the first pass over the file opens flows "
                  "(later passes find them opening: `proxy.ack_opening`), so the rate is the "
                  "slope of `proxy.opened` sampled through telemetry as fast as it answers "
                  "(every ~40 µs), fitted between 10 % and 90 % of the file. Each ACK: flow "
                  "lookup (miss), software TCP checksum, syncache lookup (miss), SipHash "
                  "check, flow insert, the ACK rewritten into the server SYN (to `net_null`)."
                  , ""]
        else:
            p = sec["params"]
            L += [f"{p['handshakes']} handshakes, first pass, `--flows {p['flows']}`. Outside "
                  f"file ({p['outside_frames']} frames): per block, 16 SYNs then their 16 ACKs. "
                  f"Inside file ({p['inside_frames']} frames): per block, the server's 16 "
                  "SYN-ACKs for the previous outside block, then 16 ARP replies (bridged "
                  "filler, so that both files advance two frames per handshake; their cost "
                  "is in the rate). Per handshake synwall does: SYN → syncache entry + cookie "
                  "SYN-ACK; ACK → syncache hit → flow + server SYN; server SYN-ACK → ACK to the "
                  "server + window update to the client (a new mbuf). Rate: slope of "
                  "`proxy.established` (10–90 %).", ""]
        L += ["| | median /s | min | max | spread | runs | worker CPU share | per worker "
              "CPU-second | telemetry samples in the fit | fit over |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        st = row_stats(sec, "synwall")
        if st:
            cpu = med_of(sec, "synwall", "cpu_share")
            L += [f"| synwall | **{M(st['median'])} M** | {M(st['min'])} M | {M(st['max'])} M | "
                  f"{st['spread']:.1%} | {st['n']} | {pct(cpu)} | "
                  f"{M(st['median'] / cpu) if cpu else '–'} M"
                  f" | {med_of(sec, 'synwall', 'samples_fit'):.0f} | "
                  f"{(med_of(sec, 'synwall', 'fit_seconds') or 0) * 1e3:.0f} ms |"]
        L += [""]
    sec = S.get("data")
    if sec:
        p = sec["params"]
        L += ["### 4. Established-flow translation vs table size", "",
              f"`--preload-flows N` makes N established flows at start (tuples in "
              "docs/DATAPLANE.md), `--flows` = "
              f"{p['flow_headroom']} × N (same load factor for every N); {p['frames']} "
              f"client → server PSH|ACK segments with {p['payload']} bytes of payload, "
              "each to a different flow as far as N allows (random order), so that the "
              "1 M case touches 131 k distinct flows per pass. Each is looked up, has its "
              "ack translated (+0x10000, incremental checksum) and goes to the inside port. "
              "Rate: `proxy.to_server` per second.", ""]
        L += rate_table(sec, "M seg/s")
        labels = list(sec["rows"])
        lo, hi = row_stats(sec, labels[0]), row_stats(sec, labels[-1])
        if lo and hi:
            L += ["", f"Cost at {labels[-1]} / cost at {labels[0]}: "
                      f"**{lo['median'] / hi['median']:.2f} ×** (target ≤ 2 ×). "
                      + preload_line(sec)]
            dg = stats(sec.get("diag", {}).get("runs", []))
            if dg:
                c_lo, c_hi, c_dg = 1 / lo["median"], 1 / hi["median"], 1 / dg["median"]
                table_part = (c_dg - c_lo) / (c_hi - c_lo) if c_hi > c_lo else 0
                head = (f"Where the extra cost comes from: with {sec['diag']['label']}, "
                        f"**{M(dg['median'])} M seg/s** (min {M(dg['min'])}, max "
                        f"{M(dg['max'])}, {dg['n']} runs). ")
                if c_hi > c_lo * 1.1 and -0.1 <= table_part <= 1.1:
                    tp = min(1.0, max(0.0, table_part))
                    head += (f"So {tp:.0%} of the extra time per segment at {labels[-1]} is "
                             "there whatever flows the segments use (the idle-timer sweep "
                             "visits every flow of the table each 100 ms; bigger bucket "
                             f"arrays), and {1 - tp:.0%} comes from the lookups spreading "
                             f"over up to {p['frames']} distinct flows per pass (cache and "
                             "TLB misses on the bucket headers and the entries, prefetched a "
                             "burst pass ahead but not always in time, and on the LRU age-list "
                             "neighbours when a flow is relinked, at most once a second).")
                else:
                    head += "The differences are within the noise: no split is given."
                L += ["", head]
        L += [""]
    sec = S.get("occupancy")
    if sec:
        p = sec["params"]
        L += ["### 5. SYN rate vs syncache occupancy", "",
              f"The SYN file of 1 ({p['distinct_syns']} distinct SYNs); `--hashsize "
              f"{p['hashsize']} --bucketlimit {p['bucketlimit']}` (mean bucket load ≤ 1 of "
              f"{p['bucketlimit']}: no bucket overflows unless wanted). What each row really measures:", "",
              "| state | configuration | per SYN |", "| --- | --- | --- |",
              "| empty | measurement 1 (port in `cookie` mode) | syncache lookup in an empty "
              "cache (miss), SipHash cookie, SYN-ACK; never an entry |",
              f"| filling 0 → 50 % | `proxy`, `--cachelimit {2 * p['distinct_syns']}`, first "
              "pass (slope of `syncache.added`, 10–90 %) | lookup (miss), SipHash, insert a "
              "new entry (cache going from 0 to half of its limit), SYN-ACK |",
              "| half full | the same process after the first pass (steady window) | every SYN "
              "is a duplicate: lookup (hit), SYN-ACK rebuilt from the entry, no SipHash "
              "(`syncache.dupsyn`) |",
              f"| full | `proxy`, `--cachelimit {p['distinct_syns'] // 2}` < distinct SYNs | "
              "lookup (miss: its entry was evicted half a pass ago), SipHash, insert + evict "
              "the oldest entry of the cache (`cacheoverflow`) |",
              "| paused | `proxy`, `--bucketlimit 1`: the first collision overflows a bucket "
              "and pauses the syncache for 16 s | lookup (miss, or a hit among the few "
              "hundred entries made before the pause: dupsyn), SipHash, SYN-ACK, no insert "
              "(`sendcookie`) |", ""]
        rows = dict(sec["rows"])
        L += rate_table({"rows": {"empty (cookie port, = 1)":
                                  S["syn"]["rows"]["synwall"]} | rows if S.get("syn") else rows},
                        "M SYN/s", tsc)
        L += [""]
    sec = S.get("memory")
    if sec:
        p = sec["params"]
        L += ["### 6. Memory per entry", "",
              f"`sizeof(struct sw_sc_entry)` = **{p.get('sizeof_sc_entry')} B**, "
              f"`sizeof(struct sw_flow)` = **{p.get('sizeof_flow')} B** (bench/c/entry_sizes.c, "
              "compiled against dataplane/ headers). Allocated by the tables per slot "
              f"(`sw_ctab_memsize`): syncache {p.get('syncache_bytes', 0) / max(1, p.get('syncache_slots', 1)):.1f} B, "
              f"flow table {p.get('flow_bytes', 0) / max(1, p.get('flow_slots', 1)):.1f} B "
              "(64 entry + 32 IPv6 side array + the bucket header's share: a 16-bit signature "
              "and a slot-order byte per slot, and the count; the IPv6 "
              "side array is only touched by IPv6 entries).", "",
              "Measured: VmRSS of the process (`--no-huge`, so table pages count once "
              "touched), a big and a small table both filled; the difference divided by the "
              "difference in slots and in stored entries:", "",
              "| table | slots | stored | VmRSS |", "| --- | ---: | ---: | ---: |"]
        for k, r in sec["flows"].items():
            L += [f"| flow table `--flows {r['flows_option']}` + `--preload-flows "
                  f"{r['flows_option']}` | {r['slots']} | {r['stored']} | "
                  f"{r['vmrss_kb'] / 1024:.1f} MiB |"]
        for k, r in sec["syncache"].items():
            L += [f"| syncache `--hashsize {r['hashsize']} --bucketlimit {r['bucketlimit']} "
                  f"--syncookies 0`, after {r['syns']} distinct SYNs | {r['slots']} | "
                  f"{r['stored']} | {r['vmrss_kb'] / 1024:.1f} MiB |"]
        L += ["", f"Flow table: **{sec['flow_bytes_per_slot']:.1f} B per slot**, "
                  f"{sec['flow_bytes_per_stored']:.1f} B per stored flow. Syncache: "
                  f"**{sec['sc_bytes_per_slot']:.1f} B per slot**, "
                  f"{sec['sc_bytes_per_stored']:.1f} B per stored entry. (A bucket holds 8 "
                  "slots: a table of N slots stores fewer than N entries — the rest of a "
                  "full bucket is refused or evicted — so per stored entry is per slot / "
                  "fill.)", ""]
    sec = S.get("linux")
    if sec:
        p = sec["params"]
        L += ["### 7. Linux syncookies vs synwall, same generator, same veth pair", "",
              f"{p['distinct_syns']} distinct SYNs × {p['loops']} loops, {p['generator']}; "
              f"synwall: {p['synwall_args']}; Linux: {p['linux']}. SYN-ACKs counted by an "
              "nftables counter at the client veth's ingress; CPU 1 busy = its non-idle "
              "share during the replay (for synwall always 100 %: the worker polls).", "",
              "| | SYNs offered /s (median) | SYN-ACKs received /s (median) | min | max | "
              "answered | CPU 1 busy | of it softirq | runs |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for label in sec["rows"]:
            st = row_stats(sec, label)
            if not st:
                continue
            L += [f"| {label} | {M(med_of(sec, label, 'offered_pps'), 3)} M | "
                  f"**{M(st['median'], 3)} M** | {M(st['min'], 3)} M | {M(st['max'], 3)} M | "
                  f"{pct(med_of(sec, label, 'answered'))} | {pct(med_of(sec, label, 'cpu1_busy'))}"
                  f" | {pct(med_of(sec, label, 'cpu1_softirq'))} | {st['n']} |"]
        L += ["", linux_line(sec), ""]
    cyc = cycles(R)
    if cyc:
        L += ["### 8. Cycles per packet", "",
              f"cycles/packet = TSC Hz / packets per second of the one busy worker lcore "
              f"(TSC {tsc / 1e9:.4f} GHz, {m['tsc_how']}); the worker polls without "
              "sleeping, so every TSC cycle of the window is the worker's. 'On CPU' "
              "multiplies by the worker's CPU share, for windows in which someone else had "
              "CPU 1 part of the time.", "",
              "| | cycles/packet | on CPU |", "| --- | ---: | ---: |"]
        L += [f"| {a} | {b:.0f} | {'–' if c is None else f'{c:.0f}'} |" for a, b, c in cyc]
        L += [""]
    L += profile_lines(R)

    L += ["## Method", ""]
    try:
        L += [(HERE / "METHOD.md").read_text().strip(), ""]
    except OSError:
        L += ["(bench/METHOD.md missing)", ""]

    L += ["## Checks", "", "What the counters say the packets did, for every run "
          "(a failed check means the number above measures something else):", ""]
    for sid, sec in S.items():
        for c in sec["checks"]:
            L += [f"- {'✓' if c['ok'] else '✗ **FAILED**'} {sid}: {c['what']}"]
    L += [""]

    L += ["## Raw numbers", "", "Every run; `load` is the 1/5/15-minute load average just "
          "before it, `cpu` the worker lcore's share of CPU 1 in the window.", ""]
    for sid, sec in S.items():
        if sid in ("memory", "profile"):
            continue
        L += [f"### {sid}", ""]
        if sid == "linux":
            keys = [("sent", "SYNs"), ("replay_seconds", "s"), ("offered_pps", "offered/s"),
                    ("synacks", "SYN-ACKs"), ("defender_sent", "sent by defender"),
                    ("cpu1_busy", "CPU 1 busy"), ("load_before", "load")]
        elif sid in ("validack", "handshake") or (sid == "occupancy"):
            keys = [("packets", "packets"), ("seconds", "s"), ("samples_fit", "samples"),
                    ("fit_seconds", "fit s"), ("cpu_share", "cpu"), ("steal_ms", "steal ms"),
                    ("attempt", "try"), ("load_before", "load")]
        else:
            keys = [("packets", "packets"), ("seconds", "s"), ("cpu_share", "cpu"),
                    ("steal_ms", "steal ms"), ("attempt", "try"), ("load_before", "load")]
            if sid == "data":
                keys.insert(0, ("preloaded", "preloaded"))
        L += raw_table(sec, keys)
        for k, v in sec["params"].items():
            if "argv" in k:
                L += ["", f"`{k}`: `{v}`"]
        L += [""]
    md.write_text("\n".join(L) + "\n")


GROUPS = ("pcap PMD", "other DPDK libraries", "program", "rest")
CASES = (("syn", "SYN → cookie SYN-ACK"), ("badack", "invalid ACK"))


def profile_cycles(R: dict, tag: str, who: str) -> tuple[float, dict] | None:
    """(cycles per packet, {group: cycles per packet}) of one profiled run."""
    sec = R["sections"].get("profile") or {}
    e = (sec.get("profile") or {}).get(tag, {}).get(who) or {}
    tsc = R["machine"].get("tsc_hz")
    if not (e.get("pps") and e.get("perf_groups") and tsc):
        return None
    cyc = tsc * (e.get("cpu_share") or 1.0) / e["pps"]
    return cyc, {g: cyc * e["perf_groups"].get(g, 0.0) for g in GROUPS}


def profile_budget(R: dict, tag: str) -> str:
    """Why the 0.8 x testpmd target is (or is not) within reach, from the profile."""
    sw, tp = profile_cycles(R, tag, "synwall"), profile_cycles(R, tag, "testpmd")
    if not (sw and tp):
        return ""
    budget = tp[0] / 0.8
    vdev = sw[1]["pcap PMD"] + sw[1]["other DPDK libraries"] + sw[1]["rest"]
    own = sw[1]["program"]
    return (f"at 0.8 × testpmd a packet may cost {budget:.0f} cycles; the vdev and DPDK's "
            f"libraries alone take {vdev:.0f} of synwall's (testpmd: "
            f"{tp[0] - tp[1]['program']:.0f}), which leaves {max(0.0, budget - vdev):.0f} "
            f"cycles for synwall's own work per packet, now {own:.0f} (§9)")


def profile_lines(R: dict) -> list[str]:
    sec = R["sections"].get("profile")
    if sec is None:
        return []
    L = ["### 9. Where the worker's cycles go", "",
         f"`perf record -C 1` for {sec['params'].get('seconds', 2):g} s in the steady state "
         "of one synwall and one testpmd run per packet kind (files and options of 1 and 2), "
         "samples split by the object they fall in; cycles/packet as in 8, shared out by "
         "the samples. The pcap PMD's part is its RX (each packet copied out of the "
         "replayed file into a fresh mbuf) and its TX (mbufs freed, no file).", ""]
    if not sec.get("profile"):
        return L + [f"Not measured: {'; '.join(sec.get('notes') or ['no data'])}.", ""]
    L += ["| packets | program | Mpps | cycles/packet | pcap PMD | other DPDK libraries | "
          "the program itself | rest (kernel, libc, loader) |",
          "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for tag, title in CASES:
        for who in ("synwall", "testpmd"):
            pc = profile_cycles(R, tag, who)
            e = sec["profile"].get(tag, {}).get(who) or {}
            if pc is None:
                L += [f"| {title} | {who} | – | – | – | – | – | "
                      f"{e.get('perf_error', 'not measured')} |"]
                continue
            cyc, g = pc
            L += [f"| {title} | {who} | {e['pps'] / 1e6:.2f} | {cyc:.0f} | "
                  + " | ".join(f"{g[k]:.0f} ({g[k] / cyc:.0%})" for k in GROUPS) + " |"]
    L += [""]
    for tag, title in CASES:
        e = sec["profile"].get(tag, {}).get("synwall") or {}
        pc = profile_cycles(R, tag, "synwall")
        if not (pc and e.get("perf_funcs")):
            continue
        L += [f"synwall's own functions, {title} (cycles/packet; inlined code counts in its "
              "caller):", "", "| function | cycles/packet | share |", "| --- | ---: | ---: |"]
        L += [f"| `{name}` | {pc[0] * share:.1f} | {share:.1%} |"
              for name, share in e["perf_funcs"]]
        L += [""]
    for tag, title in CASES:
        b = profile_budget(R, tag)
        if b:
            L += [f"- {title}: {b}."]
    L += [""]
    return L


def ratio_line(sec: dict) -> str:
    sw, tp = row_stats(sec, "synwall"), row_stats(sec, "testpmd")
    if not (sw and tp):
        return ""
    r = [a / b for a, b in zip(sec["rows"]["synwall"]["runs"], sec["rows"]["testpmd"]["runs"])
         if a and b]
    return (f"Ratio synwall / testpmd: **{sw['median'] / tp['median']:.2f} ×** (medians; per "
            f"pair of runs {min(r):.2f}–{max(r):.2f}); target ≥ 0.8 ×.")


def preload_line(sec: dict) -> str:
    parts = []
    for label in sec["rows"]:
        pre = med_of(sec, label, "preloaded")
        if pre is not None:
            parts.append(f"{pre:.0f} of {label.split()[0]}")
    return "Flows preloaded (a full bucket leaves one out): " + ", ".join(parts) + "."


def linux_line(sec: dict) -> str:
    out = []
    for label in sec["rows"]:
        st, busy = row_stats(sec, label), med_of(sec, label, "cpu1_busy")
        ans = med_of(sec, label, "answered")
        if st and label == "linux" and busy:
            out.append(f"Linux answered {ans:.1%} of what the generator offered, using "
                       f"{busy:.0%} of CPU 1 (softirq): extrapolated to all of CPU 1, about "
                       f"{M(st['median'] / busy)} M SYN-ACK/s — a rough figure, the counting "
                       "of the answers at the client veth also runs there.")
        elif st and label == "synwall":
            out.append(f"synwall answered {ans:.1%} of what the generator offered; its "
                       "capacity on one lcore is measurement 1, far above this generator: on "
                       "this path tcpreplay (one core) and the veth/af_packet copies are the "
                       "limit, not the defender.")
    return " ".join(out)


def why_notes(R: dict) -> list[str]:
    """Hand-written explanations of misses live in bench/METHOD.md ('Why targets are
    missed'); here only what the numbers themselves say."""
    return []
