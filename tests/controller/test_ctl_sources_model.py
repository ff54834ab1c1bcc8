"""Source rules as the controller checks, keeps and writes them (synwall.model), and the boot
config's [[source]] tables and [sources] file: every input refused with the field (or the
file's line) to blame and why, a list checked whole, the text the dataplane reads canonical."""

import subprocess
import sys
import textwrap

import pytest

from synwall import bootconfig, model
from synwall.errors import NotFound


def refused(fn):
    with pytest.raises(model.InvalidConfig) as ei:
        fn()
    return ei.value


def rule(action, prefix, ports=None, rate=None, burst=None):
    return model.source_rule(action, prefix, ports, rate, burst)


@pytest.mark.parametrize("text, reason", [
    ("198.18.0.5/24", "'198.18.0.5/24' has host bits set (past its length): the network is "
     "198.18.0.0/24 (one address: 198.18.0.5/32)"),
    ("2001:2::1/48", "'2001:2::1/48' has host bits set (past its length): the network is "
     "2001:2::/48 (one address: 2001:2::1/128)"),
    ("198.18.0.5", "'198.18.0.5' is not a prefix: expected ADDRESS/LENGTH of IPv4 or IPv6, like "
     "198.18.0.0/24 or 2001:2::/48 (one address: 198.18.0.5/32)"),
    ("198.18.0.0/33", "'198.18.0.0/33': an IPv4 prefix length is 0..32, not 33"),
    ("2001:2::/129", "'2001:2::/129': an IPv6 prefix length is 0..128, not 129"),
    ("198.18.0.0/255.255.0.0", "is not a prefix: expected ADDRESS/LENGTH"),
    ("198.18.0.0/+16", "is not a prefix: expected ADDRESS/LENGTH"),
    ("198.18.0.0/", "is not a prefix: expected ADDRESS/LENGTH"),
    ("198.018.0.0/16", "'198.018.0.0' is not an IPv4 or IPv6 address"),
    ("example.com/24", "'example.com' is not an IPv4 or IPv6 address"),
    ("fe80::1%eth0/64", "a scope (%eth0) is no part of a prefix"),
    ("::ffff:198.18.0.0/120", "'::ffff:198.18.0.0/120' is an IPv4-mapped IPv6 prefix, which no "
     "client sends from (IPv4 clients are looked up by their IPv4 address): write "
     "198.18.0.0/24"),
    ("::ffff:c612:5/128", "write 198.18.0.5/32"),
    (24, "expected a prefix like \"198.18.0.0/24\", got an integer (24)"),
])
def test_a_prefix_is_an_address_and_a_length_with_no_host_bits(text, reason):
    e = refused(lambda: model.parse_prefix(text, "rules[0].prefix"))
    assert e.field == "rules[0].prefix" and reason in e.reason, e.reason


def test_the_prefixes_that_are_networks():
    assert str(model.parse_prefix("198.18.0.0/15", "p")) == "198.18.0.0/15"
    assert str(model.parse_prefix("2001:0002:0000::/48", "p")) == "2001:2::/48"
    assert str(model.parse_prefix("0.0.0.0/0", "p")) == "0.0.0.0/0"
    # a prefix that holds the IPv4-mapped block is an IPv6 prefix like any other
    assert str(model.parse_prefix("::/64", "p")) == "::/64"


@pytest.mark.parametrize("parts, field, reason", [
    (("limit", "198.18.0.0/24", "80", 100), "ports", "a limit is global: it has no ports"),
    (("limit", "198.18.0.0/24"), "rate", "a limit needs its rate"),
    (("limit", "198.18.0.0/24", None, 0), "rate", "0 is out of range: 1..100000000"),
    (("limit", "198.18.0.0/24", None, 100000001), "rate", "100000001 is out of range"),
    (("limit", "198.18.0.0/24", None, 10, 0), "burst", "0 is out of range: 1..100000000"),
    (("limit", "198.18.0.0/24", None, "10"), "rate", "expected an integer"),
    (("deny", "198.18.0.0/24", None, 10), "rate", "only a limit has a rate (this rule is deny)"),
    (("allow", "198.18.0.0/24", None, None, 5), "burst", "only a limit has a burst"),
    (("deny", "198.18.0.0/24", "0"), "ports", "port 0 is out of range"),
    (("deny", "198.18.0.0/24", "90-80"), "ports", "range 90-80 is backwards"),
    (("deny", "198.18.0.0/24", "8_0"), "ports", "is not a port or a range"),
    (("deny", "198.18.0.0/24", True), "ports", "is not a port or a range"),
    (("block", "198.18.0.0/24"), "action", "'block' is not an action (deny, allow, limit)"),
])
def test_a_rule_is_checked_part_by_part(parts, field, reason):
    e = refused(lambda: model.source_rule(*parts, where="source[2]."))
    assert e.field == "source[2]." + field and reason in e.reason, (e.field, e.reason)


