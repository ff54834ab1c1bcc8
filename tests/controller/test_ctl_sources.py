"""Source rules through synwalld (the fake dataplane, and the real one where it matters):
synwallctl's source commands and their --json, the gRPC calls checked whole and refused
naming the field, a dataplane's refusal leaving the running config as it was, the rules kept
across synwalld's restarts (in a rules file of the state directory, named by runtime.json),
shown, compared and saved as a boot file, the top talkers and their metrics."""

import json
import logging
import os
import re
import signal
import urllib.request

import pytest

from synwall import cli, model, runconfig
from synwall.client import SourceRule
from synwall.errors import SynwallError
from synwall.supervisor import proc_start_time
from synwall.v1 import admin_pb2 as pb
from tests.controller.ctlharness import wait_for

RULES = """\
# the partner's NAT, and a scanner
allow 198.18.64.0/18
deny 198.18.200.0/24
deny 2001:2:0:c8::/64 22
limit 198.18.128.0/17 1000 2000
"""


def run(capsys, env, *args):
    capsys.readouterr()
    rc = cli.main(["--socket", str(env.socket_path), *args])
    out, err = capsys.readouterr()
    return rc, out, err


def ok(capsys, env, *args):
    rc, out, err = run(capsys, env, *args)
    assert rc == 0 and err == "", (args, rc, err)
    return out


def fails(capsys, env, code, *args):
    rc, out, err = run(capsys, env, *args)
    assert rc == code, (args, rc, out, err)
    assert out == "" and err.count("\n") == 1 and err.startswith("synwallctl: "), (args, err)
    return err[len("synwallctl: "):].rstrip("\n")


def dp_status(env):
    link = env.dp_link()
    try:
        return link.status()
    finally:
        link.close()


def dp_counts(env):
    st = dp_status(env)
    return st.source_prefixes4, st.source_prefixes6, st.source_ranges


def snapshot(env, c):
    """What a refused change must leave as it was: the rules the API shows, what the dataplane
    has (its counts and config version), the file it reads and the saved state."""
    st = dp_status(env)
    run = env.runtime_dir / "sources.rules"
    return {"rules": [r.line() for r in c.sources()], "summary": c.sources_summary(),
            "dp": (st.source_prefixes4, st.source_prefixes6, st.source_ranges,
                   st.config_version),
            "file": run.read_bytes() if run.exists() else None,
            "state": (env.state_dir / "runtime.json").read_bytes()}


@pytest.fixture
def live(env_factory):
    return env_factory("fake").start()


