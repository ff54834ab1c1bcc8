"""Prometheus metrics: the dataplane's counters under their DESIGN.md names.

`syncache.added` of lcore 1 is `synwall_syncache_added_total{lcore="1"}` (dots become
underscores, the prefix synwall_, and Prometheus' _total suffix on counters); the gauges
(`syncache.count`, `syncache.paused`, `proxy.flows`) have no suffix. Sum over lcores for the
appliance's total. Also: synwall_dataplane_up, synwall_dataplane_restarts_total,
synwall_config_version, synwall_key_epoch. Counters are read from the dataplane at each scrape.

Source rules and top talkers: synwall_source_rules{action="deny|allow|limit"} and
synwall_source_port_ranges (the running rules), and the heaviest source prefixes of the
dataplane's source tables as gauges labelled by prefix, synwall_top_source_syns{prefix=...}
and synwall_top_source_bad_cookies{prefix=...}: at most TOP_SOURCES (10) series each,
whatever a flood's number of sources, so that the labels' cardinality stays bounded (a
prefix leaves the series when others outrank it; `synwallctl source top` shows more).

The ports as their NICs count them (the dataplane's get_ports), one series per port labelled
by role (`outside`, `inside`): synwall_port_up, synwall_port_speed_mbps and the counters
synwall_port_{rx,tx}_{packets,bytes}_total, synwall_port_imissed_total,
synwall_port_ierrors_total, synwall_port_oerrors_total, synwall_port_rx_nombuf_total (the
dataplane's own port.* counters stay per lcore: synwall_port_outside_rx_total{lcore=...}).
A worker's busy share is rate(synwall_lcore_busy_cycles_total[1m]) /
rate(synwall_lcore_cycles_total[1m]), both per lcore.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from synwall.controller import Controller
from synwall.errors import ControllerError

log = logging.getLogger("synwalld")

GAUGES = {"syncache.count", "syncache.paused", "proxy.flows"}
# The NIC's counts of each port: (the DpPort field, the metric, its help); synwall_port_up and
# synwall_port_speed_mbps are gauges.
PORT_COUNTERS = (
    ("ipackets", "synwall_port_rx_packets", "packets the port's NIC received"),
    ("opackets", "synwall_port_tx_packets", "packets the port's NIC sent"),
    ("ibytes", "synwall_port_rx_bytes", "bytes the port's NIC received"),
    ("obytes", "synwall_port_tx_bytes", "bytes the port's NIC sent"),
    ("imissed", "synwall_port_imissed", "packets the NIC dropped for want of room in an RX "
     "ring (a worker fell behind)"),
    ("ierrors", "synwall_port_ierrors", "erroneous packets the NIC received"),
    ("oerrors", "synwall_port_oerrors", "packets the NIC failed to send"),
    ("rx_nombuf", "synwall_port_rx_nombuf", "RX mbuf allocation failures"),
)
# series per top-talker gauge
TOP_SOURCES = 10
TOP_METRICS = (("syns", "synwall_top_source_syns", "SYNs the source prefix sent (one of the "
                "%d heaviest)" % TOP_SOURCES),
               ("bad_cookies", "synwall_top_source_bad_cookies", "ACKs of the source prefix "
                "whose cookie failed (one of the %d heaviest)" % TOP_SOURCES))


def metric_name(counter: str) -> str:
    return "synwall_" + counter.replace(".", "_")


class DataplaneCollector(Collector):
    def __init__(self, ctl: Controller) -> None:
        self.ctl = ctl

    def collect(self) -> Iterator[Metric]:
        st = self.ctl.status()
        up = GaugeMetricFamily("synwall_dataplane_up", "1 while the dataplane runs and answers")
        up.add_metric([], 1 if st.dataplane_running else 0)
        yield up
        r = CounterMetricFamily("synwall_dataplane_restarts", "dataplane restarts by synwalld")
        r.add_metric([], st.dataplane_restarts)
        yield r
        v = GaugeMetricFamily("synwall_config_version", "the dataplane's config version")
        v.add_metric([], st.config_version)
        yield v
        e = GaugeMetricFamily("synwall_key_epoch", "the epoch of the cookie signing secret")
        e.add_metric([], st.key_epoch)
        yield e
        counts = self.ctl.sources().counts()
        rules = GaugeMetricFamily("synwall_source_rules", "source rules in force, by action",
                                  labels=["action"])
        for action, n in (("deny", counts.deny), ("allow", counts.allow),
                          ("limit", counts.limit)):
            rules.add_metric([action], n)
        yield rules
        ranges = GaugeMetricFamily("synwall_source_port_ranges",
                                   "port ranges with source lists of their own")
        ranges.add_metric([], counts.port_ranges)
        yield ranges
        yield from self.top_sources()
        yield from self.ports()
        try:
            c = self.ctl.counters()
        except ControllerError:
            return
        for i, name in enumerate(c.names):
            family = GaugeMetricFamily if name in GAUGES else CounterMetricFamily
            fam = family(metric_name(name), "synwall-dp %s, per worker lcore" % name,
                         labels=["lcore"])
            for lc in c.lcores:
                fam.add_metric([str(lc.lcore)], lc.values[i])
            yield fam


    def ports(self) -> Iterator[Metric]:
        try:
            ports = self.ctl.nic_ports()
        except ControllerError as e:
            log.debug("metrics: no ports: %s", e)
            return
        up = GaugeMetricFamily("synwall_port_up", "1 while the port's link is up",
                               labels=["role"])
        speed = GaugeMetricFamily("synwall_port_speed_mbps", "the port's link speed in Mb/s "
                                  "(0: unknown)", labels=["role"])
        for p in ports:
            up.add_metric([p.role], 1 if p.link_up else 0)
            speed.add_metric([p.role], p.speed_mbps)
        yield up
        yield speed
        for field, name, doc in PORT_COUNTERS:
            fam = CounterMetricFamily(name, doc, labels=["role"])
            for p in ports:
                fam.add_metric([p.role], getattr(p, field))
            yield fam

    def top_sources(self) -> Iterator[Metric]:
        for by, name, doc in TOP_METRICS:
            try:
                top = self.ctl.top_sources(by, TOP_SOURCES)
            except ControllerError as e:
                log.debug("metrics: no top sources by %s: %s", by, e)
                continue
            fam = GaugeMetricFamily(name, doc, labels=["prefix"])
            for x in top.sources[:TOP_SOURCES]:
                value = getattr(x, by)
                if value:
                    fam.add_metric([str(x.network)], value)
            yield fam


def serve_metrics(ctl: Controller, hostport: str) -> tuple[WSGIServer, CollectorRegistry]:
    """Start the /metrics HTTP server; returns (server, registry)."""
    host, _, port = hostport.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    registry = CollectorRegistry()
    registry.register(DataplaneCollector(ctl))
    server, _thread = start_http_server(int(port), addr=host, registry=registry)
    return server, registry