def test_a_limit_whose_burst_is_its_rate_is_one_rule():
    assert rule("limit", "198.18.0.0/24", rate=100, burst=100) == \
        rule("limit", "198.18.0.0/24", rate=100)
    assert rule("limit", "198.18.0.0/24", rate=100, burst=300).line() == \
        "limit 198.18.0.0/24 100 300"


def test_rules_are_keyed_by_prefix_and_ports():
    a = model.SourceList.of_rules([rule("deny", "198.18.0.0/24"),
                                   rule("allow", "198.18.0.0/24", "22")])
    assert len(a) == 2  # two lists: the global one, port 22's
    b = a.with_rules([rule("limit", "198.18.0.0/24", rate=50)])
    assert [r.line() for r in b] == ["limit 198.18.0.0/24 50", "allow 198.18.0.0/24 22"]
    assert [r.line() for r in a] == ["deny 198.18.0.0/24", "allow 198.18.0.0/24 22"], \
        "a change made a new list: the old one is as it was"
    c = b.without([model.SourceKey(model.parse_prefix("198.18.0.0/24", ""), (22, 22))])
    assert [r.line() for r in c] == ["limit 198.18.0.0/24 50"]


def test_a_batch_is_checked_whole():
    base = model.SourceList.of_rules([rule("deny", "198.18.0.0/24")])
    e = refused(lambda: base.with_rules([rule("deny", "198.18.1.0/24"),
                                         rule("allow", "198.18.1.0/24")]))
    assert e.field == "rules[1]" and "198.18.1.0/24 (every port) is rules[0] already, as " \
        "'deny 198.18.1.0/24'" in e.reason, e.reason
    # the same rule twice is once
    assert len(base.with_rules([rule("deny", "198.18.1.0/24")] * 2)) == 2
    with pytest.raises(NotFound) as ei:
        base.without([model.SourceKey(model.parse_prefix("198.18.0.0/24", "")),
                      model.SourceKey(model.parse_prefix("198.18.9.0/24", ""))])
    assert ei.value.field == "keys[1]" and "198.18.9.0/24 (every port): no such source rule" \
        in ei.value.message


def test_the_dataplanes_bounds_hold_for_the_whole_list(monkeypatch):
    ranges = [rule("deny", "198.18.0.0/24", str(p)) for p in range(1, 64)]
    full = model.SourceList.of_rules(ranges)
    assert full.counts().port_ranges == 63
    e = refused(lambda: full.with_rules([rule("allow", "198.18.9.0/24", "64")]))
    assert e.field == "rules" and "64 port ranges with lists of their own: at most 63" in \
        e.reason
    monkeypatch.setattr(model, "SOURCE_RULES_MAX", 3)
    e = refused(lambda: full.with_rules([]).with_rules([rule("deny", "198.18.1.0/24")]))
    assert "64 rules: at most 3" in e.reason
    monkeypatch.setattr(model, "SOURCE_LIMITS_MAX", 2)
    limits = [rule("limit", "198.18.%d.0/24" % i, rate=10) for i in range(3)]
    e = refused(lambda: model.SourceList.of_rules(limits))
    assert e.reason.startswith("3 limit rules: at most 2")


TEXT = b"""\
# what sources get
deny  198.18.200.0/24          # every frame from it is dropped
deny  2001:2:0:c8::/64
allow 198.18.128.0/17
allow 198.18.200.5/32 22
\tdeny 198.18.0.0/24 8000-8080\r
limit 198.19.0.0/16 1000 2000
limit 198.18.128.0/24 500 500
deny  198.18.200.0/24
"""


