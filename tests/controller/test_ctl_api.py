"""The gRPC API against a live controller (fake and real dataplane): changes are applied
whole and read back from the dataplane; bad requests get INVALID_ARGUMENT naming the field and
change nothing; health and reflection serve."""

import json
import os
import signal
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from synwall import cli, model
from synwall.client import ServerProfile
from synwall.dp.v1 import dataplane_pb2 as dp
from synwall.dplink import DataplaneRefused, DpLink
from synwall.errors import SynwallError
from synwall.v1 import admin_pb2 as pb
from synwall.v1 import admin_pb2_grpc as pb_grpc
from tests.controller.ctlharness import wait_for

BOOT_POLICY = """
[limits]
rexmtlimit = 2
[[policy]]
ports = "80"
mode = "proxy"
[[policy]]
ports = "8000-8080"
mode = "cookie"
profile = { mss = 1400, timestamps = false }
"""


def snapshot(env, c):
    """Everything a refused request must leave as it was: the API's view, and the dataplane's
    own config and version (get_config / get_status over its control socket)."""
    link = env.dp_link()
    try:
        return {"limits": c.limits(), "policies": c.policies(), "keys": c.key_status(),
                "dp_config": model.canonical_dp_config(link.get_config()),
                "dp_version": link.status().config_version}
    finally:
        link.close()


def started(env_factory, kind):
    e = env_factory(kind)
    e.config_path.write_text(e.config_text + BOOT_POLICY)
    return e.start()


def test_changes_reach_the_dataplane_whole(env_factory, dpkind):
    env = started(env_factory, dpkind)
    c = env.client()
    assert [(p.ports, p.mode) for p in c.policies()] == [("80", "proxy"),
                                                         ("8000-8080", "cookie")]
    c.set_policy("443", "proxy")
    c.set_policy("8000-8080", "cookie", ServerProfile(mss=1400, timestamps=False))
    c.set_policy("8050", "drop")  # splits the range
    c.delete_policy("80")
    lim = c.set_limits(cachelimit=1000, rexmtlimit=1, syncookies_only=True)
    assert (lim.cachelimit, lim.rexmtlimit, lim.syncookies_only) == (1000, 1, True)
    assert [(p.ports, p.mode) for p in c.policies()] == [
        ("443", "proxy"), ("8000-8049", "cookie"), ("8050", "drop"), ("8051-8080", "cookie")]

    link = env.dp_link()
    have = link.get_config()
    link.close()
    assert (have.cachelimit, have.rexmtlimit, have.syncookies_only) == (1000, 1, True)
    got = [(r.lo, r.hi, r.mode, r.mss, r.timestamps, r.sack) for r in have.ports]
    assert got == [(443, 443, 1, 1460, True, True), (8000, 8049, 2, 1400, False, True),
                   (8050, 8050, 3, 1460, True, True), (8051, 8080, 2, 1400, False, True)], got
    assert model.canonical_dp_config(have) == model.canonical_dp_config(
        model.to_dp_config(env.ctl.runtime, env.ctl.start_limits))


