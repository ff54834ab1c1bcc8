"""A typed client of synwalld's gRPC admin API.

    with Client(socket="/run/synwall/api.sock") as c:        # or addr="host:50051", tls_ca=...
        c.set_policy("443", "proxy")
        print(c.counters().total["syncache.recvcookie"])

Every method returns plain dataclasses; every failure raises synwall.errors.SynwallError with
the gRPC status name, the server's message and the field it blamed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import grpc
from google.protobuf.message import Message

from synwall.errors import SynwallError
from synwall.model import Mode
from synwall.v1 import admin_pb2 as pb
from synwall.v1 import admin_pb2_grpc as pb_grpc

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

DEFAULT_SOCKET = os.environ.get("SYNWALL_SOCKET", "/run/synwall/api.sock")
FIELD_METADATA = "synwall-field"
# A restart or upgrade of the dataplane waits for the old one's stop (SIGKILL after 10 s, up
# to 30 s more) and for up to two starts ([dataplane] start_timeout, 30 s by default): the
# least deadline these calls get, whatever the client's timeout.
RESTART_TIMEOUT = 180.0
# A change of the source rules waits for the dataplane to build the new set (a million
# prefixes: seconds, up to minutes for 4 million on a busy host) and for the rules' files to be
# written: the least deadline those calls get.
SOURCES_TIMEOUT = 300.0
# What a gRPC server takes in one message (grpc's default); ReplaceSources carries the rules
# text in messages of at most SOURCES_CHUNK.
MESSAGE_MAX = 4 << 20
SOURCES_CHUNK = 1 << 20
SOURCE_ACTIONS = {"deny": pb.SOURCE_ACTION_DENY, "allow": pb.SOURCE_ACTION_ALLOW,
                  "limit": pb.SOURCE_ACTION_LIMIT}
TOP_ORDERS = ("syns", "bad_cookies", "flows", "syns_limited", "synacks_capped")


class _Data:
    """Base of the dataclasses below."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(cast("DataclassInstance", self))


@dataclass
class Status(_Data):
    version: str
    dataplane_state: str
    dataplane_running: bool
    dataplane_pid: int
    dataplane_restarts: int
    workers: int
    config_version: int
    uptime_seconds: float
    outside_port: str
    inside_port: str
    key_epoch: int
    # start-time settings that wait for a dataplane restart
    restart_pending: list[PendingRestart] = field(default_factory=list)
    dataplane_binary: str = ""  # the running dataplane's ("" from a synwalld that does not say)


@dataclass
class PendingRestart(_Data):
    key: str  # "dataplane.hashsize"
    running: str  # values as TOML text; "(not set)" for an absent key
    boot: str


@dataclass
class DataplaneRestart(_Data):
    """What a restart or upgrade of the dataplane did."""
    old_pid: int
    pid: int
    old_binary: str
    binary: str
    stop_seconds: float  # the stop signal to the old process's exit
    down_seconds: float  # the stop signal to the new one's control socket answering
    tables: list[str]  # what the new dataplane said of the tables in its state file
    state_layout: str  # the new binary's --state-layout line ("" for a restart)
    forced: bool
    config_version: int
    key_epoch: int
    boot_binary: str  # the boot file's [dataplane] binary (an upgrade leaves it as it is)


@dataclass
class ConfigDocument(_Data):
    toml: str
    boot_file: str
    config_version: int


@dataclass
class SavedConfig(_Data):
    boot_file: str
    backup_file: str
    config_version: int


@dataclass
class LcoreCounters(_Data):
    lcore: int
    counters: dict[str, int]


@dataclass
class Counters(_Data):
    time_unix_ns: int
    names: list[str]  # the dataplane's order
    total: dict[str, int]
    lcores: list[LcoreCounters] = field(default_factory=list)


@dataclass
class Port(_Data):
    """One of the dataplane's ports as its NIC counts it (since the port started)."""
    role: str  # "outside" or "inside"
    name: str  # the device: a PCI address or a vdev name
    id: int  # DPDK's port id
    link_up: bool
    speed_mbps: int  # 0: unknown
    full_duplex: bool
    autoneg: bool
    ipackets: int
    opackets: int
    ibytes: int
    obytes: int
    imissed: int  # dropped by the NIC, no room in an RX ring: a worker fell behind
    ierrors: int
    oerrors: int
    rx_nombuf: int  # RX mbuf allocation failures
    queue_ipackets: list[int]  # per queue (one per worker), where the NIC counts them
    queue_opackets: list[int]