def test_a_rules_file_reads_into_the_canonical_text():
    lst = model.SourceList.from_rules_text(TEXT, "deny.rules")
    assert lst.to_rules_text().decode().splitlines() == [
        "deny 198.18.0.0/24 8000-8080",
        "allow 198.18.128.0/17",
        "limit 198.18.128.0/24 500",
        "deny 198.18.200.0/24",
        "allow 198.18.200.5/32 22",
        "limit 198.19.0.0/16 1000 2000",
        "deny 2001:2:0:c8::/64",
    ]
    c = lst.counts()
    assert (c.rules, c.deny, c.allow, c.limit, c.prefixes4, c.prefixes6, c.port_ranges) == \
        (7, 3, 2, 2, 6, 1, 2)
    again = model.SourceList.from_rules_text(lst.to_rules_text(), "again")
    assert again == lst and again.digest() == lst.digest()
    reordered = model.SourceList.of_rules(reversed(list(lst)))
    assert reordered.to_rules_text() == lst.to_rules_text()


@pytest.mark.parametrize("text, reason", [
    (b"deny 198.18.0.0/24\ndeny 198.18.1.7/24\n", "f: line 2: '198.18.1.7/24' has host bits "
     "set (past its length): the network is 198.18.1.0/24"),
    (b"deny 198.18.0.0/24\n\nallow 198.18.0.0/24 # no\n", "f: line 3: 198.18.0.0/24 (every "
     "port) is on line 1 already, as 'deny 198.18.0.0/24': one rule per prefix and ports"),
    (b"limit 198.18.0.0/24 10\nlimit 198.18.0.0/24 20\n", "f: line 2: 198.18.0.0/24 (every "
     "port) is on line 1 already, as 'limit 198.18.0.0/24 10'"),
    (b"block 198.18.0.0/24\n", "f: line 1: 'block' is not a rule (deny, allow, limit)"),
    (b"deny\n", "f: line 1: deny of what? (deny PREFIX [PORTS])"),
    (b"limit 198.18.0.0/24\n", "f: line 1: a limit needs its rate: limit PREFIX RATE [BURST]"),
    (b"limit 198.18.0.0/24 ten\n", "f: line 1: 'ten' is not a rate (SYNs a second)"),
    (b"limit 198.18.0.0/24 10 20 30\n", "f: line 1: '30' after the rule"),
    (b"deny 198.18.0.0/24 80 90\n", "f: line 1: '90' after the rule"),
    (b"deny 198.18.0.0/24 0-80\n", "f: line 1: port 0 is out of range: 1..65535"),
    (b"deny 198.18.0.0/24 x80\n", "f: line 1: 'x80' is not a port or a range"),
    (b"deny 198.18.0.0/24\ndeny\x0b198.18.1.0/24\n", "f: line 2: character U+000B is neither "
     "a space nor a tab"),
    (b"deny \xff198.18.0.0/24\n", "f: line 1: '\ufffd198.18.0.0/24' is not a prefix"),
    (b"deny ::ffff:198.18.0.0/112\n", "f: line 1: '::ffff:198.18.0.0/112' is an IPv4-mapped "
     "IPv6 prefix"),
    ("".join("deny 198.18.0.0/24 %d\n" % p for p in range(1, 65)).encode(),
     "f: 64 port ranges with lists of their own: at most 63"),
])
def test_a_rules_file_is_refused_whole_naming_the_line(text, reason):
    e = refused(lambda: model.SourceList.from_rules_text(text, "f", "text"))
    assert e.field == "text" and e.reason.startswith(reason), e.reason


def test_a_rules_file_past_the_dataplanes_bounds(monkeypatch):
    monkeypatch.setattr(model, "SOURCE_RULES_MAX", 2)
    e = refused(lambda: model.SourceList.from_rules_text(
        b"deny 198.18.0.0/24\ndeny 198.18.0.0/24\ndeny 198.18.1.0/24\ndeny 198.18.2.0/24\n",
        "f"))
    assert e.reason == "f: line 4: more than 2 rules"
    monkeypatch.setattr(model, "SOURCE_FILE_MAX", 10)
    assert refused(lambda: model.SourceList.from_rules_text(b"x" * 11, "f")).reason == \
        "f: more than 0 MB"


def test_the_rule_that_decides_for_a_source():
    lst = model.SourceList.from_rules_text(TEXT, "f")

    def decides(prefix):
        r = lst.covering(model.parse_prefix(prefix, ""))
        return r.line() if r else None
    assert decides("198.18.200.7/32") == "deny 198.18.200.0/24"
    assert decides("198.18.128.9/32") == "limit 198.18.128.0/24 500"  # the longest
    assert decides("198.18.130.0/24") == "allow 198.18.128.0/17"
    assert decides("198.18.0.9/32") is None  # only port 8000-8080's list has it
    assert decides("2001:2:0:c8:1::/80") == "deny 2001:2:0:c8::/64"
    assert decides("2001:2:0:c9::/64") is None


