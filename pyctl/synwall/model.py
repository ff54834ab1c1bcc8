"""The runtime configuration the controller owns: limits, the per-port policy table and the
source rules.

It is validated here with errors that name the field (the same rules as the dataplane's,
docs/DATAPLANE.md, so that a request is refused before anything is sent), and turned into
one whole `DpConfig` for the dataplane's apply_config.
"""

from __future__ import annotations

import bisect
import dataclasses
import enum
import hashlib
import io
import ipaddress
import re
import socket
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from synwall.dp.v1 import dataplane_pb2 as dp
from synwall.errors import InvalidRequest, NotFound
from synwall.v1 import admin_pb2 as pb

PORT_MAX = 65535
# Idle timeout of established flows, seconds (synwall-dp --idle-timeout and
# PortRange.idle_timeout_s: docs/DATAPLANE.md).
IDLE_TIMEOUT_MIN, IDLE_TIMEOUT_MAX, IDLE_TIMEOUT_DEFAULT = 1, 2592000, 86400
# How long a port that becomes protected adopts the connections opened before (--adopt-window).
ADOPT_WINDOW_MIN, ADOPT_WINDOW_MAX = 0, 3600
# The source quotas (--source-prefix V4LEN,V6LEN, --source-flows, --source-halfopen): the
# prefix lengths a client address is cut to, and their defaults.
SOURCE_V4_MIN, SOURCE_V4_MAX, SOURCE_V4_DEFAULT = 8, 32, 32
SOURCE_V6_MIN, SOURCE_V6_MAX, SOURCE_V6_DEFAULT = 16, 128, 64


class Mode(enum.StrEnum):
    """A port's policy, by the name operators write (boot config, CLI, runtime.json).

    The one table of modes: the order is the dataplane's enum sw_mode (DpConfig's
    PortRange.mode), and each has the admin API's synwall.v1.Mode of the same name."""
    PASS = "pass"
    PROXY = "proxy"
    COOKIE = "cookie"
    DROP = "drop"

    @property
    def dp(self) -> int:
        return _MODE_ORDER.index(self)

    @property
    def api(self) -> pb.Mode:
        return cast(pb.Mode, pb.Mode.Value("MODE_" + self.name))

    @classmethod
    def from_api(cls, value: int) -> Mode | None:
        """The mode of a synwall.v1.Mode number; None for MODE_UNSPECIFIED or an unknown one."""
        return _MODE_OF_API.get(value)

    @classmethod
    def names(cls) -> str:
        """"pass, proxy, cookie, drop", for messages."""
        return ", ".join(m.value for m in cls)


_MODE_ORDER: Sequence[Mode] = tuple(Mode)
_MODE_OF_API: dict[int, Mode] = {m.api: m for m in Mode}


def describe(v: object) -> str:
    """A value and its type, for messages: "a string ('3')"."""
    if isinstance(v, bool):
        return "a boolean (%s)" % str(v).lower()
    if isinstance(v, int):
        return "an integer (%d)" % v
    if isinstance(v, float):
        return "a number (%g)" % v
    if isinstance(v, str):
        return "a string (%r)" % v
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "a table"
    return type(v).__name__