def test_synwallctl_source_commands(capsys, live):
    env = live
    assert ok(capsys, env, "source", "list") == \
        "# no source rules: every source is treated alike\n"
    out = ok(capsys, env, "source", "deny", "198.18.200.0/24")
    assert re.fullmatch(r"deny 198\.18\.200\.0/24: set\n1 source rule \(1 deny, 0 allow, 0 "
                        r"limit\), config version \d+\n", out), out
    ok(capsys, env, "source", "allow", "198.18.0.5/32", "--ports", "22")
    ok(capsys, env, "source", "limit", "198.18.128.0/17", "1000", "--burst", "2000")
    ok(capsys, env, "source", "deny", "2001:2:0:c8::/64", "--ports", "8000-8080")
    assert ok(capsys, env, "source", "list") == (
        "allow 198.18.0.5/32 22\n"
        "limit 198.18.128.0/17 1000 2000\n"
        "deny 198.18.200.0/24\n"
        "deny 2001:2:0:c8::/64 8000-8080\n"
        "# 4 source rules (2 deny, 1 allow, 1 limit)\n")
    # the dataplane has them, from the file synwalld wrote
    assert (env.runtime_dir / "sources.rules").read_text() == (
        "allow 198.18.0.5/32 22\nlimit 198.18.128.0/17 1000 2000\ndeny 198.18.200.0/24\n"
        "deny 2001:2:0:c8::/64 8000-8080\n")
    assert dp_counts(env) == (3, 1, 2)

    # a rule replaces the one of its prefix and ports
    ok(capsys, env, "source", "limit", "198.18.200.0/24", "50")
    listing = json.loads(ok(capsys, env, "--json", "source", "list"))
    assert listing["rules"][2] == {"action": "limit", "prefix": "198.18.200.0/24",
                                   "ports": None, "rate": 50, "burst": None}
    assert listing["summary"]["rules"] == 4 and listing["summary"]["limit"] == 2
    assert listing["summary"]["sha256"] == env.ctl.sources().digest()

    out = json.loads(ok(capsys, env, "--json", "source", "deny", "198.18.9.0/24"))
    assert out["rule"] == {"action": "deny", "prefix": "198.18.9.0/24", "ports": None,
                           "rate": None, "burst": None}
    assert out["summary"]["rules"] == 5 and out["summary"]["config_version"] == \
        env.client().status().config_version
    out = ok(capsys, env, "source", "del", "198.18.0.5/32", "--ports", "22")
    assert out.startswith("198.18.0.5/32 (port 22): deleted\n4 source rules"), out
    out = json.loads(ok(capsys, env, "--json", "source", "del", "198.18.9.0/24"))
    assert out["deleted"] == {"prefix": "198.18.9.0/24", "ports": None}
    assert out["summary"]["rules"] == 3

    # errors: one line, exit 2 for bad input, 1 for nothing to delete
    assert fails(capsys, env, 2, "source", "deny", "198.18.0.5/24") == (
        "rules[0].prefix: '198.18.0.5/24' has host bits set (past its length): the network "
        "is 198.18.0.0/24 (one address: 198.18.0.5/32)")
    assert fails(capsys, env, 2, "source", "allow", "198.18.0.0/24", "--ports", "0-80") == \
        "ports: port 0 is out of range: 1..65535"
    assert fails(capsys, env, 2, "source", "limit", "198.18.0.0/24", "0") == \
        "rules[0].rate: a limit needs its rate (SYNs a second, 1..100000000)"
    assert fails(capsys, env, 2, "source", "limit", "198.18.0.0/24", "-5").startswith(
        "rate: -5 is not a non-negative 32-bit integer")
    assert fails(capsys, env, 1, "source", "del", "198.18.0.0/24") == \
        "keys[0]: 198.18.0.0/24 (every port): no such source rule"
    assert fails(capsys, env, 2, "source", "del", "198.18.0.0/24", "--ports", "x") == \
        "ports: 'x' is not a port or a range like 8000-8080"
    rc, out, err = run(capsys, env, "source", "deny")
    assert rc == 2 and "PREFIX" in err and err.count("\n") == 1, err


def test_synwallctl_source_load_replaces_the_list_whole(capsys, live, tmp_path):
    env = live
    ok(capsys, env, "source", "deny", "198.18.9.0/24")
    f = tmp_path / "partner.rules"
    f.write_text(RULES)
    out = ok(capsys, env, "source", "load", str(f))
    assert out.startswith("%s: loaded, the whole list replaced\n4 source rules (2 deny, 1 "
                          "allow, 1 limit), config version" % f), out
    assert [r.line() for r in env.client().sources()] == [
        "allow 198.18.64.0/18", "limit 198.18.128.0/17 1000 2000", "deny 198.18.200.0/24",
        "deny 2001:2:0:c8::/64 22"]
    # what `source list` prints is a rules file `source load` takes back
    listed = tmp_path / "listed.rules"
    listed.write_text(ok(capsys, env, "source", "list"))
    before = env.ctl.sources()
    ok(capsys, env, "source", "load", str(listed))
    assert env.ctl.sources() == before

    c = env.client()
    was = snapshot(env, c)
    f.write_text(RULES + "deny 198.18.201.1/24\n")
    assert fails(capsys, env, 2, "source", "load", str(f)) == (
        "text: %s: line 6: '198.18.201.1/24' has host bits set (past its length): the network "
        "is 198.18.201.0/24 (one address: 198.18.201.1/32)" % f)
    f.write_text(RULES + "allow 198.18.200.0/24\n")
    assert fails(capsys, env, 2, "source", "load", str(f)) == (
        "text: %s: line 6: 198.18.200.0/24 (every port) is on line 3 already, as "
        "'deny 198.18.200.0/24': one rule per prefix and ports" % f)
    assert snapshot(env, c) == was
    rc, _, err = run(capsys, env, "source", "load", str(tmp_path / "nope"))
    assert rc == 2 and err == "synwallctl source load: %s: No such file or directory\n" % (
        tmp_path / "nope")

    # an empty file: no rules
    f.write_text("# nothing\n")
    ok(capsys, env, "source", "load", str(f))
    assert len(env.ctl.sources()) == 0 and dp_counts(env) == (0, 0, 0)
    assert not (env.runtime_dir / "sources.rules").exists()


