"""TOML out, for the subset the boot config uses: tables of keys whose values are strings,
integers, floats, booleans, lists of those, and inline tables; arrays of tables ([[policy]]);
whole-line comments. What tomllib reads back from dumps(doc) is doc (comments aside).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class Comment(str):
    """A value that is written as a whole-line comment ("# text") where its key would be."""


def key(k: str) -> str:
    return k if _BARE_KEY.match(k) else string(k)


def string(s: str) -> str:
    # JSON's escapes are a subset of TOML's basic string escapes; DEL is the one control
    # character JSON leaves as it is and TOML does not take raw.
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def value(v: object) -> str:
    """One TOML value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError("%r has no place in a boot config" % v)
        return repr(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, Mapping):
        return "{ %s }" % ", ".join("%s = %s" % (key(k), value(x)) for k, x in v.items()) \
            if v else "{}"
    if isinstance(v, Sequence):
        return "[%s]" % ", ".join(value(x) for x in v)
    raise TypeError("%s has no TOML form" % type(v).__name__)


def _table_body(t: Mapping[str, object]) -> list[str]:
    lines: list[str] = []
    for k, v in t.items():
        if isinstance(v, Comment):
            lines.extend("# " + ln if ln else "#" for ln in v.splitlines())
        else:
            lines.append("%s = %s" % (key(k), value(v)))
    return lines


def dumps(doc: Mapping[str, Mapping[str, object] | Sequence[Mapping[str, object]]],
          header: Sequence[str] = ()) -> str:
    """doc: section name -> a table ([name]) or a list of tables ([[name]]), in order.
    header: comment lines at the top."""
    out = ["# " + ln if ln else "#" for ln in header]
    for name, section in doc.items():
        tables = [section] if isinstance(section, Mapping) else list(section)
        for t in tables:
            if out:
                out.append("")
            out.append(("[%s]" if isinstance(section, Mapping) else "[[%s]]") % key(name))
            out.extend(_table_body(t))
    return "\n".join(out) + "\n"
