#!/usr/bin/env python3
"""A stand-in for synwall-dp's control socket, for fast controller tests.

    fakedp.py [EAL options] -- --ctl PATH [synwall-dp options]
    fakedp.py --state-layout


It takes synwall-dp's command line, forwards no packets, and answers the control protocol
(proto/synwall/dp/v1/dataplane.proto, docs/DATAPLANE.md "Control socket") with the same rules
as dataplane/ctlproto.c: whole-config checks with the same fields to blame, get_config as
ranges of equal mode, profile and idle timeout for ports not at the defaults (an idle timeout
equal to --idle-timeout reported as 0), keys by epoch parity, a
paged syncache dump (a few made-up entries) and flush. Counters carry the DATAPLANE.md names;
port.outside_rx grows by 1000 at every get_counters so that rates are not zero.

Restarts (docs/DATAPLANE.md "Restarts"), as far as a controller can see them: `--state FILE`
is locked (the next one waits up to 5 s for it) and holds the fake's tables, a flow count
(`--preload-flows N` fills empty tables; proxy.flows shows the count) with the layout line
and the owner; the next fake on the file takes them over, saying so in the real one's words,
if its layout line is the same, else starts empty. A clean stop (SIGTERM) marks the file
clean. `--state-layout` prints the layout line. The environment of the wrapper that runs it
makes variants: FAKEDP_LAYOUT (the layout line's "N fingerprint X"), FAKEDP_FAIL (lines
printed before exiting 1 at start), FAKEDP_HANG (starts, never answers), FAKEDP_DELAY
(seconds it takes to start).

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
MODES = {"pass": 0, "proxy": 1, "cookie": 2, "drop": 3}
WS, SACK, TS = 4, 1, 2
IDLE_DEFAULT_S, IDLE_MAX_S = 86400, 2592000  # sw_const.h: SW_FLOW_IDLE_DEFAULT_S, _MAX_S
STATE_LOCK_WAIT_S = 5  # sw_const.h: SW_STATE_LOCK_WAIT_MS


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
    def __init__(self, opts, state=None):
        self.state = state
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
                        cookie_check_rate=int(opts.get("cookie-check-rate", 262144)))
        self.idle_default = int(opts.get("idle-timeout", IDLE_DEFAULT_S))
        self.mode = [0] * 65536
        self.profile = [self.default_profile()] * 65536
        self.idle = [self.idle_default] * 65536
        for item in filter(None, opts.get("protect", "").split(",")):
            ports, _, mode = item.partition(":")
            lo, _, hi = ports.partition("-")
            for p in range(int(lo), int(hi or lo) + 1):
                self.mode[p] = MODES[mode or "proxy"]
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

    def default_profile(self):
        return (self.lim["mss"], self.lim["wscale"], WS | SACK | TS)

    # --- requests --------------------------------------------------------------------------

    def handle(self, req):
        r = dp.DpResponse(ok=True)
        which = req.WhichOneof("req")
        try:
            if which == "ping":
                pass
            elif which == "get_status":
                r.status.CopyFrom(dp.DpStatus(
                    pid=os.getpid(), workers=1, hashsize=self.hashsize,
                    bucketlimit=self.bucketlimit, flows=self.flows, config_version=self.version,
                    key_epoch=self.epoch, keys_managed=self.keys_managed,
                    outside_port=self.outside, inside_port=self.inside))
            elif which == "get_counters":
                self.counters[COUNTERS.index("port.outside_rx")] += 1000
                r.counters.names.extend(COUNTERS)
                r.counters.total.extend(self.counters)
                r.counters.lcores.add(lcore=1, values=self.counters)
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
                                  timestamps=True, wscale=7)
                nxt = start + len(page)
                r.next_cursor = nxt if nxt < len(self.syncache) else 0
            elif which == "flush_syncache":
                r.flushed = len(self.syncache)
                self.syncache = []
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
                             ("cookie_check_rate", 0, 100000000)):
            v = getattr(c, name)
            if not lo <= v <= hi:
                raise Refused(name, "%s %d must be %d..%d" % (name, v, lo, hi))
        if c.syncookies_only and not c.syncookies:
            raise Refused("syncookies_only", "syncookies_only needs syncookies")
        lim = dict(cachelimit=c.cachelimit, rexmtlimit=c.rexmtlimit, syncookies=c.syncookies,
                   syncookies_only=c.syncookies_only, mss=c.mss, wscale=c.wscale,
                   server_retries=c.server_retries, cookie_check_rate=c.cookie_check_rate)
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
    state = StateFile(opts["state"]) if "state" in opts else None
    sys.stdout.flush()
    serve(FakeDp(opts, state), opts["ctl"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
