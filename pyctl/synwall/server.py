"""The gRPC admin API (synwall.v1.Admin) over the controller, plus the standard health
service and server reflection, v1 and v1alpha (grpcurl works without the .proto files).

The controller raises synwall.errors' kinds; `maps_errors` turns them into gRPC statuses, here
and nowhere else: INVALID_ARGUMENT (or NOT_FOUND, FAILED_PRECONDITION, UNAVAILABLE,
RESOURCE_EXHAUSTED, ABORTED) with a one-line message that starts with the field to blame, which also
travels in the trailing metadata key `synwall-field`.

WatchCounters streams hold a server thread each for as long as they last: at most
`api.max_watch_streams` run at once (the next is refused with RESOURCE_EXHAUSTED), and the
thread pool has that many threads on top of those that serve everything else.

Who may do what. The Unix socket is plain text and every call on it is an admin's: its file
mode (0600, synwalld's user) is its access control. The TCP listener is mutual TLS only (a
client certificate signed by `api.tls_client_ca`, or no TLS handshake at all) and gives each
client a role from its certificate's subject (`ClientRoles`): an admin (`api.admin_clients`)
may call everything; a reader (`api.read_clients`, or else every other certificate) only
what changes nothing and shows no secret (READ_METHODS); anything else is PERMISSION_DENIED.
The two listeners are two gRPC servers with threads of their own, so that no number of TCP
clients can keep the local admin waiting.
"""

from __future__ import annotations

import enum
import functools
import inspect
import ipaddress
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent import futures
from pathlib import Path
from typing import Any, NoReturn, TypeVar, cast

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc

from synwall import __version__, bootconfig, keys, model
from synwall.controller import (
    TOP_ORDERS,
    Controller,
    ControllerStatus,
    DataplaneRestart,
    DataplaneState,
    KeyChange,
    PortsHealth,
    TopSources,
)
from synwall.dp.v1 import dataplane_pb2 as dp
from synwall.errors import (
    Aborted,
    ControllerError,
    FailedPrecondition,
    InvalidRequest,
    NotFound,
    ResourceExhausted,
    Unavailable,
)
from synwall.v1 import admin_pb2 as pb
from synwall.v1 import admin_pb2_grpc as pb_grpc

log = logging.getLogger("synwalld")

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Admin"].full_name
FIELD_METADATA = "synwall-field"
# Threads for every call but the counter watches (which get api.max_watch_streams more).
UNARY_WORKERS = 8

# --- errors -> gRPC statuses ---------------------------------------------------------------

STATUS_CODES: Mapping[type[ControllerError], grpc.StatusCode] = {
    InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
    ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    Aborted: grpc.StatusCode.ABORTED,
}


def status_code(e: ControllerError) -> grpc.StatusCode:
    """The status of an error's kind (its nearest class in STATUS_CODES)."""
    for cls in type(e).__mro__:
        code = STATUS_CODES.get(cast(type[ControllerError], cls))
        if code is not None:
            return code
    return grpc.StatusCode.UNKNOWN


def abort(context: grpc.ServicerContext, e: ControllerError) -> NoReturn:
    if e.field:
        context.set_trailing_metadata(((FIELD_METADATA, e.field),))
    context.abort(status_code(e), e.message)


F = TypeVar("F", bound=Callable[..., object])


def maps_errors(method: F) -> F:
    """The ControllerError an RPC method raises becomes the call's gRPC status: the one place
    where the controller's errors meet status codes (p4runtime-shell's decorator style).
    Streaming methods (generators) too: theirs may come after some messages were sent."""
    if inspect.isgeneratorfunction(method):
        @functools.wraps(method)
        def stream(self: object, request: object,
                   context: grpc.ServicerContext) -> Iterator[object]:
            try:
                yield from cast(Iterator[object], method(self, request, context))
            except ControllerError as e:
                abort(context, e)
        return cast(F, stream)

    @functools.wraps(method)
    def unary(self: object, request: object, context: grpc.ServicerContext) -> object:
        try:
            return method(self, request, context)
        except ControllerError as e:
            abort(context, e)
    return cast(F, unary)


# --- proto <-> model --------------------------------------------------------------------

def bad(field: str, reason: str) -> InvalidRequest:
    return InvalidRequest("%s: %s" % (field, reason), field)


def policy_from_pb(p: pb.Policy, prefix: str) -> model.PortPolicy:
    lo = p.port_lo
    hi = p.port_hi or p.port_lo
    model.check_range(lo, hi, prefix + "port_lo", prefix + "port_hi")
    if p.mode == pb.MODE_UNSPECIFIED:
        raise bad(prefix + "mode", "required (%s)" % model.Mode.names())
    mode = model.Mode.from_api(p.mode)
    if mode is None:
        raise bad(prefix + "mode", "%d is not a mode (%s)" % (p.mode, model.Mode.names()))
    prof = model.DEFAULT_PROFILE
    if p.HasField("profile"):
        pp = p.profile
        prof = model.Profile(
            mss=pp.mss if pp.HasField("mss") else None,
            wscale=pp.wscale if pp.HasField("wscale") else None,
            window_scaling=pp.window_scaling if pp.HasField("window_scaling") else None,
            sack=pp.sack if pp.HasField("sack") else None,
            timestamps=pp.timestamps if pp.HasField("timestamps") else None)
        model.check_profile(prof, prefix + "profile.")
    idle = None
    if p.HasField("idle_timeout_s"):
        idle = model.check_idle_timeout(p.idle_timeout_s, prefix + "idle_timeout_s")
    return model.PortPolicy(lo, hi, mode, prof, idle)