def test_pages_go_on_from_a_key_whatever_changed_meanwhile():
    lst = model.SourceList.from_rules_text(TEXT, "f")
    first, more = lst.page(None, 3)
    assert more and [r.line() for r in first] == [
        "deny 198.18.0.0/24 8000-8080", "allow 198.18.128.0/17", "limit 198.18.128.0/24 500"]
    changed = lst.without([first[-1].key])
    rest, more = changed.page(first[-1].key, 100)
    assert not more and [r.line() for r in rest][:1] == ["deny 198.18.200.0/24"]


def test_the_merge_at_start_goes_key_by_key():
    def lst(*lines):
        return model.SourceList.from_rules_text("\n".join(lines), "f")
    base = lst("deny 198.18.1.0/24", "deny 198.18.2.0/24")
    boot = lst("deny 198.18.1.0/24", "allow 198.18.2.0/24", "deny 198.18.3.0/24")
    saved = lst("deny 198.18.1.0/24", "limit 198.18.2.0/24 10", "deny 198.18.9.0/24")
    merged, changed = model.SourceList.merge(boot, base, saved)
    assert [r.line() for r in merged] == ["deny 198.18.1.0/24", "allow 198.18.2.0/24",
                                          "deny 198.18.3.0/24", "deny 198.18.9.0/24"]
    assert [(k.text(), o and o.line(), b and b.line(), r and r.line())
            for k, o, b, r in changed] == [
        ("198.18.2.0/24", "deny 198.18.2.0/24", "allow 198.18.2.0/24", "limit 198.18.2.0/24 10"),
        ("198.18.3.0/24", None, "deny 198.18.3.0/24", None)]
    assert model.SourceList.merge(base, base, saved) == (saved, [])


# --- the boot config ---------------------------------------------------------------------

def parse(text, tmp_path=None, source="t.toml"):
    return bootconfig.parse(textwrap.dedent(text), source, tmp_path)


def test_boot_config_sources_from_tables_and_a_file(tmp_path):
    (tmp_path / "deny.rules").write_bytes(TEXT)
    b = parse("""
        [sources]
        file = "deny.rules"

        [[source]]
        prefix = "198.18.64.0/18"
        action = "limit"
        rate = 100
        burst = 200

        [[source]]
        prefix = "2001:2::/48"
        action = "allow"
        ports = 443

        [[source]]
        prefix = "198.18.200.0/24"
        action = "deny"
        """, tmp_path)
    assert b.sources.file == str(tmp_path / "deny.rules")
    assert len(b.sources.from_file) == 7 and len(b.sources.tables) == 3
    assert len(b.runtime.sources) == 9  # the deny of 198.18.200.0/24 is in both, alike
    assert b.runtime.sources.get(model.SourceKey(model.parse_prefix("2001:2::/48", ""),
                                                 (443, 443))).action == "allow"


@pytest.mark.parametrize("text, key, reason", [
    ("[[source]]\nprefix = \"198.18.0.5/24\"\naction = \"deny\"\n", "source[0].prefix",
     "'198.18.0.5/24' has host bits set (past its length): the network is 198.18.0.0/24"),
    ("[[source]]\nprefix = \"198.18.0.0/24\"\n", "source[0].action",
     "missing (deny, allow, limit)"),
    ("[[source]]\naction = \"deny\"\n", "source[0].prefix", "missing"),
    ("[[source]]\nprefix = \"198.18.0.0/24\"\naction = \"deny\"\nport = 80\n", "source[0].port",
     "unknown key (source[0] has: prefix, action, ports, rate, burst)"),
    ("[[source]]\nprefix = \"198.18.0.0/24\"\naction = \"limit\"\nrate = 5\nports = \"80\"\n",
     "source[0].ports", "a limit is global"),
    ("[[source]]\nprefix = \"198.18.0.0/24\"\naction = \"deny\"\n"
     "[[source]]\nprefix = \"198.18.0.0/24\"\naction = \"allow\"\n", "source[1]",
     "198.18.0.0/24 (every port) is source[0] already, as 'deny 198.18.0.0/24'"),
    ("source = 3\n", "source", "expected an array of tables ([[source]]), got an integer"),
    ("[sources]\nfile = \"\"\n", "sources.file", "'' names no file"),
    ("[sources]\nfiles = \"x\"\n", "sources.files", "unknown key (sources has: file)"),
    ("[limits]\nsyn_rate = 100000001\n", "limits.syn_rate",
     "100000001 is out of range: 0..100000000"),
    ("[limits]\nreflect_burst = -1\n", "limits.reflect_burst", "-1 is out of range"),
    ("[limits]\nsyn_burst = true\n", "limits.syn_burst", "expected an integer"),
])
def test_boot_config_source_errors_name_the_file_and_key(text, key, reason):
    with pytest.raises(bootconfig.BootConfigError) as ei:
        parse(text)
    e = ei.value
    assert e.key == key and reason in e.reason, str(e)
    assert str(e).startswith("t.toml: %s: " % key)