@dataclass
class LcoreBusy(_Data):
    """A worker lcore's busy share (lcore.busy_cycles over lcore.cycles) over an interval."""
    lcore: int
    busy_share: float  # 0..1
    interval_seconds: float
    since_start: bool  # over the dataplane's life so far (no earlier sample was kept)
    cycles: int
    busy_cycles: int


@dataclass
class Ports(_Data):
    ports: list[Port]  # outside, then inside
    lcores: list[LcoreBusy]
    time_unix_ns: int


@dataclass
class Limits(_Data):
    hashsize: int
    bucketlimit: int
    flows: int
    cachelimit: int
    rexmtlimit: int
    syncookies: bool
    syncookies_only: bool
    mss: int
    wscale: int
    server_retries: int
    cookie_check_rate: int
    syn_rate: int = 0
    syn_burst: int = 0
    reflect_rate: int = 0
    reflect_burst: int = 0


@dataclass
class ServerProfile(_Data):
    """None: the default (Limits.mss, Limits.wscale, on)."""
    mss: int | None = None
    wscale: int | None = None
    window_scaling: bool | None = None
    sack: bool | None = None
    timestamps: bool | None = None

    def is_default(self) -> bool:
        return self == ServerProfile()


@dataclass
class Policy(_Data):
    port_lo: int
    port_hi: int
    mode: str  # a Mode's name, or the number of one this client does not know
    profile: ServerProfile = field(default_factory=ServerProfile)
    idle_timeout_s: int | None = None  # None: the dataplane's default

    @property
    def ports(self) -> str:
        return str(self.port_lo) if self.port_lo == self.port_hi else \
            "%d-%d" % (self.port_lo, self.port_hi)


@dataclass
class SourceRule(_Data):
    action: str  # deny, allow, limit (or the number of one this client does not know)
    prefix: str  # "198.18.200.0/24"
    ports: str | None = None  # "22", "8000-8080"; None: every port (the global list)
    rate: int | None = None  # limit: SYNs a second
    burst: int | None = None  # limit: SYNs at once; None: the rate

    def line(self) -> str:
        """The rule as a line of a rules file."""
        return " ".join(str(x) for x in (self.action, self.prefix, self.ports, self.rate,
                                         self.burst) if x is not None)


@dataclass
class SourcesSummary(_Data):
    rules: int
    deny: int
    allow: int
    limit: int
    prefixes_v4: int
    prefixes_v6: int
    port_ranges: int
    sha256: str  # of the list in the dataplane's form ("": no rules)
    config_version: int = 0  # after a change


@dataclass
class TopSource(_Data):
    prefix: str
    syns: int
    syns_limited: int
    bad_cookies: int
    flows: int
    synacks_capped: int
    idle_ms: int
    rule: SourceRule | None  # the global rule that decides for it


@dataclass
class TopSources(_Data):
    sources: list[TopSource]
    source_table: int  # entries per worker lcore (0: no source table)
    source_v4_len: int
    source_v6_len: int
    time_unix_ns: int


@dataclass
class KeyStatus(_Data):
    epoch: int
    current_fingerprint: str
    previous_epoch: int
    previous_fingerprint: str
    rotation_interval_s: int
    derived_from_master: bool
    master_fingerprint: str
    next_rotation_unix: float
    max_clock_skew_s: int


@dataclass
class SyncacheEntry(_Data):
    lcore: int
    client_addr: str
    client_port: int
    server_addr: str
    server_port: int
    client_isn: int
    iss: int
    retransmits: int
    mss: int
    sack: bool
    timestamps: bool
    wscale: int | None  # None: the client offered no window scale
    # seconds since the SYN that started the entry's SYN-ACK schedule (a duplicate SYN starts
    # it again); None: the dataplane does not tell
    age_seconds: float | None = None


@dataclass
class SyncachePage(_Data):
    entries: list[SyncacheEntry]
    next_page_token: str  # "": no more
    total: int | None  # entries in the syncaches as the page was read; None: not told


