"""The boot config: every error names the file, the key and the reason; synwalld exits 2."""

import json
import subprocess
import sys
import textwrap

import pytest

from synwall import bootconfig, model

GOOD = """
[dataplane]
eal = ["--no-huge"]
outside = "0000:03:00.0"
inside = "net_af_packet1,iface=eth1"
hashsize = 1024
bucketlimit = 10

[limits]
cachelimit = 5000
rexmtlimit = 2

[[policy]]
ports = "443"
mode = "proxy"

[[policy]]
ports = "8000-8080"
mode = "cookie"
profile = { mss = 1400, timestamps = false }

[keys]
rotation_interval = 30
master_secret = "000102030405060708090a0b0c0d0e0f"
"""


def parse(text, source="t.toml"):
    return bootconfig.parse(textwrap.dedent(text), source)


def test_good_config_parses():
    b = parse(GOOD)
    assert b.dataplane.hashsize == 1024 and b.dataplane.bucketlimit == 10
    assert b.runtime.limits.cachelimit == 5000 and b.runtime.limits.rexmtlimit == 2
    pols = b.runtime.policies.ranges()
    assert [(p.lo, p.hi, p.mode) for p in pols] == [(443, 443, "proxy"),
                                                    (8000, 8080, "cookie")]
    assert pols[1].profile == model.Profile(mss=1400, timestamps=False)
    assert b.keys.master_secret == bytes(range(16)) and b.keys.rotation_interval == 30


def test_embedded_default_is_valid_and_documents_every_key():
    text = bootconfig.embedded_default()
    b = bootconfig.parse(text)
    assert b.api.unix_socket == "/run/synwall/api.sock"
    for key in (bootconfig.DATAPLANE_KEYS + bootconfig.LIMITS_KEYS + bootconfig.KEYS_KEYS
                + bootconfig.API_KEYS + bootconfig.POLICY_KEYS + bootconfig.PROFILE_KEYS
                + bootconfig.SOURCE_KEYS + bootconfig.SOURCES_KEYS):
        assert key in text, "default.toml does not document %s" % key


def test_dataplane_command_line_from_ports():
    from synwall.supervisor import Launcher
    b = parse(GOOD)
    cmd = Launcher(b).command([])
    assert cmd[cmd.index("-a") + 1] == "0000:03:00.0"
    assert "--vdev=net_af_packet1,iface=eth1" in cmd
    app = cmd[cmd.index("--") + 1:]
    assert app[app.index("--outside") + 1] == "0000:03:00.0"
    assert app[app.index("--inside") + 1] == "net_af_packet1"
    assert app[app.index("--hashsize") + 1] == "1024"
    assert "--ctl" in app


def test_the_tables_file_is_the_runtime_dirs_unless_state_file_says(tmp_path):
    from synwall.supervisor import Launcher

    def state_arg(text, base=None):
        app = Launcher(bootconfig.parse(text, "t.toml", base)).command([])
        return app[app.index("--state") + 1]
    assert state_arg('[dataplane]\nruntime_dir = "/run/sw-x"\n') == "/run/sw-x/tables"
    assert state_arg('[dataplane]\nstate_file = "/dev/hugepages/sw.tables"\n') == \
        "/dev/hugepages/sw.tables"
    # relative to the file's directory, as every path
    assert state_arg('[dataplane]\nstate_file = "t/sw.tables"\n', tmp_path) == \
        str(tmp_path / "t" / "sw.tables")
    for bad in ('""', '"/run/"'):
        with pytest.raises(bootconfig.BootConfigError) as e:
            parse("[dataplane]\nstate_file = %s\n" % bad)
        assert "dataplane.state_file" in str(e.value) and "names no file" in str(e.value)
    # --check: a directory that is not there, or a directory for the file
    text = '[dataplane]\nbinary = %s\noutside = "net_null0"\ninside = "net_null1"\n' \
        'state_file = "%%s"\n' % json.dumps(sys.executable)
    assert [str(e) for e in bootconfig.check_host(parse(text % (tmp_path / "no" / "t")))] == [
        "t.toml: dataplane.state_file: its directory %s does not exist" % (tmp_path / "no")]
    assert [str(e) for e in bootconfig.check_host(parse(text % tmp_path))] == [
        "t.toml: dataplane.state_file: %s is a directory" % tmp_path]
    assert bootconfig.check_host(parse(text % (tmp_path / "t"))) == []


