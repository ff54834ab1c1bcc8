"""No mismatch between what a client was promised and what its server does ever stalls a
connection. Real Linux stacks on both sides.

synwall offers each client what it learned from the server's last SYN-ACK (timestamps, SACK,
window scale, MSS); the flow then records what its own server negotiated and rewrites every
segment to cover the difference: timestamps added or removed, SACK blocks NOPed out, windows
rescaled between the two shifts. Here the server changes under synwall's feet between
connections, so that the learned profile is wrong for the next one, and every transfer must be
byte-exact (SHA-256 both ways, on one connection carrying a download and an upload) with
full-size segments, and bounded in time.

A server restarted with another stack's settings between two connections is what the
per-netns sysctls (net.ipv4.tcp_timestamps, tcp_sack, tcp_window_scaling: they govern IPv6
too) and the route metrics do here: Linux reads them at each handshake, so the sequence of
test_options_change_between_connections covers it; no separate restart test.
"""

from dataclasses import dataclass

import pytest

from synlab.httpd import blob_sha256
from synlab.wire import SERVER_IP, SERVER_IP6, nft_counter, nft_counts, nft_load, nft_observe, sh

KEY = "000102030405060708090a0b0c0d0e0f"
MB = 1 << 20
SIZE = 4 * MB
STALL = 10          # seconds any socket wait may take before the transfer counts as stalled
SHIFTS = range(15)

SYNACK = "tcp sport 80 tcp flags & (syn | ack) == syn | ack"
FROM_SRV = "tcp sport 80 tcp flags & (syn | rst) == 0"
TO_SRV = "tcp dport 80 tcp flags & (syn | rst) == 0"


@dataclass(frozen=True)
class Stack:
    """What the server's stack does at the next handshake."""
    ts: bool = True
    sack: bool = True
    ws: int | None = 10         # the shift it picks; None: no window scaling
    loss: str = ""              # full-size segments lost both ways: "single" or "burst"

    def __str__(self):
        ws = "no ws" if self.ws is None else f"ws {self.ws}"
        return (f"{'ts' if self.ts else 'no ts'}, {'sack' if self.sack else 'no sack'}, {ws}"
                + (f", {self.loss} losses" if self.loss else ""))


def route(wire, addr, *metrics):
    """Replace the server's on-link route to the client (the kernel's own) with metrics."""
    if ":" in addr:
        cmd = ["ip", "-6", "route", "replace", "2001:2::/64", "dev", "srv0", "proto", "kernel",
               "metric", "256"]
    else:
        cmd = ["ip", "route", "replace", "198.18.0.0/24", "dev", "srv0", "proto", "kernel",
               "scope", "link", "src", SERVER_IP]
    sh(*cmd, *metrics, ns=wire.server_ns)


def set_stack(wire, addr, s: Stack):
    ns = wire.server_ns
    wire.sysctl(ns, "net.ipv4.tcp_timestamps", str(int(s.ts)))
    wire.sysctl(ns, "net.ipv4.tcp_sack", str(int(s.sack)))
    wire.sysctl(ns, "net.ipv4.tcp_window_scaling", str(int(s.ws is not None)))
    # Linux picks its shift as ilog2(min(window clamp, max(rcvbuf, tcp_rmem[2],
    # rmem_max))) - 15. With tcp_rmem[2] at 1 GiB (start()), the route's window clamp
    # decides, whatever the host's global rmem_max.
    route(wire, addr, "window", str(1 << ((10 if s.ws is None else s.ws) + 15)))


