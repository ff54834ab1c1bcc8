#!/usr/bin/env python3
"""A stand-in for synwall-dp's control socket, for fast controller tests.

    fakedp.py [EAL options] -- --ctl PATH [synwall-dp options]
    fakedp.py --state-layout


It takes synwall-dp's command line, forwards no packets, and answers the control protocol
(proto/synwall/dp/v1/dataplane.proto, docs/DATAPLANE.md "Control socket") with the same rules
as dataplane/ctlproto.c: whole-config checks with the same fields to blame, get_config as
ranges of equal mode, profile and idle timeout for ports not at the defaults (an idle timeout
equal to --idle-timeout reported as 0), keys by epoch parity, a
paged syncache dump (five made-up entries, 1.5 s older each, the first 1.5 s old) and flush.
Counters carry the DATAPLANE.md names; port.outside_rx grows by 1000 at every get_counters so
that rates are not zero, syncache.count is the entries the fake holds.

Ports and busy share: get_ports answers two made-up ports (outside: --outside's name, id 0,
10000 Mb/s, autoneg; inside: --inside's, id 1, 25000 Mb/s, no autoneg; both up and full
duplex) whose counts grow with the requests the fake has been sent (n of them: outside
1000 n packets in of 80 bytes, 400 n out of 66, n // 10 missed; inside 300 n in of 1000
bytes, 900 n out of 80; no errors; one queue each, holding them all). lcore.cycles grows
with the time at 2 GHz and lcore.busy_cycles by a quarter of it, both from 1000 s of cycles
counted busy before the fake started: over any interval the worker is 25 % busy, since the
start nearly 100 %.

Restarts (docs/DATAPLANE.md "Restarts"), as far as a controller can see them: `--state FILE`
is locked (the next one waits up to 5 s for it) and holds the fake's tables, a flow count
(`--preload-flows N` fills empty tables; proxy.flows shows the count) with the layout line
and the owner; the next fake on the file takes them over, saying so in the real one's words,
if its layout line is the same, else starts empty. A clean stop (SIGTERM) marks the file
clean. `--state-layout` prints the layout line. The environment of the wrapper that runs it
makes variants: FAKEDP_LAYOUT (the layout line's "N fingerprint X"), FAKEDP_FAIL (lines
printed before exiting 1 at start), FAKEDP_HANG (starts, never answers), FAKEDP_DELAY
(seconds it takes to start), FAKEDP_NO_LIMITS (a dataplane without `limit` source rules,
which refuses them as one that knows only deny and allow does), FAKEDP_NO_PORTS (a
dataplane older than get_ports and the cycle counters: it refuses the request as one it
does not know, and counts no cycles).

Source lists (docs/DATAPLANE.md "Source lists"): `--sources FILE` at start and load_sources
read the file of rules and check it as dataplane/srclist.c does (its messages, naming the
line or the rules; a bad file at start exits 2, at run time is refused and the lists in
force stay), get_status counts the prefixes and ranges in force. top_sources answers from a
made-up table of 40 sources (198.18.200.0 to .29 as /32s, 2001:2:0:1e::/64 to
2001:2:0:27::/64) whose counts grow at every call; the sources a deny covers send nothing more.

The real dataplane runs the same controller tests where they matter (tests marked `real`).
"""

import fcntl
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time

from synwall.dp.v1 import dataplane_pb2 as dp

