"""The ports and the workers' busy share where operators look (GetPorts, `synwallctl ports`,
the metrics): the NIC's counts of each port as the dataplane reads them, and each worker's
busy share measured between two samples of its cycle counters that the controller keeps,
the first answer over the dataplane's life so far. With the fake dataplane (fakedp.py: made-up
ports, 25 % busy over any interval) and the real one (net_null ports)."""

import json
import os
import re
import signal
import time
import urllib.request

import pytest

from synwall import cli
from synwall.controller import BUSY_MIN_INTERVAL
from synwall.errors import SynwallError
from synwall.supervisor import proc_start_time
from tests.controller.ctlharness import wait_for


def run(capsys, env, *args):
    capsys.readouterr()
    rc = cli.main(["--socket", str(env.socket_path), *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_ports_carry_the_nics_counts_field_by_field(env_factory):
    env = env_factory("fake").start()
    c = env.client()
    first = c.ports()
    out, ins = first.ports
    assert (out.role, out.name, out.id, ins.role, ins.name, ins.id) == \
        ("outside", "fake_out", 0, "inside", "fake_in", 1)
    assert (out.link_up, out.speed_mbps, out.full_duplex, out.autoneg) == \
        (True, 10000, True, True)
    assert (ins.link_up, ins.speed_mbps, ins.full_duplex, ins.autoneg) == \
        (True, 25000, True, False)
    # the fake's counts are multiples of the requests it was sent, each field its own
    n = out.ipackets // 1000
    assert n > 0
    assert (out.ibytes, out.opackets, out.obytes, out.imissed) == \
        (80 * 1000 * n, 400 * n, 66 * 400 * n, n // 10)
    assert (ins.ipackets, ins.ibytes, ins.opackets, ins.obytes) == \
        (300 * n, 1000 * 300 * n, 900 * n, 80 * 900 * n)
    assert (out.ierrors, out.oerrors, out.rx_nombuf) == (0, 0, 0)
    assert (out.queue_ipackets, out.queue_opackets) == ([1000 * n], [400 * n])
    assert (ins.queue_ipackets, ins.queue_opackets) == ([300 * n], [900 * n])
    assert c.ports().ports[0].ipackets > out.ipackets, "the counts do not move"


def test_the_busy_share_is_measured_between_two_samples(env_factory):
    env = env_factory("fake").start()
    c = env.client()
    first = c.ports()
    t_first = time.monotonic()
    [b] = first.lcores
    # no sample yet: over the dataplane's life, which the fake spent nearly all busy
    assert b.lcore == 1 and b.since_start and b.busy_share > 0.95, b
    assert 0 < b.interval_seconds < 60 and b.busy_cycles <= b.cycles, b
    time.sleep(0.6)
    second = c.ports()
    measured = time.monotonic() - t_first
    [b] = second.lcores
    # the fake is 25 % busy over any interval: only a share between two samples says so
    assert not b.since_start and b.busy_share == pytest.approx(0.25, abs=1e-6), b
    assert 0.6 <= b.interval_seconds <= measured + 0.05, (b, measured)
    assert b.cycles / 2e9 == pytest.approx(b.interval_seconds, abs=0.05), b
    # A look a moment after another is measured against an older sample: an interval of
    # some length, whoever looked last.
    [b] = c.ports().lcores
    assert not b.since_start and b.interval_seconds >= BUSY_MIN_INTERVAL, b
    assert b.busy_share == pytest.approx(0.25, abs=1e-6)
    # A new dataplane counts from 0 again: the samples of the old one are not its.
    c.restart_dataplane()
    [b] = c.ports().lcores
    assert b.since_start and b.busy_share > 0.95, b


def test_a_dataplane_down_or_too_old_to_tell(env_factory, capsys):
    env = env_factory("fake")
    wrapper = env.workdir / "fake-synwall-dp"
    env.start()
    c = env.client()
    # one that knows no get_ports and counts no cycles
    wrapper.write_bytes(env.fake_binary("old-synwall-dp", no_ports="1").read_bytes())
    c.restart_dataplane()
    with pytest.raises(SynwallError) as ei:
        c.ports()
    assert ei.value.code == "FAILED_PRECONDITION", ei.value
    assert ei.value.message.startswith("the running dataplane does not tell its ports (it "
                                       "answered: empty or unknown request)"), ei.value.message
    # down: every restart fails
    wrapper.write_text("#!/bin/sh\nexit 3\n")
    pid = env.dp_pid()
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: proc_start_time(pid) is None, 10)
    with pytest.raises(SynwallError) as ei:
        c.ports()
    assert ei.value.code == "UNAVAILABLE", ei.value
    rc, out, err = run(capsys, env, "ports")
    assert rc == 1 and out == "" and err.count("\n") == 1 and err.startswith("synwallctl: "), \
        (rc, out, err)


PORTS_TEXT = re.compile(r"""0: outside fake_out: link up, 10000Mb/s, full duplex, autoneg on
    RX: +packets +bytes +imissed +ierrors +rx_nombuf
     +(\d+) +(\d+) +(\d+) +0 +0
    TX: +packets +bytes +oerrors
     +(\d+) +(\d+) +0
    RX queues: 0: (\d+)
    TX queues: 0: (\d+)
1: inside fake_in: link up, 25000Mb/s, full duplex, autoneg off
    RX: +packets +bytes +imissed +ierrors +rx_nombuf
     +\d+ +\d+ +0 +0 +0
    TX: +packets +bytes +oerrors
     +\d+ +\d+ +0
    RX queues: 0: \d+
    TX queues: 0: \d+
workers:
    lcore 1: (.....)% busy (.*)
""")


def test_synwallctl_ports(env_factory, capsys):
    env = env_factory("fake").start()
    rc, out, err = run(capsys, env, "ports")
    assert rc == 0 and err == "", err
    m = PORTS_TEXT.fullmatch(out)
    assert m, out
    rx, rx_bytes, missed, tx, tx_bytes, rxq, txq, busy, when = m.groups()
    assert int(rx_bytes) == 80 * int(rx) and int(tx_bytes) == 66 * int(tx), out
    assert int(missed) == int(rx) // 10000 and (rxq, txq) == (rx, tx), out
    assert float(busy) > 95, out
    assert re.fullmatch(r"since the dataplane started, \d+\.\d s ago", when), out
    time.sleep(0.6)
    rc, out, err = run(capsys, env, "ports")
    assert rc == 0
    busy, when = PORTS_TEXT.fullmatch(out).groups()[-2:]
    assert busy == " 25.0" and re.fullmatch(r"over the last 0\.\d s", when), out
    # every column under its name
    lines = out.splitlines()
    for head, values in ((lines[1], lines[2]), (lines[3], lines[4])):
        ends = [m.end() for m in re.finditer(r"\S+", head)][1:]
        assert ends == [m.end() for m in re.finditer(r"\S+", values)], (head, values)

    rc, out, err = run(capsys, env, "--json", "ports")
    assert rc == 0 and err == ""
    data = json.loads(out)
    assert set(data) == {"ports", "lcores", "time_unix_ns"}
    assert [(p["role"], p["name"]) for p in data["ports"]] == [("outside", "fake_out"),
                                                               ("inside", "fake_in")]
    assert set(data["ports"][0]) == {
        "role", "name", "id", "link_up", "speed_mbps", "full_duplex", "autoneg", "ipackets",
        "opackets", "ibytes", "obytes", "imissed", "ierrors", "oerrors", "rx_nombuf",
        "queue_ipackets", "queue_opackets"}
    assert data["ports"][1]["ibytes"] == 1000 * data["ports"][1]["ipackets"]
    [b] = data["lcores"]
    assert b["lcore"] == 1 and b["since_start"] is False and set(b) == {
        "lcore", "busy_share", "interval_seconds", "since_start", "cycles", "busy_cycles"}
    assert b["busy_share"] == pytest.approx(0.25, abs=1e-6)

    rc, out, err = run(capsys, env, "--help")
    assert rc == 0 and re.search(r"^\s+ports\s+the ports as their NICs count them", out, re.M), \
        out


def test_metrics_carry_the_ports_by_role_and_the_cycle_counters(env_factory):
    env = env_factory("fake", api_extra='metrics = "127.0.0.1:0"').start()
    url = "http://127.0.0.1:%d/metrics" % env.daemon.metrics_port

    def scrape():
        text = urllib.request.urlopen(url, timeout=5).read().decode()
        return {m[1]: float(m[2]) for m in re.finditer(r"^(\w\S*) (\S+)$", text, re.M)}
    got = scrape()
    assert got['synwall_port_up{role="outside"}'] == 1 and \
        got['synwall_port_up{role="inside"}'] == 1
    assert got['synwall_port_speed_mbps{role="outside"}'] == 10000
    assert got['synwall_port_speed_mbps{role="inside"}'] == 25000
    rx = got['synwall_port_rx_packets_total{role="outside"}']
    assert rx > 0 and rx % 1000 == 0
    assert got['synwall_port_rx_bytes_total{role="outside"}'] == 80 * rx
    assert got['synwall_port_tx_packets_total{role="outside"}'] == 400 * rx / 1000
    assert got['synwall_port_tx_bytes_total{role="outside"}'] == 66 * 400 * rx / 1000
    assert got['synwall_port_imissed_total{role="outside"}'] == rx // 10000
    assert got['synwall_port_rx_packets_total{role="inside"}'] == 300 * rx / 1000
    for name in ("ierrors", "oerrors", "rx_nombuf"):
        for role in ("outside", "inside"):
            assert got['synwall_port_%s_total{role="%s"}' % (name, role)] == 0
    port_series = [k for k in got if k.startswith("synwall_port_") and "role=" in k]
    assert len(port_series) == 2 * 10, port_series  # ten metrics, two roles, nothing more
    # the busy share is rate(busy) / rate(cycles): both counters, per lcore
    before = scrape()
    time.sleep(0.3)
    after = scrape()
    cyc, busy = 'synwall_lcore_cycles_total{lcore="1"}', \
        'synwall_lcore_busy_cycles_total{lcore="1"}'
    assert (after[busy] - before[busy]) / (after[cyc] - before[cyc]) == \
        pytest.approx(0.25, abs=1e-3)


def test_synwallctl_ports_on_the_real_dataplane(env_factory, capsys):
    env = env_factory("real").start()
    rc, out, err = run(capsys, env, "--json", "ports")
    assert rc == 0 and err == "", err
    data = json.loads(out)
    assert [(p["role"], p["name"], p["id"]) for p in data["ports"]] == [
        ("outside", "net_null0", 0), ("inside", "net_null1", 1)], data
    for p in data["ports"]:
        assert p["link_up"], p
        for k in ("ipackets", "opackets", "ibytes", "obytes", "imissed", "ierrors", "oerrors",
                  "rx_nombuf"):
            assert p[k] >= 0, (k, p)
        assert all(n >= 0 for n in p["queue_ipackets"] + p["queue_opackets"]), p
    [b] = data["lcores"]
    assert b["lcore"] == 1 and b["since_start"] and 0 <= b["busy_share"] <= 1, b
    assert 0 < b["busy_cycles"] <= b["cycles"], b  # net_null always has packets to give
    time.sleep(0.6)
    rc, out, _ = run(capsys, env, "--json", "ports")
    [b] = json.loads(out)["lcores"]
    assert rc == 0 and not b["since_start"] and b["interval_seconds"] >= 0.5, b
    assert 0 <= b["busy_share"] <= 1 and b["cycles"] > 0, b
    rc, out, _ = run(capsys, env, "ports")
    assert rc == 0 and out.startswith("0: outside net_null0: link up, "), out