def test_boot_config_sources_file_errors_name_its_line(tmp_path):
    (tmp_path / "deny.rules").write_text("deny 198.18.0.0/24\nallow 198.18.1.1/24\n")
    with pytest.raises(bootconfig.BootConfigError) as ei:
        parse('[sources]\nfile = "deny.rules"\n', tmp_path)
    assert str(ei.value) == (
        "t.toml: sources.file: %s: line 2: '198.18.1.1/24' has host bits set (past its "
        "length): the network is 198.18.1.0/24 (one address: 198.18.1.1/32)"
        % (tmp_path / "deny.rules"))
    with pytest.raises(bootconfig.BootConfigError) as ei:
        parse('[sources]\nfile = "nope.rules"\n', tmp_path)
    assert str(ei.value) == "t.toml: sources.file: %s: cannot read: No such file or directory" \
        % (tmp_path / "nope.rules")
    (tmp_path / "deny.rules").write_text("deny 198.18.0.0/24\n")
    with pytest.raises(bootconfig.BootConfigError) as ei:
        parse('[sources]\nfile = "deny.rules"\n[[source]]\nprefix = "198.18.0.0/24"\n'
              'action = "allow"\n', tmp_path)
    assert str(ei.value) == ("t.toml: source[0]: 198.18.0.0/24 (every port) is in sources.file "
                             "already, as 'deny 198.18.0.0/24': one rule per prefix and ports")


def test_synwalld_check_reads_the_sources_file(tmp_path):
    rules = tmp_path / "deny.rules"
    rules.write_text("deny 198.18.0.0/24\nlimit 198.18.1.0/24\n")
    p = tmp_path / "t.toml"
    p.write_text('[dataplane]\nbinary = "%s"\noutside = "net_null0"\ninside = "net_null1"\n'
                 '[sources]\nfile = "deny.rules"\n' % sys.executable)
    r = subprocess.run([sys.executable, "-m", "synwall.daemon", "--check", "-c", str(p)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and r.stderr == (
        "synwalld: %s: sources.file: %s: line 2: a limit needs its rate: limit PREFIX RATE "
        "[BURST]\n" % (p, rules)), r
    rules.write_text("deny 198.18.0.0/24\nlimit 198.18.1.0/24 100\n")
    r = subprocess.run([sys.executable, "-m", "synwall.daemon", "--check", "-c", str(p)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r


def test_a_config_sent_through_the_api_names_no_sources_file():
    running = parse("")
    with pytest.raises(bootconfig.BootConfigError) as ei:
        bootconfig.parse_runtime('[sources]\nfile = "/etc/passwd"\n', "new.toml", running,
                                 running.dataplane.start_limits)
    assert ei.value.key == "sources.file" and "names a file on the appliance" in str(ei.value)
    assert "use `synwallctl source load FILE`" in str(ei.value)
    rf = bootconfig.parse_runtime('[[source]]\nprefix = "198.18.0.0/24"\naction = "deny"\n',
                                  "new.toml", running, running.dataplane.start_limits)
    assert rf.sources_given and [r.line() for r in rf.runtime.sources] == ["deny 198.18.0.0/24"]
    rf = bootconfig.parse_runtime("[sources]\n", "new.toml", running,
                                  running.dataplane.start_limits)
    assert rf.sources_given and len(rf.runtime.sources) == 0  # an empty list, said so
    rf = bootconfig.parse_runtime("[limits]\nsyn_rate = 5\n", "new.toml", running,
                                  running.dataplane.start_limits)
    assert not rf.sources_given and rf.runtime.limits.syn_rate == 5
