"""The boot config of synwalld (TOML): parsing and validation.

Every section and key is documented in default.toml beside this file (the embedded default
used when no file is given). Errors name the file, the key and the reason, e.g.

    /etc/synwall/synwall.toml: limits.cachelimit: 200000 is out of range: 1..122880 (...)
    /etc/synwall/synwall.toml: dataplane.hashsiz: unknown key (dataplane has: binary, eal, ...)

The runtime parts ([limits], [[policy]], [[source]], [keys]) are also what `synwallctl config
apply FILE` sends: the same parser checks them (parse_runtime). `[sources] file` names a file
of source rules, read and checked whole here (so by `synwalld --check` too).
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast, overload

from synwall import keys as keysched
from synwall import model
from synwall.errors import InvalidRequest

Table = dict[str, Any]  # a TOML table as tomllib reads it
Given = dict[str, Table]  # section -> the keys the file set in it

DEFAULT_PATH = Path("/etc/synwall/synwall.toml")
EMBEDDED_NAME = "<embedded default>"


class BootConfigError(InvalidRequest, ValueError):
    """A bad boot config: file, key and reason. synwalld exits 2 on it; a config sent to the
    API (config apply) is refused with it, the key as the field to blame."""

    def __init__(self, source: str, key: str, reason: str) -> None:
        where = "%s: %s" % (source, key) if key else source
        super().__init__("%s: %s" % (where, reason), key)
        self.source, self.key, self.reason = source, key, reason


@dataclass
class DataplaneSection:
    binary: str = ""
    eal: list[str] = field(default_factory=list)
    lcores: str | None = None
    outside: str = "0"
    inside: str = "1"
    hashsize: int = 4096
    bucketlimit: int = 30
    flows: int = 65536
    mbufs: int | None = None
    # None: not on synwall-dp's command line (its defaults: a day; 60 s)
    idle_timeout: int | None = None
    adopt_window: int | None = None
    # None: not on the command line (synwall-dp drops what it cannot parse)
    unparsed: str | None = None
    # None: not on the command line (synwall-dp's defaults: /32 and /64; a quarter of flows,
    # a quarter of the cachelimit)
    source_prefix: tuple[int, int] | None = None
    source_flows: int | None = None
    source_halfopen: int | None = None
    # None: not on the command line (synwall-dp's default: 65536 prefixes a worker)
    source_table: int | None = None
    # None: not on the command line (synwall-dp's default: the worker never sleeps)
    idle_sleep: int | None = None
    args: list[str] = field(default_factory=list)
    file_prefix: str = "synwall"
    state_dir: str = "/var/lib/synwall"
    runtime_dir: str = "/run/synwall"
    # the dataplane's tables (synwall-dp --state); None: runtime_dir/tables
    state_file: str | None = None
    start_timeout: float = 30.0

    @property
    def tables_path(self) -> Path:
        """The file the dataplane's tables live in, for the next dataplane to take over."""
        return Path(self.state_file) if self.state_file else Path(self.runtime_dir) / "tables"

    @property
    def start_limits(self) -> model.StartLimits:
        return model.StartLimits(self.hashsize, self.bucketlimit, self.flows)

    @property
    def start_options(self) -> list[tuple[str, str, str | None]]:
        """The start-time synwall-dp options these keys give: (key, option, value), None
        when the key is not set (the option is then left out: the dataplane's default)."""
        prefix = None if self.source_prefix is None else "%d,%d" % self.source_prefix
        return [(k, o, None if v is None else str(v)) for k, o, v in (
            ("idle_timeout", "--idle-timeout", self.idle_timeout),
            ("adopt_window", "--adopt-window", self.adopt_window),
            ("source_prefix", "--source-prefix", prefix),
            ("source_flows", "--source-flows", self.source_flows),
            ("source_halfopen", "--source-halfopen", self.source_halfopen),
            ("source_table", "--source-table", self.source_table),
            ("idle_sleep", "--idle-sleep", self.idle_sleep),
            ("unparsed", "--unparsed", self.unparsed))]

    @property
    def idle_default(self) -> int:
        """The idle timeout of ports whose policy sets none (what get_config reports as 0)."""
        return model.IDLE_TIMEOUT_DEFAULT if self.idle_timeout is None else self.idle_timeout


