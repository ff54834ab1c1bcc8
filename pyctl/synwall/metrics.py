"""Prometheus metrics: the dataplane's counters under their DESIGN.md names.

`syncache.added` of lcore 1 is `synwall_syncache_added_total{lcore="1"}` (dots become
underscores, the prefix synwall_, and Prometheus' _total suffix on counters); the gauges
(`syncache.paused`, `proxy.flows`) have no suffix. One name is not made by that rule: the
gauge `syncache.count` is `synwall_syncache_entries`, since a name ending in `_count` is the
sample count of a histogram or a summary to Prometheus (METRIC_NAMES). Sum over lcores for the
appliance's total. Counters are read from the dataplane at each scrape.

Of synwalld and the dataplane as a whole: synwall_dataplane_up, synwall_dataplane_restarts_total
(the dataplane restarted by synwalld after it died), synwall_config_version, synwall_key_epoch,
synwall_key_last_rotation_timestamp_seconds and synwall_key_next_rotation_timestamp_seconds
(the last and the next change of a cookie secret, Unix time; the next one in the past is a
rotation overdue), synwall_key_rotation_interval_seconds, and
synwall_build_info{version, dataplane_binary, dataplane_state_layout} 1: synwalld's version,
the binary the dataplane runs and the state layout it tells (`synwall-dp --state-layout`
without its prefix, "1 fingerprint 0a1b2c3d"; "" while none runs or it cannot be asked).

Processes: synwalld's own, the standard process_* (CPU, memory, file descriptors, start time),
python_info and python_gc_*; the dataplane's the same under synwall_dataplane_process_*, read
from /proc/PID of the dataplane process and absent while none runs (a poll-mode dataplane
spends every worker lcore's CPU whatever the traffic: its busy share is below).

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

monitoring/prometheus/synwall-rules.yml records the totals and rates and alerts on them;
monitoring/grafana/synwall.json is a dashboard of these series (docs/MONITORING.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import GCCollector, PlatformCollector, ProcessCollector, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from synwall import __version__
from synwall.controller import Controller, ControllerStatus
from synwall.errors import ControllerError
from synwall.supervisor import LayoutError, proc_start_time, state_layout

log = logging.getLogger("synwalld")

GAUGES = {"syncache.count", "syncache.paused", "proxy.flows"}
# The counters whose metric is not "synwall_" + the name with dots as underscores: a name
# Prometheus gives a meaning of its own (_count, _sum, _bucket: a histogram's or a summary's
# samples; _total, _created: a counter's) is not a gauge's.
METRIC_NAMES = {"syncache.count": "synwall_syncache_entries"}
DATAPLANE_NAMESPACE = "synwall_dataplane"  # its process metrics: synwall_dataplane_process_*
LAYOUT_PREFIX = "synwall-dp state layout "
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
    return METRIC_NAMES.get(counter) or "synwall_" + counter.replace(".", "_")


class DataplaneCollector(Collector):
    def __init__(self, ctl: Controller) -> None:
        self.ctl = ctl
        # the state layout of the last dataplane process asked: (pid, start time, layout);
        # scrapes run in threads of their own
        self._layout_lock = threading.Lock()
        self._layout: tuple[int, int, str] = (0, 0, "")

    def collect(self) -> Iterator[Metric]:
        st = self.ctl.status()
        yield from self.build_info(st)
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
        yield from self.key_schedule()
        yield from self.dataplane_process(st.dataplane_pid)
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

    def build_info(self, st: ControllerStatus) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "synwall_build_info", "1, labelled by synwalld's version, the binary the dataplane "
            "runs and the state layout it tells",
            labels=["version", "dataplane_binary", "dataplane_state_layout"])
        info.add_metric([__version__, st.dataplane_binary,
                         self.state_layout(st.dataplane_pid, st.dataplane_binary)], 1)
        yield info

    def state_layout(self, pid: int, binary: str) -> str:
        """The running dataplane's state layout without its prefix ("" if none runs or it
        cannot be asked), asked once per dataplane process: the program the process runs
        (/proc/PID/exe, even replaced since), else the binary it was started from (a wrapper
        that execs synwall-dp)."""
        start = proc_start_time(pid) if pid else None
        if start is None:
            return ""
        with self._layout_lock:
            if self._layout[:2] == (pid, start):
                return self._layout[2]
            layout = ""
            for program in ("/proc/%d/exe" % pid, binary):
                try:
                    layout = state_layout(program).removeprefix(LAYOUT_PREFIX)
                    break
                except LayoutError as e:
                    log.debug("metrics: no state layout from %s: %s", program, e)
            self._layout = (pid, start, layout)
            return layout

    @staticmethod
    def dataplane_process(pid: int) -> Iterable[Metric]:
        """The dataplane process's CPU, memory and file descriptors; nothing while none runs
        (nor for a process gone since the status was read)."""
        if not pid:
            return []
        return ProcessCollector(namespace=DATAPLANE_NAMESPACE, pid=lambda: pid,
                                registry=None).collect()

    def key_schedule(self) -> Iterator[Metric]:
        k = self.ctl.key_status()
        for name, doc, value in (
                ("synwall_key_last_rotation_timestamp_seconds", "Unix time of the last change "
                 "of a cookie secret", k.last_rotation_unix),
                ("synwall_key_next_rotation_timestamp_seconds", "Unix time of the next change "
                 "of a cookie secret (in the past: a rotation overdue)", k.next_rotation_unix),
                ("synwall_key_rotation_interval_seconds", "the key schedule's rotation interval",
                 float(k.rotation_interval_s))):
            g = GaugeMetricFamily(name, doc)
            g.add_metric([], value)
            yield g

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
    # synwalld's own process, as every Python exporter has them
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    registry.register(DataplaneCollector(ctl))
    server, _thread = start_http_server(int(port), addr=host, registry=registry)
    return server, registry
