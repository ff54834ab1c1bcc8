"""The dataplane's control socket (--ctl) cannot be taken or locked: the real synwall-dp on
pcap vdevs, clients that connect and send nothing, clients that never read their answers,
requests left half-sent, a configuration as large as a request may be, while a get_status
through the socket (what synwalld's GetStatus asks) is timed and stays fast.

docs/DATAPLANE.md, "Control socket", says what the socket promises.
"""

import shutil
import socket
import struct
import tempfile
import time
from pathlib import Path

import pytest

from synwall.dp.v1 import dataplane_pb2 as dp
from synwall.dplink import DataplaneRefused, DpLink
from tests.traffic.dpharness import DEFAULT_ARGS, TEST_KEY, wait_for
from tests.traffic.pktutil import CLIENT4, CLIENT_MAC, IP, SERVER4, SERVER_MAC, UDP, Ether, syn

# ctlsock.h
MAX_CLIENTS = 8
IDLE_MS = 5000
IO_MS = 2000
MAX_RANGES = 65535
# What "fast" is here: a get_status costs well under a millisecond, where a loop that waited
# on a client that does not read would take seconds (SW_CTL_IO_MS is 2 s).
FAST_S = 0.5
# ... and validating then applying the largest configuration (65535 wide ranges, built and
# serialized in Python too) takes about a tenth of a second, where writing each range's
# ports in turn (2 x 10^9 port writes) takes several seconds.
APPLY_S = 2.0


def frame(req: dp.DpRequest) -> bytes:
    payload = req.SerializeToString()
    return struct.pack("!I", len(payload)) + payload