@dataclass
class KeysSection:
    rotation_interval: int = keysched.DEFAULT_INTERVAL
    master_secret: bytes | None = None
    max_clock_skew: int = keysched.DEFAULT_SKEW
    # the file master_secret was read from (master_secret_file, resolved); None: inline or none
    master_secret_file: str | None = None


@dataclass
class ApiSection:
    unix_socket: str = "/run/synwall/api.sock"
    tcp: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_client_ca: str | None = None
    # The roles of TCP clients, by their certificate's subject ("CN=name", "OU=unit"): the
    # admins; the readers (None: every certificate tls_client_ca signed that is not an admin's).
    admin_clients: list[str] = field(default_factory=list)
    read_clients: list[str] | None = None
    metrics: str | None = None
    max_watch_streams: int = 4


@dataclass(frozen=True)
class SourcesSection:
    """Where the boot file's source rules come from: the [sources] file (resolved; None:
    none) and its rules, the [[source]] tables'; `rules` is all of them
    (RuntimeConfig.sources)."""
    file: str | None = None
    from_file: model.SourceList = field(default_factory=model.SourceList)
    tables: model.SourceList = field(default_factory=model.SourceList)
    rules: model.SourceList = field(default_factory=model.SourceList)


@dataclass
class BootConfig:
    source: str
    dataplane: DataplaneSection
    runtime: model.RuntimeConfig
    keys: KeysSection
    api: ApiSection
    # which keys the file set (for comparing start-time settings on a runtime apply)
    given: Given = field(default_factory=dict)
    sources: SourcesSection = field(default_factory=SourcesSection)


# --- typed access ------------------------------------------------------------------------

T = TypeVar("T")

_TYPE_NAMES: dict[type, str] = {str: "a string", int: "an integer", bool: "true or false",
                                float: "a number", list: "a list", dict: "a table"}


_type_of = model.describe


class _Section:
    """Reads one table, checking every access; finish() refuses the keys nobody read."""

    def __init__(self, source: str, name: str, table: object, allowed: Iterable[str]) -> None:
        self.source, self.name, self.allowed = source, name, list(allowed)
        if not isinstance(table, dict):
            raise BootConfigError(source, name, "expected a table, got %s" % _type_of(table))
        self.table: Table = table
        unknown = [k for k in table if k not in self.allowed]
        if unknown:
            raise BootConfigError(source, "%s.%s" % (name, unknown[0]),
                                  "unknown key (%s has: %s)" % (name, ", ".join(self.allowed)))

    def key(self, k: str) -> str:
        return "%s.%s" % (self.name, k)

    def err(self, k: str, reason: str) -> BootConfigError:
        return BootConfigError(self.source, self.key(k), reason)

    def has(self, k: str) -> bool:
        return k in self.table

    @overload
    def get(self, k: str, typ: type[T], default: None = None) -> T | None: ...

    @overload
    def get(self, k: str, typ: type[T], default: T) -> T: ...

    def get(self, k: str, typ: type[T], default: T | None = None) -> T | None:
        if k not in self.table:
            return default
        v = self.table[k]
        ok = isinstance(v, typ) and not (typ in (int, float) and isinstance(v, bool))
        if typ is float and isinstance(v, int) and not isinstance(v, bool):
            ok, v = True, float(v)
        if not ok:
            raise self.err(k, "expected %s, got %s" % (_TYPE_NAMES[typ], _type_of(v)))
        return cast(T, v)

    def str_list(self, k: str, default: Iterable[str]) -> list[str]:
        v = self.get(k, list, None)
        if v is None:
            return list(default)
        for i, item in enumerate(v):
            if not isinstance(item, str):
                raise self.err(k, "expected a list of strings, item %d is %s"
                               % (i, _type_of(item)))
        return list(v)

    @overload
    def int_in(self, k: str, lo: int, hi: int, default: int) -> int: ...

    @overload
    def int_in(self, k: str, lo: int, hi: int, default: None) -> int | None: ...

    def int_in(self, k: str, lo: int, hi: int, default: int | None) -> int | None:
        v = self.get(k, int, None)
        if v is None:
            return default
        if not lo <= v <= hi:
            raise self.err(k, "%d is out of range: %d..%d" % (v, lo, hi))
        return v


