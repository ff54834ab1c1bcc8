"""Monitoring that ships: synwalld's /metrics as promtool and a real Prometheus read it, the
rules of monitoring/prometheus (checked, unit-tested, loaded by a Prometheus that scrapes
synwalld and evaluates them) and the Grafana dashboard of monitoring/grafana, every series of
which synwalld exports or a recording rule defines (docs/MONITORING.md).

promtool and prometheus are Debian's, unpacked by scripts/setup.sh into .cache/prometheus."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from synwall import __version__
from synwall.keys import KeySchedule
from synwall.metrics import GAUGES, metric_name
from synwall.supervisor import proc_start_time
from tests.controller.ctlharness import REPO, wait_for

PROM_BIN = REPO / ".cache" / "prometheus" / "usr" / "bin"
PROMTOOL = PROM_BIN / "promtool"
PROMETHEUS = PROM_BIN / "prometheus"
RULES = REPO / "monitoring" / "prometheus" / "synwall-rules.yml"
RULE_TESTS = REPO / "monitoring" / "prometheus" / "synwall-rules.test.yml"
DASHBOARD = REPO / "monitoring" / "grafana" / "synwall.json"
METRICS = 'metrics = "127.0.0.1:0"'
FLOWS = 7  # the fake dataplane's flow table, filled at start (--preload-flows)
FAKE_LAYOUT = "1 fingerprint fa4e0001"  # fakedp.py's state layout, by default
ALERTS = {"SynwallSynFlood", "SynwallSyncachePaused", "SynwallCookieFailuresRising",
          "SynwallDataplaneRestarting", "SynwallDataplaneDown", "SynwallControllerDown",
          "SynwallNicDropping", "SynwallKeyRotationOverdue"}


def require(binary: Path) -> None:
    if not os.access(binary, os.X_OK):
        pytest.skip("%s is missing: scripts/setup.sh unpacks Debian's prometheus package "
                    "into .cache/prometheus" % binary.relative_to(REPO))


def promtool(*args, stdin: str | None = None, cwd: Path | None = None):
    require(PROMTOOL)
    return subprocess.run([str(PROMTOOL), *args], input=stdin, capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def start(env_factory, kind="fake", **kw):
    return env_factory(kind, api_extra=METRICS, **kw).start()


def scrape(env) -> str:
    url = "http://127.0.0.1:%d/metrics" % env.daemon.metrics_port
    return urllib.request.urlopen(url, timeout=10).read().decode()


def samples(text: str) -> dict[str, float]:
    """{'name{labels}': value} of every sample of a scrape."""
    return {m[1]: float(m[2]) for m in
            re.finditer(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$", text, re.M)}


def series_names(text: str) -> set[str]:
    """The names of every sample and every family (# TYPE) of a scrape."""
    names = {m[1] for m in re.finditer(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, re.M)}
    return names | set(re.findall(r"^# TYPE (\S+) ", text, re.M))


def family_types(text: str) -> dict[str, str]:
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))


# --- promtool check metrics --------------------------------------------------------------

def test_promtool_finds_nothing_to_say_of_a_live_scrape(env_factory, dpkind):
    env = start(env_factory, dpkind)
    text = scrape(env)
    assert "synwall_syncache_added_total" in text and "process_cpu_seconds_total" in text
    r = promtool("check", "metrics", stdin=text)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", (r.stdout, r.stderr)


def test_no_gauge_bears_a_name_prometheus_reserves(env_factory):
    """syncache.count is synwall_syncache_entries: a gauge ending in _count reads as a
    histogram's or summary's sample count, and promtool says so."""
    assert metric_name("syncache.count") == "synwall_syncache_entries"
    assert metric_name("syncache.added") == "synwall_syncache_added"
    assert metric_name("proxy.flows") == "synwall_proxy_flows"
    env = start(env_factory)
    text = scrape(env)
    types = family_types(text)
    assert types["synwall_syncache_entries"] == "gauge", types
    assert "synwall_syncache_count" not in text
    reserved = [n for n, t in types.items() if t not in ("histogram", "summary")
                and n.endswith(("_count", "_sum", "_bucket"))]
    assert reserved == [], reserved
    # and promtool, run on every scrape above, would catch one that came back
    back = text.replace("synwall_syncache_entries", "synwall_syncache_count")
    r = promtool("check", "metrics", stdin=back)
    assert r.returncode != 0 and "synwall_syncache_count" in r.stdout + r.stderr, \
        (r.returncode, r.stdout, r.stderr)


# --- the series of synwalld itself -------------------------------------------------------

