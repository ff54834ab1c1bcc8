"""synwallctl's habits of an appliance's CLI: errors as one JSON object under --json (every
kind, with the exit status it has without); every command's actions listed in its --help
with a line each; `stats` as netstat -s says it (a phrase per counter, singular for 1, none
of the dataplane's counters left as a raw name); `syncache dump` with each entry's age and,
limited, how many there are; server reflection v1 beside v1alpha."""

import argparse
import json
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_reflection.v1alpha import reflection_pb2

from synwall import cli, server
from synwall.client import Counters, LcoreCounters
from tests.controller import fakedp
from tests.controller.ctlharness import af_packet_ports
from tests.traffic.pktutil import syn

REPO = Path(__file__).resolve().parents[2]
CTL = Path(sys.executable).parent / "synwallctl"


@pytest.fixture
def live(env_factory):
    env = env_factory("fake")
    env.config_path.write_text(env.config_text + textwrap.dedent("""
        [[policy]]
        ports = "80"
        mode = "proxy"
        """))
    return env.start()


def run(capsys, *args):
    """synwallctl in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    rc = cli.main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


# --- errors under --json ----------------------------------------------------------------

def json_error(capsys, status, *args):
    """The command fails with `status` and one JSON error object on stdout, nothing on
    stderr; without --json, the same status and the message as the one stderr line."""
    rc, out, err = run(capsys, "--json", *args)
    assert rc == status and err == "", (args, rc, out, err)
    assert out.count("\n") == 1, out  # one line: a JSON-lines reader (top --json) takes it too
    doc = json.loads(out)
    assert list(doc) == ["error"] and sorted(doc["error"]) == ["code", "message"], doc
    rc2, out2, err2 = run(capsys, *args)
    assert rc2 == status and out2 == "" and err2.count("\n") == 1, (args, rc2, out2, err2)
    assert err2.rstrip("\n").endswith(doc["error"]["message"]), (err2, doc)
    return doc["error"]["code"], doc["error"]["message"]


def test_errors_are_json_under_json(capsys, live, tmp_path):
    sock = ["--socket", str(live.socket_path)]
    # the server's status codes, by name
    code, msg = json_error(capsys, 1, *sock, "policy", "del", "443")
    assert code == "NOT_FOUND" and "port 443: no policy set" in msg, msg
    code, msg = json_error(capsys, 2, *sock, "policy", "set", "0", "proxy")
    assert code == "INVALID_ARGUMENT", code
    assert msg == "policy.port_lo: port 0 is out of range: 1..65535", msg
    master = tmp_path / "master.key"
    master.write_text("000102030405060708090a0b0c0d0e0f\n")
    assert run(capsys, *sock, "key", "schedule", "--master-file", str(master))[0] == 0
    code, msg = json_error(capsys, 1, *sock, "key", "rotate")
    assert code == "FAILED_PRECONDITION" and "master secret" in msg, msg
    # values this side refuses before sending anything
    code, msg = json_error(capsys, 2, *sock, "limits", "set", "bogus=1")
    assert code == "usage" and "'bogus' is not a limit" in msg, msg
    code, msg = json_error(capsys, 2, *sock, "top", "--interval", "0")
    assert code == "usage" and "--interval" in msg, msg
    # the client's own checks, with the status name the server would give
    code, msg = json_error(capsys, 2, *sock, "policy", "set", "44x", "proxy")
    assert code == "INVALID_ARGUMENT" and "44x" in msg, msg
    # argparse's usage errors, --json before or after the command
    code, msg = json_error(capsys, 2, *sock, "policy", "set", "443", "shield")
    assert code == "usage" and "invalid choice: 'shield'" in msg, msg
    code, msg = json_error(capsys, 2, *sock, "policy")
    assert code == "usage" and "required" in msg, msg
    rc, out, err = run(capsys, *sock, "status", "--json")
    assert rc == 2 and err == "" and json.loads(out)["error"]["code"] == "usage", (out, err)
    # files the command line names
    for args in (["config", "apply"], ["config", "validate"], ["source", "load"]):
        code, msg = json_error(capsys, 2, *sock, *args, str(tmp_path / "missing"))
        assert code == "file" and "No such file or directory" in msg, (args, msg)
    code, msg = json_error(capsys, 2, *sock, "key", "schedule", "--master-file",
                           str(tmp_path / "missing.key"))
    assert code == "file", code
    code, msg = json_error(capsys, 2, "--addr", "127.0.0.1:1", "--tls-ca",
                           str(tmp_path / "missing.pem"), "status")
    assert code == "file" and "missing.pem" in msg, msg
    # a synwalld nobody can reach
    code, msg = json_error(capsys, 1, "--socket", str(tmp_path / "none.sock"), "status")
    assert code == "UNAVAILABLE" and "cannot reach synwalld at unix:" in msg, msg
    # an abbreviation of --json is --json to argparse, and so here
    rc, out, err = run(capsys, *sock, "--js", "policy", "del", "443")
    assert rc == 1 and err == "" and json.loads(out)["error"]["code"] == "NOT_FOUND"
    # success under --json is as it was
    rc, out, err = run(capsys, *sock, "--json", "status")
    assert rc == 0 and "error" not in json.loads(out)


def test_json_errors_through_the_installed_command(tmp_path):
    r = subprocess.run([str(CTL), "--json", "--socket", str(tmp_path / "none.sock"), "stats"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and r.stderr == "", r
    assert json.loads(r.stdout) == {"error": {
        "code": "UNAVAILABLE", "message": "cannot reach synwalld at unix:%s: No such file or "
        "directory" % (tmp_path / "none.sock")}}
    r = subprocess.run([str(CTL), "--json", "limits", "sett"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and r.stderr == "" and \
        json.loads(r.stdout)["error"]["code"] == "usage", r


# --- help -------------------------------------------------------------------------------

def words(text):
    return " ".join(text.split())


def subparser_actions(p):
    return [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]


def walk(p, path=()):
    yield path, p
    for sa in subparser_actions(p):
        for name, sub in sa.choices.items():
            yield from walk(sub, path + (name,))


def test_every_action_is_listed_in_its_parents_help():
    top = cli.build_parser()
    checked = 0
    for path, p in walk(top):
        help_text = words(p.format_help())
        for sa in subparser_actions(p):
            listed = {c.dest: c.help for c in sa._choices_actions}
            assert set(listed) == set(sa.choices), (
                "synwallctl %s: actions without a help line: %s"
                % (" ".join(path), sorted(set(sa.choices) - set(listed))))
            for name, text in listed.items():
                assert text and text.strip(), (path, name)
                assert re.search(r"(^| )%s %s" % (re.escape(name), re.escape(words(text))),
                                 help_text), ("synwallctl %s --help does not list %s: %s"
                                              % (" ".join(path), name, text))
                checked += 1
        # positional choices (top's `sources`) are listed with their help too
        for a in p._actions:
            if a.choices and not isinstance(a, argparse._SubParsersAction) and \
                    not a.option_strings:
                assert a.help and words(a.help) in help_text, (path, a.dest)
                assert all(str(c) in help_text for c in a.choices), (path, a.dest)
    assert checked >= 35, checked  # the commands and every command's actions


def test_help_of_commands_lists_their_actions(capsys):
    for command, actions in (("policy", ["list", "set", "del"]),
                             ("source", ["deny", "allow", "limit", "list", "del", "load",
                                         "top"]),
                             ("limits", ["get", "set"]), ("key", ["status", "rotate",
                                                                  "schedule"]),
                             ("syncache", ["dump", "flush"]),
                             ("config", ["validate", "apply", "show", "diff", "save"]),
                             ("dataplane", ["restart", "upgrade"])):
        rc, out, err = run(capsys, command, "--help")
        assert rc == 0 and err == "", (command, err)
        section = out.split("actions:\n", 1)[1]
        found = re.findall(r"^    (\w+) +\S", section, re.M)
        assert found == actions, (command, found, out)
    rc, out, _ = run(capsys, "top", "--help")
    assert rc == 0 and re.search(r"^  sources +the heaviest source prefixes", out, re.M), out
    rc, out, _ = run(capsys, "--help")
    commands = re.findall(r"^    (\w+) +\S", out.split("commands:\n", 1)[1], re.M)
    assert commands == list(cli.COMMANDS), commands
    assert "exit status: 0 done; 1" in out


# --- stats as netstat -s says them ------------------------------------------------------

def dataplane_counters():
    """Every counter the dataplane reports: its X-macro list (dataplane/stats.h)."""
    names = re.findall(r'^\s*X\(\w+,\s*"([a-z0-9_.]+)"\)', (REPO / "dataplane" /
                                                          "stats.h").read_text(), re.M)
    assert len(names) > 80, names
    return names


def design_counters():
    """The counter names DESIGN.md makes a contract of."""
    sc = ("added retransmitted dupsyn dropped completed bucketoverflow cacheoverflow reset "
          "stale aborted badack unreach zonefail sendcookie recvcookie count paused").split()
    return ["syncache." + n for n in sc] + ["cookie.failed"]


def test_every_counter_has_its_phrases():
    names = dataplane_counters()
    for name in names + design_counters() + list(fakedp.COUNTERS) + fakedp.CYCLE_COUNTERS:
        assert name in cli.PHRASES, "%s would be shown by its raw name" % name
    for name, (one, many) in cli.PHRASES.items():
        assert one != many and name not in (one, many), name
        assert cli.stat_phrase(name, 1) == one
        assert cli.stat_phrase(name, 0) == many and cli.stat_phrase(name, 2) == many
    # the table's sections are the counters' groups, each counter in its own group's
    for title, lines in cli.STATS:
        assert all(n.startswith(title + ".") for n, _, _ in lines), title
    assert len(cli.PHRASES) == sum(len(lines) for _, lines in cli.STATS), "a name twice"
    # and the table's order is the dataplane's, within each group
    order = {n: i for i, n in enumerate(names)}
    for title, lines in cli.STATS:
        seen = [order[n] for n, _, _ in lines if n in order]
        assert seen == sorted(seen), title


def stats_text(capsys, counters, *flags):
    capsys.readouterr()
    cli.print_stats(counters, "--lcores" in flags)
    return capsys.readouterr().out


def test_stats_singular_for_one_plural_otherwise(capsys):
    names = ["syncache.added", "syncache.count", "cookie.failed", "proxy.flows",
             "newgroup.thing", "syncache.future"]
    total = {"syncache.added": 1, "syncache.count": 12, "cookie.failed": 0,
             "proxy.flows": 1, "newgroup.thing": 3, "syncache.future": 4}
    out = stats_text(capsys, Counters(0, names, total))
    assert out == ("syncache:\n"
                   "    1 SYN added to the syncache\n"
                   "    12 entries in the syncache now\n"
                   "    4 syncache.future\n"
                   "cookie:\n"
                   "    0 ACKs with no syncache entry and no valid cookie, dropped\n"
                   "proxy:\n"
                   "    1 flow open now\n"
                   "newgroup:\n"
                   "    3 newgroup.thing\n"), out
    lc = [LcoreCounters(1, dict(total, **{"syncache.added": 0})),
          LcoreCounters(2, {"syncache.added": 1})]
    out = stats_text(capsys, Counters(0, names, total, lc), "--lcores")
    assert out.splitlines()[0].split() == ["total", "lcore", "1", "lcore", "2"], out
    assert re.search(r"^    +1 +0 +1  SYNs added to the syncache$", out, re.M), out


def test_stats_of_the_dataplane(capsys, live):
    rc, out, err = run(capsys, "--socket", str(live.socket_path), "stats")
    assert rc == 0 and err == "", err
    data = json.loads(run(capsys, "--socket", str(live.socket_path), "--json", "stats")[1])
    lines = out.splitlines()
    sections = [line[:-1] for line in lines if not line.startswith(" ")]
    groups = {n.partition(".")[0] for n in data["total"]}
    assert sections == [t for t, _ in cli.STATS if t in groups], sections
    assert {"syncache", "cookie", "proxy", "port", "lcore", "malformed"} <= groups
    counted = [line for line in lines if line.startswith(" ")]
    assert len(counted) == len(data["total"]), "a line per counter"
    for line in counted:
        m = re.fullmatch(r"    (\d+) (\S.*)", line)
        assert m, line
        assert m.group(2) not in data["total"], "%s: a raw counter name" % line
    assert "    5 entries in the syncache now" in lines  # the fake's five
    assert "    0 ACKs with no syncache entry and no valid cookie, dropped" in lines
    assert re.search(r"^    [1-9]\d* packets received on the outside port$", out, re.M), out
    # --json as it always was: the counter names
    assert set(data) == {"time_unix_ns", "total", "lcores"}
    assert {"syncache.added", "syncache.count", "cookie.failed"} <= set(data["total"])


# --- syncache dump ----------------------------------------------------------------------

def test_syncache_dump_ages_and_total(capsys, live):
    sock = ["--socket", str(live.socket_path)]
    rc, out, err = run(capsys, *sock, "syncache", "dump")
    assert rc == 0 and err == "", err
    lines = out.splitlines()
    assert lines[0].split()[-1] == "AGE", lines[0]
    assert [line.split()[-1] for line in lines[1:-1]] == ["1.5s", "3.0s", "4.5s", "6.0s",
                                                          "7.5s"], out
    assert lines[-1] == "5 entries"
    rc, out, _ = run(capsys, *sock, "syncache", "dump", "--limit", "2", "--page-size", "1")
    lines = out.splitlines()
    assert len(lines) == 4 and lines[-1] == "showing 2 of 5 entries", out
    rc, out, _ = run(capsys, *sock, "syncache", "dump", "--limit", "0")
    assert out.splitlines()[1:] == ["showing 0 of 5 entries"], out
    rc, out, _ = run(capsys, *sock, "syncache", "dump", "--limit", "9")
    assert out.splitlines()[-1] == "5 entries", out
    doc = json.loads(run(capsys, *sock, "--json", "syncache", "dump", "--limit", "3")[1])
    assert [e["age_seconds"] for e in doc] == [1.5, 3.0, 4.5], doc
    assert doc[0]["client_addr"] == "198.18.0.1"
    doc = json.loads(run(capsys, *sock, "--json", "syncache", "dump")[1])
    assert len(doc) == 5, doc
    code, msg = json_error(capsys, 2, *sock, "syncache", "dump", "--limit", "-1")
    assert code == "usage", code
    # the API: a page, its entries' ages and the total
    c = live.client()
    page = c.syncache_page(page_size=2)
    assert len(page.entries) == 2 and page.next_page_token and page.total == 5
    assert [e.age_seconds for e in page.entries] == [1.5, 3.0]
    c.flush_syncache()
    assert c.syncache_page().total == 0
    assert run(capsys, *sock, "syncache", "dump")[1].splitlines()[-1] == "0 entries"


def test_syncache_dump_of_the_real_dataplane(env_factory, veth_factory, capsys):
    """A SYN's entry in the real dataplane: its age from the C dump as time goes by, before
    and after its first SYN-ACK retransmit, and the total."""
    o, i, to, _ = veth_factory()
    env = env_factory("real", ports=af_packet_ports(o, i),
                      extra='[[policy]]\nports = "443"\nmode = "proxy"\n').start()
    c = env.client()
    before = time.monotonic()
    to.send(bytes(syn(sport=41000, dport=443, isn=0x1234)))
    sent = time.monotonic()
    deadline = sent + 5
    while c.syncache_page().total != 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    looks = []
    for wait in (0.3, 1.0):  # before the first retransmit (1 s after), then after it
        time.sleep(wait)
        t0 = time.monotonic()
        page = c.syncache_page()
        t1 = time.monotonic()
        assert page.total == 1 and len(page.entries) == 1, page
        e = page.entries[0]
        assert e.client_isn == 0x1234 and e.client_port == 41000 and e.age_seconds is not None
        # the sweep fires a retransmit up to a period (100 ms) late: as much younger
        assert t0 - sent - 0.1 * e.retransmits - 0.05 <= e.age_seconds <= t1 - before + 0.05, \
            (e, t0 - sent, t1 - before)
        looks.append(e)
    assert looks[0].retransmits == 0 and looks[1].retransmits == 1, looks
    assert looks[1].age_seconds > looks[0].age_seconds + 0.8, looks
    rc, out, _ = run(capsys, "--socket", str(env.socket_path), "syncache", "dump", "--limit",
                     "1")
    assert rc == 0 and re.search(r" \d\.\ds$", out.splitlines()[1]), out


# --- server reflection ------------------------------------------------------------------

def v1_classes():
    server.add_reflection_v1_file()
    pool = descriptor_pool.Default()
    return tuple(message_factory.GetMessageClass(pool.FindMessageTypeByName(
        "grpc.reflection.v1." + n)) for n in ("ServerReflectionRequest",
                                              "ServerReflectionResponse"))


def reflect(channel, service, request_class, response_class, **request):
    call = channel.stream_stream("/%s/ServerReflectionInfo" % service,
                                 request_serializer=request_class.SerializeToString,
                                 response_deserializer=response_class.FromString)
    return next(call(iter([request_class(**request)]), timeout=5))


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
def test_reflection(env_factory, version):
    env = env_factory("fake").start()
    if version == "v1":
        classes = v1_classes()
    else:
        classes = (reflection_pb2.ServerReflectionRequest, reflection_pb2.ServerReflectionResponse)
    service = "grpc.reflection.%s.ServerReflection" % version
    with grpc.insecure_channel("unix:%s" % env.socket_path) as ch:
        resp = reflect(ch, service, *classes, list_services="")
        names = {s.name for s in resp.list_services_response.service}
        assert names == {"synwall.v1.Admin", "grpc.health.v1.Health",
                         "grpc.reflection.v1.ServerReflection",
                         "grpc.reflection.v1alpha.ServerReflection"}, names
        resp = reflect(ch, service, *classes, file_containing_symbol="synwall.v1.Admin")
        files = [descriptor_pb2.FileDescriptorProto.FromString(b)
                 for b in resp.file_descriptor_response.file_descriptor_proto]
        admin = next(f for f in files if f.name == "synwall/v1/admin.proto")
        assert "DumpSyncache" in [m.name for s in admin.service for m in s.method]
        syncache_entry = next(m for m in admin.message_type if m.name == "SyncacheEntry")
        assert "age_ms" in [f.name for f in syncache_entry.field]
        # the reflection service itself resolves, as v1's own file
        resp = reflect(ch, service, *classes,
                       file_containing_symbol="grpc.reflection.v1.ServerReflection")
        files = [descriptor_pb2.FileDescriptorProto.FromString(b)
                 for b in resp.file_descriptor_response.file_descriptor_proto]
        assert [f.name for f in files] == ["grpc/reflection/v1/reflection.proto"], files
        assert files[0].package == "grpc.reflection.v1"
        assert {t.split(".")[-1] for m in files[0].service[0].method
                for t in (m.input_type, m.output_type)} == {"ServerReflectionRequest",
                                                             "ServerReflectionResponse"}
        resp = reflect(ch, service, *classes, file_containing_symbol="no.such.Symbol")
        assert resp.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