def _wrap(source: str, e: model.InvalidConfig) -> BootConfigError:
    return BootConfigError(source, e.field, e.reason)


SECTIONS = ("dataplane", "limits", "policy", "source", "sources", "keys", "api")
DATAPLANE_KEYS = ("binary", "eal", "lcores", "outside", "inside", "hashsize", "bucketlimit",
                  "flows", "mbufs", "idle_timeout", "adopt_window", "source_prefix",
                  "source_flows", "source_halfopen", "source_table", "idle_sleep", "unparsed",
                  "args",
                  "file_prefix",
                  "state_dir", "runtime_dir", "state_file", "start_timeout")
LIMITS_KEYS = tuple(model.RUNTIME_LIMITS)
# the longest sleep of an idle worker synwall-dp takes (--idle-sleep, microseconds)
IDLE_SLEEP_MAX_US = 10000
# what synwall-dp does with frames whose TCP it cannot see (--unparsed)
UNPARSED_RULES = ("drop", "pass")
POLICY_KEYS = ("ports", "mode", "profile", "idle_timeout")
PROFILE_KEYS = ("mss", "wscale", "window_scaling", "sack", "timestamps")
SOURCE_KEYS = ("prefix", "action", "ports", "rate", "burst")
SOURCES_KEYS = ("file",)
KEYS_KEYS = ("rotation_interval", "master_secret", "master_secret_file", "max_clock_skew")
API_KEYS = ("unix_socket", "tcp", "tls_cert", "tls_key", "tls_client_ca", "admin_clients",
            "read_clients", "metrics", "max_watch_streams")
# The certificate subject attributes a client role may name.
CLIENT_ATTRS = ("CN", "OU")
# The keys whose value names a file or a folder of the appliance. The boot config may name
# files; a config sent through the API (parse_runtime) names none, and is refused before
# anything is looked at: otherwise the API would tell which files exist, and would take any
# file of 32 hex digits for a master secret. ([dataplane] eal, args, outside and inside may
# hold paths too, but are only compared, as text, with the running ones.)
PATH_KEYS: dict[str, tuple[str, ...]] = {
    "dataplane": ("binary", "state_dir", "runtime_dir", "state_file"),
    "keys": ("master_secret_file",),
    "api": ("unix_socket", "tls_cert", "tls_key", "tls_client_ca"),
    "sources": ("file",),
}

_HOSTPORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]*):(\d{1,5})$")
_PCI = re.compile(r"^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$")


def _load_toml(text: str, source: str) -> Table:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise BootConfigError(source, "", "not valid TOML: %s" % e) from None


def _top(doc: Table, source: str) -> None:
    for k in doc:
        if k not in SECTIONS:
            raise BootConfigError(source, k, "unknown section (sections: %s)"
                                  % ", ".join(SECTIONS))


def _hostport(sec: _Section, k: str) -> str | None:
    v = sec.get(k, str, None)
    if v is None or v == "":
        return None
    m = _HOSTPORT.match(v)
    if not m or not 0 <= int(m.group(2)) <= 65535:  # 0: any free port
        raise sec.err(k, "%r is not HOST:PORT (e.g. \"127.0.0.1:9090\", \"[::1]:50051\")" % v)
    return v


def _readable(sec: _Section, k: str, base: Path) -> str | None:
    v = sec.get(k, str, None)
    if v is None:
        return None
    p = Path(v) if os.path.isabs(v) else base / v
    if not p.is_file() or not os.access(p, os.R_OK):
        raise sec.err(k, "%s is not a readable file" % p)
    return str(p)


def _port_ref(sec: _Section, k: str, default: str) -> str:
    v = sec.table.get(k, default)
    if isinstance(v, int) and not isinstance(v, bool):
        v = str(v)
    if not isinstance(v, str) or not v:
        raise sec.err(k, "expected a port id, a PCI address (\"0000:03:00.0\") or a vdev "
                      "(\"net_af_packet0,iface=eth1\"), got %s" % _type_of(v))
    return v