def parse_ports(ports: int | str) -> tuple[int, int]:
    """"443", "8000-8080" or 443 -> (lo, hi), without range checks (the server does them)."""
    if isinstance(ports, int):
        return ports, ports
    text = str(ports).strip()
    try:
        if "-" in text:
            lo, hi = text.split("-", 1)
            return int(lo), int(hi)
        return int(text), int(text)
    except ValueError:
        raise SynwallError("INVALID_ARGUMENT", "ports: %r is not a port or a range like "
                           "8000-8080" % text, "ports") from None


def _status(m: pb.Status) -> Status:
    return Status(m.version, m.dataplane_state, m.dataplane_running, m.dataplane_pid,
                  m.dataplane_restarts, m.workers, m.config_version, m.uptime_seconds,
                  m.outside_port, m.inside_port, m.key_epoch,
                  [PendingRestart(p.key, p.running, p.boot) for p in m.restart_pending],
                  m.dataplane_binary)


def _restart(m: pb.DataplaneRestart) -> DataplaneRestart:
    return DataplaneRestart(m.old_pid, m.pid, m.old_binary, m.binary, m.stop_seconds,
                            m.down_seconds, list(m.tables), m.state_layout, m.forced,
                            m.config_version, m.key_epoch, m.boot_binary)


def _counters(m: pb.Counters) -> Counters:
    names = list(m.names) or sorted(m.total)
    return Counters(m.time_unix_ns, names, dict(m.total),
                    [LcoreCounters(lc.lcore, dict(lc.counters)) for lc in m.lcores])


def _ports(m: pb.Ports) -> Ports:
    return Ports([Port(p.role, p.name, p.id, p.link_up, p.speed_mbps, p.full_duplex,
                       p.autoneg, p.ipackets, p.opackets, p.ibytes, p.obytes, p.imissed,
                       p.ierrors, p.oerrors, p.rx_nombuf, list(p.queue_ipackets),
                       list(p.queue_opackets)) for p in m.ports],
                 [LcoreBusy(b.lcore, b.busy_share, b.interval_seconds, b.since_start, b.cycles,
                            b.busy_cycles) for b in m.lcores], m.time_unix_ns)


def _limits(m: pb.Limits) -> Limits:
    return Limits(m.hashsize, m.bucketlimit, m.flows, m.cachelimit, m.rexmtlimit,
                  m.syncookies, m.syncookies_only, m.mss, m.wscale, m.server_retries,
                  m.cookie_check_rate, m.syn_rate, m.syn_burst, m.reflect_rate,
                  m.reflect_burst)


_ACTION_NAMES = {n: a for a, n in SOURCE_ACTIONS.items()}


def _source_rule(m: pb.SourceRule) -> SourceRule:
    ports = None
    if m.port_lo:
        hi = m.port_hi or m.port_lo
        ports = str(m.port_lo) if hi == m.port_lo else "%d-%d" % (m.port_lo, hi)
    return SourceRule(_ACTION_NAMES.get(m.action, str(m.action)), m.prefix, ports,
                      m.rate or None, m.burst or None)


def _summary(m: pb.SourcesSummary, config_version: int = 0) -> SourcesSummary:
    return SourcesSummary(m.rules, m.deny, m.allow, m.limit, m.prefixes_v4, m.prefixes_v6,
                          m.port_ranges, m.sha256, config_version)


def _sources_change(m: pb.SourcesChange) -> SourcesSummary:
    return _summary(m.summary, m.config_version)


def _source_ports(ports: int | str | None) -> tuple[int, int]:
    """(0, 0) for the global list, else (lo, hi); the server checks the ranges."""
    if ports is None:
        return 0, 0
    lo, hi = parse_ports(ports)
    if lo == 0:
        # port_lo 0 is the global list's: a port 0 could not even be told apart
        raise SynwallError("INVALID_ARGUMENT", "ports: port 0 is out of range: 1..65535",
                           "ports")
    return lo, hi