BAD_REQUESTS = [
    ("unknown mode", lambda c: c.call("SetPolicy", pb.SetPolicyRequest(
        policy=pb.Policy(port_lo=443, mode=99))), "policy.mode", "99 is not a mode"),
    ("mode missing", lambda c: c.call("SetPolicy", pb.SetPolicyRequest(
        policy=pb.Policy(port_lo=443))), "policy.mode", "required"),
    ("port 0", lambda c: c.set_policy("0", "proxy"), "policy.port_lo", "port 0 is out of range"),
    ("port 70000", lambda c: c.set_policy("70000", "proxy"), "policy.port_lo",
     "port 70000 is out of range"),
    ("range end 70000", lambda c: c.set_policy("443-70000", "proxy"), "policy.port_hi",
     "port 70000 is out of range"),
    ("backwards range", lambda c: c.set_policy("8080-80", "proxy"), "policy.port_hi",
     "backwards"),
    ("profile mss", lambda c: c.set_policy("443", "proxy", ServerProfile(mss=100)),
     "policy.profile.mss", "100 is out of range"),
    ("cachelimit above hashsize x bucketlimit", lambda c: c.set_limits(cachelimit=10241),
     "cachelimit", "10241 is out of range: 1..10240 (hashsize 1024 x bucketlimit 10)"),
    ("cachelimit 0", lambda c: c.set_limits(cachelimit=0), "cachelimit", "out of range"),
    ("rexmtlimit", lambda c: c.set_limits(rexmtlimit=11), "rexmtlimit", "11 is out of range"),
    ("syncookies_only without syncookies", lambda c: c.set_limits(syncookies=False,
                                                                  syncookies_only=True),
     "syncookies_only", "needs syncookies"),
    ("hashsize is start-time only", lambda c: c.set_limits(hashsize=2048, rexmtlimit=1),
     "hashsize", "start-time only"),
    ("malformed master secret", lambda c: c.set_key_schedule(master_secret=b"\x01" * 15),
     "master_secret", "16 bytes"),
    ("interval too short for the skew", lambda c: c.set_key_schedule(
        master_secret=bytes(16), interval=5), "max_clock_skew_s", "at least 9 s"),
    ("interval too short for the skew, random keys", lambda c: c.set_key_schedule(
        interval=5), "max_clock_skew_s", "max clock skew 2 s needs a rotation interval of at "
     "least 9 s"),
    ("skew too large, random keys", lambda c: c.set_key_schedule(max_clock_skew=1000),
     "max_clock_skew_s", "needs a rotation interval of at least 4001 s"),
    ("skew out of range, random keys", lambda c: c.set_key_schedule(
        interval=86400, max_clock_skew=3601), "max_clock_skew_s", "3601 s is out of range "
     "(0..3600)"),
    ("config with a skew too large for random keys", lambda c: c.apply_config(
        "[keys]\nrotation_interval = 15\nmax_clock_skew = 4\n", "new.toml"),
     "keys.max_clock_skew", "needs a rotation interval of at least 17 s"),
    ("config with an unknown key", lambda c: c.apply_config(
        "[limits]\nrexmtlimit = 1\ncachelimt = 5\n", "new.toml"), "limits.cachelimt",
     "new.toml: limits.cachelimt: unknown key"),
    ("config with a wrong type", lambda c: c.apply_config(
        "[limits]\nrexmtlimit = \"1\"\n", "new.toml"), "limits.rexmtlimit",
     "new.toml: limits.rexmtlimit: expected an integer, got a string ('1')"),
    ("config whose second policy is bad", lambda c: c.apply_config(
        "[limits]\nrexmtlimit = 1\n[[policy]]\nports = \"443\"\nmode = \"proxy\"\n"
        "[[policy]]\nports = \"70000\"\nmode = \"proxy\"\n", "new.toml"), "policy[1].ports",
     "port 70000 is out of range"),
    ("config with a malformed key", lambda c: c.apply_config(
        "[keys]\nmaster_secret = \"xyz\"\n", "new.toml"), "keys.master_secret",
     "not 32 hex digits"),
    ("config changing a start-time setting", lambda c: c.apply_config(
        "[dataplane]\nhashsize = 2048\n[limits]\nrexmtlimit = 1\n", "new.toml"),
     "dataplane.hashsize", "start-time only"),
    ("structured config with port 0", lambda c: c.call("ApplyConfig", pb.ApplyConfigRequest(
        runtime=pb.RuntimeConfig(limits=pb.SetLimitsRequest(rexmtlimit=1), policies=[
            pb.Policy(port_lo=443, mode=pb.MODE_PROXY), pb.Policy(port_lo=0,
                                                                  mode=pb.MODE_PROXY)]))),
     "runtime.policies[1].port_lo", "port 0 is out of range"),
    ("validate a bad config", lambda c: c.validate_config(
        "[limits]\ncachelimit = 99999\n", "v.toml"), "limits.cachelimit", "out of range"),
    ("idle timeout 0", lambda c: c.call("SetPolicy", pb.SetPolicyRequest(
        policy=pb.Policy(port_lo=22, mode=pb.MODE_PROXY, idle_timeout_s=0))),
     "policy.idle_timeout_s", "0 is out of range: 1..2592000 seconds"),
    ("idle timeout above 30 days", lambda c: c.set_policy("22", "proxy", idle_timeout=2592001),
     "policy.idle_timeout_s", "2592001 is out of range: 1..2592000 seconds"),
    ("negative idle timeout", lambda c: c.set_policy("22", "proxy", idle_timeout=-1),
     "policy.idle_timeout_s", "-1 is not a non-negative 32-bit integer"),
    ("config whose second policy has a bad idle timeout", lambda c: c.apply_config(
        "[limits]\nrexmtlimit = 1\n[[policy]]\nports = \"22\"\nmode = \"proxy\"\n"
        "idle_timeout = 7200\n[[policy]]\nports = \"23\"\nmode = \"proxy\"\n"
        "idle_timeout = 0\n", "new.toml"), "policy[1].idle_timeout",
     "new.toml: policy[1].idle_timeout: 0 is out of range: 1..2592000 seconds"),
    ("structured config with a bad idle timeout", lambda c: c.call(
        "ApplyConfig", pb.ApplyConfigRequest(runtime=pb.RuntimeConfig(policies=[
            pb.Policy(port_lo=22, mode=pb.MODE_PROXY, idle_timeout_s=7200),
            pb.Policy(port_lo=23, mode=pb.MODE_PROXY, idle_timeout_s=2592001)]))),
     "runtime.policies[1].idle_timeout_s", "2592001 is out of range"),
    ("config changing the default idle timeout", lambda c: c.apply_config(
        "[dataplane]\nidle_timeout = 60\n[[policy]]\nports = \"22\"\nmode = \"proxy\"\n",
        "new.toml"), "dataplane.idle_timeout", "start-time only"),
    ("config changing a source quota", lambda c: c.apply_config(
        "[dataplane]\nsource_flows = 50\n[[policy]]\nports = \"22\"\nmode = \"proxy\"\n",
        "new.toml"), "dataplane.source_flows", "start-time only"),
]


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_bad_request_is_refused_precisely_and_changes_nothing(env_factory, dpkind, case):
    _, call, field, text = case
    env = started(env_factory, dpkind)
    c = env.client()
    before = snapshot(env, c)
    with pytest.raises(SynwallError) as ei:
        call(c)
    e = ei.value
    assert (e.code, e.field) == ("INVALID_ARGUMENT", field), repr(e)
    assert text in e.message, repr(e)
    assert "\n" not in e.message
    after = snapshot(env, c)
    assert after == before, "a refused request changed something"


