"""A typed client of synwalld's gRPC admin API.

    with Client(socket="/run/synwall/api.sock") as c:        # or addr="host:50051", tls_ca=...
        c.set_policy("443", "proxy")
        print(c.counters().total["syncache.recvcookie"])

Every method returns plain dataclasses; every failure raises synwall.errors.SynwallError with
the gRPC status name, the server's message and the field it blamed.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import grpc

from synwall.errors import SynwallError
from synwall.v1 import admin_pb2 as pb
from synwall.v1 import admin_pb2_grpc as pb_grpc

DEFAULT_SOCKET = os.environ.get("SYNWALL_SOCKET", "/run/synwall/api.sock")
FIELD_METADATA = "synwall-field"
MODES = {"pass": pb.MODE_PASS, "proxy": pb.MODE_PROXY, "cookie": pb.MODE_COOKIE,
         "drop": pb.MODE_DROP}
MODE_NAMES = {v: k for k, v in MODES.items()}


class _Data:
    def to_dict(self) -> dict:
        return asdict(self)


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


@dataclass
class LcoreCounters(_Data):
    lcore: int
    counters: dict


@dataclass
class Counters(_Data):
    time_unix_ns: int
    names: list  # the dataplane's order
    total: dict
    lcores: list = field(default_factory=list)  # [LcoreCounters]


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


@dataclass
class ServerProfile(_Data):
    """None: the default (Limits.mss, Limits.wscale, on)."""
    mss: Optional[int] = None
    wscale: Optional[int] = None
    window_scaling: Optional[bool] = None
    sack: Optional[bool] = None
    timestamps: Optional[bool] = None

    def is_default(self) -> bool:
        return self == ServerProfile()


@dataclass
class Policy(_Data):
    port_lo: int
    port_hi: int
    mode: str
    profile: ServerProfile = field(default_factory=ServerProfile)

    @property
    def ports(self) -> str:
        return str(self.port_lo) if self.port_lo == self.port_hi else \
            "%d-%d" % (self.port_lo, self.port_hi)


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
    wscale: Optional[int]  # None: the client offered no window scale


def parse_ports(ports) -> tuple[int, int]:
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


def _status(m) -> Status:
    return Status(m.version, m.dataplane_state, m.dataplane_running, m.dataplane_pid,
                  m.dataplane_restarts, m.workers, m.config_version, m.uptime_seconds,
                  m.outside_port, m.inside_port, m.key_epoch)


def _counters(m) -> Counters:
    names = list(m.names) or sorted(m.total)
    return Counters(m.time_unix_ns, names, dict(m.total),
                    [LcoreCounters(lc.lcore, dict(lc.counters)) for lc in m.lcores])


def _limits(m) -> Limits:
    return Limits(m.hashsize, m.bucketlimit, m.flows, m.cachelimit, m.rexmtlimit,
                  m.syncookies, m.syncookies_only, m.mss, m.wscale, m.server_retries)


def _profile(m) -> ServerProfile:
    return ServerProfile(*(getattr(m, k) if m.HasField(k) else None
                           for k in ("mss", "wscale", "window_scaling", "sack", "timestamps")))


def _policies(m) -> list:
    return [Policy(p.port_lo, p.port_hi or p.port_lo, MODE_NAMES.get(p.mode, str(p.mode)),
                   _profile(p.profile)) for p in m.policies]


def _keys(m) -> KeyStatus:
    return KeyStatus(m.epoch, m.current_fingerprint, m.previous_epoch, m.previous_fingerprint,
                     m.rotation_interval_s, m.derived_from_master, m.master_fingerprint,
                     m.next_rotation_unix, m.max_clock_skew_s)


class Client:
    """Owns one gRPC channel to synwalld: a Unix socket (default) or TCP with TLS."""

    def __init__(self, socket: Optional[str] = None, addr: Optional[str] = None, *,
                 tls_ca: Optional[str] = None, tls_cert: Optional[str] = None,
                 tls_key: Optional[str] = None, server_name: Optional[str] = None,
                 timeout: float = 10.0):
        self.timeout = timeout
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

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- plumbing --------------------------------------------------------------------------

    def _error(self, e: grpc.RpcError) -> SynwallError:
        code = e.code() if hasattr(e, "code") else grpc.StatusCode.UNKNOWN
        details = (e.details() if hasattr(e, "details") else str(e)) or code.name
        field_name = ""
        try:
            for k, v in e.trailing_metadata() or ():
                if k == FIELD_METADATA:
                    field_name = v
        except Exception:  # noqa: BLE001 - no metadata on local failures
            pass
        if code == grpc.StatusCode.UNAVAILABLE and "failed to connect" in details:
            reason = details.rsplit(": ", 1)[-1]
            details = "cannot reach synwalld at %s: %s" % (self.target, reason)
        elif code == grpc.StatusCode.DEADLINE_EXCEEDED:
            details = "synwalld at %s did not answer within %gs" % (self.target, self.timeout)
        return SynwallError(code.name, details, field_name)

    def _call(self, method: str, request):
        try:
            return getattr(self._stub, method)(request, timeout=self.timeout)
        except grpc.RpcError as e:
            raise self._error(e) from None

    # --- the API ---------------------------------------------------------------------------

    def status(self) -> Status:
        return _status(self._call("GetStatus", pb.GetStatusRequest()))

    def counters(self) -> Counters:
        return _counters(self._call("GetCounters", pb.GetCountersRequest()))

    def watch_counters(self, interval: float = 1.0,
                       count: Optional[int] = None) -> Iterator[Counters]:
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

    def limits(self) -> Limits:
        return _limits(self._call("GetLimits", pb.GetLimitsRequest()))

    def set_limits(self, **values) -> Limits:
        """set_limits(cachelimit=1000, rexmtlimit=2): only those change."""
        req = pb.SetLimitsRequest()
        for k, v in values.items():
            if k not in pb.SetLimitsRequest.DESCRIPTOR.fields_by_name:
                raise SynwallError("INVALID_ARGUMENT", "%s: not a limit" % k, k)
            setattr(req, k, v)
        return _limits(self._call("SetLimits", req))

    def policies(self) -> list:
        return _policies(self._call("ListPolicies", pb.ListPoliciesRequest()))

    def set_policy(self, ports, mode, profile: Optional[ServerProfile] = None) -> list:
        """set_policy("443", "proxy"); mode may also be a synwall.v1.Mode number."""
        lo, hi = parse_ports(ports)
        if isinstance(mode, str):
            if mode not in MODES:
                raise SynwallError("INVALID_ARGUMENT", "mode: %r is not a mode (pass, proxy, "
                                   "cookie, drop)" % mode, "mode")
            mode = MODES[mode]
        p = pb.Policy(port_lo=lo, port_hi=hi, mode=mode)
        if profile is not None and not profile.is_default():
            for k, v in asdict(profile).items():
                if v is not None:
                    setattr(p.profile, k, v)
        return _policies(self._call("SetPolicy", pb.SetPolicyRequest(policy=p)))

    def delete_policy(self, ports) -> list:
        lo, hi = parse_ports(ports)
        return _policies(self._call("DeletePolicy", pb.DeletePolicyRequest(port_lo=lo,
                                                                            port_hi=hi)))

    def key_status(self) -> KeyStatus:
        return _keys(self._call("GetKeyStatus", pb.GetKeyStatusRequest()))

    def rotate_keys(self) -> KeyStatus:
        return _keys(self._call("RotateKeys", pb.RotateKeysRequest()))

    def set_key_schedule(self, interval: Optional[int] = None,
                         master_secret: Optional[bytes] = None, clear_master: bool = False,
                         max_clock_skew: Optional[int] = None) -> KeyStatus:
        req = pb.SetKeyScheduleRequest(clear_master=clear_master)
        if interval is not None:
            req.rotation_interval_s = interval
        if master_secret is not None:
            req.master_secret = master_secret
        if max_clock_skew is not None:
            req.max_clock_skew_s = max_clock_skew
        return _keys(self._call("SetKeySchedule", req))

    def dump_syncache_page(self, page_token: str = "", page_size: int = 100):
        """One page: (entries, next_page_token); "" when there is no more."""
        m = self._call("DumpSyncache", pb.DumpSyncacheRequest(page_size=page_size,
                                                              page_token=page_token))
        entries = [SyncacheEntry(e.lcore, e.client_addr, e.client_port, e.server_addr,
                                 e.server_port, e.client_isn, e.iss, e.retransmits, e.mss,
                                 e.sack, e.timestamps, None if e.wscale < 0 else e.wscale)
                   for e in m.entries]
        return entries, m.next_page_token

    def dump_syncache(self, page_size: int = 100,
                      limit: Optional[int] = None) -> Iterator[SyncacheEntry]:
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
        return self._call("FlushSyncache", pb.FlushSyncacheRequest()).flushed

    def apply_config(self, toml: str, source_name: str = "") -> int:
        """Apply a whole runtime config (boot config format); the new config version."""
        return self._call("ApplyConfig", pb.ApplyConfigRequest(
            toml=toml, source_name=source_name)).config_version

    def validate_config(self, toml: str, source_name: str = "") -> None:
        self._call("ValidateConfig", pb.ValidateConfigRequest(toml=toml,
                                                              source_name=source_name))

    def call(self, method: str, request):
        """A raw call (a synwall.v1 request message) for what the typed methods do not
        cover, e.g. a structured ApplyConfigRequest; the raw response."""
        return self._call(method, request)