def test_a_batch_is_applied_whole_or_not_at_all(live):
    env = live
    c = env.client()
    c.set_sources(SourceRule("deny", "198.18.200.0/24"), SourceRule("allow", "198.18.0.5/32"))
    was = snapshot(env, c)
    with pytest.raises(SynwallError) as ei:
        c.set_sources(SourceRule("deny", "198.18.201.0/24"),
                      SourceRule("deny", "198.18.202.0/24"),
                      SourceRule("limit", "198.18.203.0/24", "80", 100))
    assert (ei.value.code, ei.value.field) == ("INVALID_ARGUMENT", "rules[2].port_lo")
    assert "a limit is global" in ei.value.message
    with pytest.raises(SynwallError) as ei:
        c.set_sources(SourceRule("deny", "198.18.201.0/24"),
                      SourceRule("allow", "198.18.201.0/24"))
    assert ei.value.field == "rules[1]" and "is rules[0] already" in ei.value.message
    with pytest.raises(SynwallError) as ei:
        c.set_sources(*[SourceRule("deny", "198.18.%d.0/24" % p, str(p)) for p in range(1, 65)])
    assert ei.value.field == "rules" and "64 port ranges with lists of their own: at most 63" \
        in ei.value.message
    with pytest.raises(SynwallError) as ei:
        c.set_sources(*[SourceRule("deny", "2001:2::%x:%x/128" % (i >> 16, i & 0xFFFF))
                        for i in range(200000)])
    assert ei.value.field == "rules" and "over the 4194304 bytes synwalld takes at once" in \
        ei.value.message
    with pytest.raises(SynwallError) as ei:
        c.delete_sources(("198.18.200.0/24", None), ("198.18.9.0/24", None))
    assert (ei.value.code, ei.value.field) == ("NOT_FOUND", "keys[1]")
    with pytest.raises(SynwallError) as ei:
        c.delete_sources(("198.18.0.5/32", "22"))  # the rule is the global list's
    assert ei.value.message == "keys[0]: 198.18.0.5/32 (port 22): no such source rule"
    with pytest.raises(SynwallError) as ei:
        c.replace_sources(RULES, [SourceRule("allow", "198.18.200.0/24")], "partner.rules")
    assert ei.value.field == "rules[0]" and ei.value.message == (
        "rules[0]: 198.18.200.0/24 (every port) is in the text already, as "
        "'deny 198.18.200.0/24': one rule per prefix and ports")
    for bad, field, says in (
            (pb.SourceRule(prefix="198.18.0.0/24"), "rules[0].action", "required"),
            (pb.SourceRule(action=9, prefix="198.18.0.0/24"), "rules[0].action",
             "9 is not an action"),
            (pb.SourceRule(action=pb.SOURCE_ACTION_DENY, prefix=""), "rules[0].prefix",
             "'' is not a prefix"),
            (pb.SourceRule(action=pb.SOURCE_ACTION_DENY, prefix="198.18.0.0/24", port_hi=80),
             "rules[0].port_lo", "0 (every port) with port_hi 80"),
            (pb.SourceRule(action=pb.SOURCE_ACTION_DENY, prefix="198.18.0.0/24", port_lo=80,
                           port_hi=70), "rules[0].port_hi", "range 80-70 is backwards"),
            (pb.SourceRule(action=pb.SOURCE_ACTION_ALLOW, prefix="198.18.0.0/24", rate=5),
             "rules[0].rate", "only a limit has a rate"),
            (pb.SourceRule(action=pb.SOURCE_ACTION_LIMIT, prefix="198.18.0.0/24", rate=5,
                           burst=100000001), "rules[0].burst", "100000001 is out of range")):
        with pytest.raises(SynwallError) as ei:
            c.call("SetSources", pb.SetSourcesRequest(rules=[bad]))
        assert (ei.value.field, ei.value.code) == (field, "INVALID_ARGUMENT"), ei.value
        assert ei.value.message.startswith(field + ": ") and says in ei.value.message, ei.value
    with pytest.raises(SynwallError) as ei:
        c.call("SetSources", pb.SetSourcesRequest())
    assert ei.value.field == "rules"
    with pytest.raises(SynwallError) as ei:
        c.call("DeleteSources", pb.DeleteSourcesRequest(keys=[pb.SourceKey(prefix="1.2.3.4/8")]))
    assert ei.value.field == "keys[0].prefix" and "has host bits set" in ei.value.message
    assert snapshot(env, c) == was


