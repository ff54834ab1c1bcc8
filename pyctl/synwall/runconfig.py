"""The running config: what synwalld and its dataplane run, as the boot file and the saved
runtime state make it at start, and as a boot file again (config show, save, diff).

Running config = the boot file + the runtime changes made through the API since (policies,
limits, source rules, the key schedule). Every accepted change is saved in the state
directory (runtime.json, keys.json) before the API answers, together with the boot file's
values at that moment (its "base"). At start the three are merged value by value (each
limit, each port's policy, each source rule by its prefix and ports, each key-schedule
setting):

- the boot file's value differs from its base (the file was edited since the state was
  saved): the boot file's value applies, and a line in the log says so (and which runtime
  value it replaces, if there was one);
- otherwise the saved runtime value applies (it is the boot file's own where no runtime
  change was made).

A saved state without a base (written before bases were recorded) applies as it was saved.
A merge that is not a valid config as a whole (a runtime cachelimit above a hashsize the
boot file lowered, syncookies_only kept while the boot file turned syncookies off) is
dropped whole, with a log line: the boot file alone applies. A saved state that cannot be
read or is not valid is refused with one log line and set aside: the boot file alone applies.

Source rules are not in runtime.json, which a list of a million would make 25 MB of JSON
to rewrite at every change of a limit: each list (the running one, the base) is a file of
rules in the state directory, in the dataplane's own form, named by the SHA-256 of its rules
(sources-<sha256>.rules), and runtime.json names it by that digest with its count. A file is
written whole (synwall.durable) before the runtime.json that names it, and a name is only
ever given to one content: whatever moment the machine stops, runtime.json names files that
hold exactly what it says (older ones are removed once no runtime.json names them). A
saved list whose file is missing or does not match its digest makes the state refused as a
whole, as any unusable state is. Large lists are shown and saved in the file form too
(`[sources] file`, SOURCES_INLINE_MAX).

A master secret is never shown: rendered for show and diff it is a comment with its
fingerprint; only the boot file that `config save` writes holds it, and only when the boot
file does not name the file it comes from (master_secret_file, kept as it is).
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from synwall import bootconfig, model
from synwall import keys as keysched
from synwall.tomlwriter import Comment, dumps, value

Table = dict[str, Any]
MAX_POLICY_NOTES = 20
# A source list of more rules than this is shown and saved as a [sources] file, not as
# [[source]] tables (the rules file has a line a rule; a table is four).
SOURCES_INLINE_MAX = 1000
V = TypeVar("V")


# --- the key schedule as configured ------------------------------------------------------

@dataclass(frozen=True)
class KeyParams:
    """What [keys] says: the schedule, with the master secret itself (None: random)."""
    rotation_interval: int
    max_clock_skew: int
    master: bytes | None

    @classmethod
    def of_section(cls, k: bootconfig.KeysSection) -> KeyParams:
        return cls(k.rotation_interval, k.max_clock_skew, k.master_secret)

    @classmethod
    def of_schedule(cls, ks: keysched.KeySchedule) -> KeyParams:
        return cls(ks.interval, ks.skew, ks.master)

    @property
    def master_fingerprint(self) -> str | None:
        return keysched.fingerprint(self.master) if self.master is not None else None

    def record(self) -> KeyRecord:
        return KeyRecord(self.rotation_interval, self.max_clock_skew, self.master_fingerprint)


@dataclass(frozen=True)
class KeyRecord:
    """A key schedule as the state files record a boot file's: the master by fingerprint."""
    rotation_interval: int
    max_clock_skew: int
    master_fingerprint: str | None

    def to_json(self) -> dict[str, Any]:
        return {"rotation_interval": self.rotation_interval,
                "max_clock_skew": self.max_clock_skew,
                "master_fingerprint": self.master_fingerprint}

    @classmethod
    def from_json(cls, v: object) -> KeyRecord:
        if not isinstance(v, dict):
            raise ValueError("boot: expected an object")
        interval, skew, fp = v["rotation_interval"], v["max_clock_skew"], v["master_fingerprint"]
        if not (isinstance(interval, int) and isinstance(skew, int)
                and (fp is None or isinstance(fp, str))):
            raise ValueError("boot: a rotation interval, a skew and a fingerprint expected")
        return cls(interval, skew, fp)


# --- the saved runtime state (runtime.json) ----------------------------------------------

STATE_FORMAT = 3
SOURCES_HEADER = (b"# synwalld's saved source rules: runtime.json names this file by the SHA-256 "
                  b"of the lines after this one. Not to be edited.\n")