def observe(wire):
    """Counters: the SYN-ACK each side saw (what the client was promised, what the server
    said) and what the segments carried, as each stack sends and receives them."""
    def synack(prefix):
        rules = {f"{prefix}_ts": f"{SYNACK} tcp option timestamp exists",
                 f"{prefix}_sackperm": f"{SYNACK} tcp option sack-perm exists",
                 f"{prefix}_nows": f"{SYNACK} tcp option window missing"}
        rules.update({f"{prefix}_ws{n}": f"{SYNACK} tcp option window count {n}"
                      for n in SHIFTS})
        return rules

    cli_in = synack("promised")
    cli_in.update({
        "cli_nots": f"{FROM_SRV} tcp option timestamp missing",
        "cli_sack": f"{FROM_SRV} tcp option sack exists",
        "cli_full": f"{FROM_SRV} meta length >= 1400",
        "cli_rst": "tcp sport 80 tcp flags & rst == rst",
    })
    # The largest window a server that does not scale can show a client promised shift n.
    cli_in.update({f"cli_win_over{n}": f"{FROM_SRV} tcp window > {-(-65535 >> n)}"
                   for n in SHIFTS})
    nft_observe(wire.client_ns, "obs", {
        "input": cli_in,
        "output": {"cli_sent_sack": f"{TO_SRV} tcp option sack exists"},
    })
    srv_out = synack("server")
    srv_out.update({"srv_sent_ts": f"{FROM_SRV} tcp option timestamp exists",
                    "srv_sent_sack": f"{FROM_SRV} tcp option sack exists"})
    nft_observe(wire.server_ns, "obs", {
        "input": {"srv_ts": f"{TO_SRV} tcp option timestamp exists",
                  "srv_sack": f"{TO_SRV} tcp option sack exists",
                  "srv_full": f"{TO_SRV} meta length >= 1400",
                  "srv_rst": "tcp dport 80 tcp flags & rst == rst"},
        "output": srv_out,
    })


def synack_seen(c, prefix):
    """The options of the one SYN-ACK counted under prefix: (ts, sack, shift or None)."""
    shifts = [n for n in SHIFTS if c[f"{prefix}_ws{n}"]]
    assert c[f"{prefix}_ts"] <= 1 and len(shifts) + c[f"{prefix}_nows"] == 1, c
    return bool(c[f"{prefix}_ts"]), bool(c[f"{prefix}_sackperm"]), (shifts or [None])[0]


LOSS = {
    # one segment in 500: a sender recovers it by fast retransmit, with SACK or without
    "single": "numgen inc mod 500 0",
    # four holes in every 400 segments: the receiver SACKs up to four blocks
    "burst": "numgen inc mod 400 { 0, 2, 4, 6 }",
}


def set_loss(wire, loss):
    """Lose full-size segments each way at the receiving stacks (after synwall), at the same
    places each time (LOSS)."""
    for ns, match in ((wire.client_ns, "tcp sport 80"), (wire.server_ns, "tcp dport 80")):
        sh("nft", "delete", "table", "inet", "loss", ns=ns, check=False)
        if loss:
            nft_load(ns, f"""
table inet loss {{
    chain input {{
        type filter hook input priority 10; policy accept;
        {match} meta length >= 1400 {LOSS[loss]} counter drop
    }}
}}
""")


def timeouts(wire):
    """Retransmission timeouts so far (TcpExt TCPTimeouts) of the client's and the server's
    stacks: each one a stall of at least 200 ms."""
    out = []
    for ns in (wire.client_ns, wire.server_ns):
        lines = sh("cat", "/proc/net/netstat", ns=ns).stdout.splitlines()
        for head, values in zip(lines[::2], lines[1::2], strict=True):
            if head.startswith("TcpExt:"):
                names = head.split()[1:]
                out.append(int(dict(zip(names, values.split()[1:], strict=True))["TCPTimeouts"]))
    return out


def veth_drops(wire):
    """Frames the root-side veths failed to deliver (one too large for the peer's MTU)."""
    out = 0
    for ifc in (wire.outside_if, wire.inside_if):
        for stat in ("tx_dropped", "rx_dropped"):
            out += int(open(f"/sys/class/net/{ifc}/statistics/{stat}").read())
    return out


def start(wire, tmp_path, addr):
    wire.sysctl(wire.server_ns, "net.ipv4.tcp_rmem", "4096 131072 1073741824")
    wire.start_httpd(addr)
    wire.start(tmp_path, ["--protect", "80", "--key", KEY])


def transfer(wire, addr, size=SIZE, stall=STALL):
    """One connection: a download and an upload, both checked by SHA-256; seconds taken."""
    r = wire.client("download_upload", addr, size, 80, stall, timeout=3 * stall)
    want = blob_sha256(size)
    assert r["get"] == want, ("download corrupted", r)
    assert r["post"] == want, ("upload corrupted", r)
    return r["seconds"]