def test_what_the_dataplane_refuses_leaves_the_running_config_as_it_was(env_factory):
    """A dataplane without `limit` rules (as synwall-dp was before it had them) refuses a
    limit: the change is refused whole with the dataplane's reason, the dataplane keeps the
    lists it had, the file it reads and the saved state are as they were; a config apply that
    carries a limit and a new rate limit changes neither."""
    env = env_factory("fake")
    old = env.workdir / "fake-synwall-dp"
    variant = env.fake_binary("no-limits", no_limits="1")
    env.config_path.write_text(env.config_text.replace(str(old), str(variant)))
    env.start()
    c = env.client()
    c.set_sources(SourceRule("deny", "198.18.200.0/24"))
    was = snapshot(env, c)
    with pytest.raises(SynwallError) as ei:
        c.set_sources(SourceRule("limit", "198.18.128.0/17", rate=100))
    assert ei.value.code == "INVALID_ARGUMENT" and ei.value.field == "dataplane.path"
    assert ei.value.message == (
        "the dataplane refused the source rules: %s: line 1: \"limit\": not deny or allow"
        % (env.runtime_dir / "sources.rules")), ei.value.message
    assert snapshot(env, c) == was
    lim = c.limits()
    with pytest.raises(SynwallError) as ei:
        c.apply_config('[limits]\nsyn_rate = 500\n[[source]]\nprefix = "198.18.128.0/17"\n'
                       'action = "limit"\nrate = 100\n', "new.toml")
    assert "not deny or allow" in ei.value.message
    assert snapshot(env, c) == was and c.limits() == lim
    assert env.ctl.dataplane_config().syn_rate == 0


def test_list_pages_and_top_sources(live):
    env = live
    c = env.client()
    c.replace_sources(RULES)
    rules, token, summary = c.sources_page(page_size=3)
    assert [r.line() for r in rules] == ["allow 198.18.64.0/18",
                                         "limit 198.18.128.0/17 1000 2000",
                                         "deny 198.18.200.0/24"]
    assert token == "198.18.200.0/24" and summary.rules == 4
    rules, token, _ = c.sources_page(token, 3)
    assert [r.line() for r in rules] == ["deny 2001:2:0:c8::/64 22"] and token == ""
    for req, field in ((pb.ListSourcesRequest(page_size=10001), "page_size"),
                       (pb.ListSourcesRequest(page_token="nonsense"), "page_token")):
        with pytest.raises(SynwallError) as ei:
            c.call("ListSources", req)
        assert ei.value.field == field and ei.value.code == "INVALID_ARGUMENT"

    top = c.top_sources("syns", 5)
    assert [x.prefix for x in top.sources] == ["198.18.200.%d/32" % i for i in range(5)]
    syns = [x.syns for x in top.sources]
    assert syns == sorted(syns, reverse=True)
    assert all(x.rule == SourceRule("deny", "198.18.200.0/24") for x in top.sources)
    assert (top.source_table, top.source_v4_len, top.source_v6_len) == (4096, 32, 64)
    top = c.top_sources("bad_cookies", 40)
    assert len(top.sources) == 40
    assert [x.bad_cookies for x in top.sources] == sorted((x.bad_cookies for x in top.sources),
                                                          reverse=True)
    v6 = [x for x in top.sources if ":" in x.prefix]
    assert len(v6) == 10 and all(x.rule is None for x in v6)
    for by in ("flows", "syns_limited", "synacks_capped"):
        values = [getattr(x, by) for x in c.top_sources(by, 1000).sources]
        assert values == sorted(values, reverse=True), by
    assert len(c.top_sources().sources) == 20
    for req, field in ((pb.TopSourcesRequest(max=1001), "max"),
                       (pb.TopSourcesRequest(by=7), "by")):
        with pytest.raises(SynwallError) as ei:
            c.call("TopSources", req)
        assert ei.value.field == field and ei.value.code == "INVALID_ARGUMENT"