def sources_file_name(digest: str) -> str:
    return "sources-%s.rules" % digest


def sources_record(sources: model.SourceList) -> dict[str, Any]:
    """What runtime.json says of a source list: its count and digest (its file's name)."""
    return {"rules": len(sources), "sha256": sources.digest() if len(sources) else ""}


def sources_file_data(sources: model.SourceList) -> bytes:
    return SOURCES_HEADER + sources.to_rules_text()


def read_sources_file(data: bytes, record: object, where: str) -> model.SourceList:
    """The list of a sources file, which must be the one record (sources_record's) names;
    ValueError saying why not."""
    if not isinstance(record, dict) or set(record) != {"rules", "sha256"} or \
            not isinstance(record["rules"], int) or not isinstance(record["sha256"], str):
        raise ValueError("%s: expected {\"rules\": N, \"sha256\": DIGEST}" % where)
    if not data.startswith(SOURCES_HEADER):
        raise ValueError("%s: its file is not one synwalld wrote" % where)
    body = data[len(SOURCES_HEADER):]
    if hashlib.sha256(body).hexdigest() != record["sha256"]:
        raise ValueError("%s: its file does not hold the rules of SHA-256 %s"
                         % (where, record["sha256"]))
    sources = model.SourceList.from_rules_text(body, where)
    if len(sources) != record["rules"]:
        raise ValueError("%s: %d rules, not the %d recorded" % (where, len(sources),
                                                               record["rules"]))
    sources.known_text(body, record["sha256"])  # synwalld wrote it: the canonical text
    return sources


SourcesLoader = Callable[[object, str], model.SourceList]


def runtime_state(running: model.RuntimeConfig, base: model.RuntimeConfig) -> dict[str, Any]:
    """runtime.json: the running runtime config (at the top, as before bases were recorded)
    and the boot file's, which it is measured against at the next start. The source lists
    by their records: their files are the caller's to write first."""
    d = model.to_json(running)
    d["sources"] = sources_record(running.sources)
    d["format"] = STATE_FORMAT
    d["boot"] = model.to_json(base)
    d["boot"]["sources"] = sources_record(base.sources)
    return d


def read_runtime_state(v: object, load_sources: SourcesLoader, boot_sources: model.SourceList
                       ) -> tuple[model.RuntimeConfig, model.RuntimeConfig | None]:
    """(running, base or None) of runtime.json's content; model.InvalidConfig (a ValueError)
    naming what is wrong, KeyError, TypeError. load_sources(record, where): the list a
    sources record names (ValueError if it cannot be had). A state saved before source rules
    were recorded has the boot file's (boot_sources), as running and as base."""
    running = model.from_json(v)
    assert isinstance(v, dict)  # from_json checked it
    base = model.from_json(v["boot"], "boot.") if "boot" in v else None
    if "sources" in v:
        running.sources = load_sources(v["sources"], "sources")
        if base is not None:
            base.sources = load_sources(v["boot"]["sources"], "boot.sources")
    else:
        running.sources = boot_sources
        if base is not None:
            base.sources = boot_sources
    return running, base


# --- the merge at start ------------------------------------------------------------------

def _note(what: str, base: str, boot: str, running: str | None) -> str:
    text = ("%s: the boot file has %s, %s when the runtime state was saved: the boot file's "
            "value applies" % (what, boot, base))
    if running is not None:
        text += " (the runtime value %s is dropped)" % running
    return text


def _merge_value(what: str, boot: V, base: V, saved: V, fmt: Callable[[V], str],
                 notes: list[str]) -> V:
    if boot == base:
        return saved
    notes.append(_note(what, fmt(base), fmt(boot),
                       fmt(saved) if saved not in (base, boot) else None))
    return boot


def limit_text(name: str, v: object) -> str:
    if name == "cachelimit" and v is None:
        return "the default (hashsize x bucketlimit)"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def slot_text(slot: model.Slot) -> str:
    mode, prof, idle = slot
    extra = []
    for k in ("mss", "wscale"):
        if getattr(prof, k) is not None:
            extra.append("%s %d" % (k, getattr(prof, k)))
    for k in ("window_scaling", "sack", "timestamps"):
        if getattr(prof, k) is not None:
            extra.append("%s %s" % (k, "on" if getattr(prof, k) else "off"))
    if idle is not None:
        extra.append("idle_timeout %d" % idle)
    return mode.value + (" (%s)" % ", ".join(extra) if extra else "")