def check_totals(total, connections):
    assert total["proxy.established"] == connections, total
    assert total["syncache.completed"] == connections, total
    for name in ("cookie.failed", "proxy.unexpected", "proxy.server_no_flow",
                 "proxy.reset_sent", "proxy.expired", "proxy.synack_mismatch",
                 "proxy.server_rst", "proxy.server_timeout", "port.tx_dropped", "port.nombuf",
                 "proxy.ts_no_room"):
        assert total.get(name, 0) == 0, (name, total)
    assert {k: v for k, v in total.items() if k.startswith("malformed.") and v} == {}, total


# The order matters: an option is learned only where synwall's SYN offered it, so the shifts
# are tried while window scaling is still learned on, the server's SACK blocks with timestamps
# added before SACK goes off, and so on. The first connection meets the port's default profile
# (all on, shift 7).
SEQUENCE = [
    Stack(ws=10),                       # a larger shift than the default 7 promised
    Stack(ws=14),                       # larger than the 10 learned
    Stack(ws=3),                        # smaller than 14
    Stack(ws=10, loss="burst"),         # larger than 3; SACK recovery through the rescaling
    Stack(ts=False, loss="burst"),      # TS promised, none: added, beside up to 4 SACK blocks
    Stack(ts=False, sack=False),        # SACK promised, none (with loss: the test below)
    Stack(ws=None),                     # a shift promised, the server does not scale
    Stack(),                            # all back on
    Stack(ts=False, sack=False, ws=None),   # all off
    Stack(),
]


def run_step(wire, addr, stack):
    """One connection to a server set up as `stack`: what it was promised, what the server
    said, the counters, seconds and retransmission timeouts (client, server)."""
    set_stack(wire, addr, stack)
    set_loss(wire, stack.loss)
    nft_counts(wire.client_ns, "obs", reset=True)
    nft_counts(wire.server_ns, "obs", reset=True)
    rto = timeouts(wire)
    seconds = transfer(wire, addr)
    rto = [b - a for a, b in zip(rto, timeouts(wire), strict=True)]
    c = {**nft_counts(wire.client_ns, "obs"), **nft_counts(wire.server_ns, "obs")}
    promised, server = synack_seen(c, "promised"), synack_seen(c, "server")
    step = (f"{stack}: promised (ts, sack, ws) {promised}, server {server}: {seconds} s, "
            f"timeouts client/server {rto}; {dict((k, v) for k, v in c.items() if v)}")
    # The server did what it was set to, of what synwall's SYN offered it: what the client
    # agreed to.
    p_ts, p_sack, p_ws = promised
    assert server == (stack.ts and p_ts, stack.sack and p_sack,
                      None if p_ws is None else stack.ws), step
    # full-size segments both ways: most of the 4 MiB (a full one carries 1400 bytes or more)
    assert c["cli_full"] > SIZE // 3000 and c["srv_full"] > SIZE // 3000, step
    assert c["cli_rst"] == 0 and c["srv_rst"] == 0, step
    return promised, c, seconds, rto, step


def check_rewriting(stack, promised, c, step):
    """What each stack received is what it negotiated, whatever the other one did."""
    p_ts, p_sack, p_ws = promised
    if p_ts:
        # RFC 7323: once agreed, on every segment; synwall adds what the server omits
        assert c["cli_nots"] == 0, step
    if not stack.ts:
        assert c["srv_sent_ts"] == 0 and c["srv_ts"] == 0, step
    if not stack.sack:
        assert c["srv_sack"] == 0, step
    if not p_sack:
        assert c["cli_sack"] == 0 and c["cli_sent_sack"] == 0, step
    if stack.loss and p_sack:
        assert c["cli_sent_sack"] > 0, step
        if stack.sack:
            assert c["srv_sack"] > 0 and c["srv_sent_sack"] > 0 and c["cli_sack"] > 0, step
    if p_ws is not None and stack.ws is None:
        # an unscaled window, rescaled to the shift the client was promised
        assert c[f"cli_win_over{p_ws}"] == 0, step