def test_apply_and_validate_a_whole_config(env_factory, dpkind):
    env = started(env_factory, dpkind)
    c = env.client()
    text = ("[limits]\ncachelimit = 500\n[[policy]]\nports = \"25\"\nmode = \"drop\"\n"
            "[[policy]]\nports = \"1000-2000\"\nmode = \"cookie\"\n"
            "[[policy]]\nports = \"1500\"\nmode = \"proxy\"\n")
    before = snapshot(env, c)
    c.validate_config(text, "v.toml")
    assert snapshot(env, c) == before, "validate applied something"
    version = c.apply_config(text, "v.toml")
    assert version > before["dp_version"]
    lim = c.limits()
    # limits not in the file take their defaults: the whole config was replaced
    assert (lim.cachelimit, lim.rexmtlimit) == (500, 3)
    assert [(p.ports, p.mode) for p in c.policies()] == [
        ("25", "drop"), ("1000-1499", "cookie"), ("1500", "proxy"), ("1501-2000", "cookie")]
    link = env.dp_link()
    assert [(r.lo, r.hi, r.mode) for r in link.get_config().ports] == [
        (25, 25, 3), (1000, 1499, 2), (1500, 1500, 1), (1501, 2000, 2)]
    link.close()
    # no [keys] section: the key schedule and secrets are left as they are
    assert c.key_status().current_fingerprint == before["keys"].current_fingerprint
    assert c.key_status().rotation_interval_s == before["keys"].rotation_interval_s


