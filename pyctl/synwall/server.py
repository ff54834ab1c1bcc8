"""The gRPC admin API (synwall.v1.Admin) over the controller, plus the standard health
service and server reflection (grpcurl works without the .proto files).

Refused requests carry INVALID_ARGUMENT (or NOT_FOUND, FAILED_PRECONDITION, UNAVAILABLE) with
a one-line message that starts with the field to blame, which also travels in the trailing
metadata key `synwall-field`.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import time
from concurrent import futures
from pathlib import Path
from typing import Optional

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from synwall import __version__, bootconfig, model
from synwall.controller import Controller, KeyChange, RequestError
from synwall.v1 import admin_pb2 as pb
from synwall.v1 import admin_pb2_grpc as pb_grpc

log = logging.getLogger("synwalld")

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Admin"].full_name
FIELD_METADATA = "synwall-field"

MODE_TO_PB = {"pass": pb.MODE_PASS, "proxy": pb.MODE_PROXY, "cookie": pb.MODE_COOKIE,
              "drop": pb.MODE_DROP}
PB_TO_MODE = {v: k for k, v in MODE_TO_PB.items()}


# --- proto <-> model --------------------------------------------------------------------

def bad(field: str, reason: str) -> RequestError:
    return RequestError(grpc.StatusCode.INVALID_ARGUMENT, "%s: %s" % (field, reason), field)


def policy_from_pb(p: pb.Policy, prefix: str) -> model.PortPolicy:
    lo = p.port_lo
    hi = p.port_hi or p.port_lo
    if not 1 <= lo <= model.PORT_MAX:
        raise bad(prefix + "port_lo", "port %d is out of range: 1..65535" % lo)
    if not 1 <= hi <= model.PORT_MAX:
        raise bad(prefix + "port_hi", "port %d is out of range: 1..65535" % hi)
    if hi < lo:
        raise bad(prefix + "port_hi", "range %d-%d is backwards" % (lo, hi))
    if p.mode == pb.MODE_UNSPECIFIED:
        raise bad(prefix + "mode", "required (pass, proxy, cookie, drop)")
    if p.mode not in PB_TO_MODE:
        raise bad(prefix + "mode", "%d is not a mode (pass, proxy, cookie, drop)" % p.mode)
    prof = model.DEFAULT_PROFILE
    if p.HasField("profile"):
        pp = p.profile
        prof = model.Profile(
            mss=pp.mss if pp.HasField("mss") else None,
            wscale=pp.wscale if pp.HasField("wscale") else None,
            window_scaling=pp.window_scaling if pp.HasField("window_scaling") else None,
            sack=pp.sack if pp.HasField("sack") else None,
            timestamps=pp.timestamps if pp.HasField("timestamps") else None)
        try:
            model.check_profile(prof, prefix + "profile.")
        except model.InvalidConfig as e:
            raise bad(e.field, e.reason) from None
    return model.PortPolicy(lo, hi, PB_TO_MODE[p.mode], prof)


def policy_to_pb(p: model.PortPolicy) -> pb.Policy:
    prof = pb.ServerProfile()
    for k in ("mss", "wscale", "window_scaling", "sack", "timestamps"):
        v = getattr(p.profile, k)
        if v is not None:
            setattr(prof, k, v)
    out = pb.Policy(port_lo=p.lo, port_hi=p.hi, mode=MODE_TO_PB[p.mode])
    if not p.profile.is_default():
        out.profile.CopyFrom(prof)
    return out


LIMIT_FIELDS = ("hashsize", "bucketlimit", "flows") + tuple(model.RUNTIME_LIMITS)


def limit_changes(req: pb.SetLimitsRequest) -> dict:
    return {k: getattr(req, k) for k in LIMIT_FIELDS if req.HasField(k)}


def limits_to_pb(lim: model.Limits, start: model.StartLimits) -> pb.Limits:
    return pb.Limits(hashsize=start.hashsize, bucketlimit=start.bucketlimit, flows=start.flows,
                     cachelimit=lim.resolved_cachelimit(start), rexmtlimit=lim.rexmtlimit,
                     syncookies=lim.syncookies, syncookies_only=lim.syncookies_only,
                     mss=lim.mss, wscale=lim.wscale, server_retries=lim.server_retries)


def key_change_from_pb(k: pb.SetKeyScheduleRequest) -> KeyChange:
    return KeyChange(
        interval=k.rotation_interval_s if k.HasField("rotation_interval_s") else None,
        master=k.master_secret if k.HasField("master_secret") else None,
        clear_master=k.clear_master,
        skew=k.max_clock_skew_s if k.HasField("max_clock_skew_s") else None)


def key_status_to_pb(d: dict) -> pb.KeyStatus:
    return pb.KeyStatus(**d)


def addr_text(b: bytes) -> str:
    try:
        return str(ipaddress.ip_address(bytes(b)))
    except ValueError:
        return bytes(b).hex()


def counters_to_pb(c) -> pb.Counters:
    names = list(c.names)
    out = pb.Counters(time_unix_ns=time.time_ns(), names=names)
    out.total.update(dict(zip(names, c.total)))
    for lc in c.lcores:
        o = out.lcores.add(lcore=lc.lcore)
        o.counters.update(dict(zip(names, lc.values)))
    return out


# --- the service ------------------------------------------------------------------------

def _handled(method):
    """RequestError -> the gRPC status with the message and the field."""
    def wrapper(self, request, context):
        try:
            return method(self, request, context)
        except RequestError as e:
            if e.field:
                context.set_trailing_metadata(((FIELD_METADATA, e.field),))
            context.abort(e.code, e.message)
    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class AdminService(pb_grpc.AdminServicer):
    def __init__(self, ctl: Controller):
        self.ctl = ctl

    @_handled
    def GetStatus(self, request, context):
        return pb.Status(version=__version__, **self.ctl.status())

    @_handled
    def GetCounters(self, request, context):
        return counters_to_pb(self.ctl.counters())

    def WatchCounters(self, request, context):
        interval = request.interval_ms or 1000
        if not 100 <= interval <= 60000:
            context.set_trailing_metadata(((FIELD_METADATA, "interval_ms"),))
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          "interval_ms: %d is out of range: 100..60000" % interval)
        next_t = time.monotonic()
        while context.is_active():
            try:
                yield counters_to_pb(self.ctl.counters())
            except RequestError as e:
                if e.code != grpc.StatusCode.UNAVAILABLE:
                    context.abort(e.code, e.message)
                # a dataplane restart: skip this sample, the stream goes on
            next_t += interval / 1000.0
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_t = time.monotonic()

    @_handled
    def GetLimits(self, request, context):
        return limits_to_pb(*self.ctl.limits())

    @_handled
    def SetLimits(self, request, context):
        lim = self.ctl.set_limits(limit_changes(request))
        return limits_to_pb(lim, self.ctl.start_limits)

    @_handled
    def ListPolicies(self, request, context):
        return pb.ListPoliciesResponse(policies=[policy_to_pb(p) for p in self.ctl.policies()])

    @_handled
    def SetPolicy(self, request, context):
        if not request.HasField("policy"):
            raise bad("policy", "required")
        p = policy_from_pb(request.policy, "policy.")
        return pb.ListPoliciesResponse(policies=[policy_to_pb(x)
                                                 for x in self.ctl.set_policy(p)])

    @_handled
    def DeletePolicy(self, request, context):
        lo, hi = request.port_lo, request.port_hi or request.port_lo
        if not 1 <= lo <= model.PORT_MAX:
            raise bad("port_lo", "port %d is out of range: 1..65535" % lo)
        if not 1 <= hi <= model.PORT_MAX or hi < lo:
            raise bad("port_hi", "port %d is out of range: %d..65535" % (hi, lo))
        return pb.ListPoliciesResponse(policies=[policy_to_pb(x)
                                                 for x in self.ctl.delete_policy(lo, hi)])

    @_handled
    def GetKeyStatus(self, request, context):
        return key_status_to_pb(self.ctl.key_status())

    @_handled
    def RotateKeys(self, request, context):
        return key_status_to_pb(self.ctl.rotate_keys())

    @_handled
    def SetKeySchedule(self, request, context):
        return key_status_to_pb(self.ctl.set_key_schedule(key_change_from_pb(request)))

    @_handled
    def DumpSyncache(self, request, context):
        entries, token = self.ctl.dump_syncache(request.page_token, request.page_size)
        out = pb.DumpSyncacheResponse(next_page_token=token)
        for e in entries:
            out.entries.add(lcore=e.lcore, client_addr=addr_text(e.client_addr),
                            client_port=e.client_port, server_addr=addr_text(e.server_addr),
                            server_port=e.server_port, client_isn=e.client_isn, iss=e.iss,
                            retransmits=e.retransmits, mss=e.mss, sack=e.sack,
                            timestamps=e.timestamps, wscale=e.wscale)
        return out

    @_handled
    def FlushSyncache(self, request, context):
        return pb.FlushSyncacheResponse(flushed=self.ctl.flush_syncache())

    def _config(self, request):
        """The request's config as (RuntimeConfig, KeyChange or None)."""
        which = request.WhichOneof("config")
        if which is None:
            raise bad("config", "required: toml or runtime")
        if which == "toml":
            source = request.source_name or "<request>"
            try:
                rf = bootconfig.parse_runtime(request.toml, source, self.ctl.boot,
                                              self.ctl.start_limits)
            except bootconfig.BootConfigError as e:
                raise RequestError(grpc.StatusCode.INVALID_ARGUMENT, str(e), e.key) from None
            kc = None
            if rf.keys is not None:
                kc = KeyChange(interval=rf.keys.rotation_interval,
                               master=rf.keys.master_secret,
                               clear_master=rf.keys.master_secret is None,
                               skew=rf.keys.max_clock_skew)
            return rf.runtime, kc
        rc = request.runtime
        lim = model.Limits()
        changes = limit_changes(rc.limits)
        for name in model.START_LIMITS:
            if name in changes:
                running = getattr(self.ctl.start_limits, name)
                if changes.pop(name) != running:
                    raise bad("runtime.limits." + name, "start-time only (running: %d)"
                              % running)
        for name, value in changes.items():
            try:
                model.check_limit(name, value, self.ctl.start_limits, "runtime.limits.")
            except model.InvalidConfig as e:
                raise bad(e.field, e.reason) from None
        lim = lim.replace(**changes)
        table = model.PolicyTable()
        for i, p in enumerate(rc.policies):
            mp = policy_from_pb(p, "runtime.policies[%d]." % i)
            table.set(mp.lo, mp.hi, mp.mode, mp.profile)
        kc = key_change_from_pb(rc.keys) if rc.HasField("keys") else None
        return model.RuntimeConfig(lim, table), kc

    @_handled
    def ApplyConfig(self, request, context):
        cfg, kc = self._config(request)
        return pb.ApplyConfigResponse(config_version=self.ctl.apply_config(cfg, kc, False))

    @_handled
    def ValidateConfig(self, request, context):
        cfg, kc = self._config(request)
        self.ctl.apply_config(cfg, kc, True)
        return pb.ValidateConfigResponse()