def test_synwallctl_source_top_and_top_sources(capsys, live):
    env = live
    ok(capsys, env, "source", "deny", "198.18.200.0/24")
    out = ok(capsys, env, "source", "top", "-n", "3").splitlines()
    assert out[0].split() == ["PREFIX", "SYNS", "LIMITED", "BAD_COOKIES", "FLOWS", "CAPPED",
                              "IDLE", "RULE"]
    assert [ln.split()[0] for ln in out[1:4]] == ["198.18.200.%d/32" % i for i in range(3)]
    assert out[1].endswith("deny 198.18.200.0/24")
    assert out[4] == "by syns; source prefixes /32 and /64, 4096 per worker lcore"
    out = ok(capsys, env, "top", "sources", "--by", "bad_cookies", "-n", "2").splitlines()
    assert len(out) == 4 and out[3].startswith("by bad_cookies;")
    top = json.loads(ok(capsys, env, "--json", "top", "sources", "-n", "1"))
    assert top["sources"][0]["prefix"] == "198.18.200.0/32"
    assert top["sources"][0]["rule"] == {"action": "deny", "prefix": "198.18.200.0/24",
                                         "ports": None, "rate": None, "burst": None}
    assert fails(capsys, env, 2, "source", "top", "-n", "1001") == \
        "max: 1001 is out of range: 1..1000"
    rc, _, err = run(capsys, env, "source", "top", "--by", "volume")
    assert rc == 2 and "invalid choice: 'volume'" in err
    rc, _, err = run(capsys, env, "top", "--by", "syns", "--count", "1")
    assert rc == 2 and err == "synwallctl top: --by and -n are for `top sources`\n"


def test_source_rules_survive_restarts_in_a_file_of_the_state_directory(env_factory, caplog):
    caplog.set_level(logging.INFO, logger="synwalld")
    env = env_factory("fake").start()
    c = env.client()
    c.replace_sources(RULES)
    want = env.ctl.sources()
    state = json.loads((env.state_dir / "runtime.json").read_text())
    name = runconfig.sources_file_name(want.digest())
    assert state["sources"] == {"rules": 4, "sha256": want.digest()}
    assert "198.18" not in (env.state_dir / "runtime.json").read_text(), \
        "the rules themselves are not in runtime.json"
    assert (env.state_dir / name).read_bytes() == runconfig.SOURCES_HEADER + \
        want.to_rules_text()
    c.set_sources(SourceRule("deny", "198.18.9.0/24"))
    want = env.ctl.sources()
    files = sorted(p.name for p in env.state_dir.glob("sources-*"))
    assert files == [runconfig.sources_file_name(want.digest())], "the old list's file stays"

    # re-attach: the dataplane has them already (synwalld recorded it), nothing is sent again
    version, pid = dp_status(env).config_version, env.dp_pid()
    env.stop_controller()
    caplog.clear()
    env.start()
    assert env.ctl.attached and env.dp_pid() == pid
    assert env.ctl.sources() == want
    # the list read back keeps the text it was read from: the canonical one
    assert env.ctl.sources().to_rules_text() == want.to_rules_text()
    assert env.ctl.sources().digest() == want.digest()
    # one change: the keys, given again at every attach; no load_sources
    assert dp_status(env).config_version == version + 1, "the rules were loaded again"
    assert not [r for r in caplog.records if "source rules are not known" in r.getMessage()]

    # a cold start: the new dataplane reads them from its command line, from its start
    env.stop_all()
    env.start()
    assert not env.ctl.attached
    assert env.ctl.sources() == want and dp_counts(env) == (4, 1, 1)
    cmd = env.ctl.proc.cmd or []
    assert cmd[cmd.index("--sources") + 1] == str(env.runtime_dir / "sources.rules")

    # a dataplane that dies is started again with them
    old = env.dp_pid()
    c = env.client()
    os.kill(old, signal.SIGKILL)
    assert wait_for(lambda: proc_start_time(old) is None, 10)
    assert wait_for(lambda: c.status().dataplane_running and c.status().dataplane_pid != old, 20)
    assert dp_counts(env) == (4, 1, 1)


def test_a_source_state_that_cannot_be_used_is_refused_whole(env_factory, caplog):
    env = env_factory("fake")
    env.config_path.write_text(env.config_text + '[[source]]\nprefix = "198.18.1.0/24"\n'
                               'action = "deny"\n')
    env.start()
    c = env.client()
    c.set_sources(SourceRule("deny", "198.18.9.0/24"))
    c.set_limits(rexmtlimit=1)
    digest = env.ctl.sources().digest()
    env.stop_all()
    saved = env.state_dir / runconfig.sources_file_name(digest)
    saved.write_bytes(saved.read_bytes().replace(b"198.18.9.0", b"198.18.8.0"))
    caplog.set_level(logging.INFO, logger="synwalld")
    env.start()
    c = env.client()
    assert [r.line() for r in c.sources()] == ["deny 198.18.1.0/24"]
    assert c.limits().rexmtlimit == 3, "the whole saved state is refused, not its rules alone"
    lines = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(lines) == 1 and "sources (%s): its file does not hold the rules of SHA-256 %s" % (
        saved.name, digest) in lines[0] and "it is kept as runtime.json.corrupt" in lines[0], \
        lines


