"""The boot config: every error names the file, the key and the reason; synwalld exits 2."""

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
                + bootconfig.API_KEYS + bootconfig.POLICY_KEYS + bootconfig.PROFILE_KEYS):
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
    ("[keys]\nmaster_secret = \"00112233\"\n", "keys.master_secret", "not 32 hex digits"),
    ("[keys]\nrotation_interval = 0\n", "keys.rotation_interval", "out of range"),
    ("[keys]\nmaster_secret = \"000102030405060708090a0b0c0d0e0f\"\nrotation_interval = 5\n",
     "keys.max_clock_skew", "needs a rotation interval of at least 9 s"),
    ("[api]\ntcp = \"127.0.0.1:50051\"\n", "api.tcp", "a TCP listener needs TLS"),
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


def test_synwalld_check_accepts_a_good_config(tmp_path):
    p = tmp_path / "good.toml"
    p.write_text(GOOD)
    r = subprocess.run([sys.executable, "-m", "synwall.daemon", "--check", "-c", str(p)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == "%s: ok" % p, r