def _parse_dataplane(doc: Table, source: str, base: Path,
                     given: Given) -> DataplaneSection:
    sec = _Section(source, "dataplane", doc.get("dataplane", {}), DATAPLANE_KEYS)
    given["dataplane"] = dict(sec.table)
    d = DataplaneSection()
    d.binary = sec.get("binary", str, "") or default_binary()
    d.eal = sec.str_list("eal", [])
    d.lcores = sec.get("lcores", str, None)
    d.outside = _port_ref(sec, "outside", "0")
    d.inside = _port_ref(sec, "inside", "1")
    if device_name(d.outside) == device_name(d.inside):
        raise sec.err("inside", "the inside port must differ from the outside port (%s)"
                      % d.outside)
    for k in model.START_LIMITS:
        if sec.has(k):
            try:
                model.check_start_limit(k, sec.table[k])
            except model.InvalidConfig as e:
                raise BootConfigError(source, sec.key(k), e.reason) from None
            setattr(d, k, sec.table[k])
    d.mbufs = sec.int_in("mbufs", 1023, 1 << 24, None)
    d.idle_sleep = sec.int_in("idle_sleep", 0, IDLE_SLEEP_MAX_US, None)
    try:
        if sec.has("idle_timeout"):
            d.idle_timeout = model.check_idle_timeout(sec.table["idle_timeout"],
                                                      sec.key("idle_timeout"))
        if sec.has("adopt_window"):
            d.adopt_window = model.check_seconds(sec.table["adopt_window"],
                                                 sec.key("adopt_window"),
                                                 model.ADOPT_WINDOW_MIN, model.ADOPT_WINDOW_MAX)
        if sec.has("source_prefix"):
            d.source_prefix = model.check_source_prefix(sec.table["source_prefix"],
                                                        sec.key("source_prefix"))
        if sec.has("source_flows"):
            d.source_flows = model.check_source_quota(sec.table["source_flows"],
                                                      sec.key("source_flows"), d.flows, "flows")
        if sec.has("source_halfopen"):
            d.source_halfopen = model.check_source_quota(
                sec.table["source_halfopen"], sec.key("source_halfopen"),
                d.hashsize * d.bucketlimit,
                "hashsize %d x bucketlimit %d" % (d.hashsize, d.bucketlimit))
        if sec.has("source_table"):
            d.source_table = model.check_source_table(sec.table["source_table"],
                                                      sec.key("source_table"))
    except model.InvalidConfig as e:
        raise _wrap(source, e) from None
    d.unparsed = sec.get("unparsed", str, None)
    if d.unparsed is not None and d.unparsed not in UNPARSED_RULES:
        raise sec.err("unparsed", "%r is not one of %s" % (d.unparsed, ", ".join(UNPARSED_RULES)))
    d.args = sec.str_list("args", [])
    d.file_prefix = sec.get("file_prefix", str, d.file_prefix)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", d.file_prefix):
        raise sec.err("file_prefix", "%r: letters, digits, '_', '.', '-' only" % d.file_prefix)
    for k in ("state_dir", "runtime_dir"):
        v = sec.get(k, str, getattr(d, k))
        setattr(d, k, str(Path(v) if os.path.isabs(v) else base / v))
    v = sec.get("state_file", str, None)
    if v is not None:
        if v == "" or v.endswith("/"):
            raise sec.err("state_file", "%r names no file" % v)
        d.state_file = str(Path(v) if os.path.isabs(v) else base / v)
    d.start_timeout = sec.get("start_timeout", float, d.start_timeout)
    if not 1 <= d.start_timeout <= 600:
        raise sec.err("start_timeout", "%g is out of range: 1..600 seconds" % d.start_timeout)
    return d


def _parse_limits(doc: Table, source: str, start: model.StartLimits | None) -> model.Limits:
    sec = _Section(source, "limits", doc.get("limits", {}), LIMITS_KEYS)
    values = {}
    for k in LIMITS_KEYS:
        if sec.has(k):
            try:
                model.check_limit(k, sec.table[k], start, "limits.")
            except model.InvalidConfig as e:
                raise _wrap(source, e) from None
            values[k] = sec.table[k]
    lim = model.Limits(**values)
    try:
        model.check_limits(lim, start, "limits.")
    except model.InvalidConfig as e:
        raise _wrap(source, e) from None
    return lim