class InvalidConfig(InvalidRequest, ValueError):
    """A value that cannot be applied: `field` names it (e.g. "limits.cachelimit"), `reason`
    says why; the message is both."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__("%s: %s" % (field, reason) if field else reason, field)
        self.reason = reason


# --- limits ----------------------------------------------------------------------------

@dataclass(frozen=True)
class StartLimits:
    """Sizes fixed when the dataplane starts (per worker lcore)."""
    hashsize: int = 4096
    bucketlimit: int = 30
    flows: int = 65536

    @property
    def max_cachelimit(self) -> int:
        return self.hashsize * self.bucketlimit


START_LIMITS = ("hashsize", "bucketlimit", "flows")
# The most of every rate the dataplane takes (a second, and a burst): the rate limits below
# and a `limit` source rule's.
RATE_MAX = 100000000
LimitKind = Literal["int", "bool"]
# name -> (kind, lo, hi); bounds of the runtime limits (the dataplane's own rules)
RUNTIME_LIMITS: dict[str, tuple[LimitKind, int | None, int | None]] = {
    "cachelimit": ("int", 1, None),  # hi: hashsize x bucketlimit
    "rexmtlimit": ("int", 0, 10),
    "syncookies": ("bool", None, None),
    "syncookies_only": ("bool", None, None),
    "mss": ("int", 536, 9000),
    "wscale": ("int", 0, 14),
    "server_retries": ("int", 0, 10),
    "cookie_check_rate": ("int", 0, 100000000),
    # SYNs a second each source prefix ([dataplane] source_prefix) may send, and how many at
    # once (0: the rate); SYN-ACKs and their retransmits a second towards one source prefix,
    # and how many at once: what a spoofed flood can reflect at one victim. 0: off.
    "syn_rate": ("int", 0, RATE_MAX),
    "syn_burst": ("int", 0, RATE_MAX),
    "reflect_rate": ("int", 0, RATE_MAX),
    "reflect_burst": ("int", 0, RATE_MAX),
}
START_LIMIT_BOUNDS: dict[str, tuple[int, int]] = {
    "hashsize": (1, 1048576),
    "bucketlimit": (1, 255),
    "flows": (64, 16777216),
}


@dataclass(frozen=True)
class Limits:
    """The runtime limits. cachelimit None: hashsize x bucketlimit (the dataplane's default)."""
    cachelimit: int | None = None
    rexmtlimit: int = 3
    syncookies: bool = True
    syncookies_only: bool = False
    mss: int = 1460
    wscale: int = 7
    server_retries: int = 3
    cookie_check_rate: int = 262144
    syn_rate: int = 0
    syn_burst: int = 0
    reflect_rate: int = 0
    reflect_burst: int = 0

    def replace(self, **changes: Any) -> Limits:
        return dataclasses.replace(self, **changes)

    def resolved_cachelimit(self, start: StartLimits) -> int:
        return start.max_cachelimit if self.cachelimit is None else self.cachelimit


def check_limit(name: str, value: object, start: StartLimits | None,
                prefix: str = "") -> None:
    kind, lo, hi = RUNTIME_LIMITS[name]
    where = prefix + name
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidConfig(where, "expected true or false, got %s" % describe(value))
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidConfig(where, "expected an integer, got %s" % describe(value))
    if name == "cachelimit":
        if start is not None and not 1 <= value <= start.max_cachelimit:
            raise InvalidConfig(where, "%d is out of range: 1..%d (hashsize %d x bucketlimit "
                                "%d)" % (value, start.max_cachelimit, start.hashsize,
                                         start.bucketlimit))
        if value < 1:
            raise InvalidConfig(where, "%d is out of range: at least 1" % value)
        return
    assert lo is not None and hi is not None  # every int limit but cachelimit has both
    if not lo <= value <= hi:
        raise InvalidConfig(where, "%d is out of range: %d..%d" % (value, lo, hi))


def check_limits(lim: Limits, start: StartLimits | None, prefix: str = "") -> None:
    for name in RUNTIME_LIMITS:
        value = getattr(lim, name)
        if name == "cachelimit" and value is None:
            continue
        check_limit(name, value, start, prefix)
    if lim.syncookies_only and not lim.syncookies:
        raise InvalidConfig(prefix + "syncookies_only", "needs syncookies (a cache that keeps "
                            "no entries can only answer with cookies)")


def check_start_limit(name: str, value: object, prefix: str = "") -> None:
    lo, hi = START_LIMIT_BOUNDS[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidConfig(prefix + name, "expected an integer, got %s" % describe(value))
    if not lo <= value <= hi:
        raise InvalidConfig(prefix + name, "%d is out of range: %d..%d" % (value, lo, hi))
    if name == "hashsize" and value & (value - 1):
        raise InvalidConfig(prefix + name, "%d is not a power of 2" % value)


# --- policy ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Profile:
    """What the servers behind a port do; None: the default (Limits.mss / wscale, on)."""
    mss: int | None = None
    wscale: int | None = None
    window_scaling: bool | None = None
    sack: bool | None = None
    timestamps: bool | None = None

    def is_default(self) -> bool:
        return self == DEFAULT_PROFILE


DEFAULT_PROFILE = Profile()


def check_profile(p: Profile, prefix: str) -> None:
    if p.mss is not None and not 536 <= p.mss <= 9000:
        raise InvalidConfig(prefix + "mss", "%d is out of range: 536..9000" % p.mss)
    if p.wscale is not None and not 0 <= p.wscale <= 14:
        raise InvalidConfig(prefix + "wscale", "%d is out of range: 0..14" % p.wscale)
    if p.wscale is not None and p.window_scaling is False:
        raise InvalidConfig(prefix + "wscale", "a window scale with window_scaling off")


def check_seconds(value: object, where: str, lo: int, hi: int) -> int:
    """A whole number of seconds in lo..hi."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidConfig(where, "expected an integer (seconds), got %s" % describe(value))
    if not lo <= value <= hi:
        raise InvalidConfig(where, "%d is out of range: %d..%d seconds" % (value, lo, hi))
    return value


def check_source_prefix(value: object, where: str) -> tuple[int, int]:
    """[V4LEN, V6LEN]: the lengths a client address is cut to, to make its source prefix."""
    if (not isinstance(value, list) or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) for v in value)):
        raise InvalidConfig(where, "expected two prefix lengths [V4LEN, V6LEN] (e.g. [32, 64]), "
                            "got %s" % describe(value))
    v4, v6 = value
    if not SOURCE_V4_MIN <= v4 <= SOURCE_V4_MAX:
        raise InvalidConfig(where, "IPv4 prefix length %d is out of range: %d..%d"
                            % (v4, SOURCE_V4_MIN, SOURCE_V4_MAX))
    if not SOURCE_V6_MIN <= v6 <= SOURCE_V6_MAX:
        raise InvalidConfig(where, "IPv6 prefix length %d is out of range: %d..%d"
                            % (v6, SOURCE_V6_MIN, SOURCE_V6_MAX))
    return v4, v6


# The source table's entries per worker lcore (synwall-dp --source-table): 0 (none), or a
# power of 2 in this range.
SOURCE_TABLE_MIN, SOURCE_TABLE_MAX = 64, 1 << 24


def check_source_table(value: object, where: str) -> int:
    """Source prefixes each worker keeps for the rate limits and top talkers: 0 (none: no
    limits, no top talkers) or a power of 2 of 64..16777216."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidConfig(where, "expected an integer, got %s" % describe(value))
    if value != 0 and not (SOURCE_TABLE_MIN <= value <= SOURCE_TABLE_MAX
                           and value & (value - 1) == 0):
        raise InvalidConfig(where, "%d is not 0 or a power of 2 of %d..%d"
                            % (value, SOURCE_TABLE_MIN, SOURCE_TABLE_MAX))
    return value


def check_source_quota(value: object, where: str, most: int, of: str) -> int:
    """Entries a source prefix may hold on each worker lcore, 0..most (0: no quota)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidConfig(where, "expected an integer, got %s" % describe(value))
    if not 0 <= value <= most:
        raise InvalidConfig(where, "%d is out of range: 0..%d (%s; 0: no quota)"
                            % (value, most, of))
    return value


def check_idle_timeout(value: object, where: str) -> int:
    """An idle timeout, 1..2592000 s (30 days), as the dataplane takes it."""
    return check_seconds(value, where, IDLE_TIMEOUT_MIN, IDLE_TIMEOUT_MAX)


@dataclass(frozen=True)
class PortPolicy:
    lo: int
    hi: int
    mode: Mode
    profile: Profile = DEFAULT_PROFILE
    # Seconds an established flow of these ports may stay silent before it is reset; None:
    # the dataplane's default ([dataplane] idle_timeout, else a day).
    idle_timeout: int | None = None

    @property
    def ports(self) -> str:
        return str(self.lo) if self.lo == self.hi else "%d-%d" % (self.lo, self.hi)


def parse_ports(text: object, where: str) -> tuple[int, int]:
    """"443" or "8000-8080" (or an int) -> (lo, hi), checked."""
    if isinstance(text, bool):
        raise InvalidConfig(where, "expected a port or a range like \"8000-8080\", got %s"
                            % describe(text))
    if isinstance(text, int):
        lo = hi = text
    elif isinstance(text, str):
        parts = text.strip().split("-")
        try:
            if len(parts) == 1:
                lo = hi = int(parts[0])
            elif len(parts) == 2:
                lo, hi = int(parts[0]), int(parts[1])
            else:
                raise ValueError
        except ValueError:
            raise InvalidConfig(where, "%r is not a port or a range like \"8000-8080\""
                                % (text,)) from None
    else:
        raise InvalidConfig(where, "expected a port or a range like \"8000-8080\", got %s"
                            % describe(text))
    check_range(lo, hi, where)
    return lo, hi


def check_range(lo: int, hi: int, where: str, hi_where: str | None = None) -> None:
    """1 <= lo <= hi <= 65535. `where` is blamed for lo, `hi_where` (default: `where`) for hi
    and for a backwards range."""
    hi_where = where if hi_where is None else hi_where
    if not 1 <= lo <= PORT_MAX:
        raise InvalidConfig(where, "port %d is out of range: 1..%d" % (lo, PORT_MAX))
    if not 1 <= hi <= PORT_MAX:
        raise InvalidConfig(hi_where, "port %d is out of range: 1..%d" % (hi, PORT_MAX))
    if hi < lo:
        raise InvalidConfig(hi_where, "range %d-%d is backwards" % (lo, hi))


def check_mode(mode: object, where: str) -> Mode:
    """The Mode named by `mode` (a string such as "proxy")."""
    if isinstance(mode, str):
        try:
            return Mode(mode)
        except ValueError:
            pass
    raise InvalidConfig(where, "%r is not a mode (%s)" % (mode, Mode.names()))


Slot = tuple[Mode, Profile, int | None]  # mode, profile, idle timeout (None: the default)
_DEFAULT_SLOT: Slot = (Mode.PASS, DEFAULT_PROFILE, None)


class PolicyTable:
    """The mode, profile and idle timeout of every TCP port (65536 slots; later settings
    win)."""

    def __init__(self, slots: Iterable[Slot] | None = None) -> None:
        self._slots = list(slots) if slots is not None else [_DEFAULT_SLOT] * (PORT_MAX + 1)

    def copy(self) -> PolicyTable:
        return PolicyTable(self._slots)

    def set(self, lo: int, hi: int, mode: Mode, profile: Profile = DEFAULT_PROFILE,
            idle_timeout: int | None = None) -> None:
        """The ports' whole policy: what is not given is back to its default."""
        value = (mode, profile, idle_timeout)
        self._slots[lo:hi + 1] = [value] * (hi - lo + 1)

    def put(self, p: PortPolicy) -> None:
        self.set(p.lo, p.hi, p.mode, p.profile, p.idle_timeout)

    def delete(self, lo: int, hi: int) -> bool:
        """Back to pass, the default profile and idle timeout; False if nothing there was
        set."""
        changed = any(s != _DEFAULT_SLOT for s in self._slots[lo:hi + 1])
        self._slots[lo:hi + 1] = [_DEFAULT_SLOT] * (hi - lo + 1)
        return changed

    def get(self, port: int) -> Slot:
        return self._slots[port]

    def ranges(self) -> list[PortPolicy]:
        """Every port whose mode, profile or idle timeout is not the default, as ranges of
        equal policy."""
        out = []
        slots = self._slots
        p = 1
        while p <= PORT_MAX:
            v = slots[p]
            if v == _DEFAULT_SLOT:
                p += 1
                continue
            q = p
            while q + 1 <= PORT_MAX and slots[q + 1] == v:
                q += 1
            out.append(PortPolicy(p, q, v[0], v[1], v[2]))
            p = q + 1
        return out

    @classmethod
    def from_policies(cls, policies: Iterable[PortPolicy]) -> PolicyTable:
        t = cls()
        for p in policies:
            t.put(p)
        return t

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PolicyTable) and self._slots == other._slots


# --- source rules ----------------------------------------------------------------------------
#
# What the dataplane does with a client by its address (docs/DATAPLANE.md, "Source lists"):
# `deny PREFIX [PORTS]` drops every frame from the prefix, `allow PREFIX [PORTS]` exempts it
# from the source quotas, `limit PREFIX RATE [BURST]` makes all its sources share one bucket
# of RATE SYNs a second (global only). Rules with PORTS make that range's own list. The
# controller keeps them as one list keyed by (prefix, ports): setting a rule replaces the one
# of the same key, deleting goes by key. The dataplane reads them from a file of rules (one a
# line, the form of synwall-dp --sources), which the controller writes in its canonical form
# (sorted by key) and reads back from an operator's file.
#
# A list may hold millions of rules: SourceList keeps each rule as two ints (a packed key and
# a packed value) rather than objects, about 100 bytes a rule instead of 500, and makes the
# SourceRule objects only where they are shown or changed.

class SourceAction(enum.StrEnum):
    DENY = "deny"
    ALLOW = "allow"
    LIMIT = "limit"

    @property
    def code(self) -> int:
        return _ACTION_CODES[self]

    @classmethod
    def names(cls) -> str:
        return ", ".join(a.value for a in cls)


_ACTION_CODES: dict[SourceAction, int] = {SourceAction.DENY: 1, SourceAction.ALLOW: 2,
                                          SourceAction.LIMIT: 3}
_ACTION_OF_CODE: dict[int, SourceAction] = {c: a for a, c in _ACTION_CODES.items()}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# A port range whose own list a rule is in; None: the global list (every port).
SourcePorts = tuple[int, int] | None

# The dataplane's bounds (srclist.h): rules in a set, port ranges with lists of their own,
# limit rules (each a bucket the workers share), the size of a rules file.
SOURCE_RULES_MAX = 4 << 20
SOURCE_RANGES_MAX = 63
SOURCE_LIMITS_MAX = 65536
SOURCE_FILE_MAX = 256 << 20
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def ports_text(ports: SourcePorts) -> str:
    if ports is None:
        return "every port"
    lo, hi = ports
    return "port %d" % lo if lo == hi else "ports %d-%d" % (lo, hi)


@dataclass(frozen=True)
class SourceKey:
    """What identifies a rule: its prefix and the ports whose list it is in."""
    network: Network
    ports: SourcePorts = None

    def text(self) -> str:
        """"198.18.0.0/24" or "198.18.0.0/24 8000-8080" (a page token's form too)."""
        if self.ports is None:
            return str(self.network)
        lo, hi = self.ports
        return "%s %s" % (self.network, lo if lo == hi else "%d-%d" % (lo, hi))

    def describe(self) -> str:
        """For messages: "198.18.0.0/24 (every port)"."""
        return "%s (%s)" % (self.network, ports_text(self.ports))


@dataclass(frozen=True)
class SourceRule:
    """One rule, as check_source_rule made it: rate and burst for `limit` only (burst None:
    the rate), ports never for `limit`."""
    action: SourceAction
    network: Network
    ports: SourcePorts = None
    rate: int | None = None
    burst: int | None = None

    @property
    def key(self) -> SourceKey:
        return SourceKey(self.network, self.ports)

    def line(self) -> str:
        """The rule as a line of a rules file (without its newline)."""
        parts = [self.action.value, str(self.network)]
        if self.ports is not None:
            lo, hi = self.ports
            parts.append(str(lo) if lo == hi else "%d-%d" % (lo, hi))
        if self.rate is not None:
            parts.append(str(self.rate))
        if self.burst is not None:
            parts.append(str(self.burst))
        return " ".join(parts)


def _prefix_hint(text: str) -> str:
    try:
        a = ipaddress.ip_address(text)
    except ValueError:
        return ""
    return " (one address: %s/%d)" % (a, a.max_prefixlen)


def parse_prefix(text: object, where: str) -> Network:
    """ADDRESS/LENGTH of IPv4 or IPv6 -> the network (ipaddress, strict): a length in digits,
    no bits set past it, no scope, no IPv4-mapped IPv6 prefix. InvalidConfig naming where."""
    if not isinstance(text, str):
        raise InvalidConfig(where, "expected a prefix like \"198.18.0.0/24\", got %s"
                            % describe(text))
    shown = text if len(text) <= 60 else text[:57] + "..."
    addr, slash, length = text.partition("/")
    if not slash or not length or not (length.isascii() and length.isdigit()):
        raise InvalidConfig(where, "%r is not a prefix: expected ADDRESS/LENGTH of IPv4 or "
                            "IPv6, like 198.18.0.0/24 or 2001:2::/48%s"
                            % (shown, _prefix_hint(addr) if not slash else ""))
    if "%" in addr:
        raise InvalidConfig(where, "%r: a scope (%s) is no part of a prefix"
                            % (shown, addr[addr.index("%"):]))
    try:
        a = ipaddress.ip_address(addr)
    except ValueError:
        raise InvalidConfig(where, "%r is not a prefix: %r is not an IPv4 or IPv6 address"
                            % (shown, addr[:45])) from None
    bits = int(length)
    if bits > a.max_prefixlen:
        raise InvalidConfig(where, "%r: an IPv%d prefix length is 0..%d, not %d"
                            % (shown, a.version, a.max_prefixlen, bits))
    try:
        net: Network = ipaddress.ip_network((a, bits), strict=True)
    except ValueError:
        network = ipaddress.ip_network((a, bits), strict=False)
        raise InvalidConfig(where, "%r has host bits set (past its length): the network is "
                            "%s%s" % (shown, network, _prefix_hint(addr) if bits else "")
                            ) from None
    if isinstance(net, ipaddress.IPv6Network) and net.subnet_of(_MAPPED):
        v4 = ipaddress.IPv4Network((int(net.network_address) & 0xFFFFFFFF, bits - 96))
        raise InvalidConfig(where, "%r is an IPv4-mapped IPv6 prefix, which no client sends "
                            "from (IPv4 clients are looked up by their IPv4 address): write "
                            "%s" % (shown, v4))
    return net


_PORTS_RE = re.compile(r"[0-9]{1,5}(-[0-9]{1,5})?")


def parse_source_ports(value: object, where: str) -> tuple[int, int]:
    """A source rule's PORTS: a port ("443", 443) or a range "LO-HI" of 1..65535, in digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        check_range(value, value, where)
        return value, value
    if not isinstance(value, str) or not _PORTS_RE.fullmatch(value):
        raise InvalidConfig(where, "%s is not a port or a range like \"8000-8080\""
                            % (repr(value) if isinstance(value, str) else describe(value)))
    lo, _, hi = value.partition("-")
    check_range(int(lo), int(hi or lo), where)
    return int(lo), int(hi or lo)


def check_rate(value: object, where: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidConfig(where, "expected an integer (%s), got %s" % (what, describe(value)))
    if not 1 <= value <= RATE_MAX:
        raise InvalidConfig(where, "%d is out of range: 1..%d (%s)" % (value, RATE_MAX, what))
    return value


def source_rule(action: object, prefix: object, ports: object = None, rate: object = None,
                burst: object = None, where: str = "") -> SourceRule:
    """A rule from its parts as an operator gives them (names: where + "action", ...),
    checked: InvalidConfig naming the part. ports, rate, burst None: not given."""
    if not isinstance(action, str) or action not in SourceAction.__members__.values():
        raise InvalidConfig(where + "action", "%s is not an action (%s)"
                            % (repr(action) if isinstance(action, str) else describe(action),
                               SourceAction.names()))
    act = SourceAction(action)
    net = parse_prefix(prefix, where + "prefix")
    if act == SourceAction.LIMIT:
        if ports is not None:
            raise InvalidConfig(where + "ports", "a limit is global: it has no ports (a port "
                                "range's own list holds deny and allow rules)")
        if rate is None:
            raise InvalidConfig(where + "rate", "a limit needs its rate (SYNs a second that "
                                "the prefix's sources share, 1..%d)" % RATE_MAX)
        r = check_rate(rate, where + "rate", "SYNs a second")
        b = None if burst is None else check_rate(burst, where + "burst", "SYNs at once")
        # burst = rate is the default: one form for one rule
        return SourceRule(act, net, None, r, None if b == r else b)
    for name, v in (("rate", rate), ("burst", burst)):
        if v is not None:
            raise InvalidConfig(where + name, "only a limit has a %s (this rule is %s)"
                                % (name, act.value))
    p = None if ports is None else parse_source_ports(ports, where + "ports")
    return SourceRule(act, net, p)


# The packed forms. key: (IPv6) << 168 | address << 40 | length << 32 | lo << 16 | hi, so that
# the ints sort as the rules are listed (IPv4 first, by address, length, ports; the global
# list's ports (0, 0) first). value: action | rate << 2 | burst << 29 (rate and burst under
# 2^27; burst 0: the rate), so that a deny or an allow is a small int Python shares.
_KEY_V6 = 168
_KEY_ADDR = 40
_VAL_BURST = 29


def _pack_key(v6: int, addr: int, length: int, ports: SourcePorts) -> int:
    lo, hi = ports if ports is not None else (0, 0)
    return (v6 << _KEY_V6) | (addr << _KEY_ADDR) | (length << 32) | (lo << 16) | hi


def _key_of(k: SourceKey) -> int:
    n = k.network
    return _pack_key(n.version == 6, int(n.network_address), n.prefixlen, k.ports)


def _value_of(r: SourceRule) -> int:
    return r.action.code | ((r.rate or 0) << 2) | ((r.burst or 0) << _VAL_BURST)


def _network_of(k: int) -> Network:
    addr, length = (k >> _KEY_ADDR) & ((1 << 128) - 1), (k >> 32) & 0xFF
    if k >> _KEY_V6:
        return ipaddress.IPv6Network((addr, length))
    return ipaddress.IPv4Network((addr, length))


def _source_key(k: int) -> SourceKey:
    lo, hi = (k >> 16) & 0xFFFF, k & 0xFFFF
    return SourceKey(_network_of(k), (lo, hi) if lo else None)


def _rule_of(k: int, v: int) -> SourceRule:
    lo, hi = (k >> 16) & 0xFFFF, k & 0xFFFF
    rate, burst = (v >> 2) & ((1 << 27) - 1), v >> _VAL_BURST
    return SourceRule(_ACTION_OF_CODE[v & 3], _network_of(k), (lo, hi) if lo else None,
                      rate or None, burst or None)


def _line_of(k: int, v: int) -> str:
    """_rule_of(k, v).line(), several times faster (a million rules are written at once)."""
    addr, length = (k >> _KEY_ADDR) & ((1 << 128) - 1), (k >> 32) & 0xFF
    if k >> _KEY_V6:
        text = str(ipaddress.IPv6Address(addr))
    else:
        text = socket.inet_ntop(socket.AF_INET, addr.to_bytes(4, "big"))
    line = "%s %s/%d" % (_ACTION_OF_CODE[v & 3].value, text, length)
    lo, hi = (k >> 16) & 0xFFFF, k & 0xFFFF
    if lo:
        line += " %d" % lo if lo == hi else " %d-%d" % (lo, hi)
    rate, burst = (v >> 2) & ((1 << 27) - 1), v >> _VAL_BURST
    if rate:
        line += " %d" % rate
    if burst:
        line += " %d" % burst
    return line


@dataclass(frozen=True)
class SourceCounts:
    rules: int
    deny: int
    allow: int
    limit: int
    prefixes4: int  # distinct IPv4 prefixes of every list (DpStatus.source_prefixes4)
    prefixes6: int
    port_ranges: int  # ranges with lists of their own (DpStatus.source_ranges)

    def text(self) -> str:
        return "%d source rule%s (%d deny, %d allow, %d limit)" % (
            self.rules, "" if self.rules == 1 else "s", self.deny, self.allow, self.limit)


class SourceList:
    """The source rules, immutable: a change makes a new list (with_rules, without), so that
    the running one can be kept, shared and compared while a change is tried. Its text (the
    dataplane's form), digest, sorted order and counts are made once, when first asked."""

    __slots__ = ("_rules", "_sorted", "_text", "_digest", "_counts")

    def __init__(self, rules: dict[int, int] | None = None) -> None:
        self._rules: dict[int, int] = rules if rules is not None else {}
        self._sorted: list[int] | None = None
        self._text: bytes | None = None
        self._digest: str | None = None
        self._counts: SourceCounts | None = None

    # --- making one -------------------------------------------------------------------------

    @classmethod
    def of_rules(cls, rules: Iterable[SourceRule], where: str = "rules") -> SourceList:
        """The list of these rules, checked whole (a key given twice with other values is
        refused naming both; the same rule twice is once)."""
        return cls().with_rules(rules, where)

    def with_rules(self, rules: Iterable[SourceRule], where: str = "rules",
                   alongside: str | None = None) -> SourceList:
        """This list with rules set: each replaces the rule of its key. The rules given are
        checked together (one key twice, with other values: InvalidConfig naming both,
        where[i]) and the list they make is checked whole (check()). alongside: the rules
        join this list rather than change it, which `alongside` names in the message that
        refuses a rule of a key it has with other values."""
        batch: dict[int, tuple[int, int]] = {}
        for i, r in enumerate(rules):
            k, v = _key_of(r.key), _value_of(r)
            have = self._rules.get(k)
            if alongside is not None and have is not None and have != v:
                raise InvalidConfig("%s[%d]" % (where, i), "%s is in %s already, as %r: one "
                                    "rule per prefix and ports" % (
                                        r.key.describe(), alongside, _rule_of(k, have).line()))
            seen = batch.get(k)
            if seen is not None and seen[1] != v:
                raise InvalidConfig("%s[%d]" % (where, i), "%s is %s[%d] already, as %r: one "
                                    "rule per prefix and ports" % (
                                        r.key.describe(), where, seen[0],
                                        _rule_of(k, seen[1]).line()))
            if seen is None:
                batch[k] = (i, v)
        if not batch:
            return self
        new = dict(self._rules)
        new.update((k, v) for k, (_, v) in batch.items())
        out = SourceList(new)
        out.check(where)
        return out

    def without(self, keys: Iterable[SourceKey], where: str = "keys") -> SourceList:
        """This list without the rules of these keys; NotFound (naming where[i]) for a key
        that has no rule, and nothing is deleted."""
        new = dict(self._rules)
        for i, key in enumerate(keys):
            k = _key_of(key)
            if k not in self._rules:
                raise NotFound("%s[%d]: %s: no such source rule" % (where, i, key.describe()),
                               "%s[%d]" % (where, i))
            new.pop(k, None)
        return SourceList(new)

    def check(self, where: str = "rules") -> None:
        """The dataplane's bounds of a whole set: rules, port ranges, limit rules."""
        if len(self._rules) > SOURCE_RULES_MAX:
            raise InvalidConfig(where, "%d rules: at most %d" % (len(self._rules),
                                                                 SOURCE_RULES_MAX))
        c = self.counts()
        if c.port_ranges > SOURCE_RANGES_MAX:
            raise InvalidConfig(where, "%d port ranges with lists of their own: at most %d"
                                % (c.port_ranges, SOURCE_RANGES_MAX))
        if c.limit > SOURCE_LIMITS_MAX:
            raise InvalidConfig(where, "%d limit rules: at most %d (a limit is a bucket its "
                                "prefix's sources share; deny or allow the others)"
                                % (c.limit, SOURCE_LIMITS_MAX))

    # --- reading it -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._rules)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SourceList) and self._rules == other._rules

    def __hash__(self) -> int:
        return hash(self.digest())

    def __repr__(self) -> str:
        return "SourceList(%s)" % self.counts().text()

    def _keys(self) -> list[int]:
        if self._sorted is None:
            self._sorted = sorted(self._rules)
        return self._sorted

    def __iter__(self) -> Iterator[SourceRule]:
        rules = self._rules
        for k in self._keys():
            yield _rule_of(k, rules[k])

    def get(self, key: SourceKey) -> SourceRule | None:
        k = _key_of(key)
        v = self._rules.get(k)
        return None if v is None else _rule_of(k, v)

    def page(self, after: SourceKey | None, size: int) -> tuple[list[SourceRule], bool]:
        """Up to size rules past `after` (None: from the first), in order, and whether more
        follow. A key as the place to go on from holds whatever changed meanwhile."""
        keys = self._keys()
        at = 0 if after is None else bisect.bisect_right(keys, _key_of(after))
        rules = self._rules
        return [_rule_of(k, rules[k]) for k in keys[at:at + size]], at + size < len(keys)

    def covering(self, network: Network) -> SourceRule | None:
        """The global list's rule that decides for the addresses of network (the longest
        prefix covering it), or None."""
        v6 = network.version == 6
        addr, length = int(network.network_address), network.prefixlen
        full = network.max_prefixlen
        for n in range(length, -1, -1):
            a = addr & (((1 << n) - 1) << (full - n))
            k = _pack_key(v6, a, n, None)
            v = self._rules.get(k)
            if v is not None:
                return _rule_of(k, v)
        return None

    def counts(self) -> SourceCounts:
        if self._counts is None:
            by = {1: 0, 2: 0, 3: 0}
            for v in self._rules.values():
                by[v & 3] += 1
            prefixes = {k >> 32 for k in self._rules}
            v6 = sum(1 for p in prefixes if p >> (_KEY_V6 - 32))
            ranges = {k & 0xFFFFFFFF for k in self._rules} - {0}
            self._counts = SourceCounts(len(self._rules), by[1], by[2], by[3],
                                        len(prefixes) - v6, v6, len(ranges))
        return self._counts

    def to_rules_text(self) -> bytes:
        """The rules in the dataplane's form, one a line, sorted by key: equal lists have
        equal texts."""
        if self._text is None:
            rules = self._rules
            ntop, af4, v4max = socket.inet_ntop, socket.AF_INET, 1 << _KEY_V6
            lines = []
            for k in self._keys():
                v = rules[k]
                if k < v4max and v < 3 and not k & 0xFFFFFFFF:
                    # the common rule, written here rather than by _line_of: twice as fast
                    lines.append("%s %s/%d\n" % ("deny" if v == 1 else "allow",
                                                 ntop(af4, (k >> _KEY_ADDR).to_bytes(4, "big")),
                                                 (k >> 32) & 0xFF))
                else:
                    lines.append(_line_of(k, v) + "\n")
            self._text = "".join(lines).encode()
        return self._text

    def known_text(self, text: bytes, digest: str) -> None:
        """The text this list was read from is its own to_rules_text() (a file of
        sources_file_data's, whose digest was checked): kept, rather than made again (a
        second or two for a million rules, at every start)."""
        if self._text is None:
            self._text, self._digest = text, digest

    def digest(self) -> str:
        """SHA-256 of to_rules_text(), hex: the list's name in the state files."""
        if self._digest is None:
            self._digest = hashlib.sha256(self.to_rules_text()).hexdigest()
        return self._digest

    @staticmethod
    def merge(boot: SourceList, base: SourceList, saved: SourceList
              ) -> tuple[SourceList, list[tuple[SourceKey, SourceRule | None, SourceRule | None,
                                                SourceRule | None]]]:
        """Key by key: where the boot file's rule is its base's (the boot file's when the
        state was saved), the saved one (or none); elsewhere the boot file's (or none). The
        list, unchecked, and the keys the boot file changed: (key, base's, boot's, saved's)."""
        if boot == base:
            return saved, []
        out = dict(saved._rules)
        changed = []
        b, o, r = boot._rules, base._rules, saved._rules
        for k in sorted(b.keys() | o.keys()):
            bv, ov = b.get(k), o.get(k)
            if bv == ov:
                continue
            rv = r.get(k)
            changed.append((_source_key(k),
                            None if ov is None else _rule_of(k, ov),
                            None if bv is None else _rule_of(k, bv),
                            None if rv is None else _rule_of(k, rv)))
            if bv is None:
                out.pop(k, None)
            else:
                out[k] = bv
        return SourceList(out), changed

    # --- the text form ----------------------------------------------------------------------

    @classmethod
    def from_rules_text(cls, data: bytes | str, name: str, where: str = "") -> SourceList:
        """The rules of a rules file (the dataplane's form), checked as the dataplane checks
        them and as the API checks a rule: InvalidConfig(where, "NAME: line N: why"). One key
        on two lines with other values is refused naming both; the same rule twice is once."""
        if len(data) > SOURCE_FILE_MAX:
            raise InvalidConfig(where, "%s: more than %d MB" % (name, SOURCE_FILE_MAX >> 20))
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        odd = _ODD_SPACE.search(text)
        if odd is not None:
            line = text.count("\n", 0, odd.start()) + 1
            raise InvalidConfig(where, "%s: line %d: character U+%04X is neither a space nor "
                                "a tab (the words of a rule are separated by spaces or tabs)"
                                % (name, line, ord(odd.group())))
        rules: dict[int, int] = {}
        for n, k, v in _text_rules(text, name, where):
            have = rules.get(k)
            if have is None:
                if len(rules) == SOURCE_RULES_MAX:
                    raise InvalidConfig(where, "%s: line %d: more than %d rules"
                                        % (name, n, SOURCE_RULES_MAX))
                rules[k] = v
            elif have != v:
                # the line it was first on, found again (a table of every key's line would
                # double what a million rules take while they are read)
                first = next(m for m, k2, _ in _text_rules(text, name, where) if k2 == k)
                raise InvalidConfig(where, "%s: line %d: %s is on line %d already, as %r: one "
                                    "rule per prefix and ports" % (
                                        name, n, _source_key(k).describe(), first,
                                        _rule_of(k, have).line()))
        out = cls(rules)
        try:
            out.check()
        except InvalidConfig as e:
            raise InvalidConfig(where, "%s: %s" % (name, e.reason)) from None
        return out


def _text_rules(text: str, name: str, where: str) -> Iterator[tuple[int, int, int]]:
    """(line number, packed key, packed value) of each rule of a rules file's text, a line at
    a time; InvalidConfig naming the first line that is not a rule."""
    for n, raw in enumerate(io.StringIO(text), 1):  # lines split at "\n" alone
        cut = raw.find("#")
        words = (raw if cut < 0 else raw[:cut]).split()
        if not words:
            continue
        try:
            k, v = _fast_rule(words)
        except (ValueError, OSError):  # inet_pton's refusal is an OSError
            try:
                r = _slow_rule(words)
            except InvalidConfig as e:
                raise InvalidConfig(where, "%s: line %d: %s" % (name, n, e.reason)) from None
            k, v = _key_of(r.key), _value_of(r)
        yield n, k, v


# What str.split() takes for a space and the dataplane does not (it splits on spaces, tabs and
# CRs only): refused, so that a file the controller takes is one synwall-dp --sources takes.
_ODD_SPACE = re.compile("[\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f"
                        "\u205f\u3000]")


def _fast_rule(words: list[str]) -> tuple[int, int]:
    """The packed rule of an IPv4 or IPv6 rule's words in the common forms, or ValueError
    (OSError from inet_pton) for anything else, which _slow_rule then reads, or refuses saying
    why. Only a shortcut: what it takes, _slow_rule takes alike."""
    action = words[0]
    addr, slash, length = words[1].partition("/") if len(words) > 1 else ("", "", "")
    if not slash or not length.isdigit() or not length.isascii() or "%" in addr:
        raise ValueError
    bits = int(length)
    if ":" in addr:
        a, full, v6 = int.from_bytes(socket.inet_pton(socket.AF_INET6, addr), "big"), 128, 1
        if bits >= 96 and a >> 32 == 0xFFFF:
            raise ValueError  # IPv4-mapped: refused with its message
    else:
        a, full, v6 = int.from_bytes(socket.inet_pton(socket.AF_INET, addr), "big"), 32, 0
    if bits > full or a & ((1 << (full - bits)) - 1):
        raise ValueError
    if action in ("deny", "allow") and len(words) <= 3:
        ports = None
        if len(words) == 3:
            if not _PORTS_RE.fullmatch(words[2]):
                raise ValueError
            lo, _, hi = words[2].partition("-")
            ports = (int(lo), int(hi or lo))
            if not 1 <= ports[0] <= ports[1] <= PORT_MAX:
                raise ValueError
        return _pack_key(v6, a, bits, ports), 1 if action == "deny" else 2
    if action == "limit" and len(words) in (3, 4):
        r = [int(w) for w in words[2:] if w.isascii() and w.isdigit()]
        if len(r) != len(words) - 2 or not all(1 <= x <= RATE_MAX for x in r):
            raise ValueError
        burst = r[1] if len(r) == 2 and r[1] != r[0] else 0
        return _pack_key(v6, a, bits, None), 3 | (r[0] << 2) | (burst << _VAL_BURST)
    raise ValueError


def _number(word: str, what: str) -> int:
    if not (word.isascii() and word.isdigit()):
        raise InvalidConfig("", "%r is not %s" % (word[:20], what))
    return int(word)


def _slow_rule(words: list[str]) -> SourceRule:
    """A rule's words (a line of a rules file), checked; InvalidConfig saying why."""
    action = words[0]
    if action not in ("deny", "allow", "limit"):
        raise InvalidConfig("", "%r is not a rule (%s)" % (action[:40], SourceAction.names()))
    if len(words) < 2:
        raise InvalidConfig("", "%s of what? (%s PREFIX%s)" % (
            action, action, " RATE [BURST]" if action == "limit" else " [PORTS]"))
    prefix = words[1]
    if action == "limit":
        if len(words) < 3:
            raise InvalidConfig("", "a limit needs its rate: limit PREFIX RATE [BURST]")
        if len(words) > 4:
            raise InvalidConfig("", "%r after the rule" % words[4][:20])
        rate = _number(words[2], "a rate (SYNs a second)")
        burst = _number(words[3], "a burst (SYNs at once)") if len(words) == 4 else None
        return source_rule("limit", prefix, None, rate, burst)
    if len(words) > 3:
        raise InvalidConfig("", "%r after the rule" % words[3][:20])
    return source_rule(action, prefix, words[2] if len(words) == 3 else None)


# --- the whole runtime config and its dataplane form ---------------------------------------

@dataclass
class RuntimeConfig:
    limits: Limits = field(default_factory=Limits)
    policies: PolicyTable = field(default_factory=PolicyTable)
    sources: SourceList = field(default_factory=SourceList)

    def copy(self) -> RuntimeConfig:
        # a SourceList never changes: shared, not copied
        return RuntimeConfig(self.limits, self.policies.copy(), self.sources)


def _dp_range(p: PortPolicy, lim: Limits) -> dp.PortRange:
    pr = p.profile
    ws_on = pr.window_scaling if pr.window_scaling is not None else True
    # Every profile field explicit: the dataplane takes the flags literally.
    return dp.PortRange(
        lo=p.lo, hi=p.hi, mode=p.mode.dp,
        mss=pr.mss if pr.mss is not None else lim.mss,
        wscale=(pr.wscale if pr.wscale is not None else lim.wscale) if ws_on else 0,
        window_scaling=ws_on,
        sack=pr.sack if pr.sack is not None else True,
        timestamps=pr.timestamps if pr.timestamps is not None else True,
        idle_timeout_s=p.idle_timeout or 0)  # 0: the dataplane's --idle-timeout


def to_dp_config(cfg: RuntimeConfig, start: StartLimits) -> dp.DpConfig:
    lim = cfg.limits
    return dp.DpConfig(
        cachelimit=lim.resolved_cachelimit(start), rexmtlimit=lim.rexmtlimit,
        syncookies=lim.syncookies, syncookies_only=lim.syncookies_only, mss=lim.mss,
        wscale=lim.wscale, server_retries=lim.server_retries,
        cookie_check_rate=lim.cookie_check_rate, syn_rate=lim.syn_rate,
        syn_burst=lim.syn_burst, reflect_rate=lim.reflect_rate, reflect_burst=lim.reflect_burst,
        ports=[_dp_range(p, lim) for p in cfg.policies.ranges()])


def canonical_dp_config(c: dp.DpConfig, idle_default: int = 0) -> tuple[object, ...]:
    """A DpConfig as a comparable value: the per-port effect (ranges merged, later wins, a
    window scale ignored where window scaling is off, default-policy ports dropped). An idle
    timeout equal to `idle_default` (the dataplane's --idle-timeout, when known) counts as
    0, as get_config returns it."""
    default = (0, c.mss, c.wscale, True, True, True, 0)
    slots: dict[int, tuple[int, int, int, bool, bool, bool, int]] = {}
    for r in c.ports:
        idle = 0 if r.idle_timeout_s == idle_default else r.idle_timeout_s
        v = (r.mode, r.mss or c.mss, r.wscale if r.window_scaling else 0, r.window_scaling,
             r.sack, r.timestamps, idle)
        for port in range(r.lo, r.hi + 1):
            slots[port] = v
    runs: list[list[Any]] = []
    prev: list[Any] | None = None
    for port in sorted(slots):
        v = slots[port]
        if v == default:
            continue
        if prev is not None and prev[1] == port - 1 and prev[2] == v:
            prev[1] = port
        else:
            prev = [port, port, v]
            runs.append(prev)
    return (c.cachelimit, c.rexmtlimit, c.syncookies, c.syncookies_only, c.mss, c.wscale,
            c.server_retries, c.cookie_check_rate, c.syn_rate, c.syn_burst, c.reflect_rate,
            c.reflect_burst, tuple((a, b, v) for a, b, v in runs))


def protect_spec(cfg: RuntimeConfig) -> str:
    """The modes as synwall-dp's --protect (so a (re)started dataplane protects the ports
    from its first packet, before the controller's apply_config arrives)."""
    parts = []
    for p in cfg.policies.ranges():
        if p.mode != Mode.PASS:
            parts.append("%s:%s" % (p.ports, p.mode))
    return ",".join(parts)


# --- JSON (runtime.json in the state directory) ---------------------------------------------

def _policy_json(p: PortPolicy) -> dict[str, Any]:
    out: dict[str, Any] = {
        "lo": p.lo, "hi": p.hi, "mode": p.mode.value,
        "profile": {k: v for k, v in dataclasses.asdict(p.profile).items() if v is not None}}
    if p.idle_timeout is not None:
        out["idle_timeout"] = p.idle_timeout
    return out


def to_json(cfg: RuntimeConfig) -> dict[str, Any]:
    return {
        "limits": dataclasses.asdict(cfg.limits),
        "policies": [_policy_json(p) for p in cfg.policies.ranges()],
    }


_PROFILE_TYPES: dict[str, type] = {"mss": int, "wscale": int, "window_scaling": bool,
                                   "sack": bool, "timestamps": bool}


def _object(v: object, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise InvalidConfig(where, "expected an object, got %s" % describe(v))
    return cast(dict[str, Any], v)


def _keys_of(d: dict[str, Any], where: str, allowed: Iterable[str]) -> None:
    unknown = sorted(set(d) - set(allowed))
    if unknown:
        raise InvalidConfig(where + unknown[0], "unknown key")


def from_json(v: object, where: str = "") -> RuntimeConfig:
    """The runtime config of to_json, every value checked as the API checks it (a saved
    state is refused whole, never applied in part): InvalidConfig naming the bad value."""
    d = _object(v, where)
    lim_d = _object(d.get("limits"), where + "limits")
    _keys_of(lim_d, where + "limits.", RUNTIME_LIMITS)
    for name, value in lim_d.items():
        if not (name == "cachelimit" and value is None):
            check_limit(name, value, None, where + "limits.")
    lim = Limits(**lim_d)
    check_limits(lim, None, where + "limits.")
    items = d.get("policies")
    if not isinstance(items, list):
        raise InvalidConfig(where + "policies", "expected a list, got %s" % describe(items))
    pols = []
    for i, item in enumerate(items):
        at = "%spolicies[%d]." % (where, i)
        p = _object(item, at[:-1])
        _keys_of(p, at, ("lo", "hi", "mode", "profile", "idle_timeout"))
        for k in ("lo", "hi"):
            if isinstance(p.get(k), bool) or not isinstance(p.get(k), int):
                raise InvalidConfig(at + k, "expected a port, got %s" % describe(p.get(k)))
        check_range(p["lo"], p["hi"], at + "lo", at + "hi")
        mode = check_mode(p.get("mode"), at + "mode")
        prof_d = _object(p.get("profile", {}), at + "profile")
        _keys_of(prof_d, at + "profile.", _PROFILE_TYPES)
        for k, value in prof_d.items():
            typ = _PROFILE_TYPES[k]
            if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
                raise InvalidConfig(at + "profile." + k, "expected %s, got %s"
                                    % ("an integer" if typ is int else "true or false",
                                       describe(value)))
        profile = Profile(**prof_d)
        check_profile(profile, at + "profile.")
        idle = check_idle_timeout(p["idle_timeout"], at + "idle_timeout") \
            if "idle_timeout" in p else None
        pols.append(PortPolicy(p["lo"], p["hi"], mode, profile, idle))
    return RuntimeConfig(lim, PolicyTable.from_policies(pols))
