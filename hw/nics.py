"""The supported NIC list (hw/nics.toml): loading, lookup by PCI id, and the rendered tables
of hw/SUPPORTED.md.

    python3 -m hw.nics render     # rewrite the generated part of hw/SUPPORTED.md
    python3 -m hw.nics check      # exit 1 if SUPPORTED.md does not match nics.toml
    python3 -m hw.nics lookup 8086:10fb
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
NICS_TOML = HERE / "nics.toml"
SUPPORTED_MD = HERE / "SUPPORTED.md"
BEGIN = "<!-- BEGIN generated from nics.toml by `python3 -m hw.nics render`: do not edit -->"
END = "<!-- END generated -->"
RUN_STATES = ("emulated", "real", "not yet")
FAMILY_KEYS = {"id": str, "name": str, "chips": str, "pmd": str, "library": str,
               "kernel_driver": str, "speed": str, "queues": int, "rss": bool,
               "rss_queues": int, "workers": int, "rss_key_bytes": int, "reta_size": int,
               "rx_checksum": bool, "tx_checksum": bool, "vlan_strip": bool, "run": str,
               "run_detail": str, "notes": str, "devices": list}


@dataclass(frozen=True)
class Device:
    vendor: int
    device: int
    name: str
    family: dict

    @property
    def id(self) -> str:
        return "%04x:%04x" % (self.vendor, self.device)


def parse_id(text: str) -> tuple[int, int]:
    v, d = text.lower().replace("0x", "").split(":")
    return int(v, 16), int(d, 16)


def load(path: Path = NICS_TOML) -> dict:
    """nics.toml, checked: every family has every field with its type; ids are unique."""
    doc = tomllib.loads(Path(path).read_text())
    seen = {}
    for fam in doc["family"]:
        for k, typ in FAMILY_KEYS.items():
            if not isinstance(fam.get(k), typ):
                raise ValueError("%s: family %s: %s missing or not %s"
                                 % (path, fam.get("id"), k, typ.__name__))
        extra = set(fam) - set(FAMILY_KEYS)
        if extra:
            raise ValueError("%s: family %s: unknown keys %s" % (path, fam["id"], sorted(extra)))
        if fam["run"] not in RUN_STATES:
            raise ValueError("%s: family %s: run must be one of %s"
                             % (path, fam["id"], RUN_STATES))
        want_workers = min(fam["rss_queues"], doc["max_workers"]) if fam["rss"] else 1
        if fam["workers"] != want_workers:
            raise ValueError("%s: family %s: workers %d, but min(rss_queues, max_workers) "
                             "with RSS, 1 without, is %d" % (path, fam["id"], fam["workers"],
                                                              want_workers))
        for dev in fam["devices"]:
            key = parse_id(dev["id"])
            if key in seen:
                raise ValueError("%s: %s listed twice (%s, %s)"
                                 % (path, dev["id"], seen[key], fam["id"]))
            seen[key] = fam["id"]
    return doc


def devices(doc: dict) -> list[Device]:
    return [Device(*parse_id(d["id"]), d["name"], fam)
            for fam in doc["family"] for d in fam["devices"]]


def lookup(doc: dict, vendor: int, device: int):
    for d in devices(doc):
        if (d.vendor, d.device) == (vendor, device):
            return d
    return None


# --- rendering ----------------------------------------------------------------------------

def _yn(v: bool) -> str:
    return "yes" if v else "no"


def render(doc: dict) -> str:
    fams = doc["family"]
    out = ["DPDK %s. synwall uses at most %d workers." % (doc["dpdk"], doc["max_workers"]), "",
           "| family | chips | DPDK PMD | kernel driver | queue pairs | RSS (queues) | "
           "symmetric RSS key | RETA | RX csum | TX csum | VLAN strip (hw; unused) | "
           "synwall workers | run |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for f in fams:
        rss = "yes (%d)" % f["rss_queues"] if f["rss"] else "no"
        key = "%d-byte Toeplitz key" % f["rss_key_bytes"] if f["rss"] else "n/a (one queue)"
        reta = str(f["reta_size"]) if f["rss"] else "-"
        out.append("| %s | %s | `%s` | %s | %d | %s | %s | %s | %s | %s | %s | %d | %s |" % (
            f["name"], f["chips"], f["pmd"], f["kernel_driver"], f["queues"], rss, key, reta,
            _yn(f["rx_checksum"]), _yn(f["tx_checksum"]), _yn(f["vlan_strip"]), f["workers"],
            f["run"]))
    out += ["", "### How each family has been run", ""]
    for f in fams:
        out.append("- **%s** (%s): %s. %s" % (f["name"], f["run"], f["run_detail"].rstrip("."),
                                              f["notes"]))
    out += ["", "### PCI device ids", "", "| id | device | family | PMD |",
            "| --- | --- | --- | --- |"]
    for f in fams:
        for d in f["devices"]:
            out.append("| `%s` | %s | %s | `%s` |" % (d["id"], d["name"], f["name"], f["pmd"]))
    return "\n".join(out) + "\n"


def splice(md: str, table: str) -> str:
    if BEGIN not in md or END not in md:
        raise ValueError("SUPPORTED.md has no generated section (%s ... %s)" % (BEGIN, END))
    head, rest = md.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + BEGIN + "\n" + table + END + tail


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    cmd = argv[0] if argv else "render"
    doc = load()
    if cmd == "render":
        md = SUPPORTED_MD.read_text()
        new = splice(md, render(doc))
        if new != md:
            SUPPORTED_MD.write_text(new)
            print("hw/SUPPORTED.md updated")
        else:
            print("hw/SUPPORTED.md up to date")
        return 0
    if cmd == "check":
        md = SUPPORTED_MD.read_text()
        if splice(md, render(doc)) != md:
            print("hw/SUPPORTED.md is out of date: run python3 -m hw.nics render",
                  file=sys.stderr)
            return 1
        print("hw/SUPPORTED.md matches hw/nics.toml")
        return 0
    if cmd == "lookup":
        rc = 0
        for spec in argv[1:]:
            d = lookup(doc, *parse_id(spec))
            if d is None:
                print("%s: not on synwall's list" % spec)
                rc = 1
            else:
                print("%s: %s (%s, %s)" % (d.id, d.name, d.family["name"], d.family["pmd"]))
        return rc
    print("usage: python3 -m hw.nics render|check|lookup ID...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
