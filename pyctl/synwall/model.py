"""The runtime configuration the controller owns: limits and the per-port policy table.

It is validated here with errors that name the field (the same rules as the dataplane's,
docs/DATAPLANE.md, so that a request is refused before anything is sent), and turned into
one whole `DpConfig` for the dataplane's apply_config.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from synwall.dp.v1 import dataplane_pb2 as dp
from synwall.errors import InvalidRequest
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


# --- the whole runtime config and its dataplane form ---------------------------------------

@dataclass
class RuntimeConfig:
    limits: Limits = field(default_factory=Limits)
    policies: PolicyTable = field(default_factory=PolicyTable)

    def copy(self) -> RuntimeConfig:
        return RuntimeConfig(self.limits, self.policies.copy())


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
