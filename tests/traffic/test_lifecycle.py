"""10, 11. Stopping on a signal, the stats JSON, and the counters over DPDK telemetry."""

import json
import signal
import socket
import time

import pytest

from tests.traffic.dpharness import COUNTER_NAMES, wait_for
from tests.traffic.pktutil import ALL_OPTS, syn

INFINITE = ",infinite_rx=1"


def drop_port_syn():
    # Replayed forever by infinite_rx: dropped by policy, so no output file grows.
    return syn(dport=8080, options=ALL_OPTS)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_cleanly_and_writes_stats(start_dp, sig):
    p = start_dp(outside=[drop_port_syn()], outside_devargs=INFINITE)
    time.sleep(2)
    assert p.alive(), "synwall-dp exited before the signal:\n" + p.stderr()
    p.signal(sig)
    r = p.wait(timeout=30)
    assert r.returncode == 0, "exit %d after %s\nstderr:\n%s" % (r.returncode, sig.name,
                                                                r.stderr)
    assert r.stats is not None, "no stats JSON after %s" % sig.name
    c = r.counters("port.outside_rx", "port.policy_drop", "port.inside_tx",
                   "port.outside_tx")
    assert c["port.outside_rx"] > 0, c
    assert 0 < c["port.policy_drop"] <= c["port.outside_rx"], c
    assert c["port.inside_tx"] == 0 and c["port.outside_tx"] == 0, c
    assert r.outside_raw == [] and r.inside_raw == []


def test_stats_json_shape(run_dp):
    s = syn(options=ALL_OPTS)
    r = run_dp(outside=[s, syn(dport=8080)])
    st = r.stats
    assert set(st) >= {"total", "lcores"}, st.keys()
    total = st["total"]
    missing = [n for n in COUNTER_NAMES if n not in total]
    assert not missing, "documented counters missing from total: %s" % missing
    assert all(isinstance(v, int) and v >= 0 for v in total.values()), total
    assert isinstance(st["lcores"], list) and st["lcores"], st["lcores"]
    ids = []
    sums = {}
    for lc in st["lcores"]:
        assert set(lc) >= {"lcore", "counters"}, lc
        ids.append(lc["lcore"])
        for k, v in lc["counters"].items():
            sums[k] = sums.get(k, 0) + v
    assert ids == [1], "with -l 0-1 the one worker is lcore 1: %s" % ids
    for n in COUNTER_NAMES:
        assert sums.get(n, 0) == total[n], "%s: lcores sum to %d, total says %d" % (
            n, sums.get(n, 0), total[n])
    assert total["syncache.added"] == 1 and total["port.policy_drop"] == 1, r.describe()
    assert total["port.outside_rx"] == 2 and total["port.outside_tx"] == 1, r.describe()


def telemetry(path, command):
    """One request on a DPDK telemetry v2 socket: returns (hello, reply) as parsed JSON."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(5)
        s.connect(str(path))
        hello = json.loads(s.recv(65536).decode())
        s.send(command.encode())
        reply = json.loads(s.recv(max(int(hello.get("max_output_len", 16384)), 65536)).decode())
    return hello, reply


def flatten(data, prefix=""):
    """Telemetry dictionary names cannot hold '.', so the dataplane may serve "syncache.added"
    as {"syncache": {"added": n}}: join the levels back into the documented names."""
    out = {}
    for k, v in data.items():
        if isinstance(v, dict):
            out.update(flatten(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


def test_telemetry_stats(start_dp):
    p = start_dp(outside=[drop_port_syn()], outside_devargs=INFINITE)
    sock = p.runtime_dir / "dpdk_telemetry.v2"
    assert wait_for(lambda: sock.exists() or not p.alive(), 15) and p.alive(), \
        "no telemetry socket at %s\nstderr:\n%s" % (sock, p.stderr())

    def stats():
        """The counters, or None while the command is not (yet) registered."""
        _, reply = telemetry(sock, "/synwall/stats")
        assert "/synwall/stats" in reply, reply
        data = reply["/synwall/stats"]
        if not isinstance(data, dict):
            return None
        # The stats-JSON layout (a "total" object) or the counters themselves.
        return flatten(data["total"] if isinstance(data.get("total"), dict) else data)

    hello, listing = telemetry(sock, "/")
    assert "version" in hello and "max_output_len" in hello, hello

    # The socket exists from EAL start; the command is registered once the ports are up.
    counters = wait_for(lambda: (lambda c: c if c and c.get("port.outside_rx", 0) > 0
                                 else None)(stats()), 10, interval=0.2)
    assert counters, "no counters with port.outside_rx > 0 over telemetry: %r (commands: %s)" % (
        stats(), listing)
    missing = [n for n in COUNTER_NAMES if n not in counters]
    assert not missing, "documented counters missing over telemetry: %s" % missing
    assert counters["port.policy_drop"] > 0, counters
    assert counters["syncache.added"] == 0 and counters["port.inside_tx"] == 0, counters

    # The counters are live: they grow while the replay runs.
    first = counters["port.outside_rx"]
    assert wait_for(lambda: stats()["port.outside_rx"] > first, 5, interval=0.2)

    p.signal(signal.SIGTERM)
    r = p.wait(timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.c("port.outside_rx") >= first


def test_idle_exit_with_no_traffic_at_all(run_dp):
    # Both rx pcaps empty: no packet arrives for --idle-exit ms from the start, so it exits.
    r = run_dp(outside=[], inside=[], timeout=20)
    assert r.outside_raw == [] and r.inside_raw == []
    assert r.c("port.outside_rx") == 0 and r.c("port.inside_rx") == 0, r.describe()


def test_idle_sleep_gives_the_cpu_back_and_answers_the_same(run_dp):
    # The same SYNs, then 1.5 s with nothing (--idle-exit): a worker that polls on burns that
    # time; with --idle-sleep it sleeps through it. The answers are the same either way (but
    # for the clock in their timestamps).
    import resource

    from scapy.layers.inet import TCP
    from scapy.layers.l2 import Ether

    def answers(r):
        return [(len(f), Ether(f)[TCP].dport, str(Ether(f)[TCP].flags)) for f in r.outside_raw]

    def cpu_seconds(extra):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = run_dp(outside=[syn(sport=40000 + i, options=ALL_OPTS) for i in range(32)],
                   args=["--protect", "80:cookie", "--key", "00" * 16] + extra, idle_ms=1500)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return used, r

    polling, r_poll = cpu_seconds([])
    sleeping, r_sleep = cpu_seconds(["--idle-sleep", "1000"])
    assert r_poll.c("syncache.sendcookie") == r_sleep.c("syncache.sendcookie") == 32
    assert answers(r_sleep) == answers(r_poll) == [(74, 40000 + i, "SA") for i in range(32)]
    # polling: the worker's 1.5 s at least; sleeping: a 1 ms sleep every 16 empty rounds
    assert polling > 1.2 and sleeping < polling - 0.8, (polling, sleeping)
