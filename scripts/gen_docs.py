"""The man pages and the bash completions, made from what they document (scripts/gen_docs.sh
runs this; tests/controller/test_ctl_docs.py checks that the committed ones are what it
makes today):

    man/synwalld.8, man/synwallctl.8   from the argparse parsers (build_parser()) by
                                       argparse-manpage, the prose around them from
                                       docs/man-src/NAME.8.include
    man/synwall.toml.5                 from docs/man-src/synwall.toml.5.toml, the boot
                                       config's keys (a test holds it to bootconfig's)
    completion/synwalld, synwallctl    from the same parsers by shtab

    python scripts/gen_docs.py OUTDIR

argparse-manpage and shtab are pinned in pyctl/pyproject.toml (extra "dev"), so the output
depends only on the parsers and docs/man-src. The pages carry no date: the day they were
made would make every run differ; their footer names the version instead.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import shtab
from argparse_manpage.manpage import Manpage

from synwall import __version__, cli, daemon

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "docs" / "man-src"
PROJECT = "synwall"
TAGLINE = "synwall, a SYN-flood defence appliance"
# Arguments that name a file: completed as file names.
FILE_METAVARS = {"FILE", "PEM", "PATH", "BINARY"}


def parsers(p: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """p and every parser below it (commands, their actions)."""
    yield p
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            for sub in dict.fromkeys(a.choices.values()):
                yield from parsers(sub)


def manpage(parser: argparse.ArgumentParser, section: int, what: str) -> str:
    # The parser's one-line description is the NAME line's here, and its epilog (the exit
    # status) a section of its own: the include file has both, at more length.
    parser.description = None
    parser.epilog = None
    page = Manpage(parser, _data={
        "project_name": PROJECT, "version": __version__, "manual_section": section,
        "manual_title": "System Manager's Manual", "description": what,
        "include": str(SRC / ("%s.%d.include" % (parser.prog, section)))})
    page.date = ""
    return str(page)


def completion(parser: argparse.ArgumentParser) -> str:
    for p in parsers(parser):
        for a in p._actions:
            if a.metavar in FILE_METAVARS:
                a.complete = shtab.FILE  # what shtab reads of an action
    return shtab.complete(parser, shell="bash", root_prefix=parser.prog)


def roff(text: str) -> str:
    """Plain text as roff: backslashes and hyphens escaped, no line taken for a request."""
    text = text.strip().replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line
                     for line in text.split("\n"))


def boot_config_page(source: Path) -> str:
    doc: dict[str, Any] = tomllib.loads(source.read_text())
    page = doc["page"]
    out = ['.TH SYNWALL.TOML "5" "" "%s %s" "File Formats Manual"' % (PROJECT, __version__),
           ".SH NAME",
           "synwall.toml \\- the boot config of synwalld, the controller of %s" % roff(TAGLINE),
           ".SH SYNOPSIS",
           ".I /etc/synwall/synwall.toml",
           ".SH DESCRIPTION",
           page["description"].strip(),
           ".SH SECTIONS AND KEYS"]
    for sec in doc["section"]:
        name = sec["name"]
        out.append(".SS %s" % ("[%s]" if sec["table"] == "table" else "[[%s]]") % name)
        out.append(roff(sec["text"]))
        for key in sec["key"]:
            detail = key["type"] + ("; default: %s" % key["default"] if key["default"] else "")
            out += [".TP", "\\fB%s\\fR (%s)" % (roff(key["name"]), roff(detail)),
                    roff(key["text"])]
    out += [".SH EXAMPLE", ".nf", page["example"].strip("\n"), ".fi",
            ".SH FILES", page["files"].strip(),
            ".SH SEE ALSO", page["see_also"].strip()]
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: gen_docs.py OUTDIR", file=sys.stderr)
        return 2
    out = Path(argv[0])
    (out / "man").mkdir(parents=True, exist_ok=True)
    (out / "completion").mkdir(parents=True, exist_ok=True)
    (out / "man" / "synwalld.8").write_text(manpage(
        daemon.build_parser(), 8, "the controller daemon of %s" % TAGLINE))
    (out / "man" / "synwallctl.8").write_text(manpage(
        cli.build_parser(), 8, "the admin CLI of %s" % TAGLINE))
    (out / "man" / "synwall.toml.5").write_text(boot_config_page(SRC / "synwall.toml.5.toml"))
    for build in (daemon.build_parser, cli.build_parser):
        parser = build()
        (out / "completion" / parser.prog).write_text(completion(parser).rstrip("\n") + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