def test_delete_of_nothing_is_not_found(env_factory):
    env = started(env_factory, "fake")
    c = env.client()
    with pytest.raises(SynwallError) as ei:
        c.delete_policy("9999")
    assert ei.value.code == "NOT_FOUND"


def test_health_reflection_and_status(env_factory):
    env = started(env_factory, "fake")
    ch = grpc.insecure_channel("unix:%s" % env.socket_path)
    h = health_pb2_grpc.HealthStub(ch)
    for svc in ("", "synwall.v1.Admin"):
        r = h.Check(health_pb2.HealthCheckRequest(service=svc), timeout=5)
        assert r.status == health_pb2.HealthCheckResponse.SERVING
    refl = reflection_pb2_grpc.ServerReflectionStub(ch)
    resp = next(refl.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(
        list_services="")]), timeout=5))
    names = {s.name for s in resp.list_services_response.service}
    assert {"synwall.v1.Admin", "grpc.health.v1.Health"} <= names, names
    resp = next(refl.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(
        file_containing_symbol="synwall.v1.Admin")]), timeout=5))
    assert resp.file_descriptor_response.file_descriptor_proto, "no descriptor for grpcurl"
    ch.close()
    st = env.client().status()
    assert st.dataplane_running and st.dataplane_pid == env.dp_pid() and st.workers == 1
    assert st.dataplane_state == "running" and st.outside_port == "fake_out"


def test_counters_and_watch(env_factory, dpkind):
    env = started(env_factory, dpkind)
    c = env.client()
    cnt = c.counters()
    for name in ("syncache.added", "syncache.recvcookie", "cookie.failed",
                 "port.outside_rx", "syncache.count"):
        assert name in cnt.total and name in cnt.names
    assert [lc.lcore for lc in cnt.lcores] == [1]
    # live counters (net_null moves packets all the time): the per-lcore values are read
    # after the totals
    assert sum(lc.counters["port.outside_rx"] for lc in cnt.lcores) >= \
        cnt.total["port.outside_rx"]
    assert sum(lc.counters["syncache.added"] for lc in cnt.lcores) == \
        cnt.total["syncache.added"]
    samples = list(c.watch_counters(0.1, count=3))
    assert len(samples) == 3
    assert samples[0].time_unix_ns < samples[1].time_unix_ns < samples[2].time_unix_ns
    with pytest.raises(SynwallError) as ei:
        list(c.watch_counters(0.01, count=1))
    assert ei.value.code == "INVALID_ARGUMENT" and "interval_ms" in ei.value.message


def watch_one(c):
    """One sample of a new watch stream, or the error that refused it."""
    try:
        return list(c.watch_counters(0.1, count=1))
    except SynwallError as e:
        return e


def test_watch_streams_are_bounded_and_never_starve_other_calls(env_factory):
    env = env_factory("fake", api_extra="max_watch_streams = 3")
    env.start()
    ch = grpc.insecure_channel("unix:%s" % env.socket_path)
    stub = pb_grpc.AdminStub(ch)

    def hold():
        """A watch stream that got in (it has sent a sample), or None."""
        w = stub.WatchCounters(pb.WatchCountersRequest(interval_ms=100), timeout=60)
        try:
            next(w)
            return w
        except grpc.RpcError:
            return None

    watches = [hold() for _ in range(3)]
    assert all(watches), "a watch within the bound was refused"
    c = env.client(timeout=5)
    for _ in range(20):  # more than the old thread pool had threads
        e = watch_one(c)
        assert isinstance(e, SynwallError) and e.code == "RESOURCE_EXHAUSTED", e
    assert "3 streams" in e.message and "max_watch_streams" in e.message, e.message
    # The bound is full and 20 watches were refused: the other calls are served as ever.
    st = c.status()
    assert st.dataplane_running and st.dataplane_pid == env.dp_pid()
    assert "syncache.added" in c.counters().total
    # A watch that ends gives its place back, and only its place.
    watches[0].cancel()
    assert wait_for(lambda: isinstance(watch_one(c), list), 5), "the slot did not come back"
    held = wait_for(hold, 5)  # the place of that last watch, once it has ended
    assert held
    e = watch_one(c)
    assert isinstance(e, SynwallError) and e.code == "RESOURCE_EXHAUSTED", e
    for w in watches[1:] + [held]:
        w.cancel()
    ch.close()