def _parse_policies(doc: Table, source: str) -> model.PolicyTable:
    items = doc.get("policy", [])
    if not isinstance(items, list):
        raise BootConfigError(source, "policy", "expected an array of tables ([[policy]]), "
                              "got %s" % _type_of(items))
    if len(items) > model.PORT_MAX:
        raise BootConfigError(source, "policy", "%d policies: at most %d (one per port)"
                              % (len(items), model.PORT_MAX))
    table = model.PolicyTable()
    for i, item in enumerate(items):
        name = "policy[%d]" % i
        sec = _Section(source, name, item, POLICY_KEYS)
        if not sec.has("ports"):
            raise sec.err("ports", "missing (a port like \"443\" or a range like "
                          "\"8000-8080\")")
        if not sec.has("mode"):
            raise sec.err("mode", "missing (%s)" % model.Mode.names())
        try:
            lo, hi = model.parse_ports(sec.table["ports"], sec.key("ports"))
            mode = model.check_mode(sec.get("mode", str), sec.key("mode"))
        except model.InvalidConfig as e:
            raise _wrap(source, e) from None
        profile = model.DEFAULT_PROFILE
        if sec.has("profile"):
            ps = _Section(source, sec.key("profile"), sec.table["profile"], PROFILE_KEYS)
            profile = model.Profile(
                mss=ps.get("mss", int), wscale=ps.get("wscale", int),
                window_scaling=ps.get("window_scaling", bool), sack=ps.get("sack", bool),
                timestamps=ps.get("timestamps", bool))
            try:
                model.check_profile(profile, ps.name + ".")
            except model.InvalidConfig as e:
                raise _wrap(source, e) from None
        idle = None
        if sec.has("idle_timeout"):
            try:
                idle = model.check_idle_timeout(sec.table["idle_timeout"],
                                                sec.key("idle_timeout"))
            except model.InvalidConfig as e:
                raise _wrap(source, e) from None
        table.set(lo, hi, mode, profile, idle)
    return table


ReadFile = Callable[[Path], bytes]


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(model.SOURCE_FILE_MAX + 1)


def _parse_sources(doc: Table, source: str, base: Path, read_file: ReadFile) -> SourcesSection:
    """[sources] file and the [[source]] tables, checked whole: a rule of a table whose
    prefix and ports a rule of the file or of another table has, with other values, is
    refused naming both."""
    path = None
    from_file = model.SourceList()
    if "sources" in doc:
        sec = _Section(source, "sources", doc["sources"], SOURCES_KEYS)
        name = sec.get("file", str, None)
        if name is not None:
            if name == "" or name.endswith("/"):
                raise sec.err("file", "%r names no file" % name)
            path = str(Path(name) if os.path.isabs(name) else base / name)
            try:
                data = read_file(Path(path))
            except OSError as e:
                raise sec.err("file", "%s: cannot read: %s" % (path, e.strerror or e)) from None
            try:
                from_file = model.SourceList.from_rules_text(data, path)
            except model.InvalidConfig as e:
                raise sec.err("file", e.reason) from None
    items = doc.get("source", [])
    if not isinstance(items, list):
        raise BootConfigError(source, "source", "expected an array of tables ([[source]]), "
                              "got %s" % _type_of(items))
    rules = []
    for i, item in enumerate(items):
        sec = _Section(source, "source[%d]" % i, item, SOURCE_KEYS)
        for k in ("prefix", "action"):
            if not sec.has(k):
                raise sec.err(k, "missing (%s)" % ("a prefix like \"198.18.0.0/24\"" if
                                                   k == "prefix" else model.SourceAction.names()))
        try:
            rules.append(model.source_rule(sec.table["action"], sec.table["prefix"],
                                           sec.table.get("ports"), sec.table.get("rate"),
                                           sec.table.get("burst"), sec.name + "."))
        except model.InvalidConfig as e:
            raise _wrap(source, e) from None
    try:
        tables = model.SourceList.of_rules(rules, "source")
        everything = from_file.with_rules(rules, "source", "sources.file")
    except model.InvalidConfig as e:
        raise _wrap(source, e) from None
    return SourcesSection(path, from_file, tables, everything)