def test_build_info_the_processes_and_the_key_schedule(env_factory):
    env = start(env_factory)
    t0 = time.time()
    got = samples(scrape(env))
    binary = env.workdir / "fake-synwall-dp"
    info = 'synwall_build_info{dataplane_binary="%s",dataplane_state_layout="%s",' \
        'version="%s"}' % (binary, FAKE_LAYOUT, __version__)
    assert got.get(info) == 1, [k for k in got if k.startswith("synwall_build_info")]
    # synwalld's own process, and the dataplane's under its namespace: two processes
    assert got["process_cpu_seconds_total"] > 0 and got["process_open_fds"] > 0
    assert any(k.startswith("python_info{") for k in got)
    assert any(k.startswith("python_gc_objects_collected_total{") for k in got)
    pid = env.dp_pid()
    assert pid != os.getpid()
    ticks = os.sysconf("SC_CLK_TCK")
    btime = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                 if line.startswith("btime "))
    assert got["synwall_dataplane_process_start_time_seconds"] == \
        pytest.approx(btime + proc_start_time(pid) / ticks, abs=0.02)
    assert got["process_start_time_seconds"] == \
        pytest.approx(btime + proc_start_time(os.getpid()) / ticks, abs=0.02)
    assert got["synwall_dataplane_process_resident_memory_bytes"] > 0
    assert got["synwall_dataplane_process_open_fds"] > 0
    # the key schedule (the harness rotates every 3600 s)
    k = env.client().key_status()
    assert got["synwall_key_rotation_interval_seconds"] == 3600
    assert got["synwall_key_next_rotation_timestamp_seconds"] == \
        pytest.approx(k.next_rotation_unix, abs=1e-3)
    assert got["synwall_key_last_rotation_timestamp_seconds"] == \
        pytest.approx(k.next_rotation_unix - 3600, abs=1e-3)
    assert got["synwall_key_last_rotation_timestamp_seconds"] <= t0
    before = got["synwall_key_epoch"]
    env.client().rotate_keys()
    t1 = time.time()
    got = samples(scrape(env))
    assert got["synwall_key_epoch"] == before + 1
    assert t0 <= got["synwall_key_last_rotation_timestamp_seconds"] <= t1
    assert got["synwall_key_next_rotation_timestamp_seconds"] == \
        pytest.approx(got["synwall_key_last_rotation_timestamp_seconds"] + 3600)

    # no dataplane: no dataplane process, no state layout; synwalld's own series stay
    binary.write_text("#!/bin/sh\nexit 3\n")
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: proc_start_time(pid) is None, 10)
    assert wait_for(lambda: samples(scrape(env)).get("synwall_dataplane_up") == 0, 10)
    # (a start being tried shows its process for as long as it lives)
    text = wait_for(lambda: (lambda t: "synwall_dataplane_process_" not in t and t)(scrape(env)),
                    5)
    assert text, "the dead dataplane's process metrics are still there"
    got = samples(text)
    assert got['synwall_build_info{dataplane_binary="%s",dataplane_state_layout="",'
               'version="%s"}' % (binary, __version__)] == 1
    assert got["process_cpu_seconds_total"] > 0 and "synwall_key_epoch" in got
    r = promtool("check", "metrics", stdin=text)
    assert r.returncode == 0 and r.stdout == "", r.stdout


def test_the_last_key_change_mirrors_the_next():
    """The last change of a secret is the next change seen from just before it, in both
    modes, with and without a clock skew."""
    now = [1_000_000.0]
    ks = KeySchedule(15, clock=lambda: now[0])
    assert ks.last_change() == 1_000_000.0 and ks.next_change() == 1_000_015.0
    now[0] += 20
    ks.rotate()
    assert ks.last_change() == 1_000_020.0 and ks.status().last_rotation_unix == 1_000_020.0
    now[0] += 40  # overdue: the last one stays, the next one is in the past
    assert ks.last_change() == 1_000_020.0 and ks.next_change() < now[0]
    for skew in (0, 2, 3):
        fleet = KeySchedule(15, bytes(range(16)), skew, clock=lambda: now[0])
        t = 1_000_000.0
        while t < 1_000_100.0:
            last, nxt = fleet.last_change(t), fleet.next_change(t)
            assert last <= t < nxt, (skew, t, last, nxt)
            assert fleet.keys(last) == fleet.keys(t) != fleet.keys(last - 0.25), (skew, t)
            assert fleet.keys(nxt) != fleet.keys(t), (skew, t)
            assert fleet.last_change(nxt) == nxt
            t += 0.25


# --- the rules ---------------------------------------------------------------------------

def test_promtool_checks_the_rules():
    r = promtool("check", "rules", str(RULES))
    assert r.returncode == 0 and "SUCCESS" in r.stdout, (r.stdout, r.stderr)
    assert r.stderr == "", r.stderr