def test_syncache_dump_pages_and_flush(env_factory):
    env = started(env_factory, "fake")  # the fake holds 5 made-up entries
    c = env.client()
    entries, token = c.dump_syncache_page(page_size=2)
    assert len(entries) == 2 and token
    everything = list(c.dump_syncache(page_size=2))
    assert len(everything) == 5 and everything[:2] == entries
    assert everything[0].client_addr == "198.18.0.1" and everything[0].server_port == 443
    with pytest.raises(SynwallError) as ei:
        c.dump_syncache_page(page_size=1001)
    assert ei.value.field == "page_size"
    with pytest.raises(SynwallError) as ei:
        c.dump_syncache_page(page_token="x")
    assert ei.value.field == "page_token"
    assert c.flush_syncache() == 5
    assert list(c.dump_syncache()) == []


def test_rate_limits_reach_the_dataplane_and_stay(env_factory, dpkind, capsys):
    """syn_rate, syn_burst, reflect_rate, reflect_burst: set as every limit is (the API and
    `limits set`), checked, in the dataplane's config and on a new dataplane's command line."""
    env = started(env_factory, dpkind)
    c = env.client()
    lim = c.set_limits(syn_rate=1000, syn_burst=3000, reflect_rate=50)
    assert (lim.syn_rate, lim.syn_burst, lim.reflect_rate, lim.reflect_burst) == \
        (1000, 3000, 50, 0)
    cfg = env.ctl.dataplane_config()
    assert (cfg.syn_rate, cfg.syn_burst, cfg.reflect_rate, cfg.reflect_burst) == \
        (1000, 3000, 50, 0)
    with pytest.raises(SynwallError) as ei:
        c.set_limits(reflect_burst=100000001, rexmtlimit=1)
    assert (ei.value.field, ei.value.message) == (
        "reflect_burst", "reflect_burst: 100000001 is out of range: 0..100000000")
    assert c.limits() == lim
    capsys.readouterr()
    assert cli.main(["--socket", str(env.socket_path), "limits", "set", "reflect_burst=70"]) == 0
    assert "reflect_burst    70\n" in capsys.readouterr().out
    assert cli.main(["--socket", str(env.socket_path), "--json", "limits", "get"]) == 0
    assert json.loads(capsys.readouterr().out)["syn_rate"] == 1000
    env.stop_all()
    env.start()
    cfg = env.ctl.dataplane_config()
    assert (cfg.syn_rate, cfg.syn_burst, cfg.reflect_rate, cfg.reflect_burst) == \
        (1000, 3000, 50, 70)
    # on the new dataplane's command line too (limited from its first packet), what is set
    cmd = env.ctl.proc.cmd or []
    assert cmd[cmd.index("--syn-rate") + 1] == "1000" and "--reflect-burst" in cmd
    c = env.client()
    c.set_limits(reflect_burst=0)
    assert env.ctl.dataplane_config().reflect_burst == 0


def test_metrics_carry_the_counter_names(env_factory):
    import urllib.request
    env = env_factory("fake", api_extra='metrics = "127.0.0.1:0"')
    env.config_path.write_text(env.config_text)
    env.start()
    port = env.daemon.metrics_port
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read() \
        .decode()
    assert 'synwall_syncache_added_total{lcore="1"} 0.0' in text
    assert 'synwall_cookie_failed_total{lcore="1"}' in text
    assert 'synwall_syncache_entries{lcore="1"}' in text  # syncache.count, a gauge: no _total
    assert "synwall_dataplane_up 1.0" in text
    assert "synwall_dataplane_restarts_total 0.0" in text


def dp_key_epoch(env):
    link = env.dp_link()
    try:
        return link.status().key_epoch
    finally:
        link.close()