def policy_to_pb(p: model.PortPolicy) -> pb.Policy:
    out = pb.Policy(port_lo=p.lo, port_hi=p.hi, mode=p.mode.api)
    if not p.profile.is_default():
        pr = p.profile
        if pr.mss is not None:
            out.profile.mss = pr.mss
        if pr.wscale is not None:
            out.profile.wscale = pr.wscale
        if pr.window_scaling is not None:
            out.profile.window_scaling = pr.window_scaling
        if pr.sack is not None:
            out.profile.sack = pr.sack
        if pr.timestamps is not None:
            out.profile.timestamps = pr.timestamps
    if p.idle_timeout is not None:
        out.idle_timeout_s = p.idle_timeout
    return out


def policies_to_pb(policies: list[model.PortPolicy]) -> pb.ListPoliciesResponse:
    return pb.ListPoliciesResponse(policies=[policy_to_pb(p) for p in policies])


LIMIT_FIELDS = model.START_LIMITS + tuple(model.RUNTIME_LIMITS)


def limit_changes(req: pb.SetLimitsRequest) -> dict[str, int | bool]:
    return {k: getattr(req, k) for k in LIMIT_FIELDS if req.HasField(k)}


def limits_to_pb(lim: model.Limits, start: model.StartLimits) -> pb.Limits:
    return pb.Limits(hashsize=start.hashsize, bucketlimit=start.bucketlimit, flows=start.flows,
                     cachelimit=lim.resolved_cachelimit(start), rexmtlimit=lim.rexmtlimit,
                     syncookies=lim.syncookies, syncookies_only=lim.syncookies_only,
                     mss=lim.mss, wscale=lim.wscale, server_retries=lim.server_retries,
                     cookie_check_rate=lim.cookie_check_rate, syn_rate=lim.syn_rate,
                     syn_burst=lim.syn_burst, reflect_rate=lim.reflect_rate,
                     reflect_burst=lim.reflect_burst)


_ACTION_OF_API = {pb.SOURCE_ACTION_DENY: model.SourceAction.DENY,
                  pb.SOURCE_ACTION_ALLOW: model.SourceAction.ALLOW,
                  pb.SOURCE_ACTION_LIMIT: model.SourceAction.LIMIT}
_API_OF_ACTION = {a: n for n, a in _ACTION_OF_API.items()}
LIST_SOURCES_DEFAULT, LIST_SOURCES_MAX = 1000, 10000


def source_ports_from_pb(lo: int, hi: int, prefix: str) -> model.SourcePorts:
    """port_lo, port_hi: (0, 0) the global list, else a checked range (hi 0: lo)."""
    if lo == 0:
        if hi:
            raise bad(prefix + "port_lo", "0 (every port) with port_hi %d: give port_lo too, or "
                      "neither" % hi)
        return None
    hi = hi or lo
    model.check_range(lo, hi, prefix + "port_lo", prefix + "port_hi")
    return lo, hi


def source_rule_from_pb(r: pb.SourceRule, prefix: str) -> model.SourceRule:
    if r.action == pb.SOURCE_ACTION_UNSPECIFIED:
        raise bad(prefix + "action", "required (%s)" % model.SourceAction.names())
    action = _ACTION_OF_API.get(r.action)
    if action is None:
        raise bad(prefix + "action", "%d is not an action (%s)"
                  % (r.action, model.SourceAction.names()))
    if action == model.SourceAction.LIMIT and (r.port_lo or r.port_hi):
        raise bad(prefix + "port_lo", "a limit is global: it has no ports (a port range's own "
                  "list holds deny and allow rules)")
    ports = source_ports_from_pb(r.port_lo, r.port_hi, prefix)
    if action == model.SourceAction.LIMIT:
        if r.rate == 0:
            raise bad(prefix + "rate", "a limit needs its rate (SYNs a second, 1..%d)"
                      % model.RATE_MAX)
        return model.source_rule(action.value, r.prefix, None, r.rate, r.burst or None, prefix)
    return model.source_rule(action.value, r.prefix,
                             None if ports is None else "%d-%d" % ports,
                             r.rate or None, r.burst or None, prefix)


def source_rule_to_pb(r: model.SourceRule) -> pb.SourceRule:
    lo, hi = r.ports if r.ports is not None else (0, 0)
    return pb.SourceRule(action=_API_OF_ACTION[r.action], prefix=str(r.network), port_lo=lo,
                         port_hi=hi, rate=r.rate or 0, burst=r.burst or 0)


def source_key_from_pb(k: pb.SourceKey, prefix: str) -> model.SourceKey:
    return model.SourceKey(model.parse_prefix(k.prefix, prefix + "prefix"),
                           source_ports_from_pb(k.port_lo, k.port_hi, prefix))