def test_a_boot_file_edit_of_a_source_rule_wins_and_is_logged(env_factory, caplog):
    boot = '[[source]]\nprefix = "198.18.1.0/24"\naction = "deny"\n'
    env = env_factory("fake")
    env.config_path.write_text(env.config_text + boot)
    env.start()
    env.client().set_sources(SourceRule("allow", "198.18.1.0/24"),
                             SourceRule("deny", "198.18.9.0/24"))
    env.stop_all()
    env.config_path.write_text(env.config_text + boot.replace("deny", "limit") + "rate = 7\n")
    caplog.set_level(logging.INFO, logger="synwalld")
    env.start()
    assert [r.line() for r in env.client().sources()] == ["limit 198.18.1.0/24 7",
                                                          "deny 198.18.9.0/24"]
    assert ("source 198.18.1.0/24 (every port): the boot file has 'limit 198.18.1.0/24 7', "
            "'deny 198.18.1.0/24' when the runtime state was saved: the boot file's value "
            "applies (the runtime value 'allow 198.18.1.0/24' is dropped)") in \
        [r.getMessage() for r in caplog.records]


def test_show_diff_and_save_of_a_small_list(capsys, env_factory):
    env = env_factory("fake")
    env.config_path.write_text(env.config_text + '[[source]]\nprefix = "198.18.1.0/24"\n'
                               'action = "deny"\n')
    env.start()
    ok(capsys, env, "source", "limit", "198.18.128.0/17", "1000")
    ok(capsys, env, "source", "allow", "2001:2::/48", "--ports", "22")
    diff = ok(capsys, env, "config", "diff")
    assert "\n+[[source]]\n+prefix = \"198.18.128.0/17\"\n+action = \"limit\"\n+rate = 1000\n" \
        in diff, diff
    assert "+ports = \"22\"\n" in diff
    ok(capsys, env, "config", "save")
    text = env.config_path.read_text()
    assert text.count("[[source]]") == 3 and "[sources]" not in text
    assert ok(capsys, env, "config", "diff") == ""
    env.stop_all()
    env.start()
    assert [r.line() for r in env.client().sources()] == [
        "deny 198.18.1.0/24", "limit 198.18.128.0/17 1000", "allow 2001:2::/48 22"]