def test_promtool_runs_the_rules_unit_tests():
    r = promtool("test", "rules", RULE_TESTS.name, cwd=RULE_TESTS.parent)
    assert r.returncode == 0 and "SUCCESS" in r.stdout, (r.stdout, r.stderr)
    # every alert is tested, firing and quiet
    tests = RULE_TESTS.read_text()
    for name in ALERTS:
        assert "alertname: %s\n        exp_alerts: []" % name in tests, name
        assert re.search(r"alertname: %s\n        exp_alerts:\n          - exp_labels" % name,
                         tests), name


def rules_file():
    """(recorded names, alert names, expressions) of the rules file: its `record:`,
    `alert:` and `expr:` keys, an expression on its line or a block scalar (| or >-)
    indented below it."""
    records, alerts, exprs = set(), set(), []
    lines = RULES.read_text().splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)(?:- )?(record|alert|expr): (.*)$", lines[i])
        i += 1
        if not m:
            continue
        indent, key, value = len(m[1]), m[2], m[3].strip()
        if key == "expr" and value in ("|", ">-", "|-", ">"):
            block = []
            while i < len(lines) and (not lines[i].strip() or
                                      len(lines[i]) - len(lines[i].lstrip()) > indent):
                block.append(lines[i])
                i += 1
            value = "\n".join(block)
        {"record": records.add, "alert": alerts.add, "expr": exprs.append}[key](value)
    return records, alerts, exprs


def dashboard_exprs(dash) -> list[str]:
    out = []

    def walk(panels):
        for p in panels:
            out.extend(t["expr"] for t in p.get("targets", []))
            walk(p.get("panels", []))
    walk(dash["panels"])
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            out.append(v["definition"])
    return out


NAME_MATCHER = re.compile(r'__name__=~"([^"]*)"')
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
TOKEN = re.compile(r"(?<![\w:])[a-zA-Z_:][a-zA-Z0-9_:]*")


def names_in(expr: str) -> tuple[set[str], list[str]]:
    """(series names, regexes of __name__) an expression reads: the identifiers of synwall's
    series (synwall_..., level:synwall_...:op), of the processes (process_, python_) and
    Prometheus' own `up`, outside string literals."""
    regexes = NAME_MATCHER.findall(expr)
    bare = STRING.sub('""', expr)
    names = {t for t in TOKEN.findall(bare)
             if t.startswith(("synwall_", "process_", "python_")) or ":synwall_" in t
             or t == "up"}
    return names, regexes


def test_every_series_of_the_rules_and_the_dashboard_exists(env_factory):
    """Against the real dataplane: it has every counter (the fake only some)."""
    env = start(env_factory, "real")
    text = scrape(env)
    exported = series_names(text)
    records, alerts, rule_exprs = rules_file()
    assert alerts == ALERTS, alerts
    assert len(records) >= 15 and len(rule_exprs) == len(alerts) + \
        RULES.read_text().count("- record:"), (records, len(rule_exprs))
    dash = json.loads(DASHBOARD.read_text())
    checked = set()
    for expr in rule_exprs + dashboard_exprs(dash):
        names, regexes = names_in(expr)
        assert names or regexes, expr
        for n in names - {"up"}:  # up: the scrape's own, made by Prometheus
            if ":" in n:
                assert n in records, (n, expr)
            else:
                assert n in exported, (n, expr)
        for rx in regexes:
            assert any(re.fullmatch(rx, n) for n in exported), (rx, expr)
        checked |= names
    assert {"synwall_syncache_entries", "synwall_build_info",
            "synwall_key_last_rotation_timestamp_seconds",
            "synwall_key_next_rotation_timestamp_seconds",
            "synwall_dataplane_process_cpu_seconds_total", "synwall_dataplane_restarts_total",
            "synwall_port_imissed_total", "synwall_lcore_busy_cycles_total",
            "synwall_top_source_syns"} <= checked, checked


def test_the_dashboard_is_an_importable_model_on_a_chosen_datasource():
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] and dash["title"] and dash["schemaVersion"] >= 36
    [ds] = [v for v in dash["templating"]["list"] if v["type"] == "datasource"]
    assert ds["query"] == "prometheus"
    use = {"type": "prometheus", "uid": "${%s}" % ds["name"]}
    ids, cells = set(), set()
    for p in dash["panels"]:
        assert p["id"] not in ids, p["id"]
        ids.add(p["id"])
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24, p["title"]
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"])
                for y in range(g["y"], g["y"] + g["h"])}
        assert not mine & cells, "%s overlaps another panel" % p["title"]
        cells |= mine
        if p["type"] == "row":
            continue
        assert p["datasource"] == use, p["title"]
        assert p["targets"], p["title"]
        for t in p["targets"]:
            assert t["datasource"] == use and t["expr"], p["title"]
    titles = " | ".join(p["title"] for p in dash["panels"])
    for want in ("SYNs in, SYN-ACKs out", "Cookies", "Syncache", "Proxied flows",
                 "Drops by reason", "NIC drops", "Worker lcores busy", "Top sources",
                 "Key epoch", "Dataplane"):
        assert want in titles, want