IDLE = """
[dataplane]
idle_timeout = 7200
adopt_window = 0

[[policy]]
ports = "22"
mode = "proxy"
idle_timeout = 604800

[[policy]]
ports = "80"
mode = "proxy"
"""


def test_idle_timeout_and_adopt_window_parse():
    b = parse(IDLE)
    assert (b.dataplane.idle_timeout, b.dataplane.adopt_window) == (7200, 0)
    assert b.dataplane.idle_default == 7200
    assert [(p.ports, p.idle_timeout) for p in b.runtime.policies.ranges()] == [
        ("22", 604800), ("80", None)]
    # into the dataplane's config: 0 where the policy sets none (the dataplane's default)
    ports = model.to_dp_config(b.runtime, b.dataplane.start_limits).ports
    assert [(r.lo, r.idle_timeout_s) for r in ports] == [(22, 604800), (80, 0)]
    # and kept across a controller restart (runtime.json)
    assert model.from_json(model.to_json(b.runtime)).policies == b.runtime.policies
    d = parse(GOOD).dataplane
    assert (d.idle_timeout, d.adopt_window, d.idle_default) == (None, None, 86400)


def test_dataplane_command_line_carries_idle_timeout_and_adopt_window():
    from synwall.supervisor import Launcher
    app = Launcher(parse(IDLE)).command([])
    app = app[app.index("--") + 1:]
    assert app[app.index("--idle-timeout") + 1] == "7200"
    assert app[app.index("--adopt-window") + 1] == "0"  # 0 (no adoption) is a value, not unset
    # not set: not on the command line, the dataplane's own defaults hold
    app = Launcher(parse(GOOD)).command([])
    assert "--idle-timeout" not in app and "--adopt-window" not in app
    assert "--unparsed" not in app


@pytest.mark.parametrize("rule", ["drop", "pass"])
def test_dataplane_command_line_carries_the_unparsed_rule(rule):
    from synwall.supervisor import Launcher
    b = parse("[dataplane]\nunparsed = \"%s\"\n" % rule)
    assert b.dataplane.unparsed == rule
    app = Launcher(b).command([])
    app = app[app.index("--") + 1:]
    assert app[app.index("--unparsed") + 1] == rule


SOURCE = """
[dataplane]
flows = 4096
hashsize = 1024
bucketlimit = 8
source_prefix = [24, 48]
source_flows = 100
source_halfopen = 0
source_table = 4096
idle_sleep = 50
"""


def test_source_quotas_parse_and_reach_the_command_line():
    from synwall.supervisor import Launcher
    d = parse(SOURCE).dataplane
    assert (d.source_prefix, d.source_flows, d.source_halfopen) == ((24, 48), 100, 0)
    app = Launcher(parse(SOURCE)).command([])
    app = app[app.index("--") + 1:]
    assert app[app.index("--source-prefix") + 1] == "24,48"
    assert app[app.index("--source-flows") + 1] == "100"
    assert app[app.index("--source-halfopen") + 1] == "0"  # 0 (no quota) is a value
    assert app[app.index("--source-table") + 1] == "4096"
    assert app[app.index("--idle-sleep") + 1] == "50"
    for bad in (10001, -1, "50", 1.5):
        with pytest.raises(bootconfig.BootConfigError) as e:
            parse("[dataplane]\nidle_sleep = %s\n" % ('"50"' if bad == "50" else bad))
        assert e.value.key == "dataplane.idle_sleep", e.value
    for bad in (100, 32, 1 << 25, "4096", True):
        with pytest.raises(bootconfig.BootConfigError) as e:
            parse("[dataplane]\nsource_table = %s\n" % (
                '"4096"' if bad == "4096" else str(bad).lower()))
        assert e.value.key == "dataplane.source_table", e.value
    assert parse("[dataplane]\nsource_table = 0\n").dataplane.source_table == 0
    # the edges of the ranges
    d = parse("[dataplane]\nflows = 4096\nsource_prefix = [8, 128]\nsource_flows = 4096\n"
              "source_halfopen = 122880\n").dataplane
    assert (d.source_prefix, d.source_flows, d.source_halfopen) == ((8, 128), 4096, 122880)
    # not set: not on the command line, the dataplane's own defaults hold
    d = parse(GOOD).dataplane
    assert (d.source_prefix, d.source_flows, d.source_halfopen) == (None, None, None)
    app = Launcher(parse(GOOD)).command([])
    assert not {"--source-prefix", "--source-flows", "--source-halfopen", "--source-table",
                "--idle-sleep"} & set(app)