COUNTERS = (
    ["syncache." + n for n in "added retransmitted dupsyn dropped completed bucketoverflow "
     "cacheoverflow reset stale aborted badack unreach zonefail sendcookie recvcookie count "
     "paused".split()]
    + ["cookie.failed"]
    + ["proxy." + n for n in "flows opened established syn_retransmitted ack_resent server_rst "
       "server_timeout ack_opening to_server to_client reset closed rst_ignored unexpected "
       "expired evicted".split()]
    + ["port." + n for n in "outside_rx inside_rx outside_tx inside_tx tx_dropped bridged "
       "policy_drop".split()]
    + ["malformed." + n for n in "truncated ip_header ip_length fragment vlan tcp_header "
       "tcp_option flags checksum".split()]
)
CYCLE_COUNTERS = ["lcore.cycles", "lcore.busy_cycles"]
TSC_HZ = 2_000_000_000
BUSY_BEFORE = 1000 * TSC_HZ  # cycles counted busy before the fake started
MODES = {"pass": 0, "proxy": 1, "cookie": 2, "drop": 3}
WS, SACK, TS = 4, 1, 2
IDLE_DEFAULT_S, IDLE_MAX_S = 86400, 2592000  # sw_const.h: SW_FLOW_IDLE_DEFAULT_S, _MAX_S
STATE_LOCK_WAIT_S = 5  # sw_const.h: SW_STATE_LOCK_WAIT_MS
SRC_MAX_RULES, SRC_MAX_RANGES, SRC_MAX_FILE = 4 << 20, 63, 256 << 20  # srclist.h
SRC_MAX_LIMITS = 65536
RATE_MAX = 100000000
TOP_BY = ("syns", "bad_cookies", "flows", "syns_limited", "synacks_capped")


class SourcesError(Exception):
    pass


def parse_prefix(word):
    """srclist.c's parse_prefix: ADDRESS/LENGTH by inet_pton, (v6, address int, length)."""
    addr, slash, length = word.partition("/")
    if not slash or not length[:1].isdigit() or not length.isdigit() or "\0" in word:
        return None
    for v6, af, bits in ((0, socket.AF_INET, 32), (1, socket.AF_INET6, 128)):
        try:
            a = int.from_bytes(socket.inet_pton(af, addr), "big")
        except (OSError, ValueError):
            continue
        n = int(length)
        return (v6, a, n, bits) if n <= bits else None
    return None


def parse_sources(text):
    """The rules of a text as srclist.c's sw_src_parse and its build check them: a list of
    (list key, v6, address, length, action, rate, burst), the list key None (global) or
    (lo, hi). SourcesError naming the line or the rules."""
    rules, ranges = [], []
    limits = 0
    no_limits = bool(os.environ.get("FAKEDP_NO_LIMITS"))
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw.split("#", 1)[0]
        words = [w for w in line.replace("\t", " ").replace("\r", " ").split(" ") if w]
        if not words:
            continue
        action = words[0]
        if action not in ("deny", "allow", "limit") or (action == "limit" and no_limits):
            raise SourcesError("line %u: \"%s\": not deny or allow" % (n, action[:40])
                               if no_limits else
                               "line %u: \"%s\": not deny, allow or limit" % (n, action[:40]))
        p = parse_prefix(words[1]) if len(words) > 1 else None
        if p is None:
            raise SourcesError("line %u: \"%s\" is not a prefix (ADDRESS/LENGTH, IPv4 or IPv6)"
                               % (n, (words[1] if len(words) > 1 else "")[:60]))
        v6, a, length, bits = p
        if a & ((1 << (bits - length)) - 1):
            raise SourcesError("line %u: \"%s\" has bits set past its length" % (n, words[1]))
        rest = words[2:]
        key, rate, burst = None, 0, 0
        if action == "limit":
            nums = [int(w) if w.isdigit() else -1 for w in rest[:2]]
            if not nums or nums[0] < 1 or nums[0] > RATE_MAX:
                raise SourcesError("line %u: a limit's rate must be 1..%d" % (n, RATE_MAX))
            if len(nums) == 2 and not 1 <= nums[1] <= RATE_MAX:
                raise SourcesError("line %u: a limit's burst must be 1..%d" % (n, RATE_MAX))
            rate, burst = nums[0], nums[1] if len(nums) == 2 else nums[0]
            rest = rest[2:]
        elif rest:
            lo, dash, hi = rest[0].partition("-")
            ok = lo.isdigit() and (not dash or hi.isdigit())
            lo_i = int(lo) if ok else 0
            hi_i = int(hi) if ok and dash else lo_i
            if not ok or lo_i < 1 or hi_i < lo_i or hi_i > 65535:
                raise SourcesError("line %u: \"%s\" is not a port or a range LO-HI of 1..65535"
                                   % (n, rest[0][:20]))
            key = (lo_i, hi_i)
            if key not in ranges:
                if len(ranges) == SRC_MAX_RANGES:
                    raise SourcesError("line %u: more than %u port ranges with lists of their "
                                       "own" % (n, SRC_MAX_RANGES))
                ranges.append(key)
            rest = rest[1:]
        if rest:
            raise SourcesError("line %u: \"%s\" after the rule" % (n, rest[0][:20]))
        if len(rules) == SRC_MAX_RULES:
            raise SourcesError("line %u: more than %u prefixes" % (n, SRC_MAX_RULES))
        if action == "limit":
            limits += 1
            if limits > SRC_MAX_LIMITS:
                raise SourcesError("rule %u: more than %u limit rules" % (len(rules),
                                                                         SRC_MAX_LIMITS))
        rules.append((key, v6, a, length, action, rate, burst))
    seen = {}
    for i, r in enumerate(rules):
        k = r[:4]
        if k in seen and rules[seen[k]][4:] != r[4:]:
            raise SourcesError("rules %u and %u: the same prefix in the same list, one %s and "
                               "one %s" % (seen[k], i, rules[seen[k]][4], r[4]))
        seen.setdefault(k, i)
    return rules