@pytest.mark.parametrize("addr", [SERVER_IP, SERVER_IP6], ids=["ipv4", "ipv6"])
def test_options_change_between_connections(wire, tmp_path, addr):
    """The server's timestamps, SACK and window scale (smaller and larger shifts, none)
    change between connections; each connection is promised what an earlier one taught
    synwall. Every transfer is byte-exact, full-size both ways, and never stalls: no
    retransmission timeout even where segments are lost."""
    observe(wire)
    start(wire, tmp_path, addr)
    drops = veth_drops(wire)
    seen = []
    for stack in SEQUENCE:
        promised, c, seconds, rto, step = run_step(wire, addr, stack)
        seen.append((promised, (stack.ts, stack.sack, stack.ws)))  # what the server does
        check_rewriting(stack, promised, c, step)
        assert seconds < 4 and max(rto) <= 1, step
    # Whatever synwall learns when, these mismatches happened (and were survived).
    kinds = set()
    for (p_ts, p_sack, p_ws), (s_ts, s_sack, s_ws) in seen:
        if p_ts and not s_ts:
            kinds.add("ts")
        if p_sack and not s_sack:
            kinds.add("sack")
        if p_ws is not None:
            kinds.add("no ws" if s_ws is None else "larger" if s_ws > p_ws else
                      "smaller" if s_ws < p_ws else "same")
    assert {"ts", "sack", "no ws", "larger", "smaller"} <= kinds, seen
    # no frame too large for a veth's peer
    assert veth_drops(wire) == drops
    total = wire.stop()["total"]
    check_totals(total, len(SEQUENCE))
    # four SACK blocks and the timestamps synwall added do not fit 40 bytes: one block goes
    assert total.get("proxy.sack_trimmed", 1) > 0, total


@pytest.mark.parametrize("addr", [SERVER_IP, SERVER_IP6], ids=["ipv4", "ipv6"])
def test_sack_promised_to_a_server_without_sack_recovers_losses_in_time(wire, tmp_path, addr):
    """A client promised SACK (learned) by a server that no longer does it, with segments
    lost both ways. synwall NOPs the client's SACK blocks out; the server's duplicate ACKs
    carry none. The client's stack, in SACK mode, has no SACK blocks to recover from, and
    nothing synwall could add would be true: each of its losses costs it a retransmission
    timeout, so that connection is slower (DATAPLANE.md says so) but completes in bounded
    time. The next connection is promised no SACK (learned from the server's SYN-ACK) and
    recovers as when the promise is kept from the start: no timeouts."""
    observe(wire)
    start(wire, tmp_path, addr)
    runs = []
    for stack in (Stack(loss="single"), Stack(sack=False, loss="single"),
                  Stack(sack=False, loss="single")):
        promised, c, seconds, rto, step = run_step(wire, addr, stack)
        check_rewriting(stack, promised, c, step)
        runs.append((promised[1], stack.sack, seconds, rto, step))
    summary = [f"promised sack {p}, server sack {s}: {sec} s, timeouts client/server {rto}"
               for p, s, sec, rto, _ in runs]
    (sack_p, sack_s, _, _, _), (mis_p, mis_s, _, _, _) = runs[0], runs[1]
    assert (sack_p, sack_s, mis_p, mis_s) == (True, True, True, False), "; ".join(summary)
    assert runs[2][:2] == (False, False), "; ".join(summary)   # learned: kept
    for i, (_, _, seconds, rto, _) in enumerate(runs):
        assert seconds < 4, "; ".join(summary)                  # never a stall
        if i != 1:
            assert max(rto) <= 1, "; ".join(summary)
    check_totals(wire.stop()["total"], 3)