def source_key_of_token(token: str) -> model.SourceKey:
    """A page token (SourceKey.text()) back to its key."""
    try:
        prefix, _, ports = token.partition(" ")
        return model.SourceKey(model.parse_prefix(prefix, "page_token"),
                               model.parse_source_ports(ports, "page_token") if ports else None)
    except model.InvalidConfig:
        raise bad("page_token", "%r is not a token from a previous page" % token[:80]) from None


def sources_summary(sources: model.SourceList) -> pb.SourcesSummary:
    c = sources.counts()
    return pb.SourcesSummary(rules=c.rules, deny=c.deny, allow=c.allow, limit=c.limit,
                             prefixes_v4=c.prefixes4, prefixes_v6=c.prefixes6,
                             port_ranges=c.port_ranges,
                             sha256=sources.digest() if c.rules else "")


def top_sources_to_pb(t: TopSources) -> pb.TopSourcesResponse:
    out = pb.TopSourcesResponse(source_table=t.table, source_v4_len=t.v4_len,
                                source_v6_len=t.v6_len, time_unix_ns=time.time_ns())
    for x in t.sources:
        o = out.sources.add(prefix=str(x.network), syns=x.syns, syns_limited=x.syns_limited,
                            bad_cookies=x.bad_cookies, flows=x.flows,
                            synacks_capped=x.synacks_capped, idle_ms=x.idle_ms)
        if x.rule is not None:
            o.rule.CopyFrom(source_rule_to_pb(x.rule))
    return out


def ports_to_pb(h: PortsHealth) -> pb.Ports:
    out = pb.Ports(time_unix_ns=time.time_ns())
    for p in h.ports:
        out.ports.add(role=p.role, name=p.name, id=p.id, link_up=p.link_up,
                      speed_mbps=p.speed_mbps, full_duplex=p.full_duplex, autoneg=p.autoneg,
                      ipackets=p.ipackets, opackets=p.opackets, ibytes=p.ibytes,
                      obytes=p.obytes, imissed=p.imissed, ierrors=p.ierrors, oerrors=p.oerrors,
                      rx_nombuf=p.rx_nombuf, queue_ipackets=p.queue_ipackets,
                      queue_opackets=p.queue_opackets)
    for b in h.lcores:
        out.lcores.add(lcore=b.lcore, busy_share=b.busy_share,
                       interval_seconds=b.interval_seconds, since_start=b.since_start,
                       cycles=b.cycles, busy_cycles=b.busy_cycles)
    return out


def key_change_from_pb(k: pb.SetKeyScheduleRequest) -> KeyChange:
    return KeyChange(
        interval=k.rotation_interval_s if k.HasField("rotation_interval_s") else None,
        master=k.master_secret if k.HasField("master_secret") else None,
        clear_master=k.clear_master,
        skew=k.max_clock_skew_s if k.HasField("max_clock_skew_s") else None)


def key_status_to_pb(k: keys.KeyStatus) -> pb.KeyStatus:
    return pb.KeyStatus(
        epoch=k.epoch, current_fingerprint=k.current_fingerprint,
        previous_epoch=k.previous_epoch, previous_fingerprint=k.previous_fingerprint,
        rotation_interval_s=k.rotation_interval_s, derived_from_master=k.derived_from_master,
        master_fingerprint=k.master_fingerprint, next_rotation_unix=k.next_rotation_unix,
        max_clock_skew_s=k.max_clock_skew_s)


def status_to_pb(st: ControllerStatus) -> pb.Status:
    return pb.Status(
        version=__version__, dataplane_state=st.dataplane_state.value,
        dataplane_running=st.dataplane_running, dataplane_pid=st.dataplane_pid,
        dataplane_restarts=st.dataplane_restarts, workers=st.workers,
        config_version=st.config_version, uptime_seconds=st.uptime_seconds,
        outside_port=st.outside_port, inside_port=st.inside_port, key_epoch=st.key_epoch,
        restart_pending=[pb.PendingRestart(key=p.key, running=p.running, boot=p.boot)
                         for p in st.restart_pending],
        dataplane_binary=st.dataplane_binary)


def restart_to_pb(r: DataplaneRestart) -> pb.DataplaneRestart:
    return pb.DataplaneRestart(
        old_pid=r.old_pid, pid=r.pid, old_binary=r.old_binary, binary=r.binary,
        stop_seconds=r.stop_seconds, down_seconds=r.down_seconds, tables=list(r.tables),
        state_layout=r.state_layout, forced=r.forced, config_version=r.config_version,
        key_epoch=r.key_epoch, boot_binary=r.boot_binary)


def addr_text(b: bytes) -> str:
    try:
        return str(ipaddress.ip_address(bytes(b)))
    except ValueError:
        return bytes(b).hex()


def counters_to_pb(c: dp.DpCounters) -> pb.Counters:
    names = list(c.names)
    out = pb.Counters(time_unix_ns=time.time_ns(), names=names)
    out.total.update(dict(zip(names, c.total, strict=True)))
    for lc in c.lcores:
        o = out.lcores.add(lcore=lc.lcore)
        o.counters.update(dict(zip(names, lc.values, strict=True)))
    return out