def read_sources(path):
    try:
        with open(path, "rb") as f:
            data = f.read(SRC_MAX_FILE + 1)
    except OSError as e:
        raise SourcesError("%s: %s" % (path, e.strerror)) from None
    if len(data) > SRC_MAX_FILE:
        raise SourcesError("%s: more than %u MB" % (path, SRC_MAX_FILE >> 20))
    try:
        return parse_sources(data.decode("utf-8", "replace"))
    except SourcesError as e:
        raise SourcesError("%s: %s" % (path, e)) from None


def layout_line():
    return "synwall-dp state layout %s" % os.environ.get("FAKEDP_LAYOUT", "1 fingerprint fa4e0001")


class StateFile:
    """The fake's tables in --state FILE: {"layout", "owner_pid", "clean", "flows"}."""

    def __init__(self, path):
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + STATE_LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise SystemExit("synwall-dp: --state %s: locked by another process for "
                                     "%d ms: not taken over" % (path, STATE_LOCK_WAIT_S * 1000)
                                     ) from None
                time.sleep(0.05)
        try:
            old = json.loads(os.pread(self.fd, 1 << 16, 0) or b"null")
        except ValueError:
            old = None
        self.flows = 0
        if isinstance(old, dict) and old.get("layout") == layout_line():
            print("synwall-dp: --state %s: taking over the tables of pid %d (%s)" % (
                path, old["owner_pid"],
                "stopped cleanly" if old["clean"] else "ended without stopping: rebuilt"))
            self.flows = old["flows"]
            print("synwall-dp: queue 0: %d flows and 0 syncache entries taken over%s" % (
                self.flows, "" if old["clean"] else ", tables rebuilt"))
        elif isinstance(old, dict):
            print("synwall-dp: --state %s: not taken over, its layout is \"%s\", this "
                  "binary's \"%s\": the tables start empty" % (path, old.get("layout"),
                                                                 layout_line()))
        self.taken_over = self.flows > 0

    def save(self, clean):
        data = json.dumps({"layout": layout_line(), "owner_pid": os.getpid(), "clean": clean,
                           "flows": self.flows}).encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)


class Refused(Exception):
    def __init__(self, field, message):
        super().__init__(message)
        self.field, self.message = field, message