@pytest.mark.parametrize("addr", [SERVER_IP, SERVER_IP6], ids=["ipv4", "ipv6"])
def test_server_mss_lowered_below_the_promise(wire, tmp_path, addr):
    """The server's MSS falls (route advmss 1200) after synwall learned the full-size one:
    the next client is promised the old MSS and sends segments larger than the server said,
    which a server on a full-size link takes. Then the MSS rises again, above what the
    clients are promised for a while. Every transfer byte-exact, in bounded time."""
    v6 = ":" in addr
    full, low = (1440 if v6 else 1460), 1200
    sizes = (full, low)
    nft_observe(wire.client_ns, "obs", {"input": {
        f"promised{m}": f"{SYNACK} tcp option maxseg size {m}" for m in sizes}})
    nft_observe(wire.server_ns, "obs", {
        "output": {f"server{m}": f"{SYNACK} tcp option maxseg size {m}" for m in sizes},
        # a client segment larger than MSS 1200 allows (IP and TCP headers, options in them)
        "input": {"over": f"{TO_SRV} meta length > {low + (60 if v6 else 40)}",
                  "rst": "tcp flags & rst == rst"},
    })
    start(wire, tmp_path, addr)
    kinds = set()
    for advmss in (None, low, None, None):
        route(wire, addr, *(["advmss", str(advmss)] if advmss else []))
        nft_counts(wire.client_ns, "obs", reset=True)
        nft_counts(wire.server_ns, "obs", reset=True)
        seconds = transfer(wire, addr)
        c = {**nft_counts(wire.client_ns, "obs"), **nft_counts(wire.server_ns, "obs")}
        step = f"advmss {advmss}: {seconds} s; {c}"
        promised = [m for m in sizes if c[f"promised{m}"]]
        assert len(promised) == 1 and c[f"server{advmss or full}"] == 1, step
        if promised[0] > (advmss or full):
            kinds.add("larger")
            # the client did send what it was promised, more than the server said
            assert c["over"] > 0, step
        elif promised[0] < (advmss or full):
            kinds.add("smaller")
        assert c["rst"] == 0 and seconds < 4, step
    assert kinds == {"larger", "smaller"}, kinds
    check_totals(wire.stop()["total"], 4)


def server_behind_a_switch(wire):
    """The server's addresses move from srv0 to srvh, a veth whose peer srvp is, with srv0,
    a port of a bridge in the server namespace: srvh is the server's NIC, the bridge the
    Ethernet segment between it and synwall. An MTU lowered on srvh and srvp then does
    what it does on real Ethernet: a frame too large for the server's NIC is lost on the
    way (the bridge drops it at srvp), not refused to its sender. srv0 itself, the peer of
    synwall's inside port, refuses such a frame at transmission: af_packet then retries it
    at the head of its TX ring for good, and the port sends nothing more (docs/DATAPLANE.md,
    "Test networks")."""
    ns = wire.server_ns
    sh("ip", "link", "add", "sw0", "type", "bridge", ns=ns)
    sh("ip", "link", "add", "srvh", "type", "veth", "peer", "name", "srvp", ns=ns)
    sh("ip", "addr", "flush", "dev", "srv0", ns=ns)
    for dev in ("srv0", "srvp"):
        sh("ip", "link", "set", dev, "master", "sw0", ns=ns)
    # the switch has no address of its own, nor answers for the server's
    for dev in ("srv0", "srvp", "sw0"):
        sh("sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1", ns=ns)
    sh("sysctl", "-qw", "net.ipv4.conf.sw0.arp_ignore=1", ns=ns)
    sh("ip", "addr", "add", f"{SERVER_IP}/24", "dev", "srvh", ns=ns)
    sh("ip", "-6", "addr", "add", f"{SERVER_IP6}/64", "dev", "srvh", "nodad", ns=ns)
    for dev in ("srvp", "sw0", "srvh"):
        sh("ip", "link", "set", dev, "up", ns=ns)
    sh("ethtool", "-K", "srvh", "tx", "off", ns=ns)


def count_giants(wire):
    """Count the packets over 1280 bytes that come to the server's segment from synwall
    (srv0) and that reach the server's NIC (srvh)."""
    chains = "".join(
        f"    chain {dev} {{\n        type filter hook ingress device {dev} priority 0;\n"
        f"        meta length > 1280 counter name {dev}\n    }}\n" for dev in ("srv0", "srvh"))
    nft_load(wire.server_ns, "table netdev giants {\n    counter srv0 { }\n"
             f"    counter srvh {{ }}\n{chains}}}\n")


def giants(wire):
    return tuple(nft_counter(wire.server_ns, "netdev", "giants", dev) for dev in ("srv0", "srvh"))