def source_rule_pb(rule: SourceRule) -> pb.SourceRule:
    action = SOURCE_ACTIONS.get(rule.action)
    if action is None:
        raise SynwallError("INVALID_ARGUMENT", "action: %r is not an action (deny, allow, "
                           "limit)" % rule.action, "action")
    lo, hi = _source_ports(rule.ports)
    return pb.SourceRule(action=action, prefix=rule.prefix, port_lo=_uint32("port_lo", lo),
                         port_hi=_uint32("port_hi", hi),
                         rate=_uint32("rate", rule.rate or 0),
                         burst=_uint32("burst", rule.burst or 0))


def _profile(m: pb.ServerProfile) -> ServerProfile:
    return ServerProfile(
        mss=m.mss if m.HasField("mss") else None,
        wscale=m.wscale if m.HasField("wscale") else None,
        window_scaling=m.window_scaling if m.HasField("window_scaling") else None,
        sack=m.sack if m.HasField("sack") else None,
        timestamps=m.timestamps if m.HasField("timestamps") else None)


def _mode_name(number: int) -> str:
    mode = Mode.from_api(number)
    return mode.value if mode is not None else str(number)


def _policies(m: pb.ListPoliciesResponse) -> list[Policy]:
    return [Policy(p.port_lo, p.port_hi or p.port_lo, _mode_name(p.mode), _profile(p.profile),
                   p.idle_timeout_s if p.HasField("idle_timeout_s") else None)
            for p in m.policies]


UINT32_MAX = 0xFFFFFFFF


def _uint32(name: str, v: int) -> int:
    """v, if a uint32 field can carry it: the server checks the range, but a negative or
    huge number cannot even be sent."""
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= UINT32_MAX:
        raise SynwallError("INVALID_ARGUMENT", "%s: %r is not a non-negative 32-bit integer"
                           % (name, v), name)
    return v


def _keys(m: pb.KeyStatus) -> KeyStatus:
    return KeyStatus(m.epoch, m.current_fingerprint, m.previous_epoch, m.previous_fingerprint,
                     m.rotation_interval_s, m.derived_from_master, m.master_fingerprint,
                     m.next_rotation_unix, m.max_clock_skew_s)