def test_keys_rotate_on_schedule(env_factory):
    env = env_factory("fake", keys="rotation_interval = 1\n")
    env.start()
    first = dp_key_epoch(env)
    assert wait_for(lambda: dp_key_epoch(env) >= first + 2, 5), "no scheduled rotation"
    k = env.client().key_status()
    assert k.epoch in (dp_key_epoch(env), dp_key_epoch(env) - 1)
    saved = json.loads((env.workdir / "state" / "keys.json").read_text())
    assert saved["epoch"] >= first + 2, "the rotated keys were not saved"


def test_fleet_keys_follow_the_clock(env_factory):
    env = env_factory("fake", keys='rotation_interval = 1\nmax_clock_skew = 0\n'
                      'master_secret = "000102030405060708090a0b0c0d0e0f"\n')
    env.start()
    for _ in range(2):
        assert wait_for(lambda: dp_key_epoch(env) == int(time.time()), 2), \
            (dp_key_epoch(env), time.time())
        time.sleep(1.0)
    k = env.client().key_status()
    assert k.derived_from_master and k.rotation_interval_s == 1


# --- idle timeouts ------------------------------------------------------------------------

IDLE_BOOT = BOOT_POLICY + """
[[policy]]
ports = "2222"
mode = "proxy"
idle_timeout = 300
"""


def idle_env(env_factory, kind):
    """Boot config: the dataplane's default idle timeout 600 s, port 2222 its own 300 s."""
    env = env_factory(kind, extra="idle_timeout = 600\nadopt_window = 5\n")
    env.config_path.write_text(env.config_text + IDLE_BOOT)
    return env.start()


def dp_ports(env):
    """The dataplane's own port ranges (get_config): (lo, hi, mode, idle_timeout_s)."""
    link = env.dp_link()
    try:
        return [(r.lo, r.hi, r.mode, r.idle_timeout_s) for r in link.get_config().ports]
    finally:
        link.close()


def dp_option(env, name):
    """The value of a synwall-dp option on the running dataplane's command line."""
    args = open("/proc/%d/cmdline" % env.dp_pid(), "rb").read().decode().split("\0")
    return args[args.index(name) + 1] if name in args else None


def ctl(capsys, env, *args):
    capsys.readouterr()
    rc = cli.main(["--socket", str(env.socket_path), *args])
    out, err = capsys.readouterr()
    assert (rc, err) == (0, ""), (args, rc, err)
    return out


def test_idle_timeout_reaches_the_dataplane(env_factory, dpkind, capsys):
    env = idle_env(env_factory, dpkind)
    assert (dp_option(env, "--idle-timeout"), dp_option(env, "--adopt-window")) == ("600", "5")
    # 0: the dataplane's default, here the boot config's 600 s
    assert dp_ports(env) == [(80, 80, 1, 0), (2222, 2222, 1, 300), (8000, 8080, 2, 0)]

    out = ctl(capsys, env, "policy", "set", "22", "proxy", "--idle-timeout", "7200")
    assert out.splitlines() == [
        "PORTS      MODE    MSS   WSCALE  SACK  TIMESTAMPS  IDLE",
        "22         proxy   -     -       -     -           7200s",
        "80         proxy   -     -       -     -           -",
        "2222       proxy   -     -       -     -           300s",
        "8000-8080  cookie  1400  -       -     off         -"], out
    assert dp_ports(env)[0] == (22, 22, 1, 7200)
    # the dataplane's default given explicitly: get_config reports it as the default (which
    # shows that the dataplane runs with --idle-timeout 600), the API as the operator set it
    ctl(capsys, env, "policy", "set", "23", "proxy", "--idle-timeout", "600")
    assert dp_ports(env)[:2] == [(22, 22, 1, 7200), (23, 23, 1, 0)]
    data = json.loads(ctl(capsys, env, "--json", "policy", "list"))
    assert [(p["ports"], p["idle_timeout_s"]) for p in data] == [
        ("22", 7200), ("23", 600), ("80", None), ("2222", 300), ("8000-8080", None)], data
    have = env.ctl.dataplane_config()
    assert model.canonical_dp_config(have, 600) == model.canonical_dp_config(
        model.to_dp_config(env.ctl.runtime, env.ctl.start_limits), 600)

    # a policy set without one is back to the default: 22 and 23 are alike in the dataplane
    ctl(capsys, env, "policy", "set", "22", "proxy")
    assert dp_ports(env)[0] == (22, 23, 1, 0)
    assert [(p.ports, p.idle_timeout_s) for p in env.client().policies()][:2] == [
        ("22", None), ("23", 600)]


