"""synwallctl: the command line of synwall's admin API.

    synwallctl [--socket PATH | --addr HOST:PORT --tls-ca CA --tls-cert C --tls-key K]
               [--json] COMMAND ...

    (TCP is mutual TLS: the certificate's subject makes the client an admin or a reader.)

    status                       what runs
    stats [--lcores]             counters, a phrase each by section, as netstat -s says them
    top [--interval S] [--count N]   live rates, redrawn in place
    ports                        the ports as their NICs count them (as `ip -s link`) and
                                 each worker's busy share since the last look
    policy list | set PORTS MODE [profile options] [--idle-timeout S] | del PORTS
    source deny|allow PREFIX [--ports P]      a source rule (deny: nothing from the prefix
                                 gets through; allow: exempt from the source quotas)
    source limit PREFIX RATE [--burst B]     the prefix's sources share RATE SYNs a second
    source list                  the rules, in the form of a rules file (source load takes it)
    source del PREFIX [--ports P]
    source load FILE             the whole list replaced by the rules of FILE ('-': stdin)
    source top [--by syns|bad_cookies|flows|syns_limited|synacks_capped] [-n N]
                                 the heaviest source prefixes (also: top sources ...)
    limits get | set NAME=VALUE...
    key status | rotate | schedule [--interval S] [--master-file F | --clear-master]
    syncache dump [--limit N] | flush   the half-open entries, each with its age (limited:
                                 how many there are in all); remove them all
    config validate FILE | apply FILE
    config show | diff | save    the running config as a boot file; against the boot file;
                                 into the boot file (the file before kept as FILE.bak)
    dataplane restart [--force]  stop the dataplane cleanly and start it again: it takes the
                                 tables over (connections go on); says how long it was down;
                                 refused if its binary was replaced by one of another state
                                 layout (--force: the tables start empty)
    dataplane upgrade BINARY [--force]
                                 the same with another synwall-dp, whose state layout must be
                                 the running one's (--force: the tables start empty); the old
                                 one is started again if it fails

Exit status: 0 done; 1 the operation failed (synwalld unreachable, dataplane down, nothing to
delete, ...); 2 usage error or input refused as invalid. Errors are one line on stderr; with
--json, one object {"error": {"code": CODE, "message": TEXT}} on stdout instead, the exit
status the same (CODE: the gRPC status name, or "usage" for a command line refused, "file"
for a file it names that cannot be read).

`synwallctl COMMAND --help` lists a command's actions; build_parser() makes the parser without
side effects, for the man page and the shell completion (scripts/gen_docs.sh).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import time
from typing import NoReturn

from synwall import model
from synwall.client import (
    DEFAULT_SOCKET,
    TOP_ORDERS,
    Client,
    Counters,
    KeyStatus,
    Limits,
    Policy,
    Port,
    Ports,
    ServerProfile,
    SourceRule,
    SourcesSummary,
    SyncacheEntry,
    TopSources,
)
from synwall.errors import SynwallError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# Every counter as `netstat -s` says it, by section: (name, singular, plural), the singular
# for a count of 1. A counter this table does not know (a newer dataplane's) is shown by its
# name under its group.
STATS: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("syncache", [
        ("syncache.added", "SYN added to the syncache", "SYNs added to the syncache"),
        ("syncache.retransmitted", "SYN-ACK retransmitted", "SYN-ACKs retransmitted"),
        ("syncache.dupsyn", "duplicate SYN answered again", "duplicate SYNs answered again"),
        ("syncache.dropped", "entry dropped (none: a full syncache evicts instead)",
         "entries dropped (none: a full syncache evicts instead)"),
        ("syncache.completed", "handshake completed (by an entry or a cookie)",
         "handshakes completed (by an entry or a cookie)"),
        ("syncache.bucketoverflow", "entry evicted by a full bucket",
         "entries evicted by full buckets"),
        ("syncache.cacheoverflow", "entry evicted by a full syncache",
         "entries evicted by a full syncache"),
        ("syncache.reset", "entry removed by its client's RST",
         "entries removed by their clients' RSTs"),
        ("syncache.stale", "entry timed out, its SYN-ACK retransmits spent",
         "entries timed out, their SYN-ACK retransmits spent"),
        ("syncache.aborted", "handshake aborted: no room in the flow table",
         "handshakes aborted: no room in the flow table"),
        ("syncache.badack", "ACK with the wrong numbers for its entry, dropped",
         "ACKs with the wrong numbers for their entries, dropped"),
        ("syncache.unreach", "ICMP unreachable for an entry",
         "ICMP unreachables for entries"),
        ("syncache.zonefail", "entry allocation failure (none: a full syncache evicts)",
         "entry allocation failures (none: a full syncache evicts)"),
        ("syncache.sendcookie", "SYN answered by cookie alone, no entry kept",
         "SYNs answered by cookie alone, no entry kept"),
        ("syncache.recvcookie", "ACK with a valid cookie and no entry",
         "ACKs with a valid cookie and no entry"),
        ("syncache.count", "entry in the syncache now", "entries in the syncache now"),
        ("syncache.paused", "worker's syncache paused now (cookies only, after bucket "
         "overflows)", "workers' syncaches paused now (cookies only, after bucket overflows)"),
        ("syncache.timer_capped", "round whose syncache timer sweep stopped at its bound",
         "rounds whose syncache timer sweep stopped at its bound"),
        ("syncache.source_quota", "SYN answered by cookie alone: its source holds its quota "
         "of entries", "SYNs answered by cookie alone: their sources hold their quota of "
         "entries"),
        ("syncache.source_quota_dropped", "SYN dropped: its source holds its quota of entries "
         "and cookies are off", "SYNs dropped: their sources hold their quota of entries and "
         "cookies are off"),
    ]),
    ("cookie", [
        ("cookie.failed", "ACK with no syncache entry and no valid cookie, dropped",
         "ACKs with no syncache entry and no valid cookie, dropped"),
        ("cookie.limited", "ACK without timestamps dropped unchecked, the cookie checks' "
         "budget spent", "ACKs without timestamps dropped unchecked, the cookie checks' "
         "budget spent"),
    ]),
    ("proxy", [
        ("proxy.flows", "flow open now", "flows open now"),
        ("proxy.opened", "server SYN sent (a flow opened)", "server SYNs sent (flows opened)"),
        ("proxy.established", "flow established by its server's SYN-ACK",
         "flows established by their servers' SYN-ACKs"),
        ("proxy.syn_retransmitted", "server SYN retransmitted", "server SYNs retransmitted"),
        ("proxy.ack_resent", "ACK sent again to a server that repeated its SYN-ACK",
         "ACKs sent again to servers that repeated their SYN-ACKs"),
        ("proxy.server_rst", "handshake refused by its server (the RST passed to the client)",
         "handshakes refused by their servers (the RSTs passed to the clients)"),
        ("proxy.server_timeout", "handshake its server never answered (an RST to the client)",
         "handshakes their servers never answered (RSTs to the clients)"),
        ("proxy.ack_opening", "client segment dropped while its flow was opening",
         "client segments dropped while their flows were opening"),
        ("proxy.icmp", "ICMP error translated to its flow's numbers",
         "ICMP errors translated to their flows' numbers"),
        ("proxy.to_server", "segment spliced to a server", "segments spliced to servers"),
        ("proxy.to_client", "segment spliced to a client", "segments spliced to clients"),
        ("proxy.reset", "opening flow reset by its client", "opening flows reset by their "
         "clients"),
        ("proxy.closed", "closing flow ended", "closing flows ended"),
        ("proxy.rst_ignored", "RST ignored (not the exact sequence number)",
         "RSTs ignored (not the exact sequence number)"),
        ("proxy.unexpected", "segment with none of SYN, ACK and RST, dropped",
         "segments with none of SYN, ACK and RST, dropped"),
        ("proxy.ack_no_handshake", "ACK of no pending handshake dropped (cookies off)",
         "ACKs of no pending handshake dropped (cookies off)"),
        ("proxy.syn_opening", "client SYN dropped while its flow was opening",
         "client SYNs dropped while their flows were opening"),
        ("proxy.server_opening", "server segment dropped while its flow was opening",
         "server segments dropped while their flows were opening"),
        ("proxy.synack_mismatch", "server SYN-ACK not of its flow's handshake, dropped",
         "server SYN-ACKs not of their flows' handshakes, dropped"),
        ("proxy.outside_synack", "SYN-ACK from outside to a protected port, dropped",
         "SYN-ACKs from outside to protected ports, dropped"),
        ("proxy.adopted", "connection adopted, opened before its port was protected",
         "connections adopted, opened before their ports were protected"),
        ("proxy.adopt_passed", "client segment passed in its port's adoption window",
         "client segments passed in their ports' adoption windows"),
        ("proxy.adopt_full", "connection not adopted: the flow table was full",
         "connections not adopted: the flow table was full"),
        ("proxy.server_no_flow", "server segment of no flow, dropped",
         "server segments of no flow, dropped"),
        ("proxy.reset_sent", "flow ended by synwall with RSTs to its ends",
         "flows ended by synwall with RSTs to their ends"),
        ("proxy.expired", "flow ended idle past its timeout",
         "flows ended idle past their timeout"),
        ("proxy.evicted", "flow evicted to make room", "flows evicted to make room"),
        ("proxy.evicted_heavy", "eviction that took a heavy source's flow",
         "evictions that took a heavy source's flow"),
        ("proxy.source_quota", "handshake refused: its source holds its quota of flows",
         "handshakes refused: their sources hold their quota of flows"),
        ("proxy.adopt_source_quota", "connection not adopted: its source holds its quota of "
         "flows", "connections not adopted: their sources hold their quota of flows"),
        ("proxy.timer_capped", "round whose flow timer sweep stopped at its bound",
         "rounds whose flow timer sweep stopped at its bound"),
        ("proxy.sack_trimmed", "server segment whose SACK blocks were cut for timestamps",
         "server segments whose SACK blocks were cut for timestamps"),
        ("proxy.ts_no_room", "server segment sent without the timestamps promised (no room)",
         "server segments sent without the timestamps promised (no room)"),
        ("proxy.too_big", "ICMP too-big sent to a client over its server's MSS",
         "ICMP too-bigs sent to clients over their servers' MSS"),
    ]),
    ("port", [
        ("port.outside_rx", "packet received on the outside port",
         "packets received on the outside port"),
        ("port.inside_rx", "packet received on the inside port",
         "packets received on the inside port"),
        ("port.outside_tx", "packet sent on the outside port", "packets sent on the outside "
         "port"),
        ("port.inside_tx", "packet sent on the inside port", "packets sent on the inside port"),
        ("port.tx_dropped", "packet dropped by a full TX queue",
         "packets dropped by full TX queues"),
        ("port.nombuf", "segment of synwall's own not sent: no free mbuf",
         "segments of synwall's own not sent: no free mbuf"),
        ("port.bridged", "packet bridged unchanged", "packets bridged unchanged"),
        ("port.policy_drop", "packet dropped by its port's drop policy",
         "packets dropped by their ports' drop policy"),
        ("port.unparsed", "frame passed unparsed (unparsed = pass)",
         "frames passed unparsed (unparsed = pass)"),
    ]),
    ("source", [
        ("source.denied", "frame dropped by a deny rule", "frames dropped by deny rules"),
        ("source.allowed", "frame from a source an allow rule covers",
         "frames from sources allow rules cover"),
        ("source.syn_limited", "SYN over its prefix's SYN rate, dropped",
         "SYNs over their prefixes' SYN rate, dropped"),
        ("source.prefix_limited", "SYN over its limit rule's rate, dropped",
         "SYNs over their limit rules' rates, dropped"),
        ("source.reflect_capped", "SYN-ACK not sent: over the cap towards its prefix",
         "SYN-ACKs not sent: over the cap towards their prefixes"),
        ("source.evicted", "source table entry that made room for another prefix",
         "source table entries that made room for other prefixes"),
    ]),
    ("lcore", [
        ("lcore.cycles", "TSC cycle of the workers' rounds",
         "TSC cycles of the workers' rounds"),
        ("lcore.busy_cycles", "TSC cycle of rounds that found packets",
         "TSC cycles of rounds that found packets"),
    ]),
    ("malformed", [
        ("malformed.truncated", "truncated frame", "truncated frames"),
        ("malformed.ip_header", "frame with a bad IP version or header length",
         "frames with a bad IP version or header length"),
        ("malformed.ip_length", "frame whose IP length does not fit it",
         "frames whose IP length does not fit them"),
        ("malformed.fragment", "TCP fragment", "TCP fragments"),
        ("malformed.vlan", "frame with stacked or service VLAN tags",
         "frames with stacked or service VLAN tags"),
        ("malformed.tcp_header", "segment with a bad TCP data offset",
         "segments with a bad TCP data offset"),
        ("malformed.tcp_option", "segment with a malformed TCP option",
         "segments with malformed TCP options"),
        ("malformed.flags", "SYN with FIN or RST", "SYNs with FIN or RST"),
        ("malformed.checksum", "segment with a bad checksum", "segments with a bad checksum"),
        ("malformed.ipv6_ext", "TCP segment behind IPv6 extension headers",
         "TCP segments behind IPv6 extension headers"),
        ("malformed.ah", "TCP segment behind an authentication header",
         "TCP segments behind authentication headers"),
        ("malformed.unparsed", "frame whose headers the parser cannot follow to TCP",
         "frames whose headers the parser cannot follow to TCP"),
    ]),
]
PHRASES = {name: (one, many) for _, lines in STATS for name, one, many in lines}
GAUGES = {"syncache.count", "syncache.paused", "proxy.flows"}
TOP_LINES = [
    ("port.outside_rx", "packets in (outside)"),
    ("syncache.added", "syncache entries added"),
    ("syncache.sendcookie", "cookies sent"),
    ("syncache.recvcookie", "cookies received"),
    ("syncache.completed", "handshakes completed"),
    ("cookie.failed", "bad ACKs dropped"),
    ("port.bridged", "packets bridged"),
    ("port.policy_drop", "dropped by policy"),
    ("proxy.to_server", "segments spliced to servers"),
    ("proxy.to_client", "segments spliced to clients"),
]


class UsageError(Exception):
    """The command line refused, by argparse or by a check here (exit 2). `code` is what
    --json reports it as."""
    code = "usage"


class FileError(UsageError):
    """A file the command line names cannot be read (exit 2)."""
    code = "file"


class Parser(argparse.ArgumentParser):
    """Usage errors in one line, exit 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError("%s: %s" % (self.prog, message))


