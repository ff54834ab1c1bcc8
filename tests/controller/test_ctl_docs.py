"""The man pages and bash completions (docs/man, docs/completion) are what
scripts/gen_docs.sh makes from the parsers and docs/man-src today; the pages render without
a warning; the completion completes commands and actions; synwall.toml(5) documents every
key the boot config accepts, and no other."""

import filecmp
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from synwall import bootconfig

REPO = Path(__file__).resolve().parents[2]
GENERATED = ["man/synwalld.8", "man/synwallctl.8", "man/synwall.toml.5",
             "completion/synwalld", "completion/synwallctl"]


def test_generated_docs_match_their_sources(tmp_path):
    r = subprocess.run(["bash", str(REPO / "scripts" / "gen_docs.sh"), str(tmp_path)],
                       capture_output=True, text=True, env={"PYTHON": sys.executable,
                                                            "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    made = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert made == sorted(GENERATED), "gen_docs.sh made %s" % made
    stale = [f for f in GENERATED
             if not filecmp.cmp(tmp_path / f, REPO / "docs" / f, shallow=False)]
    assert not stale, ("generated docs out of date (run `bash scripts/gen_docs.sh` and "
                       "commit): %s" % stale)


@pytest.mark.parametrize("page", [f for f in GENERATED if f.startswith("man/")])
def test_man_page_renders_without_warnings(page):
    for tool in ("man", "groff"):
        if shutil.which(tool) is None:
            pytest.fail("%s is not installed (man-db, groff-base)" % tool, pytrace=False)
    path = REPO / "docs" / page
    r = subprocess.run(["man", "--warnings", "-l", str(path)], capture_output=True,
                       text=True, env={"MANWIDTH": "80", "PATH": "/usr/bin:/bin",
                                       "LANG": "C.UTF-8"}, timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    name, section = path.name.rsplit(".", 1)
    assert r.stdout.startswith("%s(%s)" % (name.upper(), section)), r.stdout[:200]
    r = subprocess.run(["groff", "-ww", "-z", "-man", str(path)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_synwallctl_page_has_every_action():
    text = (REPO / "docs" / "man" / "synwallctl.8").read_text().replace("\\-", "-")
    for words in ("'synwallctl policy set'", "'synwallctl syncache dump'",
                  "'synwallctl dataplane upgrade'", "'synwallctl source top'"):
        assert ".SH COMMAND \\fI\\,%s\\/\\fR" % words in text, words
    for heading in ("EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO"):
        assert "\n.SH %s\n" % heading in text, heading


def complete(words):
    """What the committed completion offers for the last of words (bash, as on Tab)."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); '
              'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=(); '
              '_shtab_%s; printf "%%s\\n" "${COMPREPLY[@]}"' % words[0])
    r = subprocess.run(["bash", "-c", script, "bash", str(REPO / "docs" / "completion" /
                                                          words[0]), *words],
                       capture_output=True, text=True, timeout=30, cwd=REPO)
    assert r.returncode == 0, r.stderr
    return [w for w in r.stdout.split("\n") if w]


def test_bash_completion():
    assert complete(["synwallctl", "po"]) == ["ports", "policy"]
    assert complete(["synwallctl", "policy", ""]) == ["list", "set", "del"]
    assert complete(["synwallctl", "--json", "syncache", ""]) == ["dump", "flush"]
    assert complete(["synwallctl", "policy", "set", "443", ""]) == ["pass", "proxy", "cookie",
                                                                   "drop"]
    assert "--limit" in complete(["synwallctl", "syncache", "dump", "--"])
    assert complete(["synwallctl", "top", ""]) == ["sources"]
    # a file argument completes file names
    assert complete(["synwallctl", "config", "apply", "docs/man/synwall.t"]) == \
        ["docs/man/synwall.toml.5"]
    assert "--stop-dataplane" in complete(["synwalld", "--"])
    r = subprocess.run(["bash", "-c", 'source "$1"; complete -p synwallctl', "bash",
                        str(REPO / "docs" / "completion" / "synwallctl")],
                       capture_output=True, text=True, timeout=30)
    assert r.stdout.strip().endswith("-F _shtab_synwallctl synwallctl"), r


def test_boot_config_page_documents_every_key():
    doc = tomllib.loads((REPO / "docs" / "man-src" / "synwall.toml.5.toml").read_text())
    accepted = {
        "dataplane": bootconfig.DATAPLANE_KEYS, "limits": bootconfig.LIMITS_KEYS,
        "policy": bootconfig.POLICY_KEYS + tuple("profile." + k
                                                 for k in bootconfig.PROFILE_KEYS),
        "source": bootconfig.SOURCE_KEYS, "sources": bootconfig.SOURCES_KEYS,
        "keys": bootconfig.KEYS_KEYS, "api": bootconfig.API_KEYS}
    assert sorted(accepted) == sorted(bootconfig.SECTIONS)
    documented = {s["name"]: [k["name"] for k in s["key"]] for s in doc["section"]}
    assert sorted(documented) == sorted(bootconfig.SECTIONS)
    for section, keys in accepted.items():
        assert sorted(documented[section]) == sorted(keys), (
            "[%s]: undocumented %s, not accepted %s" % (
                section, sorted(set(keys) - set(documented[section])),
                sorted(set(documented[section]) - set(keys))))
        for k in next(s for s in doc["section"] if s["name"] == section)["key"]:
            assert k["text"].strip() and k["type"].strip(), (section, k["name"])
    page = (REPO / "docs" / "man" / "synwall.toml.5").read_text().replace("\\-", "-")
    for section, keys in accepted.items():
        for k in keys:
            assert "\\fB%s\\fR (" % k in page, (section, k)