def _parse_keys(doc: Table, source: str, base: Path) -> KeysSection | None:
    if "keys" not in doc:
        return None
    sec = _Section(source, "keys", doc["keys"], KEYS_KEYS)
    k = KeysSection()
    k.rotation_interval = sec.int_in("rotation_interval", 1, keysched.MAX_INTERVAL,
                                     k.rotation_interval)
    k.max_clock_skew = sec.int_in("max_clock_skew", 0, keysched.MAX_SKEW,
                                  keysched.default_skew(k.rotation_interval))
    if sec.has("master_secret") and sec.has("master_secret_file"):
        raise sec.err("master_secret_file", "give master_secret or master_secret_file, not "
                      "both")
    if sec.has("master_secret"):
        k.master_secret = _hex_secret(sec, "master_secret", sec.get("master_secret", str, ""))
    elif sec.has("master_secret_file"):
        path = _readable(sec, "master_secret_file", base)
        assert path is not None  # the key is there
        k.master_secret = _hex_secret(sec, "master_secret_file",
                                      Path(path).read_text().strip(), path)
        k.master_secret_file = path
    try:
        keysched.check_schedule(k.rotation_interval, k.master_secret, k.max_clock_skew)
    except keysched.ScheduleError as e:
        raise sec.err(e.field, str(e)) from None
    return k


def _hex_secret(sec: _Section, k: str, text: str, path: str | None = None) -> bytes:
    what = "the content of %s" % path if path else "the value"
    if not re.fullmatch(r"[0-9a-fA-F]{32}", text):
        raise sec.err(k, "%s is not 32 hex digits (a 128-bit secret)" % what)
    return bytes.fromhex(text)


def _client_names(sec: _Section, k: str) -> list[str] | None:
    """A list of certificate subject attributes, each "CN=name" or "OU=unit"."""
    if not sec.has(k):
        return None
    names = sec.str_list(k, [])
    for i, n in enumerate(names):
        attr, eq, value = n.partition("=")
        if not eq or attr not in CLIENT_ATTRS or not value:
            raise sec.err(k, "item %d, %r, is not CN=NAME or OU=UNIT (a client certificate's "
                          "subject common name or organizational unit)" % (i, n))
    return names


def _parse_api(doc: Table, source: str, base: Path, given: Given) -> ApiSection:
    sec = _Section(source, "api", doc.get("api", {}), API_KEYS)
    given["api"] = dict(sec.table)
    a = ApiSection()
    sock = sec.get("unix_socket", str, a.unix_socket)
    a.unix_socket = "" if sock == "" else str(Path(sock) if os.path.isabs(sock) else base / sock)
    a.tcp = _hostport(sec, "tcp")
    a.metrics = _hostport(sec, "metrics")
    a.tls_cert = _readable(sec, "tls_cert", base)
    a.tls_key = _readable(sec, "tls_key", base)
    a.tls_client_ca = _readable(sec, "tls_client_ca", base)
    a.admin_clients = _client_names(sec, "admin_clients") or []
    a.read_clients = _client_names(sec, "read_clients")
    a.max_watch_streams = sec.int_in("max_watch_streams", 1, 64, a.max_watch_streams)
    if a.tcp is not None and (a.tls_cert is None or a.tls_key is None):
        raise sec.err("tcp", "a TCP listener needs TLS: set api.tls_cert and api.tls_key "
                      "(plain-text gRPC is served on the Unix socket only)")
    if a.tcp is not None and a.tls_client_ca is None:
        raise sec.err("tls_client_ca", "a TCP listener needs client certificates: set "
                      "api.tls_client_ca to the CA that signs them, and api.admin_clients to "
                      "the subjects that may change things (the others only read)")
    if a.tcp is None:
        for k in ("tls_cert", "tls_key", "tls_client_ca", "admin_clients", "read_clients"):
            if sec.has(k):
                raise sec.err(k, "TLS settings without api.tcp")
    if (a.tls_cert is None) != (a.tls_key is None):
        raise sec.err("tls_key" if a.tls_key is None else "tls_cert",
                      "tls_cert and tls_key go together")
    if not a.unix_socket and a.tcp is None:
        raise sec.err("unix_socket", "no listener: set api.unix_socket or api.tcp")
    return a


# --- the sections as TOML tables (config show, the dataplane's record) --------------------

# [dataplane] keys that are synwalld's own, not the dataplane's: a change takes effect at once
# (the next start), never waits for a dataplane restart.
CONTROLLER_DATAPLANE_KEYS = ("start_timeout",)