# --- output helpers -------------------------------------------------------------------------

def emit_json(obj: object) -> None:
    print(json.dumps(obj, indent=2, sort_keys=True))


def onoff(v: bool | None) -> str:
    return "-" if v is None else ("on" if v else "off")


def dash(v: object) -> str:
    return "-" if v is None else str(v)


def human_duration(s: float) -> str:
    s = int(s)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return "".join("%d%s" % (v, u) for v, u in ((d, "d"), (h, "h"), (m, "m")) if v) + \
        "%ds" % s


def print_policies(policies: list[Policy]) -> None:
    if not policies:
        print("no port policies: every port passes")
        return
    # The IDLE column only once a policy sets an idle timeout: the table is otherwise as it
    # always was, for the scripts that read it.
    idle = any(p.idle_timeout_s is not None for p in policies)
    rows = [["PORTS", "MODE", "MSS", "WSCALE", "SACK", "TIMESTAMPS"] + (["IDLE"] if idle
                                                                        else [])]
    for p in policies:
        pr = p.profile
        ws = "off" if pr.window_scaling is False else dash(pr.wscale)
        row = [p.ports, p.mode, dash(pr.mss), ws, onoff(pr.sack), onoff(pr.timestamps)]
        if idle:
            row.append("-" if p.idle_timeout_s is None else "%ds" % p.idle_timeout_s)
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def print_limits(lim: Limits) -> None:
    for k, v in lim.to_dict().items():
        note = "  (start-time only)" if k in model.START_LIMITS else ""
        if isinstance(v, bool):
            v = int(v)
        print("%-16s %d%s" % (k, v, note))