def test_show_diff_and_save_of_a_large_list(capsys, env_factory, tmp_path):
    env = env_factory("fake").start()
    n = runconfig.SOURCES_INLINE_MAX + 500
    f = tmp_path / "big.rules"
    f.write_text("".join("deny 198.18.%d.%d/32\n" % (i // 256, i % 256) for i in range(n)))
    ok(capsys, env, "source", "load", str(f))
    digest = env.ctl.sources().digest()
    shown = ok(capsys, env, "config", "show")
    copy = env.state_dir / runconfig.sources_file_name(digest)
    assert "[[source]]" not in shown
    assert ('[sources]\n# %d source rules (%d deny, 0 allow, 0 limit), SHA-256 %s: `synwallctl '
            'source list` lists them\nfile = "%s"\n' % (n, n, digest, copy)) in shown, shown
    diff = ok(capsys, env, "config", "diff")
    assert '+file = "%s"' % copy in diff
    ok(capsys, env, "config", "save")
    saved = env.config_path.with_name("synwall.sources")
    text = env.config_path.read_text()
    assert '[sources]\n# %d source rules' % n in text and 'file = "synwall.sources"\n' in text
    assert model.SourceList.from_rules_text(saved.read_bytes(), "x") == env.ctl.sources()
    assert ok(capsys, env, "config", "diff") == ""
    assert '\nfile = "%s"\n' % saved in ok(capsys, env, "config", "show")

    # the boot file names its rules file: the next save writes the rules into it
    ok(capsys, env, "source", "deny", "198.18.250.0/24")
    ok(capsys, env, "config", "save")
    assert saved.with_name("synwall.sources.bak").exists()
    assert len(model.SourceList.from_rules_text(saved.read_bytes(), "x")) == n + 1
    assert ok(capsys, env, "config", "diff") == ""
    env.stop_all()
    env.start()
    assert len(env.ctl.sources()) == n + 1 and dp_counts(env) == (n + 1, 0, 0)


def test_config_apply_replaces_the_rules_only_when_it_has_them(live):
    env = live
    c = env.client()
    c.replace_sources(RULES)
    c.apply_config("[limits]\nrexmtlimit = 1\n", "a.toml")
    assert len(env.ctl.sources()) == 4, "a config without source rules leaves them"
    c.apply_config('[[source]]\nprefix = "198.18.1.0/24"\naction = "deny"\n', "b.toml")
    assert [r.line() for r in c.sources()] == ["deny 198.18.1.0/24"]
    c.apply_config("[sources]\n", "c.toml")
    assert len(env.ctl.sources()) == 0 and dp_counts(env) == (0, 0, 0)
    with pytest.raises(SynwallError) as ei:
        c.apply_config('[[source]]\nprefix = "198.18.1.0/25"\naction = "deny"\n'
                       '[[source]]\nprefix = "198.18.1.1/25"\naction = "deny"\n', "d.toml")
    assert ei.value.field == "source[1].prefix" and ei.value.message.startswith(
        "d.toml: source[1].prefix: '198.18.1.1/25' has host bits set")
    structured = pb.RuntimeConfig(sources=pb.SourceRules(rules=[
        pb.SourceRule(action=pb.SOURCE_ACTION_LIMIT, prefix="2001:2::/48", rate=9)]))
    c.call("ApplyConfig", pb.ApplyConfigRequest(runtime=structured))
    assert [r.line() for r in c.sources()] == ["limit 2001:2::/48 9"]
    c.call("ApplyConfig", pb.ApplyConfigRequest(runtime=pb.RuntimeConfig()))
    assert len(env.ctl.sources()) == 1


def test_metrics_of_the_rules_and_a_bounded_number_of_top_talkers(env_factory):
    env = env_factory("fake", api_extra='metrics = "127.0.0.1:0"').start()
    env.client().replace_sources(RULES)
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % env.daemon.metrics_port,
                                  timeout=5).read().decode()
    assert 'synwall_source_rules{action="deny"} 2.0' in text
    assert 'synwall_source_rules{action="limit"} 1.0' in text
    assert "synwall_source_port_ranges 1.0" in text
    syns = re.findall(r'^synwall_top_source_syns\{prefix="([^"]+)"\} (\S+)$', text, re.M)
    bad = re.findall(r'^synwall_top_source_bad_cookies\{prefix="([^"]+)"\} (\S+)$', text, re.M)
    # the fake dataplane's tables have 40 sources: 10 series each, the heaviest
    assert [p for p, _ in syns] == ["198.18.200.%d/32" % i for i in range(10)], syns
    assert len(bad) == 10 and all(float(v) > 0 for _, v in bad), bad


def test_rules_and_rates_reach_the_dataplane(env_factory, dpkind):
    """The same through the real synwall-dp: its counts of what it has, its top talkers."""
    env = env_factory(dpkind).start()
    c = env.client()
    c.replace_sources("deny 198.18.200.0/24\nallow 198.18.0.5/32 22\ndeny 2001:2::/48\n"
                      "limit 198.18.128.0/17 1000 2000\n")
    assert dp_counts(env) == (3, 1, 1) and dp_status(env).source_limits == 1
    c.delete_sources(("2001:2::/48", None), ("198.18.128.0/17", None))
    assert dp_counts(env) == (2, 0, 1) and dp_status(env).source_limits == 0
    c.set_limits(syn_rate=500, reflect_rate=100)
    cfg = env.ctl.dataplane_config()
    assert (cfg.syn_rate, cfg.reflect_rate) == (500, 100)
    top = c.top_sources("syns", 5)
    assert len(top.sources) <= 5 and top.source_v4_len == 32
    c.replace_sources("")
    assert dp_counts(env) == (0, 0, 0)


def test_a_reader_lists_rules_and_top_talkers_and_changes_nothing():
    from synwall.server import Role, required_role
    for m in ("ListSources", "TopSources"):
        assert required_role("/synwall.v1.Admin/" + m) == Role.READ
    for m in ("SetSources", "DeleteSources", "ReplaceSources"):
        assert required_role("/synwall.v1.Admin/" + m) == Role.ADMIN