def merge_runtime(boot: model.RuntimeConfig, base: model.RuntimeConfig | None,
                  saved: model.RuntimeConfig) -> tuple[model.RuntimeConfig, list[str]]:
    """The module's rule: (the merged runtime config, a log line per boot-file value that
    changed since the save). base None: the saved config as it is."""
    if base is None:
        return saved.copy(), []
    notes: list[str] = []
    values = {}
    for name in model.RUNTIME_LIMITS:
        def fmt(v: object, n: str = name) -> str:
            return limit_text(n, v)
        values[name] = _merge_value(
            "limits." + name, getattr(boot.limits, name), getattr(base.limits, name),
            getattr(saved.limits, name), fmt, notes)
    slots: list[model.Slot] = [boot.policies.get(0)]
    changed: list[tuple[int, model.Slot, model.Slot, model.Slot]] = []
    for port in range(1, model.PORT_MAX + 1):
        b, o, r = boot.policies.get(port), base.policies.get(port), saved.policies.get(port)
        if b == o:
            slots.append(r)
        else:
            slots.append(b)
            changed.append((port, o, b, r))
    ranges = _runs(changed)
    for lo, hi, o, b, r in ranges[:MAX_POLICY_NOTES]:
        ports = str(lo) if lo == hi else "%d-%d" % (lo, hi)
        notes.append(_note("policy %s" % ports, slot_text(o), slot_text(b),
                           slot_text(r) if r not in (o, b) else None))
    if len(ranges) > MAX_POLICY_NOTES:
        notes.append("policy: and %d more port ranges the boot file changed since the runtime "
                     "state was saved, where it applies" % (len(ranges) - MAX_POLICY_NOTES))
    sources, changed_sources = model.SourceList.merge(boot.sources, base.sources, saved.sources)
    for key, was, now, kept in changed_sources[:MAX_POLICY_NOTES]:
        notes.append(_note("source %s" % key.describe(), rule_text(was), rule_text(now),
                           rule_text(kept) if kept not in (was, now) else None))
    if len(changed_sources) > MAX_POLICY_NOTES:
        notes.append("source: and %d more source rules the boot file changed since the runtime "
                     "state was saved, where it applies" % (len(changed_sources)
                                                           - MAX_POLICY_NOTES))
    return model.RuntimeConfig(model.Limits(**values), model.PolicyTable(slots),
                               sources), notes


def rule_text(r: model.SourceRule | None) -> str:
    return "no rule" if r is None else repr(r.line())


def _runs(changed: Iterable[tuple[int, V, V, V]]) -> list[tuple[int, int, V, V, V]]:
    """Consecutive ports with the same (base, boot, saved) as ranges."""
    out: list[tuple[int, int, V, V, V]] = []
    for port, o, b, r in changed:
        if out and out[-1][1] == port - 1 and out[-1][2:] == (o, b, r):
            lo = out[-1][0]
            out[-1] = (lo, port, o, b, r)
        else:
            out.append((port, port, o, b, r))
    return out


def merge_keys(boot: KeyParams, base: KeyRecord | None,
               saved: KeyParams) -> tuple[KeyParams, list[str]]:
    """The same rule for the key schedule (the master secret compared by fingerprint)."""
    if base is None:
        return saved, []
    notes: list[str] = []
    interval = _merge_value("keys.rotation_interval", boot.rotation_interval,
                            base.rotation_interval, saved.rotation_interval,
                            lambda v: "%d s" % v, notes)
    skew = _merge_value("keys.max_clock_skew", boot.max_clock_skew, base.max_clock_skew,
                        saved.max_clock_skew, lambda v: "%d s" % v, notes)

    def master_text(fp: str | None) -> str:
        return "no master secret (random secrets)" if fp is None else \
            "the master secret %s" % fp
    if boot.master_fingerprint == base.master_fingerprint:
        master = saved.master
    else:
        notes.append(_note("keys.master_secret", master_text(base.master_fingerprint),
                           master_text(boot.master_fingerprint),
                           master_text(saved.master_fingerprint)
                           if saved.master_fingerprint not in (base.master_fingerprint,
                                                               boot.master_fingerprint)
                           else None))
        master = boot.master
    return KeyParams(interval, skew, master), notes


# --- the running config as a boot file ----------------------------------------------------

def limits_table(lim: model.Limits) -> Table:
    t: Table = {}
    for name in model.RUNTIME_LIMITS:
        v = getattr(lim, name)
        if v is not None:
            t[name] = v
    return t