def print_keys(k: KeyStatus) -> None:
    mode = "derived from master %s" % k.master_fingerprint if k.derived_from_master \
        else "random"
    print("epoch %d  secret %s (signs new cookies)" % (k.epoch, k.current_fingerprint))
    print("epoch %d  secret %s" % (k.previous_epoch, k.previous_fingerprint))
    print("rotation every %d s, %s, next change in %.0f s" % (
        k.rotation_interval_s, mode, max(0.0, k.next_rotation_unix - time.time())))
    if k.derived_from_master:
        print("clock skew tolerated between appliances: %d s" % k.max_clock_skew_s)


def stat_phrase(name: str, n: int | None) -> str:
    """The counter's phrase for a count of n (None: the plural, a row label)."""
    one, many = PHRASES.get(name, (name, name))
    return one if n == 1 else many


def stat_sections(names: list[str]) -> list[tuple[str, list[str]]]:
    """The counters by section, in STATS' order; those it does not know after the others of
    their group (a group of their own when STATS has none)."""
    known = set(PHRASES)
    sections = [(title, [n for n, _, _ in lines]) for title, lines in STATS]
    for name in names:
        if name in known:
            continue
        group = name.partition(".")[0]
        for title, members in sections:
            if title == group:
                members.append(name)
                break
        else:
            sections.append((group, [name]))
    present = set(names)
    return [(t, [n for n in members if n in present]) for t, members in sections
            if any(n in present for n in members)]


def print_stats(c: Counters, per_lcore: bool) -> None:
    """As `netstat -s`: a section per group, a line per counter, `    12 SYNs added to the
    syncache`; with per_lcore a column per worker lcore and each counter's plural phrase."""
    columns = [("total", c.total)] + ([("lcore %d" % lc.lcore, lc.counters)
                                       for lc in c.lcores] if per_lcore else [])
    if per_lcore:
        print("    " + "".join("%14s" % h for h, _ in columns))
    for title, names in stat_sections(c.names or sorted(c.total)):
        print("%s:" % title)
        for name in names:
            if per_lcore:
                print("    %s  %s" % ("".join("%14d" % cc.get(name, 0) for _, cc in columns),
                                      stat_phrase(name, None)))
            else:
                n = c.total.get(name, 0)
                print("    %d %s" % (n, stat_phrase(name, n)))


def link_text(p: Port) -> str:
    if not p.link_up:
        return "link down"
    speed = "%dMb/s" % p.speed_mbps if p.speed_mbps else "speed unknown"
    return "link up, %s, %s duplex, autoneg %s" % (speed, "full" if p.full_duplex else "half",
                                                  onoff(p.autoneg))