@pytest.mark.parametrize("text,key,reason", [
    ("[limits]\ncachelimt = 5\n", "limits.cachelimt", "unknown key"),
    ("[limit]\n", "limit", "unknown section"),
    ("[limits]\nrexmtlimit = \"3\"\n", "limits.rexmtlimit", "expected an integer, got a "
     "string ('3')"),
    ("[limits]\nsyncookies = 1\n", "limits.syncookies", "expected true or false"),
    ("[limits]\nrexmtlimit = 11\n", "limits.rexmtlimit", "11 is out of range: 0..10"),
    ("[limits]\ncachelimit = 122881\n", "limits.cachelimit",
     "122881 is out of range: 1..122880 (hashsize 4096 x bucketlimit 30)"),
    ("[limits]\nsyncookies = false\nsyncookies_only = true\n", "limits.syncookies_only",
     "needs syncookies"),
    ("[dataplane]\nhashsize = 1000\n", "dataplane.hashsize", "not a power of 2"),
    ("[dataplane]\neal = \"-l 0-1\"\n", "dataplane.eal", "expected a list"),
    ("[dataplane]\neal = [1]\n", "dataplane.eal", "item 0 is an integer"),
    ("[dataplane]\noutside = \"net_pcap0\"\ninside = \"net_pcap0,iface=x\"\n",
     "dataplane.inside", "must differ"),
    ("[[policy]]\nports = \"0\"\nmode = \"proxy\"\n", "policy[0].ports", "port 0 is out of "
     "range"),
    ("[[policy]]\nports = \"80\"\nmode = \"proxy\"\n[[policy]]\nports = \"70000\"\n"
     "mode = \"proxy\"\n", "policy[1].ports", "port 70000 is out of range"),
    ("[[policy]]\nports = \"9-8\"\nmode = \"proxy\"\n", "policy[0].ports", "backwards"),
    ("[[policy]]\nports = \"80\"\nmode = \"shield\"\n", "policy[0].mode",
     "'shield' is not a mode"),
    ("[[policy]]\nports = \"80\"\n", "policy[0].mode", "missing"),
    ("[[policy]]\nports = \"80\"\nmode = \"proxy\"\nprofile = { mss = 100 }\n",
     "policy[0].profile.mss", "100 is out of range: 536..9000"),
    ("[[policy]]\nports = \"80\"\nmode = \"proxy\"\nprofile = { sak = true }\n",
     "policy[0].profile.sak", "unknown key"),
    ("[dataplane]\nidle_timeout = 0\n", "dataplane.idle_timeout",
     "0 is out of range: 1..2592000 seconds"),
    ("[dataplane]\nidle_timeout = 2592001\n", "dataplane.idle_timeout",
     "2592001 is out of range: 1..2592000 seconds"),
    ("[dataplane]\nidle_timeout = \"1h\"\n", "dataplane.idle_timeout",
     "expected an integer (seconds), got a string ('1h')"),
    ("[dataplane]\nidle_timeout = 60.5\n", "dataplane.idle_timeout",
     "expected an integer (seconds), got a number (60.5)"),
    ("[dataplane]\nadopt_window = 3601\n", "dataplane.adopt_window",
     "3601 is out of range: 0..3600 seconds"),
    ("[dataplane]\nadopt_window = -1\n", "dataplane.adopt_window",
     "-1 is out of range: 0..3600 seconds"),
    ("[dataplane]\nadopt_window = true\n", "dataplane.adopt_window",
     "expected an integer (seconds), got a boolean (true)"),
    ("[dataplane]\nunparsed = \"bridge\"\n", "dataplane.unparsed",
     "'bridge' is not one of drop, pass"),
    ("[dataplane]\nunparsed = false\n", "dataplane.unparsed", "expected a string"),
    ("[dataplane]\nsource_prefix = \"32,64\"\n", "dataplane.source_prefix",
     "expected two prefix lengths [V4LEN, V6LEN] (e.g. [32, 64]), got a string ('32,64')"),
    ("[dataplane]\nsource_prefix = [32]\n", "dataplane.source_prefix",
     "expected two prefix lengths [V4LEN, V6LEN]"),
    ("[dataplane]\nsource_prefix = [32, 64, 64]\n", "dataplane.source_prefix",
     "expected two prefix lengths [V4LEN, V6LEN]"),
    ("[dataplane]\nsource_prefix = [32, true]\n", "dataplane.source_prefix",
     "expected two prefix lengths [V4LEN, V6LEN]"),
    ("[dataplane]\nsource_prefix = [7, 64]\n", "dataplane.source_prefix",
     "IPv4 prefix length 7 is out of range: 8..32"),
    ("[dataplane]\nsource_prefix = [24, 129]\n", "dataplane.source_prefix",
     "IPv6 prefix length 129 is out of range: 16..128"),
    ("[dataplane]\nsource_flows = 65537\n", "dataplane.source_flows",
     "65537 is out of range: 0..65536 (flows; 0: no quota)"),
    ("[dataplane]\nflows = 1024\nsource_flows = 1025\n", "dataplane.source_flows",
     "1025 is out of range: 0..1024 (flows; 0: no quota)"),
    ("[dataplane]\nsource_flows = -1\n", "dataplane.source_flows",
     "-1 is out of range: 0..65536"),
    ("[dataplane]\nsource_flows = \"100\"\n", "dataplane.source_flows",
     "expected an integer, got a string ('100')"),
    ("[dataplane]\nhashsize = 64\nbucketlimit = 4\nsource_halfopen = 257\n",
     "dataplane.source_halfopen",
     "257 is out of range: 0..256 (hashsize 64 x bucketlimit 4; 0: no quota)"),
    ("[dataplane]\nsource_halfopen = 1.5\n", "dataplane.source_halfopen",
     "expected an integer, got a number (1.5)"),
    ("[[policy]]\nports = \"22\"\nmode = \"proxy\"\nidle_timeout = 0\n",
     "policy[0].idle_timeout", "0 is out of range: 1..2592000 seconds"),
    ("[[policy]]\nports = \"80\"\nmode = \"proxy\"\n[[policy]]\nports = \"22\"\n"
     "mode = \"proxy\"\nidle_timeout = 2592001\n", "policy[1].idle_timeout",
     "2592001 is out of range: 1..2592000 seconds"),
    ("[[policy]]\nports = \"22\"\nmode = \"proxy\"\nidle_timeout = \"7200\"\n",
     "policy[0].idle_timeout", "expected an integer (seconds), got a string ('7200')"),
    ("[[policy]]\nports = \"22\"\nmode = \"proxy\"\nprofile = { idle_timeout = 60 }\n",
     "policy[0].profile.idle_timeout", "unknown key"),
    ("[keys]\nmaster_secret = \"00112233\"\n", "keys.master_secret", "not 32 hex digits"),
    ("[keys]\nrotation_interval = 0\n", "keys.rotation_interval", "out of range"),
    ("[keys]\nmaster_secret = \"000102030405060708090a0b0c0d0e0f\"\nrotation_interval = 5\n"
     "max_clock_skew = 2\n", "keys.max_clock_skew", "needs a rotation interval of at least 9 s"),
    # the same checks with random secrets
    ("[keys]\nrotation_interval = 5\nmax_clock_skew = 2\n", "keys.max_clock_skew",
     "max clock skew 2 s needs a rotation interval of at least 9 s (4 x skew + 1), got 5 s"),
    ("[keys]\nrotation_interval = 15\nmax_clock_skew = 4\n", "keys.max_clock_skew",
     "needs a rotation interval of at least 17 s"),
    ("[keys]\nmax_clock_skew = 3601\n", "keys.max_clock_skew", "3601 is out of range: 0..3600"),
    ("[keys]\nmax_clock_skew = -1\n", "keys.max_clock_skew", "-1 is out of range: 0..3600"),
    ("[api]\ntcp = \"127.0.0.1:50051\"\n", "api.tcp", "a TCP listener needs TLS"),
    ("[api]\nadmin_clients = [\"CN=alice\"]\n", "api.admin_clients",
     "TLS settings without api.tcp"),
    ("[api]\nread_clients = [\"alice\"]\n", "api.read_clients",
     "item 0, 'alice', is not CN=NAME or OU=UNIT"),
    ("[api]\nadmin_clients = \"CN=alice\"\n", "api.admin_clients", "expected a list"),
    ("[api]\nmetrics = \"localhost\"\n", "api.metrics", "not HOST:PORT"),
    ("[limits\n", "", "not valid TOML"),
])
def test_bad_config_names_file_key_and_reason(text, key, reason):
    with pytest.raises(bootconfig.BootConfigError) as ei:
        parse(text, "/etc/synwall/x.toml")
    e = ei.value
    assert e.key == key, str(e)
    assert reason in e.reason, str(e)
    assert str(e).startswith("/etc/synwall/x.toml: " + (key + ": " if key else "")), str(e)