class Client:
    """Owns one gRPC channel to synwalld: a Unix socket (default) or TCP with TLS."""

    def __init__(self, socket: str | None = None, addr: str | None = None, *,
                 tls_ca: str | None = None, tls_cert: str | None = None,
                 tls_key: str | None = None, server_name: str | None = None,
                 timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.tls = addr is not None
        if addr is not None:
            ca = Path(tls_ca).read_bytes() if tls_ca else None
            key = Path(tls_key).read_bytes() if tls_key else None
            cert = Path(tls_cert).read_bytes() if tls_cert else None
            creds = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key,
                                                 certificate_chain=cert)
            opts = [("grpc.ssl_target_name_override", server_name)] if server_name else []
            self.target = addr
            self._channel = grpc.secure_channel(addr, creds, options=opts)
        else:
            self.target = "unix:%s" % (socket or DEFAULT_SOCKET)
            self._channel = grpc.insecure_channel(self.target)
        self._stub = pb_grpc.AdminStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing --------------------------------------------------------------------------

    def _error(self, e: grpc.RpcError, timeout: float | None = None) -> SynwallError:
        code = e.code() if hasattr(e, "code") else grpc.StatusCode.UNKNOWN
        details = (e.details() if hasattr(e, "details") else str(e)) or code.name
        field_name = ""
        try:
            for md in e.trailing_metadata() or ():
                if md.key == FIELD_METADATA:
                    field_name = cast(str, md.value)  # str for a text key (not -bin)
        except Exception:  # noqa: BLE001 - no metadata on local failures
            pass
        if code == grpc.StatusCode.UNAVAILABLE and self.tls and \
                details.endswith(("Socket closed", "Connection reset by peer")):
            # synwalld's TLS listener ends the handshake of a client it cannot verify; the
            # server never gets to send a status
            code = grpc.StatusCode.UNAUTHENTICATED
            details = ("synwalld at %s refused the TLS handshake: it takes only a client "
                       "certificate signed by its api.tls_client_ca (--tls-cert, --tls-key)"
                       % self.target)
        elif code == grpc.StatusCode.UNAVAILABLE and "failed to connect" in details:
            reason = details.rsplit(": ", 1)[-1]
            details = "cannot reach synwalld at %s: %s" % (self.target, reason)
        elif code == grpc.StatusCode.DEADLINE_EXCEEDED:
            details = "synwalld at %s did not answer within %gs" % (self.target,
                                                                     timeout or self.timeout)
        return SynwallError(code.name, details, field_name)

    def _call(self, method: str, request: Message, timeout: float | None = None) -> Any:
        try:
            return getattr(self._stub, method)(request, timeout=timeout or self.timeout)
        except grpc.RpcError as e:
            raise self._error(e, timeout) from None

    # --- the API ---------------------------------------------------------------------------

    def status(self) -> Status:
        return _status(self._call("GetStatus", pb.GetStatusRequest()))

    def counters(self) -> Counters:
        return _counters(self._call("GetCounters", pb.GetCountersRequest()))

    def watch_counters(self, interval: float = 1.0,
                       count: int | None = None) -> Iterator[Counters]:
        """Counters every `interval` seconds (count samples, or until closed)."""
        stream = self._stub.WatchCounters(
            pb.WatchCountersRequest(interval_ms=int(round(interval * 1000))))
        n = 0
        try:
            for m in stream:
                yield _counters(m)
                n += 1
                if count is not None and n >= count:
                    break
        except grpc.RpcError as e:
            raise self._error(e) from None
        finally:
            stream.cancel()

    def ports(self) -> Ports:
        """The two ports (link, speed, the NIC's counters) and each worker's busy share since
        an earlier call's sample (anyone's; the first call about a dataplane process: since
        it started)."""
        return _ports(self._call("GetPorts", pb.GetPortsRequest()))

    def limits(self) -> Limits:
        return _limits(self._call("GetLimits", pb.GetLimitsRequest()))

    def set_limits(self, **values: int | bool) -> Limits:
        """set_limits(cachelimit=1000, rexmtlimit=2): only those change."""
        req = pb.SetLimitsRequest()
        for k, v in values.items():
            if k not in pb.SetLimitsRequest.DESCRIPTOR.fields_by_name:
                raise SynwallError("INVALID_ARGUMENT", "%s: not a limit" % k, k)
            setattr(req, k, v)
        return _limits(self._call("SetLimits", req))

    def policies(self) -> list[Policy]:
        return _policies(self._call("ListPolicies", pb.ListPoliciesRequest()))

    def set_policy(self, ports: int | str, mode: str | int,
                   profile: ServerProfile | None = None,
                   idle_timeout: int | None = None) -> list[Policy]:
        """set_policy("443", "proxy"); mode may also be a synwall.v1.Mode number. The ports'
        whole policy: a profile or idle timeout (seconds) not given is the default."""
        lo, hi = parse_ports(ports)
        if isinstance(mode, str):
            try:
                mode = Mode(mode).api
            except ValueError:
                raise SynwallError("INVALID_ARGUMENT", "mode: %r is not a mode (%s)"
                                   % (mode, Mode.names()), "mode") from None
        p = pb.Policy(port_lo=lo, port_hi=hi, mode=cast(pb.Mode, mode))
        if profile is not None and not profile.is_default():
            for k, v in asdict(profile).items():
                if v is not None:
                    if not isinstance(v, bool):
                        _uint32("policy.profile." + k, v)
                    setattr(p.profile, k, v)
        if idle_timeout is not None:
            p.idle_timeout_s = _uint32("policy.idle_timeout_s", idle_timeout)
        return _policies(self._call("SetPolicy", pb.SetPolicyRequest(policy=p)))

    def delete_policy(self, ports: int | str) -> list[Policy]:
        lo, hi = parse_ports(ports)
        return _policies(self._call("DeletePolicy", pb.DeletePolicyRequest(port_lo=lo,
                                                                            port_hi=hi)))

    def sources_page(self, page_token: str = "", page_size: int = 1000
                     ) -> tuple[list[SourceRule], str, SourcesSummary]:
        """One page of source rules: (rules, next_page_token or "", the whole list's
        summary)."""
        m = self._call("ListSources", pb.ListSourcesRequest(page_size=page_size,
                                                            page_token=page_token))
        return [_source_rule(r) for r in m.rules], m.next_page_token, _summary(m.summary)

    def sources(self, page_size: int = 1000) -> Iterator[SourceRule]:
        """Every source rule, in order, a page at a time."""
        token = ""
        while True:
            rules, token, _ = self.sources_page(token, page_size)
            yield from rules
            if not token:
                return

    def sources_summary(self) -> SourcesSummary:
        return self.sources_page(page_size=1)[2]

    def set_sources(self, *rules: SourceRule) -> SourcesSummary:
        """Each rule replaces the one of its prefix and ports; all or none."""
        req = pb.SetSourcesRequest(rules=[source_rule_pb(r) for r in rules])
        if req.ByteSize() > MESSAGE_MAX:
            raise SynwallError("INVALID_ARGUMENT", "rules: %d rules make a %d-byte request, over "
                               "the %d bytes synwalld takes at once: replace the whole list "
                               "(replace_sources, `synwallctl source load`) instead"
                               % (len(rules), req.ByteSize(), MESSAGE_MAX), "rules")
        return _sources_change(self._call("SetSources", req, max(self.timeout,
                                                                 SOURCES_TIMEOUT)))

    def delete_sources(self, *keys: tuple[str, int | str | None]) -> SourcesSummary:
        """delete_sources(("198.18.0.0/24", None), ("198.18.0.5/32", "22")): all or none."""
        req = pb.DeleteSourcesRequest()
        for prefix, ports in keys:
            lo, hi = _source_ports(ports)
            req.keys.add(prefix=prefix, port_lo=_uint32("port_lo", lo),
                         port_hi=_uint32("port_hi", hi))
        return _sources_change(self._call("DeleteSources", req, max(self.timeout,
                                                                    SOURCES_TIMEOUT)))

    def replace_sources(self, text: str = "", rules: list[SourceRule] | None = None,
                        source_name: str = "") -> SourcesSummary:
        """The whole list: the rules of text (a rules file's content) and rules; streamed, in
        messages of up to SOURCES_CHUNK of text (lines kept whole where they fit)."""
        def messages() -> Iterator[pb.ReplaceSourcesRequest]:
            first = True
            at = 0
            while at < len(text) or first:
                end = min(len(text), at + SOURCES_CHUNK)
                if end < len(text):
                    cut = text.rfind("\n", at, end)
                    end = cut + 1 if cut > at else end
                m = pb.ReplaceSourcesRequest(text=text[at:end])
                if first:
                    m.source_name = source_name
                    m.rules.extend(source_rule_pb(r) for r in rules or ())
                    first = False
                yield m
                at = end
        try:
            resp = self._stub.ReplaceSources(messages(),
                                             timeout=max(self.timeout, SOURCES_TIMEOUT))
        except grpc.RpcError as e:
            raise self._error(e, max(self.timeout, SOURCES_TIMEOUT)) from None
        return _sources_change(resp)

    def top_sources(self, by: str = "syns", count: int = 20) -> TopSources:
        """The heaviest source prefixes by syns, bad_cookies, flows, syns_limited or
        synacks_capped."""
        if by not in TOP_ORDERS:
            raise SynwallError("INVALID_ARGUMENT", "by: %r is not an order (%s)"
                               % (by, ", ".join(TOP_ORDERS)), "by")
        m = self._call("TopSources", pb.TopSourcesRequest(
            by=cast(pb.TopSourcesBy, TOP_ORDERS.index(by)), max=_uint32("max", count)))
        return TopSources([TopSource(x.prefix, x.syns, x.syns_limited, x.bad_cookies, x.flows,
                                     x.synacks_capped, x.idle_ms,
                                     _source_rule(x.rule) if x.HasField("rule") else None)
                           for x in m.sources], m.source_table, m.source_v4_len,
                          m.source_v6_len, m.time_unix_ns)

    def key_status(self) -> KeyStatus:
        return _keys(self._call("GetKeyStatus", pb.GetKeyStatusRequest()))

    def rotate_keys(self) -> KeyStatus:
        return _keys(self._call("RotateKeys", pb.RotateKeysRequest()))

    def set_key_schedule(self, interval: int | None = None,
                         master_secret: bytes | None = None, clear_master: bool = False,
                         max_clock_skew: int | None = None) -> KeyStatus:
        req = pb.SetKeyScheduleRequest(clear_master=clear_master)
        if interval is not None:
            req.rotation_interval_s = interval
        if master_secret is not None:
            req.master_secret = master_secret
        if max_clock_skew is not None:
            req.max_clock_skew_s = max_clock_skew
        return _keys(self._call("SetKeySchedule", req))

    def syncache_page(self, page_token: str = "", page_size: int = 100) -> SyncachePage:
        """One page of half-open entries, the token of the next ("" after the last) and how
        many entries there are in all."""
        m = self._call("DumpSyncache", pb.DumpSyncacheRequest(page_size=page_size,
                                                              page_token=page_token))
        entries = [SyncacheEntry(e.lcore, e.client_addr, e.client_port, e.server_addr,
                                 e.server_port, e.client_isn, e.iss, e.retransmits, e.mss,
                                 e.sack, e.timestamps, None if e.wscale < 0 else e.wscale,
                                 e.age_ms / 1000 if e.HasField("age_ms") else None)
                   for e in m.entries]
        return SyncachePage(entries, m.next_page_token,
                            m.total if m.HasField("total") else None)

    def dump_syncache_page(self, page_token: str = "",
                           page_size: int = 100) -> tuple[list[SyncacheEntry], str]:
        """One page: (entries, next_page_token); "" when there is no more."""
        page = self.syncache_page(page_token, page_size)
        return page.entries, page.next_page_token

    def dump_syncache(self, page_size: int = 100,
                      limit: int | None = None) -> Iterator[SyncacheEntry]:
        token, n = "", 0
        while True:
            entries, token = self.dump_syncache_page(token, page_size)
            for e in entries:
                if limit is not None and n >= limit:
                    return
                yield e
                n += 1
            if not token:
                return

    def flush_syncache(self) -> int:
        resp: pb.FlushSyncacheResponse = self._call("FlushSyncache", pb.FlushSyncacheRequest())
        return resp.flushed

    def apply_config(self, toml: str, source_name: str = "") -> int:
        """Apply a whole runtime config (boot config format); the new config version."""
        resp: pb.ApplyConfigResponse = self._call("ApplyConfig", pb.ApplyConfigRequest(
            toml=toml, source_name=source_name))
        return resp.config_version

    def validate_config(self, toml: str, source_name: str = "") -> None:
        self._call("ValidateConfig", pb.ValidateConfigRequest(toml=toml,
                                                              source_name=source_name))

    def running_config(self) -> ConfigDocument:
        """The running config as a boot file (TOML)."""
        m = self._call("GetRunningConfig", pb.GetRunningConfigRequest())
        return ConfigDocument(m.toml, m.boot_file, m.config_version)

    def boot_config(self) -> ConfigDocument:
        """The boot file on the appliance, written out as running_config writes."""
        m = self._call("GetBootConfig", pb.GetBootConfigRequest())
        return ConfigDocument(m.toml, m.boot_file, m.config_version)

    def save_config(self) -> SavedConfig:
        """The running config into synwalld's boot file (the file before: FILE.bak)."""
        m = self._call("SaveConfig", pb.SaveConfigRequest())
        return SavedConfig(m.boot_file, m.backup_file, m.config_version)

    def restart_dataplane(self, force: bool = False) -> DataplaneRestart:
        """Stop the dataplane cleanly and start it again (it takes the tables over); force:
        even if its binary's file now holds a program of another state layout (the tables
        then start empty)."""
        return _restart(self._call("RestartDataplane", pb.RestartDataplaneRequest(force=force),
                                   max(self.timeout, RESTART_TIMEOUT)))

    def upgrade_dataplane(self, binary: str, force: bool = False) -> DataplaneRestart:
        """The same with another binary (an absolute path on the appliance) whose state
        layout is the running one's (force: even if not; the tables then start empty)."""
        return _restart(self._call("UpgradeDataplane",
                                   pb.UpgradeDataplaneRequest(binary=binary, force=force),
                                   max(self.timeout, RESTART_TIMEOUT)))

    def call(self, method: str, request: Message) -> Any:
        """A raw call (a synwall.v1 request message) for what the typed methods do not
        cover, e.g. a structured ApplyConfigRequest; the raw response."""
        return self._call(method, request)