def stat_lines(label: str, cells: list[tuple[str, int]]) -> list[str]:
    """Two lines as `ip -s link` has them: the names, and their values under them."""
    widths = [max(len(name), len(str(v))) for name, v in cells]
    pad = " " * len(label)
    return ["    %s %s" % (label, "  ".join(n.rjust(w) for (n, _), w in zip(cells, widths,
                                                                            strict=True))),
            "    %s %s" % (pad, "  ".join(str(v).rjust(w) for (_, v), w in zip(cells, widths,
                                                                            strict=True)))]


def queue_line(label: str, counts: list[int]) -> list[str]:
    if not counts:
        return []
    return ["    %s queues: %s" % (label, "  ".join("%d: %d" % (q, n)
                                                   for q, n in enumerate(counts)))]


def print_ports(ps: Ports) -> None:
    for p in ps.ports:
        print("%d: %s %s: %s" % (p.id, p.role, p.name, link_text(p)))
        for line in (stat_lines("RX:", [("packets", p.ipackets), ("bytes", p.ibytes),
                                         ("imissed", p.imissed), ("ierrors", p.ierrors),
                                         ("rx_nombuf", p.rx_nombuf)])
                     + stat_lines("TX:", [("packets", p.opackets), ("bytes", p.obytes),
                                          ("oerrors", p.oerrors)])
                     + queue_line("RX", p.queue_ipackets) + queue_line("TX", p.queue_opackets)):
            print(line)
    if not ps.lcores:
        print("workers: the dataplane does not count its rounds' cycles (no busy share)")
        return
    print("workers:")
    for b in ps.lcores:
        age = "%.1f s" % b.interval_seconds if b.interval_seconds < 60 \
            else human_duration(b.interval_seconds)
        when = "since the dataplane started, %s ago" % age if b.since_start \
            else "over the last %.1f s" % b.interval_seconds
        print("    lcore %d: %5.1f%% busy %s" % (b.lcore, 100 * b.busy_share, when))


# --- commands -------------------------------------------------------------------------------

def cmd_status(c: Client, a: argparse.Namespace) -> int:
    s = c.status()
    if a.json:
        emit_json(s.to_dict())
        return EXIT_OK
    print("synwalld %s, up %s" % (s.version, human_duration(s.uptime_seconds)))
    if s.dataplane_pid:
        print("dataplane: %s, pid %d, %d worker(s), %d restart(s)" % (
            s.dataplane_state, s.dataplane_pid, s.workers, s.dataplane_restarts))
    else:
        print("dataplane: %s" % s.dataplane_state)
    print("ports: outside %s, inside %s" % (s.outside_port or "?", s.inside_port or "?"))
    print("config version %d, key epoch %d" % (s.config_version, s.key_epoch))
    if s.dataplane_binary:
        print("dataplane binary: %s" % s.dataplane_binary)
    if s.restart_pending:
        print("waiting for a dataplane restart (boot-file edits of start-time settings):")
        for p in s.restart_pending:
            print("  %s: running %s, boot file %s" % (p.key, p.running, p.boot))
    return EXIT_OK


def cmd_stats(c: Client, a: argparse.Namespace) -> int:
    counters = c.counters()
    if a.json:
        emit_json({"time_unix_ns": counters.time_unix_ns, "total": counters.total,
                   "lcores": [lc.to_dict() for lc in counters.lcores]})
        return EXIT_OK
    print_stats(counters, a.lcores)
    return EXIT_OK


def cmd_ports(c: Client, a: argparse.Namespace) -> int:
    ps = c.ports()
    if a.json:
        emit_json(ps.to_dict())
    else:
        print_ports(ps)
    return EXIT_OK


def cmd_top(c: Client, a: argparse.Namespace) -> int:
    if a.what == "sources":
        return show_top_sources(c, a)
    if a.by is not None or a.n is not None:
        raise UsageError("synwallctl top: --by and -n are for `top sources`")
    if a.interval < 0.1 or a.interval > 60:
        raise UsageError("synwallctl top: --interval must be 0.1..60 seconds")
    tty = sys.stdout.isatty() and not a.json
    prev = None
    frames = 0
    try:
        for cur in c.watch_counters(a.interval, None if a.count == 0 else a.count + 1):
            if prev is not None:
                dt = max((cur.time_unix_ns - prev.time_unix_ns) / 1e9, 1e-9)
                rates = {n: max(0, cur.total.get(n, 0) - prev.total.get(n, 0)) / dt
                         for n in cur.names if n not in GAUGES}
                gauges = {n: cur.total.get(n, 0) for n in cur.names if n in GAUGES}
                frames += 1
                if a.json:
                    print(json.dumps({"time_unix_ns": cur.time_unix_ns, "interval_s": dt,
                                      "rates": rates, "gauges": gauges}, sort_keys=True))
                else:
                    draw_top(rates, gauges, frames, a.count, dt, tty)
                sys.stdout.flush()
            prev = cur
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def draw_top(rates: dict[str, float], gauges: dict[str, int], frame: int, count: int,
             dt: float, tty: bool) -> None:
    out = []
    if tty:
        out.append("\x1b[H\x1b[2J")
    out.append("synwall top   %s   (per second, over %.1f s)\n\n" % (
        "%d/%d" % (frame, count) if count else "#%d" % frame, dt))
    for name, label in TOP_LINES:
        out.append("  %-32s %14s/s\n" % (label, f"{rates.get(name, 0):,.0f}"))
    others = sorted((n, r) for n, r in rates.items()
                    if r and n not in dict(TOP_LINES))
    for n, r in others:
        out.append("  %-32s %14s/s\n" % (n, f"{r:,.0f}"))
    out.append("\n")
    out.append("  %-32s %14s\n" % ("flows open", "{:,}".format(gauges.get("proxy.flows", 0))))
    paused = "   paused (cookies only)" if gauges.get("syncache.paused") else ""
    out.append("  %-32s %14s%s\n" % ("syncache entries",
                                     "{:,}".format(gauges.get("syncache.count", 0)), paused))
    if not tty:
        out.append("\n")
    sys.stdout.write("".join(out))


def profile_from_args(a: argparse.Namespace) -> ServerProfile | None:
    p = ServerProfile(mss=a.mss, wscale=a.wscale, window_scaling=a.window_scaling,
                      sack=a.sack, timestamps=a.timestamps)
    return None if p.is_default() else p