class FakeDp:
    def __init__(self, opts, state=None, sources=()):
        self.state = state
        self.sources = list(sources)
        v4len, _, v6len = opts.get("source-prefix", "32,64").partition(",")
        self.source_v4_len, self.source_v6_len = int(v4len), int(v6len)
        self.top = self.made_up_sources()
        self.top_calls = 0
        self.hashsize = int(opts.get("hashsize", 4096))
        self.bucketlimit = int(opts.get("bucketlimit", 30))
        self.flows = int(opts.get("flows", 65536))
        self.outside = opts.get("outside", "0")
        self.inside = opts.get("inside", "1")
        self.lim = dict(cachelimit=int(opts.get("cachelimit", self.hashsize * self.bucketlimit)),
                        rexmtlimit=int(opts.get("rexmtlimit", 3)),
                        syncookies=opts.get("syncookies", "1") == "1",
                        syncookies_only=opts.get("syncookies-only", "0") == "1",
                        mss=int(opts.get("mss", 1460)), wscale=int(opts.get("wscale", 7)),
                        server_retries=int(opts.get("server-retries", 3)),
                        cookie_check_rate=int(opts.get("cookie-check-rate", 262144)),
                        syn_rate=int(opts.get("syn-rate", 0)),
                        syn_burst=int(opts.get("syn-burst", 0)),
                        reflect_rate=int(opts.get("reflect-rate", 0)),
                        reflect_burst=int(opts.get("reflect-burst", 0)))
        self.idle_default = int(opts.get("idle-timeout", IDLE_DEFAULT_S))
        self.mode = [0] * 65536
        self.profile = [self.default_profile()] * 65536
        self.idle = [self.idle_default] * 65536
        for item in filter(None, opts.get("protect", "").split(",")):
            ports, _, mode = item.partition(":")
            lo, _, hi = ports.partition("-")
            for p in range(int(lo), int(hi or lo) + 1):
                self.mode[p] = MODES[mode or "proxy"]
        self.requests = 0
        self.no_ports = bool(os.environ.get("FAKEDP_NO_PORTS"))
        self.names = COUNTERS + ([] if self.no_ports else CYCLE_COUNTERS)
        self.started = time.monotonic()
        self.version = 1
        self.epoch = 1
        self.keys = [os.urandom(16), os.urandom(16)]
        self.keys_managed = False
        self.counters = [0] * len(COUNTERS)
        if state is not None:
            if state.flows == 0:
                state.flows = int(opts.get("preload-flows", 0))
            self.counters[COUNTERS.index("proxy.flows")] = state.flows
            state.save(clean=False)
        self.syncache = [(1, bytes([198, 18, 0, i]), 40000 + i, bytes([198, 18, 1, 1]), 443,
                          1000 + i, 5000 + i) for i in range(1, 6)]

    def made_up_sources(self):
        out = []
        for i in range(40):
            if i < 30:
                prefix, length = bytes([198, 18, 200, i]), self.source_v4_len
            else:
                prefix, length = bytes([0x20, 1, 0, 2, 0, 0, 0, i]) + bytes(8), \
                    self.source_v6_len
            out.append(dict(prefix=prefix, len=length, syns=1000 * (40 - i), syns_limited=i,
                            bad_cookies=(i * 7) % 23, flows=i % 5, synacks_capped=(i * 3) % 11,
                            idle_ms=10 * i))
        return out

    def denied(self, x):
        """Whether a global deny covers the made-up source x."""
        v6 = len(x["prefix"]) == 16
        a = int.from_bytes(x["prefix"], "big")
        bits = 128 if v6 else 32
        best = None
        for key, rv6, ra, rlen, action, _, _ in self.sources:
            if key is not None or rv6 != v6 or rlen > x["len"]:
                continue
            if a >> (bits - rlen) == ra >> (bits - rlen):
                if best is None or rlen > best[0]:
                    best = (rlen, action)
        return best is not None and best[1] == "deny"

    def grow_sources(self):
        """Every call, each source that no deny covers sends more."""
        self.top_calls += 1
        for x in self.top:
            if not self.denied(x):
                x["syns"] += 100 + x["idle_ms"]
                x["idle_ms"] = x["idle_ms"] % 7
        return self.top

    def cycles(self):
        """lcore.cycles and lcore.busy_cycles now: 25 % busy since the start, fully before."""
        spent = int((time.monotonic() - self.started) * TSC_HZ)
        return [BUSY_BEFORE + spent, BUSY_BEFORE + spent // 4]

    def ports(self):
        n = self.requests
        common = dict(link_up=True, full_duplex=True)
        return [dp.DpPort(role="outside", name=self.outside, id=0, speed_mbps=10000,
                          autoneg=True, ipackets=1000 * n, ibytes=80 * 1000 * n,
                          opackets=400 * n, obytes=66 * 400 * n, imissed=n // 10,
                          queue_ipackets=[1000 * n], queue_opackets=[400 * n], **common),
                dp.DpPort(role="inside", name=self.inside, id=1, speed_mbps=25000,
                          autoneg=False, ipackets=300 * n, ibytes=1000 * 300 * n,
                          opackets=900 * n, obytes=80 * 900 * n,
                          queue_ipackets=[300 * n], queue_opackets=[900 * n], **common)]

    def default_profile(self):
        return (self.lim["mss"], self.lim["wscale"], WS | SACK | TS)

    # --- requests --------------------------------------------------------------------------

    def handle(self, req):
        r = dp.DpResponse(ok=True)
        which = req.WhichOneof("req")
        self.requests += 1
        try:
            if which == "ping":
                pass
            elif which == "get_status":
                r.status.CopyFrom(dp.DpStatus(
                    pid=os.getpid(), workers=1, hashsize=self.hashsize,
                    bucketlimit=self.bucketlimit, flows=self.flows, config_version=self.version,
                    key_epoch=self.epoch, keys_managed=self.keys_managed,
                    outside_port=self.outside, inside_port=self.inside,
                    source_prefixes4=len({r[1:4] for r in self.sources if not r[1]}),
                    source_prefixes6=len({r[1:4] for r in self.sources if r[1]}),
                    source_ranges=len({r[0] for r in self.sources if r[0] is not None}),
                    source_limits=sum(1 for r in self.sources if r[4] == "limit"),
                    source_table=4096, source_v4_len=self.source_v4_len,
                    source_v6_len=self.source_v6_len))
            elif which == "get_counters":
                self.counters[COUNTERS.index("port.outside_rx")] += 1000
                self.counters[COUNTERS.index("syncache.count")] = len(self.syncache)
                values = self.counters + ([] if self.no_ports else self.cycles())
                r.counters.names.extend(self.names)
                r.counters.total.extend(values)
                r.counters.lcores.add(lcore=1, values=values)
            elif which == "get_config":
                r.config.CopyFrom(self.config_out())
                r.config_version = self.version
            elif which in ("apply_config", "validate_config"):
                new = self.config_in(getattr(req, which))
                if which == "apply_config":
                    self.lim, self.mode, self.profile, self.idle = new
                    self.version += 1
                r.config_version = self.version
            elif which == "set_keys":
                k = req.set_keys
                if len(k.current) != 16:
                    raise Refused("current", "a secret is 16 bytes, got %d" % len(k.current))
                if len(k.previous) != 16:
                    raise Refused("previous", "a secret is 16 bytes, got %d" % len(k.previous))
                self.epoch = k.epoch
                self.keys[k.epoch & 1] = k.current
                self.keys[(k.epoch - 1) & 1] = k.previous
                self.keys_managed = True
                self.version += 1
                r.config_version = self.version
            elif which == "dump_syncache":
                d = req.dump_syncache
                mx = d.max_entries or 100
                if mx > 1000:
                    raise Refused("max_entries", "max_entries %d must be 1..1000" % mx)
                start = d.cursor
                page = self.syncache[start:start + mx]
                for (lc, ca, cp, sa, sp, isn, iss) in page:
                    r.entries.add(lcore=lc, client_addr=ca, client_port=cp, server_addr=sa,
                                  server_port=sp, client_isn=isn, iss=iss, mss=1460, sack=True,
                                  timestamps=True, wscale=7, age_ms=1500 * (isn - 1000),
                                  age_known=True)
                nxt = start + len(page)
                r.next_cursor = nxt if nxt < len(self.syncache) else 0
            elif which == "flush_syncache":
                r.flushed = len(self.syncache)
                self.syncache = []
            elif which == "load_sources":
                path = req.load_sources.path
                try:
                    self.sources = read_sources(path) if path else []
                except SourcesError as e:
                    raise Refused("path", str(e)) from None
                self.version += 1
                r.config_version = self.version
            elif which == "top_sources":
                t = req.top_sources
                mx = t.max or 20
                if mx > 1000:
                    raise Refused("max", "max %d must be 1..1000" % mx)
                if t.by >= len(TOP_BY):
                    raise Refused("by", "by %d is not an order" % t.by)
                self.grow_sources()
                by = TOP_BY[t.by]
                ranked = sorted(self.top, key=lambda x: (-x[by], len(x["prefix"]), x["prefix"]))
                for x in ranked[:mx]:
                    r.sources.add(**x)
            elif which == "get_ports" and not self.no_ports:
                r.ports.extend(self.ports())
            else:
                raise Refused("req", "empty or unknown request")
        except Refused as e:
            r = dp.DpResponse(ok=False, error=e.message, error_field=e.field)
        return r

    def config_in(self, c):
        cap = self.hashsize * self.bucketlimit
        if not 1 <= c.cachelimit <= cap:
            raise Refused("cachelimit", "cachelimit %d must be 1..%d" % (c.cachelimit, cap))
        for name, lo, hi in (("rexmtlimit", 0, 10), ("mss", 536, 9000), ("wscale", 0, 14),
                             ("server_retries", 0, 10),
                             ("cookie_check_rate", 0, 100000000), ("syn_rate", 0, RATE_MAX),
                             ("syn_burst", 0, RATE_MAX), ("reflect_rate", 0, RATE_MAX),
                             ("reflect_burst", 0, RATE_MAX)):
            v = getattr(c, name)
            if not lo <= v <= hi:
                raise Refused(name, "%s %d must be %d..%d" % (name, v, lo, hi))
        if c.syncookies_only and not c.syncookies:
            raise Refused("syncookies_only", "syncookies_only needs syncookies")
        lim = dict(cachelimit=c.cachelimit, rexmtlimit=c.rexmtlimit, syncookies=c.syncookies,
                   syncookies_only=c.syncookies_only, mss=c.mss, wscale=c.wscale,
                   server_retries=c.server_retries, cookie_check_rate=c.cookie_check_rate,
                   syn_rate=c.syn_rate, syn_burst=c.syn_burst, reflect_rate=c.reflect_rate,
                   reflect_burst=c.reflect_burst)
        default = (c.mss, c.wscale, WS | SACK | TS)
        mode, profile = [0] * 65536, [default] * 65536
        idle = [self.idle_default] * 65536
        for i, r in enumerate(c.ports):
            if not 1 <= r.lo <= 65535:
                raise Refused("ports[%d].lo" % i, "port %d must be 1..65535" % r.lo)
            if not r.lo <= r.hi <= 65535:
                raise Refused("ports[%d].hi" % i, "port range %d-%d must be ascending and "
                              "within 1..65535" % (r.lo, r.hi))
            if r.mode > 3:
                raise Refused("ports[%d].mode" % i, "mode %d must be 0..3" % r.mode)
            if r.mss and not 536 <= r.mss <= 9000:
                raise Refused("ports[%d].mss" % i, "profile mss %d must be 536..9000" % r.mss)
            if r.wscale > 14:
                raise Refused("ports[%d].wscale" % i, "profile wscale %d must be 0..14"
                              % r.wscale)
            prof = (r.mss or c.mss, r.wscale, (WS if r.window_scaling else 0)
                    | (SACK if r.sack else 0) | (TS if r.timestamps else 0))
            if r.idle_timeout_s > IDLE_MAX_S:
                raise Refused("ports[%d].idle_timeout_s" % i, "idle timeout %d s must be 1..%d "
                              "(0: the default)" % (r.idle_timeout_s, IDLE_MAX_S))
            n = r.hi - r.lo + 1
            mode[r.lo:r.hi + 1] = [r.mode] * n
            profile[r.lo:r.hi + 1] = [prof] * n
            idle[r.lo:r.hi + 1] = [r.idle_timeout_s or self.idle_default] * n
        return lim, mode, profile, idle

    @staticmethod
    def same(a, b):
        return a[0] == b[0] and a[2] == b[2] and (not a[2] & WS or a[1] == b[1])

    def config_out(self):
        out = dp.DpConfig(**self.lim)
        default = self.default_profile()
        p = 1
        while p <= 65535:
            if self.mode[p] == 0 and self.same(self.profile[p], default) and \
                    self.idle[p] == self.idle_default:
                p += 1
                continue
            q = p
            while q + 1 <= 65535 and self.mode[q + 1] == self.mode[p] and \
                    self.same(self.profile[q + 1], self.profile[p]) and \
                    self.idle[q + 1] == self.idle[p]:
                q += 1
            mss, ws, fl = self.profile[p]
            idle = 0 if self.idle[p] == self.idle_default else self.idle[p]
            out.ports.add(lo=p, hi=q, mode=self.mode[p], mss=mss, wscale=ws,
                          window_scaling=bool(fl & WS), sack=bool(fl & SACK),
                          timestamps=bool(fl & TS), idle_timeout_s=idle)
            p = q + 1
        return out


def parse(argv):
    if "--" in argv:
        argv = argv[argv.index("--") + 1:]
    opts = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and i + 1 < len(argv):
            opts[a[2:]] = argv[i + 1]
            i += 2
        else:
            i += 1
    return opts


def serve(fake, path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    old = os.umask(0o177)
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(path)
    os.umask(old)
    ls.listen(8)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    bufs = {}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    print("synwall-dp (fake): 1 worker(s), ctl %s" % path, flush=True)
    while not stop:
        for key, _ in sel.select(0.2):
            if key.data is None:
                c, _ = ls.accept()
                sel.register(c, selectors.EVENT_READ, b"")
                bufs[c] = b""
                continue
            c = key.fileobj
            chunk = c.recv(65536)
            if not chunk:
                sel.unregister(c)
                c.close()
                bufs.pop(c, None)
                continue
            bufs[c] += chunk
            while len(bufs[c]) >= 4:
                (n,) = struct.unpack("!I", bufs[c][:4])
                if len(bufs[c]) < 4 + n:
                    break
                req = dp.DpRequest()
                req.ParseFromString(bufs[c][4:4 + n])
                bufs[c] = bufs[c][4 + n:]
                data = fake.handle(req).SerializeToString()
                c.sendall(struct.pack("!I", len(data)) + data)
    os.unlink(path)
    if fake.state is not None:
        fake.state.save(clean=True)


def main():
    if sys.argv[1:] == ["--state-layout"]:
        print(layout_line())
        return 0
    opts = parse(sys.argv[1:])
    if "ctl" not in opts:
        print("fakedp: --ctl PATH is required", file=sys.stderr)
        return 2
    for name, lo, hi in (("idle-timeout", 1, IDLE_MAX_S), ("adopt-window", 0, 3600)):
        v = opts.get(name)
        if v is not None and not (v.isdigit() and lo <= int(v) <= hi):
            print("synwall-dp: --%s: %r is not an integer in %d..%d" % (name, v, lo, hi),
                  file=sys.stderr)
            return 2
    if opts.get("unparsed", "drop") not in ("drop", "pass"):
        print("synwall-dp: --unparsed: %r is not drop or pass" % opts["unparsed"],
              file=sys.stderr)
        return 2
    if os.environ.get("FAKEDP_FAIL"):
        print(os.environ["FAKEDP_FAIL"], flush=True)
        return 1
    if os.environ.get("FAKEDP_HANG"):
        print("synwall-dp (fake): hanging", flush=True)
        while True:
            time.sleep(3600)
    time.sleep(float(os.environ.get("FAKEDP_DELAY", "0")))
    sources = []
    if opts.get("sources"):
        try:
            sources = read_sources(opts["sources"])
        except SourcesError as e:
            print("synwall-dp: --sources: %s" % e, file=sys.stderr)
            return 2
    state = StateFile(opts["state"]) if "state" in opts else None
    sys.stdout.flush()
    serve(FakeDp(opts, state, sources), opts["ctl"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