def raw_client(path: Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(str(path))
    return s


def closed_by_dataplane(s: socket.socket) -> bool:
    """EOF (or a reset) once whatever was sent to us is read; False while it stays open."""
    s.setblocking(False)
    try:
        while True:
            try:
                chunk = s.recv(1 << 20)
            except BlockingIOError:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
    finally:
        s.settimeout(5)


@pytest.fixture
def ctl_dp(start_dp):
    """A running synwall-dp with --ctl; yields (process, socket path, a DpLink)."""
    d = Path(tempfile.mkdtemp(prefix="swctl", dir="/tmp"))  # Unix paths: 107 bytes at most
    path = d / "dp.ctl"
    p = start_dp(args=DEFAULT_ARGS + ["--ctl", str(path)])
    link = DpLink(str(path), timeout=10)

    def up():
        try:
            link.ping()
            return True
        except OSError:
            return False
    try:
        assert wait_for(up, 30), "no control socket:\n" + p.stderr()
        yield p, path, link
    finally:
        link.close()
        shutil.rmtree(d, ignore_errors=True)


def timed_status(link: DpLink) -> float:
    t = time.monotonic()
    st = link.status()
    took = time.monotonic() - t
    assert st.workers == 1
    return took


def wide_ranges(n: int) -> dp.DpConfig:
    """n ranges, the i-th from port i+1 to 65535: the widest overlapping set (ranges x width
    port writes, if each range were written in turn), and each port ends up with the mode of
    the range that starts there."""
    return dp.DpConfig(cachelimit=1000, rexmtlimit=3, syncookies=True, mss=1460, wscale=7,
                       server_retries=3,
                       ports=[dp.PortRange(lo=i + 1, hi=65535, mode=1 + i % 3, mss=1460,
                                           wscale=7, window_scaling=True, sack=True,
                                           timestamps=True) for i in range(n)])


def test_idle_and_unread_clients_never_slow_the_controller(ctl_dp):
    p, path, link = ctl_dp
    # A configuration whose get_config answer (65535 ranges, about 1.5 MB) is more than a
    # socket holds, for the clients that will not read it.
    link.apply_config(wide_ranges(MAX_RANGES))
    ask_config = frame(dp.DpRequest(get_config=True))

    # Every place taken by connections that send nothing...
    idle = [raw_client(path) for _ in range(MAX_CLIENTS)]
    time.sleep(0.1)
    # ... and then clients that ask for the big answer and never read it, and one that
    # sends half a request.
    unread = []
    for _ in range(3):
        s = raw_client(path)
        s.sendall(ask_config)
        unread.append(s)
    half = raw_client(path)
    half.sendall(struct.pack("!I", 1000) + b"\x08")
    link.close()  # the controller's next call connects anew, as after a restart

    started = time.monotonic()
    worst = max(timed_status(link) for _ in range(5))
    while time.monotonic() - started < IO_MS / 1000 + 1:
        worst = max(worst, timed_status(link))
        time.sleep(0.05)
    assert worst < FAST_S, "a get_status took %.3f s among stuck clients:\n%s" % (
        worst, p.stderr())

    # What was stuck has been closed: the unread answers dropped, the half request too.
    assert wait_for(lambda: all(closed_by_dataplane(s) for s in unread + [half]), 5), \
        p.stderr()
    assert "an answer not taken for" in p.stderr()
    assert "a request incomplete for" in p.stderr()
    # The idle ones made room for the newcomers or timed out.
    assert wait_for(lambda: all(closed_by_dataplane(s) for s in idle), IDLE_MS / 1000 + 3)
    for s in idle + unread + [half]:
        s.close()
    assert timed_status(link) < FAST_S
    assert p.alive(), p.stderr()


def test_the_controller_reconnects_after_an_idle_close(ctl_dp):
    p, path, link = ctl_dp
    assert timed_status(link) < FAST_S
    time.sleep(IDLE_MS / 1000 + 0.5)  # the dataplane closes the kept connection meanwhile
    assert timed_status(link) < FAST_S  # sent again on a fresh one, unnoticed
    assert p.alive(), p.stderr()


def test_the_largest_config_applies_at_once_and_a_larger_one_is_refused(ctl_dp):
    p, path, link = ctl_dp
    cfg = wide_ranges(MAX_RANGES)
    t = time.monotonic()
    link.validate_config(cfg)
    link.apply_config(cfg)
    took = time.monotonic() - t
    assert took < APPLY_S, "validate + apply of %d ranges took %.2f s" % (
        MAX_RANGES, took)
    have = link.get_config()
    got = {(r.lo, r.hi, r.mode) for r in have.ports[:3]}
    assert got == {(1, 1, 1), (2, 2, 2), (3, 3, 3)}, got
    assert len(have.ports) == MAX_RANGES

    more = wide_ranges(MAX_RANGES + 1)
    t = time.monotonic()
    with pytest.raises(DataplaneRefused) as ei:
        link.apply_config(more)
    assert time.monotonic() - t < APPLY_S
    assert ei.value.field == "ports"
    assert "65536 port ranges: at most 65535 (one per port)" in ei.value.message
    assert len(link.get_config().ports) == MAX_RANGES, "a refused config changed something"

    # Over the message limit: the controller does not send it; a raw client that does is
    # cut off, and nobody else notices.
    huge = dp.DpRequest(apply_config=dp.DpConfig(ports=[
        dp.PortRange(lo=1, hi=65535, mode=1, mss=1460, idle_timeout_s=2592000)] * 300000))
    with pytest.raises(DataplaneRefused) as ei:
        link.call(huge)
    assert ei.value.field == "request" and "over the control socket's limit" in \
        ei.value.message
    s = raw_client(path)
    s.sendall(struct.pack("!I", (4 << 20) + 1))
    assert wait_for(lambda: closed_by_dataplane(s), 5)
    s.close()
    assert "over the 4194304 limit" in p.stderr()
    assert timed_status(link) < FAST_S
    assert p.alive(), p.stderr()


def test_source_lists_are_loaded_replaced_refused_whole_and_removed(ctl_dp, tmp_path):
    """load_sources reads a file of rules (synwall-dp --sources' form) and replaces the lists
    whole; a file that cannot be read, parsed or built is refused with its line or rules
    named, and the lists in force stay; "" removes them."""
    _, _, link = ctl_dp

    def lists():
        st = link.status()
        return st.source_prefixes4, st.source_prefixes6, st.source_ranges, st.config_version

    assert lists()[:3] == (0, 0, 0)
    good = tmp_path / "good"
    good.write_text("deny 198.18.200.0/24\ndeny 2001:2::/48\nallow 198.18.0.0/16 22\n"
                    "deny 0.0.0.0/0 8000-8080\n")
    version = link.load_sources(str(good))
    assert lists() == (3, 1, 2, version)
    st = link.status()
    # an IPv4 and an IPv6 table's first level: 64 MB each, and more
    assert (st.source_limits, st.source_bytes > 128 << 20) == (0, True), st
    good.write_text(good.read_text() + "limit 198.18.64.0/18 100\n")
    version = link.load_sources(str(good))
    assert lists() == (4, 1, 2, version) and link.status().source_limits == 1
    for text, why in (
            ("deny 198.18.200.0/24\ndeny 198.18.201.1/24\n",
             "%s: line 2: \"198.18.201.1/24\" has bits set past its length"),
            ("deny 198.18.5.0/24\nallow 198.18.5.0/24\n",
             "%s: rules 0 and 1: the same prefix in the same list, one deny and one allow")):
        bad = tmp_path / "bad"
        bad.write_text(text)
        with pytest.raises(DataplaneRefused) as e:
            link.load_sources(str(bad))
        assert (str(e.value), e.value.field) == (why % bad, "path")
        assert lists() == (4, 1, 2, version), "a refused file changed the lists"
    with pytest.raises(DataplaneRefused) as e:
        link.load_sources(str(tmp_path / "none"))
    assert str(e.value) == "%s: No such file or directory" % (tmp_path / "none")
    version = link.load_sources("")
    assert lists() == (0, 0, 0, version)


def test_ports_say_link_and_nic_counts_and_the_worker_its_busy_share(start_dp):
    """get_ports: each port's link and the NIC's counts of what came and went (here a
    pcap file's SYNs in on the outside port, their SYN-ACKs out of it, a UDP frame bridged
    out of the inside one); lcore.busy_cycles, the worker's rounds that found packets, a
    part of lcore.cycles."""
    d = Path(tempfile.mkdtemp(prefix="swports", dir="/tmp"))
    path = d / "dp.ctl"
    frames = [syn(sport=42000 + i, isn=i) for i in range(6)] + [
        Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IP(src=CLIENT4, dst=SERVER4) /
        UDP(sport=1, dport=2) / b"bridged"]
    start_dp(outside=frames, args=["--protect", "80:cookie", "--key", TEST_KEY, "--ctl",
                                   str(path)])
    link = DpLink(str(path), timeout=10)

    def ports():
        try:
            ps = link.request(dp.DpRequest(get_ports=True)).ports
        except OSError:
            return None
        return ps if ps[0].ipackets == len(frames) and ps[0].opackets == 6 else None
    try:
        ps = wait_for(ports, 30)
        assert ps, "the outside port never counted the frames"
        out, ins = ps
        assert (out.role, out.name, out.id, ins.role, ins.name, ins.id) == \
            ("outside", "net_pcap0", 0, "inside", "net_pcap1", 1)
        assert out.link_up and ins.link_up and out.speed_mbps > 0
        assert (ins.ipackets, ins.opackets) == (0, 1)
        assert out.ibytes == sum(len(bytes(f)) for f in frames)
        assert out.imissed == out.ierrors == out.oerrors == out.rx_nombuf == 0
        assert list(out.queue_ipackets) == [len(frames)] and list(ins.queue_opackets) == [1]
        c = link.counters()
        total = dict(zip(c.names, c.total, strict=True))
        assert 0 < total["lcore.busy_cycles"] < total["lcore.cycles"], total
    finally:
        link.close()
        shutil.rmtree(d, ignore_errors=True)