def cmd_policy(c: Client, a: argparse.Namespace) -> int:
    if a.action == "list":
        policies = c.policies()
    elif a.action == "set":
        policies = c.set_policy(a.ports, a.mode, profile_from_args(a), a.idle_timeout)
    else:
        policies = c.delete_policy(a.ports)
    if a.json:
        emit_json([dict(p.to_dict(), ports=p.ports) for p in policies])
    else:
        print_policies(policies)
    return EXIT_OK


def summary_text(s: SourcesSummary) -> str:
    return "%d source rule%s (%d deny, %d allow, %d limit)" % (
        s.rules, "" if s.rules == 1 else "s", s.deny, s.allow, s.limit)


def print_change(what: str, s: SourcesSummary) -> None:
    print(what)
    print("%s, config version %d" % (summary_text(s), s.config_version))


def source_ports_arg(text: str | None) -> str | None:
    return None if text is None else text.strip()


def cmd_source(c: Client, a: argparse.Namespace) -> int:
    if a.action == "top":
        return show_top_sources(c, a)
    if a.action == "list":
        return list_sources(c, a)
    if a.action == "load":
        try:
            text = sys.stdin.read() if a.file == "-" else open(a.file).read()
        except (OSError, UnicodeDecodeError) as e:
            raise FileError("synwallctl source load: %s: %s" % (
                a.file, getattr(e, "strerror", None) or e)) from None
        name = "<stdin>" if a.file == "-" else os.path.abspath(a.file)
        s = c.replace_sources(text, source_name=name)
        if a.json:
            emit_json({"file": name, "summary": s.to_dict()})
        else:
            print_change("%s: loaded, the whole list replaced" % a.file, s)
        return EXIT_OK
    if a.action == "del":
        ports = source_ports_arg(a.ports)
        s = c.delete_sources((a.prefix, ports))
        if a.json:
            emit_json({"deleted": {"prefix": a.prefix, "ports": ports}, "summary": s.to_dict()})
        else:
            print_change("%s (%s): deleted" % (a.prefix, "every port" if ports is None else
                                               ("ports " if "-" in ports else "port ") + ports),
                         s)
        return EXIT_OK
    if a.action == "limit":
        rule = SourceRule("limit", a.prefix, None, a.rate, a.burst)
    else:
        rule = SourceRule(a.action, a.prefix, source_ports_arg(a.ports))
    s = c.set_sources(rule)
    if a.json:
        emit_json({"rule": rule.to_dict(), "summary": s.to_dict()})
    else:
        print_change("%s: set" % rule.line(), s)
    return EXIT_OK


def list_sources(c: Client, a: argparse.Namespace) -> int:
    """The rules as a rules file (one a line, the form `source load` reads back), a page at a
    time, and the count as a last comment line."""
    token = ""
    rules: list[SourceRule] = []
    while True:
        page, token, summary = c.sources_page(token, 1000)
        if a.json:
            rules.extend(page)
        else:
            sys.stdout.write("".join(r.line() + "\n" for r in page))
        if not token:
            break
    if a.json:
        emit_json({"rules": [r.to_dict() for r in rules], "summary": summary.to_dict()})
    elif summary.rules:
        print("# %s" % summary_text(summary))
    else:
        print("# no source rules: every source is treated alike")
    return EXIT_OK