# --- the service ------------------------------------------------------------------------

class StreamSlots:
    """Room for at most `limit` streams at once (each holds a server thread)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._used = 0

    def take(self) -> bool:
        with self._lock:
            if self._used >= self.limit:
                return False
            self._used += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self._used -= 1

    @property
    def used(self) -> int:
        with self._lock:
            return self._used


class AdminService(pb_grpc.AdminServicer):
    def __init__(self, ctl: Controller, max_watch_streams: int) -> None:
        self.ctl = ctl
        self.watch_slots = StreamSlots(max_watch_streams)

    @maps_errors
    def GetStatus(self, request: pb.GetStatusRequest,
                  context: grpc.ServicerContext) -> pb.Status:
        return status_to_pb(self.ctl.status())

    @maps_errors
    def GetCounters(self, request: pb.GetCountersRequest,
                    context: grpc.ServicerContext) -> pb.Counters:
        return counters_to_pb(self.ctl.counters())

    @maps_errors
    def WatchCounters(self, request: pb.WatchCountersRequest,
                      context: grpc.ServicerContext) -> Iterator[pb.Counters]:
        interval = request.interval_ms or 1000
        if not 100 <= interval <= 60000:
            raise bad("interval_ms", "%d is out of range: 100..60000" % interval)
        if not self.watch_slots.take():
            raise ResourceExhausted(
                "too many counter watches: %d streams are open, the most synwalld serves at "
                "once (api.max_watch_streams); end one, or poll GetCounters"
                % self.watch_slots.limit)
        ended = threading.Event()

        def end() -> None:
            ended.set()
            self.watch_slots.give_back()

        # Called once when the RPC ends, however it ends (client gone, deadline, abort): the
        # slot comes back at once, and the wait below ends without waiting out the interval.
        if not context.add_callback(end):
            end()
            return
        next_t = time.monotonic()
        while not ended.is_set():
            try:
                yield counters_to_pb(self.ctl.counters())
            except Unavailable:
                pass  # a dataplane restart: skip this sample, the stream goes on
            next_t += interval / 1000.0
            delay = next_t - time.monotonic()
            if delay > 0:
                ended.wait(delay)
            else:
                next_t = time.monotonic()

    @maps_errors
    def GetPorts(self, request: pb.GetPortsRequest,
                 context: grpc.ServicerContext) -> pb.Ports:
        return ports_to_pb(self.ctl.ports())

    @maps_errors
    def GetLimits(self, request: pb.GetLimitsRequest,
                  context: grpc.ServicerContext) -> pb.Limits:
        return limits_to_pb(*self.ctl.limits())

    @maps_errors
    def SetLimits(self, request: pb.SetLimitsRequest,
                  context: grpc.ServicerContext) -> pb.Limits:
        lim = self.ctl.set_limits(limit_changes(request))
        return limits_to_pb(lim, self.ctl.limits()[1])

    @maps_errors
    def ListPolicies(self, request: pb.ListPoliciesRequest,
                     context: grpc.ServicerContext) -> pb.ListPoliciesResponse:
        return policies_to_pb(self.ctl.policies())

    @maps_errors
    def SetPolicy(self, request: pb.SetPolicyRequest,
                  context: grpc.ServicerContext) -> pb.ListPoliciesResponse:
        if not request.HasField("policy"):
            raise bad("policy", "required")
        p = policy_from_pb(request.policy, "policy.")
        return policies_to_pb(self.ctl.set_policy(p))

    @maps_errors
    def DeletePolicy(self, request: pb.DeletePolicyRequest,
                     context: grpc.ServicerContext) -> pb.ListPoliciesResponse:
        lo, hi = request.port_lo, request.port_hi or request.port_lo
        model.check_range(lo, hi, "port_lo", "port_hi")
        return policies_to_pb(self.ctl.delete_policy(lo, hi))

    def _sources_change(self, sources: model.SourceList) -> pb.SourcesChange:
        return pb.SourcesChange(summary=sources_summary(sources),
                                config_version=self.ctl.status().config_version)

    @maps_errors
    def ListSources(self, request: pb.ListSourcesRequest,
                    context: grpc.ServicerContext) -> pb.ListSourcesResponse:
        size = request.page_size or LIST_SOURCES_DEFAULT
        if not 1 <= size <= LIST_SOURCES_MAX:
            raise bad("page_size", "%d is out of range: 1..%d" % (size, LIST_SOURCES_MAX))
        after = source_key_of_token(request.page_token) if request.page_token else None
        sources = self.ctl.sources()
        rules, more = sources.page(after, size)
        return pb.ListSourcesResponse(
            rules=[source_rule_to_pb(r) for r in rules],
            next_page_token=rules[-1].key.text() if more and rules else "",
            summary=sources_summary(sources))

    @maps_errors
    def SetSources(self, request: pb.SetSourcesRequest,
                   context: grpc.ServicerContext) -> pb.SourcesChange:
        if not request.rules:
            raise bad("rules", "required: at least one rule")
        rules = [source_rule_from_pb(r, "rules[%d]." % i) for i, r in enumerate(request.rules)]
        return self._sources_change(self.ctl.set_sources(rules))

    @maps_errors
    def DeleteSources(self, request: pb.DeleteSourcesRequest,
                      context: grpc.ServicerContext) -> pb.SourcesChange:
        if not request.keys:
            raise bad("keys", "required: at least one key")
        keys = [source_key_from_pb(k, "keys[%d]." % i) for i, k in enumerate(request.keys)]
        return self._sources_change(self.ctl.delete_sources(keys))

    @maps_errors
    def ReplaceSources(self, request_iterator: Iterator[pb.ReplaceSourcesRequest],
                       context: grpc.ServicerContext) -> pb.SourcesChange:
        parts: list[str] = []
        size = 0
        rules: list[model.SourceRule] = []
        name = ""
        for m in request_iterator:
            name = name or m.source_name
            size += len(m.text)
            if size > model.SOURCE_FILE_MAX:
                raise bad("text", "more than %d MB of rules text"
                          % (model.SOURCE_FILE_MAX >> 20))
            parts.append(m.text)
            for r in m.rules:
                if len(rules) == model.SOURCE_RULES_MAX:
                    raise bad("rules", "more than %d rules" % model.SOURCE_RULES_MAX)
                rules.append(source_rule_from_pb(r, "rules[%d]." % len(rules)))
        text = model.SourceList.from_rules_text("".join(parts), name or "<request>", "text")
        new = text.with_rules(rules, "rules", "the text") if rules else text
        return self._sources_change(self.ctl.replace_sources(new))

    @maps_errors
    def TopSources(self, request: pb.TopSourcesRequest,
                   context: grpc.ServicerContext) -> pb.TopSourcesResponse:
        if not 0 <= request.by < len(TOP_ORDERS):
            raise bad("by", "%d is not an order (%s)" % (request.by, ", ".join(
                "%d %s" % (i, o) for i, o in enumerate(TOP_ORDERS))))
        return top_sources_to_pb(self.ctl.top_sources(TOP_ORDERS[request.by], request.max))

    @maps_errors
    def GetKeyStatus(self, request: pb.GetKeyStatusRequest,
                     context: grpc.ServicerContext) -> pb.KeyStatus:
        return key_status_to_pb(self.ctl.key_status())

    @maps_errors
    def RotateKeys(self, request: pb.RotateKeysRequest,
                   context: grpc.ServicerContext) -> pb.KeyStatus:
        return key_status_to_pb(self.ctl.rotate_keys())

    @maps_errors
    def SetKeySchedule(self, request: pb.SetKeyScheduleRequest,
                       context: grpc.ServicerContext) -> pb.KeyStatus:
        return key_status_to_pb(self.ctl.set_key_schedule(key_change_from_pb(request)))

    @maps_errors
    def DumpSyncache(self, request: pb.DumpSyncacheRequest,
                     context: grpc.ServicerContext) -> pb.DumpSyncacheResponse:
        entries, token = self.ctl.dump_syncache(request.page_token, request.page_size)
        out = pb.DumpSyncacheResponse(next_page_token=token)
        for e in entries:
            o = out.entries.add(lcore=e.lcore, client_addr=addr_text(e.client_addr),
                                client_port=e.client_port,
                                server_addr=addr_text(e.server_addr),
                                server_port=e.server_port, client_isn=e.client_isn, iss=e.iss,
                                retransmits=e.retransmits, mss=e.mss, sack=e.sack,
                                timestamps=e.timestamps, wscale=e.wscale)
            if e.age_known:
                o.age_ms = e.age_ms
        # How many there are: the gauge the workers keep of their syncaches, read after the
        # page (the dataplane's dump answers with a page only); left unset, not the page
        # lost, if the dataplane cannot say it now.
        try:
            counters = self.ctl.counters()
        except ControllerError:
            return out
        for name, value in zip(counters.names, counters.total, strict=True):
            if name == "syncache.count":
                out.total = value
        return out

    @maps_errors
    def FlushSyncache(self, request: pb.FlushSyncacheRequest,
                      context: grpc.ServicerContext) -> pb.FlushSyncacheResponse:
        return pb.FlushSyncacheResponse(flushed=self.ctl.flush_syncache())

    def _config(self, request: pb.ApplyConfigRequest | pb.ValidateConfigRequest
                ) -> tuple[model.RuntimeConfig, KeyChange | None, bool]:
        """The request's config as (RuntimeConfig, KeyChange or None, whether it gives the
        source rules)."""
        which = request.WhichOneof("config")
        if which is None:
            raise bad("config", "required: toml or runtime")
        if which == "toml":
            source = request.source_name or "<request>"
            rf = bootconfig.parse_runtime(request.toml, source, self.ctl.running_boot(),
                                          self.ctl.limits()[1])
            kc = None
            if rf.keys is not None:
                kc = KeyChange(interval=rf.keys.rotation_interval,
                               master=rf.keys.master_secret,
                               clear_master=rf.keys.master_secret is None,
                               skew=rf.keys.max_clock_skew)
            return rf.runtime, kc, rf.sources_given
        rc = request.runtime
        start = self.ctl.limits()[1]
        changes = limit_changes(rc.limits)
        for name in model.START_LIMITS:
            if name in changes:
                running = getattr(start, name)
                if changes.pop(name) != running:
                    raise bad("runtime.limits." + name, "start-time only (running: %d)"
                              % running)
        for name, value in changes.items():
            model.check_limit(name, value, start, "runtime.limits.")
        lim = model.Limits().replace(**changes)
        if len(rc.policies) > model.PORT_MAX:
            raise bad("runtime.policies", "%d policies: at most %d (one per port)"
                      % (len(rc.policies), model.PORT_MAX))
        table = model.PolicyTable()
        for i, p in enumerate(rc.policies):
            table.put(policy_from_pb(p, "runtime.policies[%d]." % i))
        kc = key_change_from_pb(rc.keys) if rc.HasField("keys") else None
        sources = model.SourceList()
        if rc.HasField("sources"):
            sources = model.SourceList.of_rules(
                (source_rule_from_pb(r, "runtime.sources.rules[%d]." % i)
                 for i, r in enumerate(rc.sources.rules)), "runtime.sources.rules")
        return model.RuntimeConfig(lim, table, sources), kc, rc.HasField("sources")

    @maps_errors
    def ApplyConfig(self, request: pb.ApplyConfigRequest,
                    context: grpc.ServicerContext) -> pb.ApplyConfigResponse:
        cfg, kc, sources_given = self._config(request)
        return pb.ApplyConfigResponse(config_version=self.ctl.apply_config(cfg, kc, False,
                                                                           sources_given))

    @maps_errors
    def ValidateConfig(self, request: pb.ValidateConfigRequest,
                       context: grpc.ServicerContext) -> pb.ValidateConfigResponse:
        cfg, kc, sources_given = self._config(request)
        self.ctl.apply_config(cfg, kc, True, sources_given)
        return pb.ValidateConfigResponse()

    @maps_errors
    def GetRunningConfig(self, request: pb.GetRunningConfigRequest,
                         context: grpc.ServicerContext) -> pb.ConfigDocument:
        return pb.ConfigDocument(toml=self.ctl.running_config(), boot_file=self.ctl.boot.source,
                                 config_version=self.ctl.status().config_version)

    @maps_errors
    def GetBootConfig(self, request: pb.GetBootConfigRequest,
                      context: grpc.ServicerContext) -> pb.ConfigDocument:
        return pb.ConfigDocument(toml=self.ctl.boot_file_config(),
                                 boot_file=self.ctl.boot.source,
                                 config_version=self.ctl.status().config_version)

    @maps_errors
    def SaveConfig(self, request: pb.SaveConfigRequest,
                   context: grpc.ServicerContext) -> pb.SaveConfigResponse:
        path, backup = self.ctl.save_config()
        return pb.SaveConfigResponse(boot_file=path, backup_file=backup,
                                     config_version=self.ctl.status().config_version)

    @maps_errors
    def RestartDataplane(self, request: pb.RestartDataplaneRequest,
                         context: grpc.ServicerContext) -> pb.DataplaneRestart:
        return restart_to_pb(self.ctl.restart_dataplane(request.force))

    @maps_errors
    def UpgradeDataplane(self, request: pb.UpgradeDataplaneRequest,
                         context: grpc.ServicerContext) -> pb.DataplaneRestart:
        # The one request that names a file of the appliance (an admin's: it is run):
        # controller.check_binary refuses anything but an absolute path of an executable file.
        return restart_to_pb(self.ctl.upgrade_dataplane(request.binary, request.force))


# --- client roles (the TCP listener) -----------------------------------------------------

class Role(enum.IntEnum):
    READ = 1
    ADMIN = 2


def _admin_method(name: str) -> str:
    return "/%s/%s" % (SERVICE_NAME, name)


# What a reader may call: the calls that change nothing and show no secret, and the standard
# health and reflection services. Every other method, a future one included, is an admin's.
# DumpSyncache is not a reader's: the ISS of a half-open handshake is its cookie, which
# completes the handshake from any address. ValidateConfig is not either: a change's dry run
# takes the change's rights (as kubectl's server-side dry run does). The running config and
# the boot file's are: they carry no secret (a master secret is shown by fingerprint);
# writing the boot file (SaveConfig) is an admin's, and so are RestartDataplane and
# UpgradeDataplane (the latter runs a binary the request names). The source rules and the
# top talkers are a reader's: addresses and counts, no secret; so are the ports and the
# workers' busy share (GetPorts keeps a sample of the counters for the next call, nothing
# more).
READ_METHODS = frozenset(_admin_method(m) for m in (
    "GetStatus", "GetCounters", "WatchCounters", "GetPorts", "GetLimits", "ListPolicies",
    "ListSources", "TopSources", "GetKeyStatus", "GetRunningConfig", "GetBootConfig"))
READ_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.v1alpha.ServerReflection/",
                 "/grpc.reflection.v1.ServerReflection/")


def required_role(method: str) -> Role:
    if method in READ_METHODS or method.startswith(READ_SERVICES):
        return Role.READ
    return Role.ADMIN


def subject_attrs(subject: str) -> list[tuple[str, str]]:
    """The (attribute, value) pairs of a certificate subject as OpenSSL prints it in RFC 2253
    form (what gRPC's auth context calls x509_subject): `CN=alice,OU=netops,O=Example\\, Inc.`;
    separators "," and "+", escapes `\\c` and `\\XX` (UTF-8 bytes)."""
    pairs: list[tuple[str, str]] = []
    cur = bytearray()
    i, n = 0, len(subject)

    def end() -> None:
        attr, eq, value = cur.decode("utf-8", "replace").partition("=")
        if eq:
            pairs.append((attr.strip(), value))
        cur.clear()

    while i < n:
        ch = subject[i]
        if ch == "\\" and i + 1 < n:
            hexpair = subject[i + 1:i + 3]
            if len(hexpair) == 2 and all(c in "0123456789abcdefABCDEF" for c in hexpair):
                cur.append(int(hexpair, 16))
                i += 3
                continue
            cur += subject[i + 1].encode()
            i += 2
            continue
        if ch in ",+":
            end()
        else:
            cur += ch.encode()
        i += 1
    end()
    return pairs


class ClientRoles(grpc.ServerInterceptor):
    """Every call on the TCP listener: the client's role from its certificate's subject, and
    UNAUTHENTICATED (no verified certificate) or PERMISSION_DENIED (no role, or a reader
    calling what needs an admin) before the method runs."""

    def __init__(self, admin_clients: list[str], read_clients: list[str] | None) -> None:
        self.admins = frozenset(admin_clients)
        self.readers = None if read_clients is None else frozenset(read_clients)

    def role(self, attrs: list[tuple[str, str]]) -> Role | None:
        names = {"%s=%s" % (a, v) for a, v in attrs}
        if names & self.admins:
            return Role.ADMIN
        if self.readers is None or names & self.readers:
            return Role.READ
        return None

    def check(self, context: grpc.ServicerContext, method: str) -> None:
        # (typeshed says bytes; gRPC gives each property as a list of values)
        auth = cast(Mapping[str, list[bytes]], context.auth_context())
        subject = auth.get("x509_subject")
        if auth.get("transport_security_type") != [b"ssl"] or not subject:
            context.abort(grpc.StatusCode.UNAUTHENTICATED,
                          "no client certificate: synwalld's TCP listener serves only clients "
                          "with a certificate signed by its api.tls_client_ca")
        attrs = subject_attrs(subject[0].decode("utf-8", "replace"))
        who = ",".join("%s=%s" % (a, v) for a, v in attrs if a in bootconfig.CLIENT_ATTRS) \
            or subject[0].decode("utf-8", "replace")
        role = self.role(attrs)
        name = method.rsplit("/", 1)[-1]
        if role is None:
            log.warning("api: client %s refused %s: no role", who, name)
            context.abort(grpc.StatusCode.PERMISSION_DENIED,
                          "client %s has no role: it is in neither api.admin_clients nor "
                          "api.read_clients" % who)
        if role < required_role(method):
            log.warning("api: client %s refused %s: read-only", who, name)
            context.abort(grpc.StatusCode.PERMISSION_DENIED,
                          "%s needs the admin role: client %s may only read (the admins are "
                          "api.admin_clients)" % (name, who))
        if role == Role.ADMIN and required_role(method) == Role.ADMIN:
            log.info("api: client %s: %s", who, name)

    def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails],
                                     grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None  # UNIMPLEMENTED, as without the check
        method = handler_call_details.method
        return guarded(handler, lambda context: self.check(context, method))


def guarded(h: grpc.RpcMethodHandler[Any, Any],
            check: Callable[[grpc.ServicerContext], None]) -> grpc.RpcMethodHandler[Any, Any]:
    """The same handler, check(context) called before its behaviour."""
    des, ser = h.request_deserializer, h.response_serializer
    if h.unary_unary is not None:
        uu = h.unary_unary

        def unary_unary(req: Any, context: grpc.ServicerContext) -> Any:
            check(context)
            return uu(req, context)
        return grpc.unary_unary_rpc_method_handler(unary_unary, des, ser)
    if h.unary_stream is not None:
        us = h.unary_stream

        def unary_stream(req: Any, context: grpc.ServicerContext) -> Any:
            check(context)
            return us(req, context)
        return grpc.unary_stream_rpc_method_handler(unary_stream, des, ser)
    if h.stream_unary is not None:
        su = h.stream_unary

        def stream_unary(reqs: Any, context: grpc.ServicerContext) -> Any:
            check(context)
            return su(reqs, context)
        return grpc.stream_unary_rpc_method_handler(stream_unary, des, ser)
    assert h.stream_stream is not None
    ss = h.stream_stream

    def stream_stream(reqs: Any, context: grpc.ServicerContext) -> Any:
        check(context)
        return ss(reqs, context)
    return grpc.stream_stream_rpc_method_handler(stream_stream, des, ser)


# --- server reflection, v1 beside v1alpha -----------------------------------------------

# grpcio-reflection serves grpc.reflection.v1alpha only. grpc.reflection.v1 is the same
# protocol under another package: the same messages, field for field, so the same servicer
# answers both, its messages (de)serialized as v1alpha's (the bytes are v1's too). v1's file
# is v1alpha's with the package renamed, put in the default pool so that a client can
# resolve the v1 service as any other.
REFLECTION_V1_FILE = "grpc/reflection/v1/reflection.proto"
REFLECTION_V1 = "grpc.reflection.v1.ServerReflection"
_V1ALPHA_PACKAGE = reflection_pb2.DESCRIPTOR.package


def add_reflection_v1_file(pool: descriptor_pool.DescriptorPool | None = None) -> None:
    pool = pool or descriptor_pool.Default()
    try:
        pool.FindFileByName(REFLECTION_V1_FILE)
        return  # added already (another server of this process), or shipped by grpcio
    except KeyError:
        pass
    fdp = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(fdp)
    old, new = "." + _V1ALPHA_PACKAGE + ".", ".grpc.reflection.v1."
    fdp.name, fdp.package = REFLECTION_V1_FILE, "grpc.reflection.v1"
    fdp.ClearField("options")
    for msg in fdp.message_type:
        for f in msg.field:
            if f.type_name.startswith(old):
                f.type_name = new + f.type_name[len(old):]
    for svc in fdp.service:
        for m in svc.method:
            m.input_type = new + m.input_type[len(old):]
            m.output_type = new + m.output_type[len(old):]
    pool.AddSerializedFile(fdp.SerializeToString())


def enable_reflection(server: grpc.Server, services: tuple[str, ...]) -> None:
    """Reflection v1 and v1alpha on server, listing services and both reflections."""
    add_reflection_v1_file()
    servicer = reflection.ReflectionServicer(services + (reflection.SERVICE_NAME,
                                                         REFLECTION_V1))
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(REFLECTION_V1, {
        "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
            servicer.ServerReflectionInfo,
            request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
            response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString)}),))


# --- the server -------------------------------------------------------------------------

class ListenError(RuntimeError):
    pass


class ApiServer:
    """The gRPC servers: the Unix socket (mode 0600, admin) and, when configured, TCP with
    mutual TLS and client roles; each with health and reflection and threads of its own."""

    def __init__(self, ctl: Controller, api: bootconfig.ApiSection,
                 unary_workers: int = UNARY_WORKERS) -> None:
        self.ctl = ctl
        self.api = api
        self.unary_workers = unary_workers
        self.health = health.HealthServicer()
        self.server, self.admin = self._new_server([])
        self.tcp_server: grpc.Server | None = None
        if api.tcp:
            self.roles = ClientRoles(api.admin_clients, api.read_clients)
            self.tcp_server, self.tcp_admin = self._new_server([self.roles])
        self.tcp_port: int | None = None
        ctl.on_state(self._on_state)

    def _new_server(self, interceptors: list[grpc.ServerInterceptor]
                    ) -> tuple[grpc.Server, AdminService]:
        # Every open watch has a thread of its own, so that the other calls always have
        # unary_workers threads.
        workers = self.unary_workers + self.api.max_watch_streams
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers,
                                                        thread_name_prefix="grpc"),
                             interceptors=interceptors)
        admin = AdminService(self.ctl, self.api.max_watch_streams)
        pb_grpc.add_AdminServicer_to_server(admin, server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        enable_reflection(server, (SERVICE_NAME,
                                   health_pb2.DESCRIPTOR.services_by_name["Health"].full_name))
        return server, admin

    def _on_state(self, state: DataplaneState) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if state == DataplaneState.RUNNING \
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
        if self.api.unix_socket:
            self.server.start()
            # created under umask 0177 already; make sure nothing widened it since
            os.chmod(self.api.unix_socket, 0o600)
        if self.tcp_server is not None:
            self.tcp_server.start()

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
        # bootconfig: tcp needs all three
        assert a.tls_key is not None and a.tls_cert is not None and a.tls_client_ca
        assert self.tcp_server is not None
        key = Path(a.tls_key).read_bytes()
        cert = Path(a.tls_cert).read_bytes()
        ca = Path(a.tls_client_ca).read_bytes()
        # A client without a certificate signed by ca has its TLS handshake refused.
        creds = grpc.ssl_server_credentials([(key, cert)], root_certificates=ca,
                                            require_client_auth=True)
        try:
            port = self.tcp_server.add_secure_port(addr, creds)
        except RuntimeError as e:
            raise ListenError("api.tcp %s: cannot listen: %s" % (addr, e)) from None
        if not port:
            raise ListenError("api.tcp %s: cannot listen" % addr)
        self.tcp_port = port

    def stop(self, grace: float = 1.0) -> None:
        stopped = [self.server.stop(grace)]
        if self.tcp_server is not None:
            stopped.append(self.tcp_server.stop(grace))
        for event in stopped:
            event.wait()
        if self.api.unix_socket:
            try:
                os.unlink(self.api.unix_socket)
            except FileNotFoundError:
                pass