@pytest.mark.parametrize("addr", [SERVER_IP, SERVER_IP6], ids=["ipv4", "ipv6"])
def test_server_link_mtu_lowered_below_the_promise(wire, tmp_path, addr):
    """The server's link MTU falls to 1280 after synwall learned MSS 1460 (1440): its SYN-ACK
    now says 1240 (1220), but the client was promised the learned MSS. Without synwall the
    client would send what the server said; through it, its full-size segments are too large
    for the server's link. synwall tells the client what a router before the smaller link
    would (fragmentation needed, packet too big), and no connection stalls."""
    v6 = ":" in addr
    full, low = (1440, 1220) if v6 else (1460, 1240)
    server_behind_a_switch(wire)
    nft_observe(wire.client_ns, "obs", {"input": {
        f"promised{m}": f"{SYNACK} tcp option maxseg size {m}" for m in (full, low)}})
    nft_observe(wire.server_ns, "obs", {"output": {
        f"server{m}": f"{SYNACK} tcp option maxseg size {m}" for m in (full, low)}})
    start(wire, tmp_path, addr)
    transfer(wire, addr)                       # learns the full-size MSS
    for dev in ("srvh", "srvp"):
        sh("ip", "link", "set", dev, "mtu", "1280", ns=wire.server_ns)
    nft_counts(wire.client_ns, "obs", reset=True)
    nft_counts(wire.server_ns, "obs", reset=True)
    count_giants(wire)
    try:
        seconds = transfer(wire, addr, stall=5)
    except RuntimeError as e:
        raise AssertionError(f"stalled: {str(e).strip().splitlines()[-1]}") from None
    c = {**nft_counts(wire.client_ns, "obs"), **nft_counts(wire.server_ns, "obs")}
    # the case itself: promised the full size, told the lower one by the server
    assert (c[f"promised{full}"], c[f"promised{low}"]) == (1, 0), c
    assert (c[f"server{full}"], c[f"server{low}"]) == (0, 1), c
    assert seconds < 4
    sent, arrived = giants(wire)
    # the client's first full-size segments were lost on the server's segment; synwall
    # answered them with its ICMP error, and the client sent smaller ones from then on
    assert sent > 0 and arrived == 0, (sent, arrived)
    assert wire.telemetry("/synwall/stats")["proxy.too_big"] == sent
    transfer(wire, addr)                       # now learned: nothing to cover
    total = wire.stop()["total"]
    assert giants(wire) == (sent, 0)
    assert total["proxy.too_big"] == sent
    check_totals(total, 3)


def add_backend(wire, server_ns, n, ts, sack, ws, advmss):
    """A backend namespace behind the server namespace (198.18.<n>.2, 2001:2:0:<n>::2) with
    its own stack settings (ws: its shift, None: no window scaling), running synlab.httpd
    on both families."""
    ns = wire.add_ns(f"b{n}")
    sh("ip", "link", "add", f"b{n}", "type", "veth", "peer", "name", "eth0", "netns", ns,
       ns=server_ns)
    for where, dev, host in ((server_ns, f"b{n}", 1), (ns, "eth0", 2)):
        sh("ip", "addr", "add", f"198.18.{n}.{host}/24", "dev", dev, ns=where)
        sh("ip", "-6", "addr", "add", f"2001:2:0:{n}::{host}/64", "dev", dev, "nodad", ns=where)
        sh("ip", "link", "set", dev, "up", ns=where)
        sh("ethtool", "-K", dev, "tx", "off", ns=where)
    # the shift by the window clamp of the routes to the clients (see set_stack)
    window = str(1 << ((10 if ws is None else ws) + 15))
    # Routes to the clients' subnet only: no default route (a name lookup would leave).
    sh("ip", "route", "add", "198.18.0.0/24", "via", f"198.18.{n}.1", "advmss", str(advmss),
       "window", window, ns=ns)
    sh("ip", "-6", "route", "add", "2001:2::/64", "via", f"2001:2:0:{n}::1", "advmss",
       str(advmss - 20), "window", window, ns=ns)
    wire.sysctl(ns, "net.ipv4.tcp_timestamps", str(int(ts)))
    wire.sysctl(ns, "net.ipv4.tcp_sack", str(int(sack)))
    wire.sysctl(ns, "net.ipv4.tcp_window_scaling", str(int(ws is not None)))
    wire.sysctl(ns, "net.ipv4.tcp_rmem", "4096 131072 1073741824")
    nft_observe(ns, "obs", {
        "input": {"syns": "tcp dport 80 tcp flags & (syn | ack) == syn",
                  "ts": f"{TO_SRV} tcp option timestamp exists",
                  "sack": f"{TO_SRV} tcp option sack exists"},
    })
    wire.start_httpd(f"198.18.{n}.2", ns=ns)
    wire.start_httpd(f"2001:2:0:{n}::2", ns=ns)
    return ns