# --- the server -------------------------------------------------------------------------

class ListenError(RuntimeError):
    pass


class ApiServer:
    """The gRPC server: the Unix socket (mode 0600), optional TCP with TLS, health and
    reflection."""

    def __init__(self, ctl: Controller, api: bootconfig.ApiSection, max_workers: int = 16):
        self.ctl = ctl
        self.api = api
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers,
                                                             thread_name_prefix="grpc"))
        pb_grpc.add_AdminServicer_to_server(AdminService(ctl), self.server)
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
             reflection.SERVICE_NAME), self.server)
        self.tcp_port: Optional[int] = None
        ctl.on_state(self._on_state)

    def _on_state(self, state: str) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if state == "running" \
            else health_pb2.HealthCheckResponse.NOT_SERVING
        self.health.set("", status)
        self.health.set(SERVICE_NAME, status)

    def listen(self) -> None:
        """Bind the listeners (ListenError if one cannot be had); nothing served yet."""
        if self.api.unix_socket:
            self._listen_unix(Path(self.api.unix_socket))
        if self.api.tcp:
            self._listen_tcp(self.api.tcp)

    def serve(self) -> None:
        self.server.start()
        if self.api.unix_socket:
            # created under umask 0177 already; make sure nothing widened it since
            os.chmod(self.api.unix_socket, 0o600)

    def _listen_unix(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() or path.is_symlink():
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(str(path))
                raise ListenError("%s: another synwalld is listening there" % path)
            except (ConnectionRefusedError, FileNotFoundError):
                path.unlink()  # stale, from a synwalld that died
            except OSError as e:
                raise ListenError("%s: %s" % (path, e.strerror or e)) from None
            finally:
                probe.close()
        # Created 0600 from the start: no moment where another user could connect.
        old = os.umask(0o177)
        try:
            ok = self.server.add_insecure_port("unix:%s" % path)
        except RuntimeError as e:
            raise ListenError("%s: cannot listen: %s" % (path, e)) from None
        finally:
            os.umask(old)
        if not ok:
            raise ListenError("%s: cannot listen" % path)

    def _listen_tcp(self, addr: str) -> None:
        a = self.api
        key = Path(a.tls_key).read_bytes()
        cert = Path(a.tls_cert).read_bytes()
        ca = Path(a.tls_client_ca).read_bytes() if a.tls_client_ca else None
        creds = grpc.ssl_server_credentials([(key, cert)], root_certificates=ca,
                                            require_client_auth=ca is not None)
        try:
            port = self.server.add_secure_port(addr, creds)
        except RuntimeError as e:
            raise ListenError("api.tcp %s: cannot listen: %s" % (addr, e)) from None
        if not port:
            raise ListenError("api.tcp %s: cannot listen" % addr)
        self.tcp_port = port

    def stop(self, grace: float = 1.0) -> None:
        self.server.stop(grace).wait()
        if self.api.unix_socket:
            try:
                os.unlink(self.api.unix_socket)
            except FileNotFoundError:
                pass