# --- a real Prometheus -------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    def __init__(self, port: int):
        self.base = "http://127.0.0.1:%d" % port

    def get(self, path: str, **params) -> dict:
        """The API's answer; a refused query's too (an HTTP error with a JSON body)."""
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            return json.loads(e.read())

    def query(self, expr: str) -> list:
        d = self.get("/api/v1/query", query=expr)
        assert d["status"] == "success", (expr, d)
        return d["data"]["result"]

    def value(self, expr: str) -> float | None:
        try:
            result = self.query(expr)
        except OSError:
            return None
        return float(result[0]["value"][1]) if len(result) == 1 else None


def dashboard_query(expr: str) -> str:
    """A dashboard expression as Grafana sends it, its variables filled in."""
    return (expr.replace("$__rate_interval", "1m").replace("$__range", "1h")
            .replace('"$instance"', '".+"'))


def test_a_real_prometheus_scrapes_synwalld_and_evaluates_the_rules(env_factory, tmp_path):
    require(PROMETHEUS)
    env = start(env_factory, extra='args = ["--preload-flows", "%d"]' % FLOWS)
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "rule_files:\n  - %s\n"
        "scrape_configs:\n  - job_name: synwall\n    static_configs:\n"
        "      - targets: [\"127.0.0.1:%d\"]\n" % (json.dumps(str(RULES)),
                                                 env.daemon.metrics_port))
    log = (tmp_path / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [str(PROMETHEUS), "--config.file=%s" % config,
         "--storage.tsdb.path=%s" % (tmp_path / "data"),
         "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    prom = Prometheus(port)
    try:
        link = env.dp_link()
        try:
            c = link.counters()
        finally:
            link.close()
        [lc] = c.lcores
        reported = dict(zip(c.names, lc.values, strict=True))
        expr = 'synwall_syncache_added_total{job="synwall",lcore="%d"}' % lc.lcore
        got = wait_for(lambda: prom.value(expr) is not None, 30, 0.2)
        assert got, "prometheus has no %s after 30 s: %s" % (
            expr, (tmp_path / "prometheus.log").read_text()[-2000:])
        assert prom.value(expr) == reported["syncache.added"]
        assert prom.value('up{job="synwall"}') == 1
        # counts that stay as they are: what the fake dataplane reported, as Prometheus has it
        assert reported["proxy.flows"] == FLOWS
        for name in ("syncache.added", "syncache.count", "proxy.flows", "cookie.failed"):
            assert prom.value('%s{job="synwall",lcore="%d"}' % (
                metric_name(name) + ("" if name in GAUGES else "_total"), lc.lcore)) == \
                reported[name], name
        # the recording rules, evaluated by Prometheus on what it scraped
        assert wait_for(lambda: prom.value("instance:synwall_proxy_flows:sum") == FLOWS, 30,
                        0.2), prom.query("instance:synwall_proxy_flows:sum")

        # every dashboard query parses; those of series the fake dataplane has give data
        exported = series_names(scrape(env))
        records, _, _ = rules_file()
        queries = [dashboard_query(e) for e in dashboard_exprs(json.loads(DASHBOARD.read_text()))
                   if "label_values(" not in e]
        expected = [q for q in queries if names_in(q)[0] <= exported | records | {"up"}]
        assert len(expected) > len(queries) / 2, (expected, queries)
        for q in queries:
            prom.query(q)

        def empty():
            return [q for q in expected if not prom.query(q)]
        assert wait_for(lambda: not empty(), 30, 0.5), empty()

        # every rule loaded and evaluated without error, now that rates have two samples
        def evaluated():
            groups = prom.get("/api/v1/rules")["data"]["groups"]
            rules = [r for g in groups for r in g["rules"]]
            return rules if rules and all(
                not r["lastEvaluation"].startswith("0001") for r in rules) else None
        rules = wait_for(evaluated, 30, 0.2)
        assert rules, prom.get("/api/v1/rules")
        assert {r["name"] for r in rules if r["type"] == "alerting"} == ALERTS
        bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
        assert bad == [], bad
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)
        log.close()
    assert proc.returncode == 0, (tmp_path / "prometheus.log").read_text()[-2000:]