def dataplane_table(d: DataplaneSection) -> Table:
    """Every [dataplane] key with a value, as parse() reads it back to d (paths as resolved,
    the binary as found): the keys left out are those whose absence is their value."""
    t: Table = {}
    for k in DATAPLANE_KEYS:
        v = getattr(d, k)
        if v is None:
            continue
        t[k] = list(v) if isinstance(v, tuple) else v
    return t


def parse_dataplane_table(table: object, source: str) -> DataplaneSection:
    """A [dataplane] table (dataplane_table's) read and checked as the boot config's is."""
    return _parse_dataplane({"dataplane": table}, source, Path("/"), {})


def api_table(a: ApiSection) -> Table:
    """Every [api] key with a value, as parse() reads it back to a."""
    t: Table = {"unix_socket": a.unix_socket}
    for k in ("tcp", "tls_cert", "tls_key", "tls_client_ca"):
        if getattr(a, k) is not None:
            t[k] = getattr(a, k)
    if a.tcp is not None:
        t["admin_clients"] = list(a.admin_clients)
        if a.read_clients is not None:
            t["read_clients"] = list(a.read_clients)
    if a.metrics is not None:
        t["metrics"] = a.metrics
    t["max_watch_streams"] = a.max_watch_streams
    return t


# --- entry points ------------------------------------------------------------------------

def parse(text: str, source: str = EMBEDDED_NAME, base: Path | None = None,
          read_file: ReadFile = _read_bytes) -> BootConfig:
    """Parse and check a whole boot config; BootConfigError on the first problem.
    read_file: how the [sources] file is read (config save checks a file it is about to
    write)."""
    base = base if base is not None else Path.cwd()
    doc = _load_toml(text, source)
    _top(doc, source)
    given: Given = {}
    dpsec = _parse_dataplane(doc, source, base, given)
    lim = _parse_limits(doc, source, dpsec.start_limits)
    table = _parse_policies(doc, source)
    sources = _parse_sources(doc, source, base, read_file)
    keys = _parse_keys(doc, source, base) or KeysSection()
    api = _parse_api(doc, source, base, given)
    return BootConfig(source, dpsec, model.RuntimeConfig(lim, table, sources.rules), keys, api,
                      given, sources)


def load(path: str | None) -> BootConfig:
    """The file at path; None: /etc/synwall/synwall.toml if it exists, else the embedded
    default."""
    if path is None:
        if DEFAULT_PATH.exists():
            path = str(DEFAULT_PATH)
        else:
            return parse(embedded_default(), EMBEDDED_NAME)
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise BootConfigError(str(p), "", "cannot read: %s" % (e.strerror or e)) from None
    return parse(text, str(p), p.resolve().parent)


@dataclass
class RuntimeFile:
    """What `config apply|validate` carries: the runtime config, and the key schedule when
    the file has a [keys] section (None: keys left as they are). sources_given: whether the
    file has [[source]] tables or a [sources] table (else the source rules are left as they
    are, and runtime.sources is empty)."""
    runtime: model.RuntimeConfig
    keys: KeysSection | None
    given: Given
    sources_given: bool = False


def parse_runtime(text: str, source: str, running: BootConfig,
                  start: model.StartLimits) -> RuntimeFile:
    """A config to apply at run time: [limits], [[policy]], [[source]], [keys]; [dataplane]
    and [api], if present, must equal the running ones (they only take effect at start).
    [sources] file is refused (it names a file of the appliance): an empty [sources] table
    says "no source rules"."""
    doc = _load_toml(text, source)
    _top(doc, source)
    _refuse_paths(doc, source)
    base = Path(source).resolve().parent if source and not source.startswith("<") \
        else Path.cwd()
    given: Given = {}
    if "dataplane" in doc:
        d = _parse_dataplane(doc, source, base, given)
        for k in given["dataplane"]:
            if getattr(d, k) != getattr(running.dataplane, k) and not (
                    k in model.START_LIMITS and getattr(d, k) == getattr(start, k)):
                raise BootConfigError(source, "dataplane.%s" % k, "%r differs from the running "
                                      "%r: start-time only (restart synwalld to change it)"
                                      % (getattr(d, k), getattr(running.dataplane, k)))
    if "api" in doc:
        a = _parse_api(doc, source, base, given)
        for k in given["api"]:
            if getattr(a, k) != getattr(running.api, k):
                raise BootConfigError(source, "api.%s" % k, "%r differs from the running %r: "
                                      "start-time only (restart synwalld to change it)"
                                      % (getattr(a, k), getattr(running.api, k)))
    lim = _parse_limits(doc, source, start)
    table = _parse_policies(doc, source)
    sources = _parse_sources(doc, source, base, _read_bytes)
    keys = _parse_keys(doc, source, base)
    return RuntimeFile(model.RuntimeConfig(lim, table, sources.rules), keys, given,
                       "source" in doc or "sources" in doc)