def policy_tables(table: model.PolicyTable) -> list[Table]:
    out = []
    for p in table.ranges():
        t: Table = {"ports": p.ports, "mode": p.mode.value}
        if not p.profile.is_default():
            t["profile"] = {k: getattr(p.profile, k) for k in bootconfig.PROFILE_KEYS
                            if getattr(p.profile, k) is not None}
        if p.idle_timeout is not None:
            t["idle_timeout"] = p.idle_timeout
        out.append(t)
    return out


def source_table(r: model.SourceRule) -> Table:
    t: Table = {"prefix": str(r.network), "action": r.action.value}
    if r.ports is not None:
        lo, hi = r.ports
        t["ports"] = str(lo) if lo == hi else "%d-%d" % (lo, hi)
    if r.rate is not None:
        t["rate"] = r.rate
    if r.burst is not None:
        t["burst"] = r.burst
    return t


def sources_comment(sources: model.SourceList) -> Comment:
    return Comment("%s, SHA-256 %s: `synwallctl source list` lists them"
                   % (sources.counts().text(), sources.digest()))


def sources_tables(sources: model.SourceList, boot: bootconfig.SourcesSection,
                   copy_path: Callable[[model.SourceList], str]
                   ) -> tuple[list[Table], Table | None]:
    """([[source]] tables, [sources] table or None) of a source list: the boot file's own
    form where the list is the boot file's; else tables, or for more than SOURCES_INLINE_MAX
    rules a [sources] file: copy_path(sources), a file that holds exactly them."""
    if sources == boot.rules:
        tables = [source_table(r) for r in boot.tables]
        if boot.file is None:
            return tables, None
        return tables, {"rules": sources_comment(sources), "file": boot.file}
    if len(sources) <= SOURCES_INLINE_MAX:
        return [source_table(r) for r in sources], None
    return [], {"rules": sources_comment(sources), "file": copy_path(sources)}


def hidden_master(master: bytes) -> Comment:
    return Comment("master_secret: not shown (fingerprint %s); `synwallctl config save` "
                   "writes it into the boot file" % keysched.fingerprint(master))


def keys_table(k: KeyParams, master_file: str | None, file_master: bytes | None) -> Table:
    """[keys] of k: the master secret by its file when master_file holds it (file_master),
    else hidden."""
    t: Table = {"rotation_interval": k.rotation_interval, "max_clock_skew": k.max_clock_skew}
    if k.master is not None:
        if master_file is not None and file_master == k.master:
            t["master_secret_file"] = master_file
        else:
            t["master_secret"] = hidden_master(k.master)
    return t


def render(dataplane: bootconfig.DataplaneSection, runtime: model.RuntimeConfig,
           keys: KeyParams, boot_keys: bootconfig.KeysSection,
           api: bootconfig.ApiSection, boot_sources: bootconfig.SourcesSection,
           copy_path: Callable[[model.SourceList], str]) -> str:
    """A boot file that, given to synwalld, runs this config (every key written out, paths
    as resolved; the master secret hidden unless boot_keys names the file it is in; the
    source rules as sources_tables() writes them)."""
    doc: dict[str, Table | list[Table]] = {
        "dataplane": bootconfig.dataplane_table(dataplane),
        "limits": limits_table(runtime.limits),
        "policy": policy_tables(runtime.policies),
    }
    tables, sources = sources_tables(runtime.sources, boot_sources, copy_path)
    doc["source"] = tables
    if sources is not None:
        doc["sources"] = sources
    doc["keys"] = keys_table(keys, boot_keys.master_secret_file, boot_keys.master_secret)
    doc["api"] = bootconfig.api_table(api)
    return dumps(doc)


def render_boot(boot: bootconfig.BootConfig) -> str:
    """The boot config as render() writes a running one, for a diff of the two."""
    return render(boot.dataplane, boot.runtime, KeyParams.of_section(boot.keys), boot.keys,
                  boot.api, boot.sources, lambda _: "")


# --- config save: the running config into the boot file -----------------------------------

class SaveRefused(ValueError):
    """The boot file cannot take the running config (its message says why); nothing was
    written."""


def _file_secret(path_text: object, base: Path) -> bytes | None:
    if not isinstance(path_text, str):
        return None
    p = Path(path_text) if Path(path_text).is_absolute() else base / path_text
    try:
        return bytes.fromhex(p.read_text().strip())
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class SavedSources:
    """A file of source rules that `config save` writes beside the boot file (path, as
    resolved) before the boot file that names it (name, as the boot file writes it)."""
    path: Path
    name: str
    data: bytes