def show_top_sources(c: Client, a: argparse.Namespace) -> int:
    t: TopSources = c.top_sources(a.by or "syns", a.n if a.n is not None else 20)
    if a.json:
        emit_json(t.to_dict())
        return EXIT_OK
    if not t.sources:
        print("no source seen%s" % ("" if t.source_table else
                                    " (the dataplane keeps no source table)"))
        return EXIT_OK
    rows = [["PREFIX", "SYNS", "LIMITED", "BAD_COOKIES", "FLOWS", "CAPPED", "IDLE", "RULE"]]
    for x in t.sources:
        rows.append([x.prefix, str(x.syns), str(x.syns_limited), str(x.bad_cookies),
                     str(x.flows), str(x.synacks_capped), "%.1fs" % (x.idle_ms / 1000),
                     x.rule.line() if x.rule is not None else "-"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    print("by %s; source prefixes /%d and /%d, %d per worker lcore" % (
        a.by or "syns", t.source_v4_len, t.source_v6_len, t.source_table))
    return EXIT_OK


LIMIT_NAMES = model.START_LIMITS + tuple(model.RUNTIME_LIMITS)
BOOL_LIMITS = tuple(k for k, (kind, _, _) in model.RUNTIME_LIMITS.items() if kind == "bool")


def parse_assignment(text: str) -> tuple[str, int | bool]:
    name, eq, value = text.partition("=")
    name = name.strip().replace("-", "_")
    if not eq:
        raise UsageError("synwallctl limits set: %r: expected NAME=VALUE" % text)
    if name not in LIMIT_NAMES:
        raise UsageError("synwallctl limits set: %r is not a limit (%s)"
                         % (name, ", ".join(LIMIT_NAMES)))
    v = value.strip().lower()
    if name in BOOL_LIMITS:
        if v in ("1", "true", "on", "yes"):
            return name, True
        if v in ("0", "false", "off", "no"):
            return name, False
        raise UsageError("synwallctl limits set: %s=%s: expected 0/1, on/off or true/false"
                         % (name, value))
    if not v.isdigit():
        raise UsageError("synwallctl limits set: %s=%s: expected a non-negative integer"
                         % (name, value))
    n = int(v)
    if n > 0xFFFFFFFF:
        raise UsageError("synwallctl limits set: %s=%s: too large" % (name, value))
    return name, n


def cmd_limits(c: Client, a: argparse.Namespace) -> int:
    if a.action == "get":
        lim = c.limits()
    else:
        if not a.assignments:
            raise UsageError("synwallctl limits set: give NAME=VALUE ...")
        lim = c.set_limits(**dict(parse_assignment(x) for x in a.assignments))
    if a.json:
        emit_json(lim.to_dict())
    else:
        print_limits(lim)
    return EXIT_OK


def read_secret(path: str) -> bytes:
    try:
        text = sys.stdin.read() if path == "-" else open(path).read()
    except OSError as e:
        raise FileError("synwallctl key schedule: %s: %s" % (path, e.strerror or e)) from None
    text = text.strip()
    try:
        b = bytes.fromhex(text)
    except ValueError:
        b = b""
    if len(b) != 16:
        raise UsageError("synwallctl key schedule: %s: expected 32 hex digits (a 128-bit "
                         "secret)" % path)
    return b


def cmd_key(c: Client, a: argparse.Namespace) -> int:
    if a.action == "status":
        k = c.key_status()
    elif a.action == "rotate":
        k = c.rotate_keys()
    else:
        if a.master_file and a.clear_master:
            raise UsageError("synwallctl key schedule: --master-file and --clear-master "
                             "exclude each other")
        master = read_secret(a.master_file) if a.master_file else None
        if a.interval is None and master is None and not a.clear_master and a.skew is None:
            raise UsageError("synwallctl key schedule: nothing to change (--interval, "
                             "--master-file, --clear-master, --max-skew)")
        k = c.set_key_schedule(a.interval, master, a.clear_master, a.skew)
    if a.json:
        emit_json(k.to_dict())
    else:
        print_keys(k)
    return EXIT_OK


def cmd_syncache(c: Client, a: argparse.Namespace) -> int:
    if a.action == "flush":
        n = c.flush_syncache()
        if a.json:
            emit_json({"flushed": n})
        else:
            print("%d syncache %s flushed" % (n, "entry" if n == 1 else "entries"))
        return EXIT_OK
    if a.limit is not None and a.limit < 0:
        raise UsageError("synwallctl syncache dump: --limit must be 0 or more")
    entries, total = dump_syncache(c, a.page_size, a.limit)
    if a.json:
        # a list, as scripts have always read it (the total is the text's last line and
        # GetStatus's syncache.count)
        emit_json([e.to_dict() for e in entries])
        return EXIT_OK
    print("%-5s %-41s %-41s %-10s %-10s %3s %5s %2s %4s %2s %7s" % (
        "LCORE", "CLIENT", "SERVER", "ISN", "ISS", "RXT", "MSS", "WS", "SACK", "TS", "AGE"))
    for e in entries:
        print("%-5d %-41s %-41s %-10d %-10d %3d %5d %2s %4s %2s %7s" % (
            e.lcore, fmt_addr(e.client_addr, e.client_port),
            fmt_addr(e.server_addr, e.server_port), e.client_isn, e.iss, e.retransmits, e.mss,
            dash(e.wscale), onoff(e.sack), onoff(e.timestamps), age_text(e.age_seconds)))
    n = len(entries)
    if a.limit is not None and total is not None and total > n:
        print("showing %d of %d entries" % (n, total))
    else:
        print("%d entr%s" % (n, "y" if n == 1 else "ies"))
    return EXIT_OK


def dump_syncache(c: Client, page_size: int, limit: int | None
                  ) -> tuple[list[SyncacheEntry], int | None]:
    """The entries (at most limit) and how many the syncaches held as the first page was
    read (None: synwalld does not tell)."""
    entries: list[SyncacheEntry] = []
    token, total = "", None
    while True:
        size = page_size if limit is None else min(page_size, limit - len(entries))
        page = c.syncache_page(token, max(1, size))  # --limit 0: a page for the total
        if not token:
            total = page.total
        entries.extend(page.entries)
        token = page.next_page_token
        if not token or (limit is not None and len(entries) >= limit):
            break
    return (entries if limit is None else entries[:limit]), total


def age_text(age: float | None) -> str:
    if age is None:
        return "-"
    return "%.1fs" % age if age < 60 else human_duration(age)


def fmt_addr(addr: str, port: int) -> str:
    return "[%s]:%d" % (addr, port) if ":" in addr else "%s:%d" % (addr, port)


def cmd_config(c: Client, a: argparse.Namespace) -> int:
    if a.action == "show":
        doc = c.running_config()
        if a.json:
            emit_json(doc.to_dict())
        else:
            sys.stdout.write(doc.toml)
        return EXIT_OK
    if a.action == "diff":
        boot, running = c.boot_config(), c.running_config()
        diff = "".join(difflib.unified_diff(boot.toml.splitlines(keepends=True),
                                            running.toml.splitlines(keepends=True),
                                            fromfile=boot.boot_file, tofile="running"))
        if a.json:
            emit_json({"boot_file": boot.boot_file, "differs": bool(diff), "diff": diff})
        else:
            sys.stdout.write(diff)
        return EXIT_OK
    if a.action == "save":
        saved = c.save_config()
        if a.json:
            emit_json(saved.to_dict())
        else:
            print("%s: the running config saved (config version %d); the file before is %s"
                  % (saved.boot_file, saved.config_version, saved.backup_file))
        return EXIT_OK
    try:
        text = sys.stdin.read() if a.file == "-" else open(a.file).read()
    except OSError as e:
        raise FileError("synwallctl config: %s: %s" % (a.file, e.strerror or e)) from None
    source = "<stdin>" if a.file == "-" else os.path.abspath(a.file)
    if a.action == "validate":
        c.validate_config(text, source)
        if a.json:
            emit_json({"valid": True})
        else:
            print("%s: valid" % a.file)
    else:
        version = c.apply_config(text, source)
        if a.json:
            emit_json({"config_version": version})
        else:
            print("%s: applied (config version %d)" % (a.file, version))
    return EXIT_OK


def cmd_dataplane(c: Client, a: argparse.Namespace) -> int:
    if a.action == "restart":
        r = c.restart_dataplane(a.force)
    else:
        binary = a.binary
        if not c.tls and not os.path.isabs(binary):
            binary = os.path.abspath(binary)  # the Unix socket: synwalld runs on this host
        r = c.upgrade_dataplane(binary, a.force)
    if a.json:
        emit_json(r.to_dict())
        return EXIT_OK
    if a.action == "upgrade":
        if r.forced:
            print("state layout: %s, forced (not the running binary's, or not told)"
                  % (r.state_layout or "not told"))
        else:
            print("state layout: %s, as the running binary's" % r.state_layout)
        print("dataplane upgraded: pid %d -> %d, %s -> %s" % (r.old_pid, r.pid, r.old_binary,
                                                              r.binary))
    else:
        print("dataplane restarted: pid %d -> %d, %s" % (r.old_pid, r.pid, r.binary))
    print("down %.3f s (from the stop signal to the new one's control socket answering; the "
          "old one exited in %.3f s)" % (r.down_seconds, r.stop_seconds))
    for line in r.tables:
        print("the new dataplane: %s" % line.removeprefix("synwall-dp: "))
    print("config version %d and keys (epoch %d) applied again" % (r.config_version,
                                                                    r.key_epoch))
    if r.binary != r.boot_binary:
        print("the boot file's [dataplane] binary is still %s: a cold start, or a restart after "
              "a crash, runs that one (set it there to keep this one)" % r.boot_binary)
    return EXIT_OK


# --- the parser -----------------------------------------------------------------------------

EPILOG = """exit status: 0 done; 1 the operation failed (synwalld unreachable, dataplane down,
nothing to delete, ...); 2 usage error or input refused as invalid. Errors are one line on
stderr; with --json, one object {"error": {"code": ..., "message": ...}} on stdout instead
(code: the gRPC status name, "usage" or "file")."""


def add_actions(p: argparse.ArgumentParser) -> argparse._SubParsersAction[Parser]:
    """The actions of a command, each listed with its help in the command's --help."""
    sub = p.add_subparsers(title="actions", dest="action", metavar="ACTION",
                           parser_class=Parser)
    sub.required = True
    return sub


def add_action(sub: argparse._SubParsersAction[Parser], name: str, text: str) -> Parser:
    """An action (or a command): `text` is its line in its parent's --help and the
    description of its own."""
    return sub.add_parser(name, help=text, description=text)


def build_parser() -> Parser:
    ap = Parser(prog="synwallctl", description="synwall admin CLI (talks gRPC to synwalld)",
                epilog=EPILOG)
    ap.add_argument("--socket", metavar="PATH",
                    help="synwalld's Unix socket (default %s, or $SYNWALL_SOCKET)"
                    % DEFAULT_SOCKET)
    ap.add_argument("--addr", metavar="HOST:PORT", help="synwalld's TCP listener (TLS)")
    ap.add_argument("--tls-ca", metavar="PEM", help="CA that signed the server's certificate")
    ap.add_argument("--tls-cert", metavar="PEM",
                    help="client certificate, signed by synwalld's api.tls_client_ca (with "
                    "--addr: its subject gives the role, api.admin_clients)")
    ap.add_argument("--tls-key", metavar="PEM", help="the client certificate's key")
    ap.add_argument("--tls-server-name", metavar="NAME",
                    help="name to check in the server's certificate")
    ap.add_argument("--timeout", type=float, default=10.0, metavar="S",
                    help="seconds to wait for synwalld's answer (default 10)")
    ap.add_argument("--json", action="store_true",
                    help="machine-readable output, errors included")
    sub = ap.add_subparsers(title="commands", dest="command", metavar="COMMAND",
                            parser_class=Parser)
    sub.required = True

    add_action(sub, "status", "what runs: synwalld, the dataplane, its ports, the config "
               "version")
    p = add_action(sub, "stats", "counters, as netstat -s says them")
    p.add_argument("--lcores", action="store_true", help="a column per worker lcore")
    p = add_action(sub, "top", "live rates, redrawn in place; `top sources`: the heaviest "
                   "source prefixes")
    p.add_argument("what", nargs="?", choices=["sources"], metavar="sources",
                   help="the heaviest source prefixes (as `source top`)")
    p.add_argument("--interval", type=float, default=1.0, metavar="S",
                   help="seconds between refreshes, 0.1..60 (default 1)")
    p.add_argument("--count", type=int, default=0, metavar="N",
                   help="stop after N refreshes (0: until interrupted)")
    add_top_sources_options(p, None)
    add_action(sub, "ports", "the ports as their NICs count them, and the workers' busy share")

    p = add_action(sub, "policy", "per-port policy")
    ps = add_actions(p)
    add_action(ps, "list", "the port policies (ports not listed pass)")
    s = add_action(ps, "set", "PORTS MODE: e.g. 443 proxy, 8000-8080 cookie --mss 1400")
    s.add_argument("ports", help="a port or a range (8000-8080)")
    s.add_argument("mode", choices=[m.value for m in model.Mode],
                   help="pass, proxy (syncache and cookies), cookie (cookies only) or drop")
    s.add_argument("--mss", type=int, help="the servers' MSS")
    s.add_argument("--wscale", type=int, help="the servers' window scale")
    s.add_argument("--window-scaling", action=argparse.BooleanOptionalAction, default=None,
                   help="whether the servers do window scaling (default on)")
    s.add_argument("--sack", action=argparse.BooleanOptionalAction, default=None,
                   help="whether the servers do SACK (default on)")
    s.add_argument("--timestamps", action=argparse.BooleanOptionalAction, default=None,
                   help="whether the servers do timestamps (default on)")
    s.add_argument("--idle-timeout", type=int, metavar="SEC",
                   help="an established flow silent this long is reset (1..2592000; "
                   "default: the dataplane's, [dataplane] idle_timeout)")
    d = add_action(ps, "del", "PORTS: back to pass")
    d.add_argument("ports", help="the ports of a policy set before")

    p = add_action(sub, "source", "source rules: deny, allow, limit by client prefix")
    ss = add_actions(p)
    for name, what in (("deny", "nothing from PREFIX gets through"),
                       ("allow", "PREFIX is exempt from the source quotas and syn_rate")):
        s = add_action(ss, name, "PREFIX: %s" % what)
        s.add_argument("prefix", metavar="PREFIX", help="e.g. 198.18.200.0/24, 2001:2::/48")
        s.add_argument("--ports", metavar="P", help="a port or a range: the rule is in that "
                       "range's own list (default: the global list, every port)")
    s = add_action(ss, "limit", "PREFIX RATE: its sources share RATE SYNs a second")
    s.add_argument("prefix", metavar="PREFIX", help="e.g. 198.18.128.0/17")
    s.add_argument("rate", type=int, metavar="RATE", help="SYNs a second, 1..100000000")
    s.add_argument("--burst", type=int, metavar="B", help="SYNs at once (default: RATE)")
    add_action(ss, "list", "every rule, in the form of a rules file")
    s = add_action(ss, "del", "PREFIX [--ports P]: delete a rule")
    s.add_argument("prefix", metavar="PREFIX", help="the rule's prefix")
    s.add_argument("--ports", metavar="P", help="the rule's ports (default: the global one)")
    s = add_action(ss, "load", "FILE: the whole list replaced by FILE's rules")
    s.add_argument("file", metavar="FILE", help="a rules file: deny PREFIX [PORTS], allow "
                   "PREFIX [PORTS], limit PREFIX RATE [BURST], one a line ('-': stdin)")
    s = add_action(ss, "top", "the heaviest source prefixes")
    add_top_sources_options(s, "syns")

    p = add_action(sub, "limits", "syncache limits")
    ls = add_actions(p)
    add_action(ls, "get", "the limits in force (the start-time ones marked)")
    s = add_action(ls, "set", "NAME=VALUE ... e.g. cachelimit=1000 rexmtlimit=2")
    s.add_argument("assignments", nargs="*", metavar="NAME=VALUE",
                   help="a limit and its value: %s" % ", ".join(LIMIT_NAMES))

    p = add_action(sub, "key", "cookie keys")
    ks = add_actions(p)
    add_action(ks, "status", "the two secrets by epoch and fingerprint, and the rotation "
               "schedule")
    add_action(ks, "rotate", "a new secret now (the one before still accepted)")
    s = add_action(ks, "schedule", "rotation interval, master secret")
    s.add_argument("--interval", type=int, metavar="S", help="seconds between rotations")
    s.add_argument("--master-file", metavar="FILE",
                   help="a master secret to derive the secrets from (fleet mode): 32 hex "
                   "digits ('-': stdin)")
    s.add_argument("--clear-master", action="store_true", help="back to random secrets")
    s.add_argument("--max-skew", dest="skew", type=int, metavar="S",
                   help="clock difference between appliances that never makes one refuse "
                   "the other's cookies (seconds)")

    p = add_action(sub, "syncache", "half-open connections")
    ss = add_actions(p)
    s = add_action(ss, "dump", "the half-open entries: addresses, ISN, ISS, retransmits, "
                   "options, age")
    s.add_argument("--limit", type=int, metavar="N",
                   help="show at most N entries (and how many there are)")
    s.add_argument("--page-size", type=int, default=500, metavar="N",
                   help="entries asked for at once, 1..1000 (default 500)")
    add_action(ss, "flush", "remove every entry (with syncookies on, their handshakes still "
               "complete by cookie)")

    p = add_action(sub, "config", "whole runtime config")
    cs = add_actions(p)
    for name, what in (("validate", "FILE: check a runtime config, changing nothing"),
                       ("apply", "FILE: the runtime config replaced by FILE's")):
        s = add_action(cs, name, what)
        s.add_argument("file", metavar="FILE", help="boot config format ('-': stdin)")
    add_action(cs, "show", "the running config, as a boot file (TOML)")
    add_action(cs, "diff", "the boot file against the running config (unified diff)")
    add_action(cs, "save", "the running config into synwalld's boot file (the file before: "
               "FILE.bak; its comments are not kept)")

    p = add_action(sub, "dataplane", "restart or upgrade synwall-dp, connections kept")
    ds = add_actions(p)
    s = add_action(ds, "restart", "stop it cleanly and start it again on the same tables")
    s.add_argument("--force", action="store_true",
                   help="even if its binary's file now holds a synwall-dp of another state "
                   "layout (replaced since it started): the tables start empty")
    s = add_action(ds, "upgrade", "BINARY: restart it as another synwall-dp of the same state "
                   "layout")
    s.add_argument("binary", metavar="BINARY",
                   help="the new synwall-dp on the appliance (an absolute path; a relative "
                   "one is made absolute here when talking to a local synwalld)")
    s.add_argument("--force", action="store_true",
                   help="even if its state layout differs: the tables start empty (every "
                   "connection is lost)")
    return ap


def add_top_sources_options(p: argparse.ArgumentParser, by: str | None) -> None:
    p.add_argument("--by", choices=TOP_ORDERS, default=by,
                   help="the count to rank by (default syns)")
    p.add_argument("-n", type=int, metavar="N", help="how many (1..1000, default 20)")


COMMANDS = {"status": cmd_status, "stats": cmd_stats, "top": cmd_top, "ports": cmd_ports,
            "policy": cmd_policy,
            "source": cmd_source,
            "limits": cmd_limits, "key": cmd_key, "syncache": cmd_syncache,
            "config": cmd_config, "dataplane": cmd_dataplane}


def wants_json(argv: list[str]) -> bool:
    """Whether the command line asks for --json (or an abbreviation of it, which argparse
    takes too), read before parsing so that a usage error is reported in JSON as well."""
    words = argv[:argv.index("--")] if "--" in argv else argv
    return any(len(w) > 2 and "--json".startswith(w) for w in words)


def fail(as_json: bool, code: str, message: str, status: int, prefix: str = "") -> int:
    """An error, as one line: on stderr, or with --json as {"error": {"code", "message"}} on
    stdout (code: the gRPC status name, or usage / file for what this side refused)."""
    if as_json:
        print(json.dumps({"error": {"code": code, "message": message}}, sort_keys=True))
        sys.stdout.flush()
    else:
        print(prefix + message, file=sys.stderr)
    return status


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    as_json = wants_json(args)
    try:
        a = build_parser().parse_args(args)
    except UsageError as e:
        return fail(as_json, e.code, str(e), EXIT_USAGE)
    except SystemExit as e:  # --help
        return int(e.code or 0)
    try:
        with Client(socket=a.socket, addr=a.addr, tls_ca=a.tls_ca, tls_cert=a.tls_cert,
                    tls_key=a.tls_key, server_name=a.tls_server_name,
                    timeout=a.timeout) as c:
            return COMMANDS[a.command](c, a)
    except UsageError as e:
        return fail(a.json, e.code, str(e), EXIT_USAGE)
    except SynwallError as e:
        return fail(a.json, e.code, " ".join(e.message.split()),
                    EXIT_USAGE if e.code == "INVALID_ARGUMENT" else EXIT_FAILED, "synwallctl: ")
    except BrokenPipeError:  # `synwallctl stats | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as e:  # TLS files unreadable
        return fail(a.json, FileError.code, "%s: %s" % (getattr(e, "filename", "") or "",
                                                        e.strerror or e),
                    EXIT_USAGE, "synwallctl: ")


if __name__ == "__main__":
    sys.exit(main())