def _refuse_paths(doc: Table, source: str) -> None:
    for section, names in PATH_KEYS.items():
        table = doc.get(section)
        if not isinstance(table, dict):
            continue
        for k in names:
            if k in table:
                hint = ("; give the secret itself (keys.master_secret), or use `synwallctl key "
                        "schedule --master-file FILE`, which reads FILE where synwallctl runs"
                        if k == "master_secret_file" else
                        "; give the rules as [[source]] tables, or use `synwallctl source load "
                        "FILE`, which reads FILE where synwallctl runs"
                        if section == "sources" else
                        "; it is a start-time setting of the boot config")
                raise BootConfigError(source, "%s.%s" % (section, k), "names a file on the "
                                      "appliance, and a config sent through the API names no "
                                      "files%s" % hint)


def embedded_default() -> str:
    return resources.files("synwall").joinpath("default.toml").read_text()


# --- what the host must have (synwalld --check) -------------------------------------------

PCI_DEVICES = Path("/sys/bus/pci/devices")


def check_host(boot: BootConfig, pci_devices: Path = PCI_DEVICES) -> list[BootConfigError]:
    """What the boot config names that this host does not have: a port's PCI device (a vdev
    spec names nothing to look for; a port id is only known to EAL), the dataplane binary."""
    problems = []
    d = boot.dataplane
    for k in ("outside", "inside"):
        ref = getattr(d, k)
        if _PCI.match(ref.split(",", 1)[0]):
            dev = device_name(ref).lower()
            if not (pci_devices / dev).exists():
                problems.append(BootConfigError(
                    boot.source, "dataplane." + k, "PCI device %s is not present (no %s)"
                    % (dev, pci_devices / dev)))
    where = d.binary if os.sep in d.binary else shutil.which(d.binary)
    if where is None:
        problems.append(BootConfigError(boot.source, "dataplane.binary", "%s is not on PATH "
                                        "(set dataplane.binary, or $SYNWALL_DP)" % d.binary))
    elif not os.path.isfile(where) or not os.access(where, os.X_OK):
        problems.append(BootConfigError(boot.source, "dataplane.binary", "%s is not an "
                                        "executable file" % where))
    if d.state_file is not None:
        parent = Path(d.state_file).parent
        if not parent.is_dir():
            problems.append(BootConfigError(boot.source, "dataplane.state_file",
                                            "its directory %s does not exist" % parent))
        elif Path(d.state_file).is_dir():
            problems.append(BootConfigError(boot.source, "dataplane.state_file",
                                            "%s is a directory" % d.state_file))
    return problems


# --- the dataplane's command line --------------------------------------------------------

def repo_binary() -> Path:
    """build/dataplane/synwall-dp of the source tree this package lives in (editable
    installs); irrelevant for an installed package."""
    return Path(__file__).resolve().parents[2] / "build" / "dataplane" / "synwall-dp"


def default_binary() -> str:
    env = os.environ.get("SYNWALL_DP")
    if env:
        return env
    rb = repo_binary()
    if rb.is_file() and os.access(rb, os.X_OK):
        return str(rb)
    return shutil.which("synwall-dp") or "synwall-dp"


def device_name(ref: str) -> str:
    """The DPDK device name of a port reference: the id itself, the PCI address (with its
    domain, as DPDK names it), or the vdev name (before the first comma)."""
    name = ref.split(",", 1)[0]
    if _PCI.match(name) and name.count(":") == 1:
        name = "0000:" + name
    return name


def eal_port_args(ref: str) -> list[str]:
    """EAL options that make the port exist: -a for a PCI address, --vdev for a vdev spec,
    nothing for a port id (EAL probes what is bound)."""
    if ref.isdigit():
        return []
    if _PCI.match(ref.split(",", 1)[0]):
        return ["-a", ref]
    return ["--vdev=%s" % ref]