def _file_sources(path: Path) -> model.SourceList | None:
    try:
        with open(path, "rb") as f:
            return model.SourceList.from_rules_text(f.read(model.SOURCE_FILE_MAX + 1),
                                                    str(path))
    except (OSError, ValueError):
        return None


def saved_sources(doc: Table, source: str, sources: model.SourceList
                  ) -> tuple[list[Table], Table | None, SavedSources | None]:
    """How `config save` writes the running source rules: into the file the boot file's
    [sources] names, if it does (its own layout: the file the operator keeps them in);
    else as [[source]] tables up to SOURCES_INLINE_MAX rules; else into a new file beside
    the boot file, BOOTNAME.sources. ([[source]] tables, [sources] table, the file to write:
    None when the file holds them already)."""
    found = doc.get("sources")
    named = found.get("file") if isinstance(found, dict) else None
    if not isinstance(named, str) or not named:
        if len(sources) <= SOURCES_INLINE_MAX:
            return [source_table(r) for r in sources], None, None
        named = Path(source).stem + ".sources"
    path = Path(named) if Path(named).is_absolute() else Path(source).parent / named
    table: Table = {"rules": sources_comment(sources), "file": named}
    if _file_sources(path) == sources:
        return [], table, None
    data = ("# synwall source rules of %s, written by `synwallctl config save` (the file "
            "before is %s.bak)\n" % (Path(source).name, path.name)).encode() + \
        sources.to_rules_text()
    return [], table, SavedSources(path, named, data)


def saved_boot_text(text: str, source: str, runtime: model.RuntimeConfig,
                    keys: KeyParams, header: list[str]) -> tuple[str, bool, SavedSources | None]:
    """The boot file text `config save` writes: the file's own [dataplane] and [api] tables
    as they are (the start-time keys and the paths the running config does not cover), the
    running [limits], [[policy]], source rules (saved_sources) and [keys]. (text, whether it
    holds a master secret inline, the sources file to write first or None.) SaveRefused when
    the file is not TOML or holds what a boot file cannot."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SaveRefused("%s: not valid TOML: %s" % (source, e)) from None
    found = doc.get("keys")
    file_keys: Table = found if isinstance(found, dict) else {}
    keys_t: Table = {"rotation_interval": keys.rotation_interval,
                     "max_clock_skew": keys.max_clock_skew}
    inline = False
    if keys.master is not None:
        named = file_keys.get("master_secret_file")
        if named is not None and _file_secret(named, Path(source).parent) == keys.master:
            keys_t["master_secret_file"] = named
        else:
            keys_t["master_secret"] = keys.master.hex()
            inline = True
    out: dict[str, Table | list[Table]] = {}
    if "dataplane" in doc:
        out["dataplane"] = doc["dataplane"]
    out["limits"] = limits_table(runtime.limits)
    out["policy"] = policy_tables(runtime.policies)
    tables, sources_t, written = saved_sources(doc, source, runtime.sources)
    out["source"] = tables
    if sources_t is not None:
        out["sources"] = sources_t
    out["keys"] = keys_t
    if "api" in doc:
        out["api"] = doc["api"]
    try:
        return dumps(out, header), inline, written
    except (TypeError, ValueError) as e:
        raise SaveRefused("%s: %s" % (source, e)) from None


# --- start-time settings ------------------------------------------------------------------

@dataclass(frozen=True)
class PendingRestart:
    """A start-time setting whose running value is not the boot file's: it takes effect when
    the dataplane restarts. Values as TOML text ("(not set)" for an absent key)."""
    key: str
    running: str
    boot: str


def _toml_text(v: object) -> str:
    return "(not set)" if v is None else value(v)


def pending_restarts(running: bootconfig.DataplaneSection,
                     boot: bootconfig.DataplaneSection) -> list[PendingRestart]:
    have, want = bootconfig.dataplane_table(running), bootconfig.dataplane_table(boot)
    out = []
    for k in bootconfig.DATAPLANE_KEYS:
        if k in bootconfig.CONTROLLER_DATAPLANE_KEYS:
            continue
        if have.get(k) != want.get(k):
            out.append(PendingRestart("dataplane." + k, _toml_text(have.get(k)),
                                      _toml_text(want.get(k))))
    return out