def test_idle_timeouts_survive_reattach_and_restart(env_factory, dpkind, monkeypatch):
    env = idle_env(env_factory, dpkind)
    c = env.client()
    c.set_policy("22", "proxy", idle_timeout=7200)
    c.set_policy("23", "proxy", idle_timeout=600)  # = the default: get_config says 0
    want = dp_ports(env)

    # a new synwalld re-attaches: the config it finds is the one it would send (23's 600 s
    # is the running dataplane's default), so it sends none, and keeps the idle timeouts
    applied = []
    apply = DpLink.apply_config
    monkeypatch.setattr(DpLink, "apply_config",
                        lambda self, cfg: applied.append(cfg) or apply(self, cfg))
    env.stop_controller()
    env.start()
    assert env.ctl.attached
    assert applied == [], "re-attaching applied the same config again"
    monkeypatch.undo()
    assert dp_ports(env) == want
    c = env.client()
    assert [(p.ports, p.idle_timeout_s) for p in c.policies()][:3] == [
        ("22", 7200), ("23", 600), ("80", None)]

    # a dataplane that dies is started with the same command line and config
    old = env.dp_pid()
    os.kill(old, signal.SIGKILL)
    st = wait_for(lambda: (lambda s: s if s.dataplane_restarts == 1 and s.dataplane_running
                           else None)(c.status()), 20)
    assert st and env.dp_pid() != old, env.dp_log()[-2000:]
    assert dp_option(env, "--idle-timeout") == "600"
    assert dp_ports(env) == want


def test_source_quotas_reach_the_dataplane_and_survive_a_restart(env_factory, dpkind):
    env = env_factory(dpkind, extra="source_prefix = [24, 56]\nsource_flows = 100\n"
                      "source_halfopen = 0\n")
    env.start()
    opts = ("--source-prefix", "--source-flows", "--source-halfopen")
    assert [dp_option(env, o) for o in opts] == ["24,56", "100", "0"]
    c = env.client()
    old = env.dp_pid()
    os.kill(old, signal.SIGKILL)
    st = wait_for(lambda: (lambda s: s if s.dataplane_restarts == 1 and s.dataplane_running
                           else None)(c.status()), 20)
    assert st and env.dp_pid() != old, env.dp_log()[-2000:]
    assert [dp_option(env, o) for o in opts] == ["24,56", "100", "0"]
    # a config applied at run time may give them only as they run
    c.apply_config("[dataplane]\nsource_prefix = [24, 56]\nsource_flows = 100\n", "same.toml")


def test_the_dataplane_refuses_an_idle_timeout_above_30_days(env_factory, dpkind):
    """The fake refuses what the real one does, with the same field to blame."""
    env = started(env_factory, dpkind)
    link = env.dp_link()
    try:
        before = (model.canonical_dp_config(link.get_config()), link.status().config_version)
        cfg = model.to_dp_config(env.ctl.runtime, env.ctl.start_limits)
        cfg.ports.append(dp.PortRange(lo=22, hi=22, mode=1, mss=1460, wscale=7,
                                      window_scaling=True, sack=True, timestamps=True,
                                      idle_timeout_s=2592001))
        with pytest.raises(DataplaneRefused) as ei:
            link.apply_config(cfg)
        assert ei.value.field == "ports[%d].idle_timeout_s" % (len(cfg.ports) - 1)
        assert "2592001" in ei.value.message
        cfg.ports[-1].idle_timeout_s = 2592000
        link.validate_config(cfg)  # the largest is taken
        assert (model.canonical_dp_config(link.get_config()),
                link.status().config_version) == before
    finally:
        link.close()