FULL = {"ts": True, "sack": True, "ws": 14, "advmss": 1460}
PAIRS = {
    # the brief's case: everything differs
    "all-on/all-off": (FULL, {"ts": False, "sack": False, "ws": None, "advmss": 1400}),
    # both do timestamps, which carry the shift back to synwall: the shift flips each time
    "ws14/ws3": (FULL, {"ts": True, "sack": False, "ws": 3, "advmss": 1400}),
}


@pytest.mark.parametrize("pair", list(PAIRS))
@pytest.mark.parametrize("addr", [SERVER_IP, SERVER_IP6], ids=["ipv4", "ipv6"])
def test_two_servers_behind_one_address(wire, tmp_path, addr, pair):
    """The service address is DNATed in turn (nftables numgen, in the server namespace) to
    two backends whose stacks differ. Each SYN-ACK teaches synwall the profile of the
    backend that sent it, and the next connection goes to the other one: it is promised the
    wrong options (the first one to the second backend at least: timestamps, SACK, shift 14
    and MSS 1460 to a backend with fewer). Every transfer is byte-exact and in time, and
    each backend's stack receives only what it negotiated."""
    one, two = PAIRS[pair]
    srv = wire.server_ns
    wire.sysctl(srv, "net.ipv4.ip_forward", "1")
    wire.sysctl(srv, "net.ipv6.conf.all.forwarding", "1")
    b1 = add_backend(wire, srv, 2, **one)
    b2 = add_backend(wire, srv, 3, **two)
    nft_load(srv, """
table inet lb {
    chain pre {
        type nat hook prerouting priority dstnat; policy accept;
        ip daddr 198.18.0.2 tcp dport 80 dnat ip to numgen inc mod 2 map {
            0 : 198.18.2.2, 1 : 198.18.3.2 }
        ip6 daddr 2001:2::2 tcp dport 80 dnat ip6 to numgen inc mod 2 map {
            0 : 2001:2:0:2::2, 1 : 2001:2:0:3::2 }
    }
}
""")
    rules = {f"promised_ws{n}": f"{SYNACK} tcp option window count {n}" for n in (3, 7, 14)}
    rules["promised_ts"] = f"{SYNACK} tcp option timestamp exists"
    rules["cli_rst"] = "tcp sport 80 tcp flags & rst == rst"
    nft_observe(wire.client_ns, "obs", {"input": rules})
    wire.start(tmp_path, ["--protect", "80", "--key", KEY])
    n = 12
    for i in range(n):
        seconds = transfer(wire, addr, size=2 * MB)
        assert seconds < 4, (i, seconds)
    got = (nft_counts(b1, "obs"), nft_counts(b2, "obs"))
    total = wire.stop()["total"]
    # in turn (each connection's SYN, and any of synwall's retransmissions of one)
    assert all(g["syns"] >= n // 2 for g in got), got
    assert sum(g["syns"] for g in got) == n + total["proxy.syn_retransmitted"], (got, total)
    # what each backend's stack received: only what it negotiated
    assert got[0]["ts"] > 0, got
    if not two["ts"]:
        assert got[1]["ts"] == 0, got
    promised = nft_counts(wire.client_ns, "obs")
    assert promised["cli_rst"] == 0, promised
    # the first connection to the second backend was promised the first one's timestamps
    # and shift 14
    assert promised["promised_ts"] >= 2 and promised["promised_ws14"] >= 1, promised
    if two["ts"]:
        # "the profile flips with each SYN-ACK" (DATAPLANE.md): the shift of one backend
        # promised to the other, each time
        assert promised["promised_ws14"] == n // 2, promised
        assert promised["promised_ws3"] == n // 2 - 1, promised
    check_totals(total, n)