def test_the_default_skew_fits_a_short_rotation_interval():
    """Without max_clock_skew, a short interval gets the largest skew it can take."""
    for interval, skew in ((1, 0), (5, 1), (8, 1), (9, 2), (15, 2), (3600, 2)):
        k = parse("[keys]\nrotation_interval = %d\n" % interval).keys
        assert (k.rotation_interval, k.max_clock_skew) == (interval, skew)
    assert parse("").keys.max_clock_skew == 2


def test_synwalld_exits_2_on_a_bad_config_with_one_line(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[limits]\nrexmtlimit = \"3\"\n")
    r = subprocess.run([sys.executable, "-m", "synwall.daemon", "-c", str(p)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r
    assert r.stderr.strip() == ("synwalld: %s: limits.rexmtlimit: expected an integer, got a "
                                "string ('3')" % p), r.stderr
    r = subprocess.run([sys.executable, "-m", "synwall.daemon", "-c", str(tmp_path / "nope")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "cannot read" in r.stderr and r.stderr.count("\n") == 1, r


def check(path):
    return subprocess.run([sys.executable, "-m", "synwall.daemon", "--check", "-c", str(path)],
                          capture_output=True, text=True, timeout=30)


def test_synwalld_check_accepts_a_good_config(tmp_path):
    p = tmp_path / "good.toml"
    p.write_text(GOOD.replace('"0000:03:00.0"', '"net_null0"').replace(
        "[dataplane]\n", "[dataplane]\nbinary = %s\n" % json.dumps(sys.executable)))
    r = check(p)
    assert r.returncode == 0 and r.stdout.strip() == "%s: ok" % p and r.stderr == "", r


def test_synwalld_check_finds_a_missing_port_and_binary(tmp_path):
    absent = "0000:fe:1f.7"
    assert not (bootconfig.PCI_DEVICES / absent).exists()
    p = tmp_path / "here.toml"
    p.write_text('[dataplane]\nbinary = "%s"\noutside = "%s"\ninside = "net_null1"\n'
                 % (tmp_path / "nope" / "synwall-dp", absent))
    r = check(p)
    assert (r.returncode, r.stdout) == (1, ""), r
    assert r.stderr.splitlines() == [
        "synwalld: %s: dataplane.outside: PCI device %s is not present (no "
        "/sys/bus/pci/devices/%s)" % (p, absent, absent),
        "synwalld: %s: dataplane.binary: %s is not an executable file"
        % (p, tmp_path / "nope" / "synwall-dp")], r.stderr
    not_exec = tmp_path / "synwall-dp"
    not_exec.write_text("#!/bin/sh\n")
    p.write_text('[dataplane]\nbinary = "%s"\nbinary_ = 1\n' % not_exec)
    assert check(p).returncode == 2  # a bad config is still a bad config
    p.write_text('[dataplane]\nbinary = "%s"\noutside = "net_null0"\ninside = "net_null1"\n'
                 % not_exec)
    r = check(p)
    assert r.returncode == 1 and "%s is not an executable file" % not_exec in r.stderr, r
    p.write_text('[dataplane]\nbinary = "no-such-synwall-dp"\noutside = "net_null0"\n'
                 'inside = "net_null1"\n')
    r = check(p)
    assert r.returncode == 1 and "dataplane.binary: no-such-synwall-dp is not on PATH" in \
        r.stderr, r


def test_the_ports_pci_devices_are_looked_up_in_sysfs(tmp_path):
    devices = tmp_path / "devices"
    devices.mkdir()
    (devices / "0000:03:00.0").mkdir()
    text = '[dataplane]\nbinary = %s\noutside = "%%s"\ninside = "%%s"\n' % json.dumps(
        sys.executable)

    def problems(outside, inside):
        return [str(e) for e in bootconfig.check_host(parse(text % (outside, inside)), devices)]
    assert problems("0000:03:00.0", "net_af_packet1,iface=eth1") == []
    assert problems("03:00.0", "1") == []  # the domain added, as DPDK names it; an id: EAL's
    assert problems("0000:03:00.0,rxq_pkt_fill=1", "net_null0") == []
    assert problems("0000:03:00.0", "0000:03:00.1") == [
        "t.toml: dataplane.inside: PCI device 0000:03:00.1 is not present (no %s)"
        % (devices / "0000:03:00.1")]
