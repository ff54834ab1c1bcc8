"""The controller: owns the dataplane, its runtime config and its cookie keys.

Every change is built whole (limits + every port range), checked here with errors naming the
field, and sent as one apply_config; the dataplane publishes it to its workers under RCU or
refuses it whole. Only after the dataplane accepted it does the controller's own state
change, and it is saved durably (state_dir/runtime.json, synwall.durable) before the request
returns: a change that cannot be saved is undone and refused. Keys live in
state_dir/keys.json (mode 0600) and are pushed again, unchanged, to a dataplane restarted
after a crash, so that the cookies it handed out stay valid.

At start, re-attaching to a running dataplane or starting one, the running config is the
boot file merged with the saved runtime changes (synwall.runconfig has the rule: a boot-file
value edited since the save wins, and is logged). Start-time settings of a running dataplane
that the boot file changed since are reported (log, GetStatus' restart_pending) until the
dataplane restarts. The config version the API reports is the dataplane's plus an offset
kept in state_dir/version.json, so that it never goes backwards when a new dataplane starts
counting from 1 again.

An operator's restart of the dataplane (restart_dataplane, upgrade_dataplane) stops it
cleanly and starts it again with the running dataplane's start-time settings (another binary
for an upgrade, whose state layout is checked first), so that the new one takes its tables
over (docs/DATAPLANE.md, "Restarts"): one at a time, and never beside the supervisor's own
restart after a crash.

Source rules reach the dataplane as a file of rules it reads (runtime_dir/sources.rules,
the dataplane's form, written whole), given on its command line (--sources: a dataplane
(re)started denies from its first packet) and with load_sources at every change; the
dataplane builds the new set while its workers go on with the one in force, or refuses the
file whole. runtime_dir/sources.loaded records which list (by digest) which dataplane
process has, so that re-attaching to it does not make it build a million prefixes again.

A worker's busy share needs two samples of its cycle counters: the controller keeps the
last ones it read (ports(), when asked) and measures each answer against them; the first
answer about a dataplane process is over its whole life so far, and says so.

Requests fail with the kinds of synwall.errors.ControllerError; the gRPC server maps them to
status codes.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import json
import logging
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from synwall import bootconfig, durable, model, runconfig, supervisor
from synwall import keys as keysched
from synwall.dp.v1 import dataplane_pb2 as dp
from synwall.dplink import DataplaneRefused, DataplaneUnavailable, DpLink
from synwall.errors import Aborted, FailedPrecondition, InvalidRequest, NotFound, Unavailable
from synwall.runconfig import KeyParams, PendingRestart
from synwall.supervisor import DataplaneProcess, Launcher, LayoutError, StartError, state_layout

log = logging.getLogger("synwalld")

SUPERVISE_PERIOD = 0.2
# How long synwalld's stop waits for an operator's restart of the dataplane to end: the old
# one's stop (SIGTERM, SIGKILL, the wait after it), two starts (the new one, the old one
# again) and a stop of the new one between them.
OPERATION_WAIT = 2 * (supervisor.STOP_TIMEOUT + supervisor.KILL_WAIT) + 80.0
RESTART_BACKOFF_MAX = 30.0
# A failing keys.json write defers the scheduled rotation; said in the log at most this often.
ROTATION_FAILURE_LOG_PERIOD = 60.0
# A dataplane whose source rules are not known to be the running ones (a load_sources that
# broke off) is given them again this often, until it takes them.
SOURCES_RETRY_PERIOD = 10.0
# The orders of top_sources, as DpRequest.TopSources.By numbers them.
TOP_ORDERS = ("syns", "bad_cookies", "flows", "syns_limited", "synacks_capped")
TOP_SOURCES_DEFAULT, TOP_SOURCES_MAX = 20, 1000
# A worker's busy share is measured against the newest kept sample of its cycle counters at
# least this old (else the older one): two operators asking a moment apart each get an
# interval of some length, not the moment between their two requests.
BUSY_MIN_INTERVAL = 0.5
BUSY_SAMPLES_KEPT = 2

T = TypeVar("T")


class DataplaneState(enum.StrEnum):
    """The dataplane as the controller sees it (GetStatus' dataplane_state, the health
    service: SERVING only while RUNNING)."""
    DOWN = "down"  # not started yet, or stopped with synwalld
    STARTING = "starting"  # being started or restarted; config and keys not yet pushed
    RUNNING = "running"  # answering, with the controller's config and keys


@dataclass(frozen=True)
class ControllerStatus:
    dataplane_state: DataplaneState
    dataplane_running: bool
    dataplane_pid: int  # 0: none known
    dataplane_restarts: int
    workers: int
    config_version: int
    uptime_seconds: float
    outside_port: str
    inside_port: str
    key_epoch: int
    # start-time settings the boot file changed since the running dataplane started
    restart_pending: tuple[PendingRestart, ...] = ()
    dataplane_binary: str = ""  # the running dataplane's (an upgrade's, or the boot file's)


@dataclass(frozen=True)
class DataplaneRestart:
    """What an operator's restart or upgrade of the dataplane did."""
    old_pid: int
    pid: int
    old_binary: str
    binary: str
    stop_seconds: float  # from the stop signal to the old process's exit
    down_seconds: float  # from the stop signal to the new one's control socket answering
    tables: tuple[str, ...]  # what the new dataplane said of the tables in its state file
    state_layout: str  # the new binary's --state-layout line ("" for a restart)
    forced: bool  # an upgrade whose layouts differ, or could not be told
    config_version: int
    key_epoch: int
    boot_binary: str  # the boot file's [dataplane] binary, which an upgrade leaves as it is


class RulesFileError(Exception):
    """The file of source rules the dataplane reads could not be written (nothing was
    sent)."""


@dataclass(frozen=True)
class TopSource:
    """One source prefix of the dataplane's source tables, and the global rule that decides
    for it (None: no rule covers it)."""
    network: model.Network
    syns: int
    syns_limited: int
    bad_cookies: int
    flows: int
    synacks_capped: int
    idle_ms: int
    rule: model.SourceRule | None


@dataclass(frozen=True)
class TopSources:
    sources: list[TopSource]
    table: int  # source table entries per worker lcore (0: no source table)
    v4_len: int  # the prefix lengths a client address is cut to
    v6_len: int


@dataclass(frozen=True)
class NicPort:
    """One of the dataplane's two ports as its NIC counts it (the dataplane's get_ports:
    rte_eth_link, rte_eth_stats)."""
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
    imissed: int  # dropped by the NIC for want of room in an RX ring: a worker fell behind
    ierrors: int
    oerrors: int
    rx_nombuf: int  # RX mbuf allocation failures
    queue_ipackets: tuple[int, ...]  # per queue (one per worker), where the NIC counts them
    queue_opackets: tuple[int, ...]

    @classmethod
    def of_dp(cls, p: dp.DpPort) -> NicPort:
        return cls(p.role, p.name, p.id, p.link_up, p.speed_mbps, p.full_duplex, p.autoneg,
                   p.ipackets, p.opackets, p.ibytes, p.obytes, p.imissed, p.ierrors,
                   p.oerrors, p.rx_nombuf, tuple(p.queue_ipackets), tuple(p.queue_opackets))


@dataclass(frozen=True)
class LcoreBusy:
    """A worker lcore's busy share: the part of its rounds' TSC cycles spent in rounds that
    found packets (lcore.busy_cycles over lcore.cycles), over an interval."""
    lcore: int
    busy_share: float  # 0..1
    interval_seconds: float
    # True: no earlier sample of this dataplane's counters was kept (the first request, or a
    # new dataplane), and the share is over its whole life so far, interval_seconds its age
    since_start: bool
    cycles: int  # lcore.cycles in the interval
    busy_cycles: int  # lcore.busy_cycles in the interval


@dataclass(frozen=True)
class PortsHealth:
    ports: tuple[NicPort, ...]  # outside, then inside
    lcores: tuple[LcoreBusy, ...]  # by lcore id; empty if the dataplane counts no cycles


@dataclass(frozen=True)
class CycleSample:
    """The worker lcores' cycle counters of one get_counters, kept for the next busy share."""
    dataplane: tuple[int, int]  # (pid, start time): a new process counts from 0 again
    at: float  # time.monotonic() when they were read
    cycles: Mapping[int, tuple[int, int]]  # lcore -> (lcore.cycles, lcore.busy_cycles)


@dataclass
class KeyChange:
    interval: int | None = None
    master: bytes | None = None
    clear_master: bool = False
    skew: int | None = None


class Controller:
    """The dataplane's owner.

    `lock` (re-entrant) guards the dataplane's identity and the controller's state: proc,
    link, state, attached, restarts, runtime, start_limits, keys, config_version, dp_status,
    running_dp, restart_pending, the bases, the version offset and what the dataplane has of
    the source rules (_dp_sources, _launch_sources).
    The supervisor thread writes them (restart: the swap of proc and link) and the request
    threads (gRPC, metrics) read them or apply changes, always under the lock. A change holds
    it across its dataplane calls so that changes are applied one whole config at a time; a
    plain read (status, counters, syncache dump) takes it only to pick the link, then talks
    to the dataplane without it. Starting a new dataplane process, the slow part of a
    restart, happens outside it.

    `_op_lock` is held by the one request thread restarting or upgrading the dataplane, for
    the whole operation (a second one is refused at once); while it is held the supervisor
    leaves the dataplane alone (it looks under `lock`), and shutdown waits for it to end.
    `_op_what` (under `lock`) says which operation holds it, and since when.
    """

    def __init__(self, boot: bootconfig.BootConfig,
                 clock: Callable[[], float] = time.time) -> None:
        self.boot = boot
        self.clock = clock
        self.launcher = Launcher(boot)
        self.start_limits = boot.dataplane.start_limits
        self.runtime = boot.runtime.copy()
        k = boot.keys
        self.keys = keysched.KeySchedule(k.rotation_interval, k.master_secret,
                                         k.max_clock_skew, clock)
        self.state_dir = Path(boot.dataplane.state_dir)
        self.runtime_path = self.state_dir / "runtime.json"
        self.keys_path = self.state_dir / "keys.json"
        self.version_path = self.state_dir / "version.json"
        run = Path(boot.dataplane.runtime_dir)
        self.run_sources_path = run / "sources.rules"
        self.sources_loaded_path = run / "sources.loaded"
        # The digest and size of the source list the running dataplane has (None: not known,
        # to be given again); the list the dataplane being started gets on its command line.
        self._dp_sources: tuple[str, int] | None = None
        self._launch_sources: model.SourceList | None = None
        self._sources_retry = 0.0
        # The boot file's runtime values that the saved state is measured against at the next
        # start (runconfig): the boot file's, or the running ones once `config save` wrote
        # them into it.
        self.base_runtime = boot.runtime.copy()
        self.base_keys = KeyParams.of_section(boot.keys).record()
        # the running dataplane's start-time settings, and those the boot file changed since
        self.running_dp = boot.dataplane
        self.restart_pending: list[PendingRestart] = []
        # reported config version = version_offset + the dataplane's; version_high: the
        # highest reported, saved in version.json
        self.version_offset = 0
        self.version_high = 0
        self._rotation_failure_logged = 0.0
        self.lock = threading.RLock()
        self.proc: DataplaneProcess | None = None
        self.link: DpLink | None = None
        self.state = DataplaneState.DOWN
        self.restarts = 0
        self.attached = False
        self.config_version = 0
        self.dp_status: dp.DpStatus | None = None
        self.started_at = time.time()
        self._pushed_keys: keysched.KeySet | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state_listeners: list[Callable[[DataplaneState], None]] = []
        self._next_start = 0.0
        self._backoff = 1.0
        self._op_lock = threading.Lock()
        self._op_what: tuple[str, float] | None = None
        # The last samples of the workers' cycle counters (busy shares), oldest first; under
        # _busy_lock alone, which request threads take for no more than the list's update.
        self._busy_lock = threading.Lock()
        self._busy_samples: list[CycleSample] = []
        # liveness: the workers' cycle counters at the call before (dataplane pid, by lcore),
        # its own control connection (dataplane pid, link), and since when (monotonic) the
        # dataplane has not been RUNNING
        self._live_sample: tuple[int, dict[int, int]] | None = None
        self._live_link: tuple[int, DpLink] | None = None
        self._down_since = time.monotonic()

    # --- life cycle ------------------------------------------------------------------------

    def on_state(self, fn: Callable[[DataplaneState], None]) -> None:
        """fn(state) on every change of the dataplane state (health service)."""
        with self.lock:
            self._state_listeners.append(fn)
            fn(self.state)

    def _set_state(self, state: DataplaneState) -> None:
        with self.lock:
            if state != self.state:
                if self.state == DataplaneState.RUNNING:
                    self._down_since = time.monotonic()
                self.state = state
                for fn in self._state_listeners:
                    fn(state)

    def start(self) -> None:
        """Re-attach to a running dataplane or start one, push config and keys, supervise.
        StartError if the dataplane cannot be started or refuses the boot config."""
        self.launcher.prepare_dirs()
        self._load_version()
        found = self.launcher.find_running()
        if found is not None:
            with self.lock:
                self.proc, self.link = found
                self.attached = True
                log.info("re-attached to the running dataplane (pid %d)", found[0].pid)
                st = found[1].status()
                self._check_start_params(st)
                self._load_state()
                # the same dataplane counts on: the same offset, unless the saved one would
                # make the version go backwards
                self.version_offset = max(self.version_offset,
                                          self.version_high - st.config_version)
        else:
            self._load_state()
            self._new_dataplane_version()
            self._set_state(DataplaneState.STARTING)
            started = self.launcher.start(self._runtime_args(), self._stop)
            with self.lock:
                self.proc, self.link = started
            log.info("dataplane started (pid %d)", started[0].pid)
        with self.lock:
            self._push_all(initial=True)
            self._set_state(DataplaneState.RUNNING)
        self._thread = threading.Thread(target=self._supervise, name="synwall-supervisor",
                                        daemon=True)
        self._thread.start()

    def shutdown(self, stop_dataplane: bool = False) -> None:
        """Stop supervising; the dataplane keeps running unless stop_dataplane."""
        self._stop.set()
        if self._thread is not None:
            # A restart in progress sees _stop and kills the process it was starting: once the
            # thread is done, self.proc is the only dataplane there is.
            self._thread.join(self.boot.dataplane.start_timeout + 30)
            if self._thread.is_alive():
                log.error("the supervisor thread did not end")
        # An operator's restart sees _stop too (the start it waits for is broken off); once it
        # has ended, self.proc is the only dataplane there is.
        if self._op_lock.acquire(timeout=OPERATION_WAIT):
            self._op_lock.release()
        else:
            log.error("the dataplane restart under way did not end")
        with self.lock:
            if stop_dataplane and self.proc is not None:
                # returns once the dataplane has exited
                if not self.launcher.stop(self.proc):
                    log.error("dataplane (pid %d) did not exit", self.proc.pid)
                self._set_state(DataplaneState.DOWN)
            if self.link is not None:
                self.link.close()
            if self._live_link is not None:
                self._live_link[1].close()

    # --- the saved state ------------------------------------------------------------------

    def _set_aside(self, path: Path, reason: str, what: str) -> None:
        """One log line for a state file that is refused; the file is renamed to
        FILE.corrupt (not overwritten by the next save) where it can be."""
        aside = path.with_name(path.name + ".corrupt")
        try:
            os.replace(path, aside)
            kept = "it is kept as %s" % aside.name
        except OSError:
            kept = "it is left in place"
        log.error("%s: refused (%s): %s; %s", path, reason, what, kept)

    @staticmethod
    def _reason(e: BaseException) -> str:
        if isinstance(e, json.JSONDecodeError):
            return "not JSON: %s" % e
        if isinstance(e, KeyError):
            return "no %s" % e
        if isinstance(e, OSError):
            return "cannot read: %s" % (e.strerror or e)
        return str(e)

    def _read_state(self, path: Path, what: str) -> Any:
        """The JSON content of a state file; None when there is none or it is refused."""
        try:
            return json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            self._set_aside(path, self._reason(e), what)
            return None

    def _load_state(self) -> None:
        """The running runtime config and key schedule: the boot file's merged with the saved
        ones (runconfig). Called at start, with start_limits those of the dataplane."""
        boot = self.boot
        self.runtime = boot.runtime.copy()
        alone = "the boot file's runtime config applies"
        d = self._read_state(self.runtime_path, alone)
        if d is not None:
            try:
                saved, base = runconfig.read_runtime_state(d, self._read_saved_sources,
                                                           boot.runtime.sources)
            except (ValueError, KeyError, TypeError) as e:
                self._set_aside(self.runtime_path, self._reason(e), alone)
            else:
                merged, notes = runconfig.merge_runtime(boot.runtime, base, saved)
                try:
                    model.check_limits(merged.limits, self.start_limits, "limits.")
                    merged.sources.check("sources")
                except model.InvalidConfig as e:
                    log.warning("%s: the saved runtime changes and the boot file do not make a "
                                "valid config together (%s): %s", self.runtime_path, e, alone)
                else:
                    if base is None:
                        log.info("%s: no record of the boot file it was saved against: the "
                                 "saved runtime config applies as it is", self.runtime_path)
                    for n in notes:
                        log.warning("%s", n)
                    self.runtime = merged
                    if (merged.limits, merged.policies, merged.sources) != (
                            boot.runtime.limits, boot.runtime.policies, boot.runtime.sources):
                        log.info("%s: the runtime changes saved there apply on top of the boot "
                                 "file (`synwallctl config diff` shows them)", self.runtime_path)

        k = boot.keys
        boot_keys = KeyParams.of_section(k)
        alone = "new secrets, on the boot file's key schedule"
        d = self._read_state(self.keys_path, alone)
        saved_keys = None
        if d is not None:
            try:
                saved_keys = keysched.KeySchedule.from_json(d, self.clock)
                key_base = runconfig.KeyRecord.from_json(d["boot"]) if "boot" in d else None
            except (ValueError, KeyError, TypeError) as e:
                self._set_aside(self.keys_path, self._reason(e), alone)
                saved_keys = None
        if saved_keys is not None:
            saved_params = KeyParams.of_schedule(saved_keys)
            merged_keys, notes = runconfig.merge_keys(boot_keys, key_base, saved_params)
            try:
                keysched.check_schedule(merged_keys.rotation_interval, merged_keys.master,
                                        merged_keys.max_clock_skew)
            except keysched.ScheduleError as e:
                log.warning("%s: the saved key schedule and the boot file do not make a valid "
                            "one together (%s): the boot file's schedule applies",
                            self.keys_path, e)
                merged_keys, notes = boot_keys, []
            for n in notes:
                log.warning("%s", n)
            if merged_keys != saved_params:
                # the saved secrets carry on (a cookie handed out stays valid as the schedule
                # allows), on the merged schedule
                saved_keys.set_schedule(merged_keys.rotation_interval, merged_keys.master,
                                        merged_keys.master is None,
                                        merged_keys.max_clock_skew)
            self.keys = saved_keys
        try:
            self._save_keys()
        except OSError as e:
            log.error("%s: cannot save the keys (%s)", self.keys_path, e.strerror or e)

    def _read_saved_sources(self, record: object, where: str) -> model.SourceList:
        """The source list a record of runtime.json names (its file in the state directory);
        ValueError if it cannot be had."""
        if isinstance(record, dict) and record.get("rules") == 0 and record.get("sha256") == "":
            return model.SourceList()
        digest = record.get("sha256") if isinstance(record, dict) else None
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise ValueError("%s: expected {\"rules\": N, \"sha256\": DIGEST}" % where)
        path = self.state_dir / runconfig.sources_file_name(digest)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ValueError("%s: %s: cannot read: %s" % (where, path.name, e.strerror or e)
                             ) from None
        return runconfig.read_sources_file(data, record, "%s (%s)" % (where, path.name))

    def _check_start_params(self, st: dp.DpStatus) -> None:
        """The running dataplane's start-time settings (recorded in its pid file) against
        the boot file's: those that differ take effect when the dataplane restarts."""
        self.start_limits = model.StartLimits(st.hashsize, st.bucketlimit, st.flows)
        self.running_dp = self._running_dataplane(st)
        self.restart_pending = runconfig.pending_restarts(self.running_dp, self.boot.dataplane)
        for p in self.restart_pending:
            log.warning("%s: the running dataplane has %s, the boot file %s: it takes effect "
                        "when the dataplane restarts", p.key, p.running, p.boot)

    def _running_dataplane(self, st: dp.DpStatus) -> bootconfig.DataplaneSection:
        d = self.boot.dataplane
        recorded = self.proc.settings if self.proc is not None else None
        running = None
        if recorded is not None:
            try:
                running = bootconfig.parse_dataplane_table(recorded, str(self.launcher.pid_path))
                running.start_timeout = d.start_timeout
            except bootconfig.BootConfigError as e:
                log.warning("the running dataplane's recorded settings are unusable (%s): "
                            "only its sizes are compared with the boot file's", e)
        if running is None:
            running = dataclasses.replace(d)
            if self.proc is not None and self.proc.cmd is not None:
                # a pid file without settings: what the command line tells
                running.binary = self.proc.cmd[0]
                for key, option, _ in d.start_options:
                    setattr(running, key, _option_value(key, self.proc.option(option)))
        running.hashsize, running.bucketlimit, running.flows = (st.hashsize, st.bucketlimit,
                                                                st.flows)
        return running

    # --- the config version -----------------------------------------------------------------

    def _load_version(self) -> None:
        d = self._read_state(self.version_path, "config versions count from 0 again")
        if d is None:
            return
        try:
            offset, high = d["offset"], d["high"]
            if not (isinstance(offset, int) and isinstance(high, int) and 0 <= offset <= high):
                raise ValueError("offset and high: 0 <= offset <= high expected")
        except (ValueError, KeyError, TypeError) as e:
            self._set_aside(self.version_path, self._reason(e),
                            "config versions count from 0 again")
            return
        self.version_offset, self.version_high = offset, high

    def _save_version(self) -> None:
        data = json.dumps({"offset": self.version_offset, "high": self.version_high}) + "\n"
        try:
            durable.write_atomic(self.version_path, data.encode())
        except OSError as e:
            log.warning("%s: cannot save the config version (%s)", self.version_path,
                        e.strerror or e)

    def _new_dataplane_version(self) -> None:
        """A new dataplane counts from 1: its versions start above every one reported."""
        self.version_offset = self.version_high
        self._save_version()

    def _version(self, dp_version: int) -> int:
        """The config version reported for the dataplane's dp_version (saved when it is the
        highest yet). Called under the lock."""
        v = self.version_offset + dp_version
        if v > self.version_high:
            self.version_high = v
            self._save_version()
        return v

    def _idle_default(self) -> int:
        """The running dataplane's --idle-timeout: the idle timeout of the ports whose policy
        sets none, which get_config reports as 0."""
        recorded = self.proc.option("--idle-timeout") if self.proc is not None else None
        if recorded is not None and recorded.isdigit():
            return int(recorded)
        if self.proc is not None and self.proc.cmd is not None:
            return model.IDLE_TIMEOUT_DEFAULT  # started without one
        return self.boot.dataplane.idle_default

    def _runtime_args(self) -> list[str]:
        """Limits, modes and source rules on the command line: protection from the first
        packet, before apply_config (which adds the server profiles) arrives. StartError if
        the source rules' file cannot be written."""
        with self.lock:
            return self._runtime_args_locked()

    def _runtime_args_locked(self) -> list[str]:
        lim = self.runtime.limits
        args = ["--cachelimit", str(lim.resolved_cachelimit(self.start_limits)),
                "--rexmtlimit", str(lim.rexmtlimit),
                "--syncookies", str(int(lim.syncookies)),
                "--syncookies-only", str(int(lim.syncookies_only)),
                "--mss", str(lim.mss), "--wscale", str(lim.wscale),
                "--server-retries", str(lim.server_retries),
                "--cookie-check-rate", str(lim.cookie_check_rate),
                "--rotate", str(min(self.keys.interval, keysched.MAX_INTERVAL))]
        # the rate limits only when set: a dataplane that has none takes the command line too
        for name in ("syn_rate", "syn_burst", "reflect_rate", "reflect_burst"):
            if getattr(lim, name):
                args += ["--" + name.replace("_", "-"), str(getattr(lim, name))]
        spec = model.protect_spec(self.runtime)
        if spec and len(spec) < 64 * 1024:
            args += ["--protect", spec]
        try:
            path = self._write_run_sources(self.runtime.sources)
        except OSError as e:
            raise StartError("%s: cannot write the source rules (%s)" % (
                self.run_sources_path, e.strerror or e)) from None
        if path:
            args += ["--sources", path]
        self._launch_sources = self.runtime.sources
        return args

    # --- source rules in the dataplane --------------------------------------------------------

    def _write_run_sources(self, sources: model.SourceList) -> str:
        """The file of rules the dataplane reads, written whole; its path, or "" for no rules
        (the file removed). OSError if it cannot be written."""
        if not len(sources):
            try:
                self.run_sources_path.unlink()
            except FileNotFoundError:
                pass
            return ""
        durable.write_atomic(self.run_sources_path, sources.to_rules_text())
        return str(self.run_sources_path)

    def _dp_has(self, sources: model.SourceList) -> tuple[str, int]:
        """The running dataplane has these rules: noted, and recorded for a synwalld that
        re-attaches to it. Called under the lock."""
        self._dp_sources = (sources.digest(), len(sources))
        proc = self.proc
        if proc is None:
            return self._dp_sources
        record = {"pid": proc.pid, "start_time": proc.start_time, "sha256": sources.digest(),
                  "rules": len(sources)}
        try:
            durable.write_atomic(self.sources_loaded_path, (json.dumps(record) + "\n").encode())
        except OSError as e:
            log.warning("%s: cannot record the dataplane's source rules (%s): a synwalld that "
                        "re-attaches gives them again", self.sources_loaded_path,
                        e.strerror or e)
        return self._dp_sources

    def _attached_sources(self, st: dp.DpStatus) -> tuple[str, int] | None:
        """What a dataplane found running has of the source rules, as far as it can be told:
        the running rules, if runtime_dir/sources.loaded says this process took them and its
        counts of prefixes and ranges agree; none, if it counts none; else None (not known).
        Called under the lock."""
        want = self.runtime.sources
        c = want.counts()
        have = (st.source_prefixes4, st.source_prefixes6, st.source_ranges, st.source_limits)
        if have == (0, 0, 0, 0):
            return model.SourceList().digest(), 0
        try:
            record = json.loads(self.sources_loaded_path.read_bytes())
        except (OSError, ValueError):
            return None
        proc = self.proc
        if (isinstance(record, dict) and proc is not None
                and record.get("pid") == proc.pid and record.get("start_time") == proc.start_time
                and record.get("sha256") == want.digest()
                and have == (c.prefixes4, c.prefixes6, c.port_ranges, c.limit)):
            return want.digest(), len(want)
        return None

    def _load_sources(self, link: DpLink, sources: model.SourceList) -> int:
        """The dataplane's source lists replaced by these rules: the config version. The
        dataplane's refusal (DataplaneRefused: its lists in force stay), DataplaneUnavailable
        (it may or may not have them: not known until given again), RulesFileError (nothing
        sent). Called under the lock."""
        try:
            path = self._write_run_sources(sources)
        except OSError as e:
            raise RulesFileError("%s: cannot write the source rules (%s)" % (
                self.run_sources_path, e.strerror or e)) from None
        before = self._dp_sources
        self._dp_sources = None
        try:
            version = link.load_sources(path, len(sources) + (before[1] if before else
                                                              len(sources)))
        except DataplaneRefused:
            self._dp_sources = before
            raise
        self._dp_has(sources)
        return version

    def _push_sources(self, link: DpLink, initial: bool) -> None:
        """The running source rules to a (re)started or re-attached dataplane, unless it has
        them. Called under the lock."""
        if not self.attached:
            launched = self._launch_sources or model.SourceList()
            self._dp_has(launched)
        elif initial:
            self._dp_sources = self._attached_sources(link.status())
        want = self.runtime.sources
        if self._dp_sources == (want.digest(), len(want)):
            return
        if initial and self.attached:
            log.info("the running dataplane's source rules are not known to be the running "
                     "config's: giving it the %s", want.counts().text())
        try:
            self.config_version = self._version(self._load_sources(link, want))
        except DataplaneRefused as e:
            raise StartError("the dataplane refused the source rules: %s" % e.message) from None
        except RulesFileError as e:
            raise StartError(str(e)) from None

    def _link(self) -> DpLink:
        """The link, which the caller (holding the lock) knows is there."""
        assert self.link is not None, "no dataplane link"
        return self.link

    def _push_all(self, initial: bool = False) -> None:
        """The whole runtime config and the keys to a (re)started or re-attached dataplane.
        Called under the lock."""
        link = self._link()
        want: dp.DpConfig | None = model.to_dp_config(self.runtime, self.start_limits)
        if initial and self.attached and want is not None:
            have = link.get_config()
            idle = self._idle_default()
            if model.canonical_dp_config(have, idle) == model.canonical_dp_config(want, idle):
                self.config_version = self._version(link.status().config_version)
                want = None
            else:
                log.info("the running dataplane's config is not the running config (the boot "
                         "file's edits, or a change it never got): applying it")
        if want is not None:
            try:
                self.config_version = self._version(link.apply_config(want))
            except DataplaneRefused as e:
                raise StartError("the dataplane refused the config: %s (%s)"
                                 % (e.message, e.field)) from None
        self._push_sources(link, initial)
        self._push_keys(force=True)
        self.dp_status = link.status()
        self.config_version = self._version(self.dp_status.config_version)
        try:
            self._save_runtime()
        except OSError as e:
            log.error("%s: cannot save the runtime config (%s): changes through the API are "
                      "refused until it can be written", self.runtime_path, e.strerror or e)

    def _push_keys(self, force: bool = False) -> None:
        """Called under the lock."""
        ks = self.keys.keys()
        if not force and ks == self._pushed_keys:
            return
        self.config_version = self._version(self._link().set_keys(ks.epoch, ks.current,
                                                                  ks.other))
        self._pushed_keys = ks

    def _save_runtime(self) -> None:
        """runtime.json, durably, after the files of the source lists it names (runconfig);
        OSError if one cannot be written. Files of lists no longer named are removed."""
        keep = set()
        for sources in (self.runtime.sources, self.base_runtime.sources):
            if not len(sources):
                continue
            name = runconfig.sources_file_name(sources.digest())
            keep.add(name)
            if not (self.state_dir / name).exists():  # a name is only ever one content
                durable.write_atomic(self.state_dir / name, runconfig.sources_file_data(sources))
        data = json.dumps(runconfig.runtime_state(self.runtime, self.base_runtime)) + "\n"
        durable.write_atomic(self.runtime_path, data.encode())
        for old in self.state_dir.glob(runconfig.sources_file_name("*")):
            if old.name not in keep:
                try:
                    old.unlink()
                except OSError as e:
                    log.warning("%s: cannot remove it (%s)", old, e.strerror or e)

    def _save_keys(self) -> None:
        """keys.json (mode 0600: secrets), durably; OSError if it cannot be written."""
        d = self.keys.to_json()
        d["boot"] = self.base_keys.to_json()
        durable.write_atomic(self.keys_path, (json.dumps(d) + "\n").encode())

    def _copy_keys(self) -> keysched.KeySchedule:
        return keysched.KeySchedule.from_json(self.keys.to_json(), self.clock)

    def _commit_keys(self, trial: keysched.KeySchedule) -> None:
        """trial becomes the key schedule once keys.json holds it; FailedPrecondition (and
        nothing changed) if it cannot be saved. Called under the lock."""
        old, self.keys = self.keys, trial
        try:
            self._save_keys()
        except OSError as e:
            self.keys = old
            raise FailedPrecondition("%s: cannot save the keys (%s): nothing was changed"
                                     % (self.keys_path, e.strerror or e)) from None

    # --- supervision -----------------------------------------------------------------------

    def _supervise(self) -> None:
        while not self._stop.wait(SUPERVISE_PERIOD):
            try:
                self._tick()
            except Exception:  # noqa: BLE001 - the supervisor must never die
                log.exception("supervisor")

    def _tick(self) -> None:
        with self.lock:
            if self._op_lock.locked():
                return  # an operator's restart owns the dataplane until it ends
            proc, state = self.proc, self.state
            if state == DataplaneState.RUNNING and proc is not None and not proc.alive():
                log.error("dataplane (pid %d) %s: restarting it", proc.pid, proc.exit_status())
                self._set_state(DataplaneState.STARTING)
                self._link().close()
                self._next_start = 0.0
                state = DataplaneState.STARTING
        if state == DataplaneState.STARTING:
            self._restart()
            return
        with self.lock:
            if self.state != DataplaneState.RUNNING or self._op_lock.locked():
                return
            if self.keys.due():
                trial = self._copy_keys()
                trial.rotate()
                try:
                    self._commit_keys(trial)
                    log.info("keys rotated: epoch %d", self.keys.keys().epoch)
                except FailedPrecondition as e:
                    # deferred: rotating to secrets that a restart would not find again would
                    # void the cookies they sign
                    now = time.monotonic()
                    if now - self._rotation_failure_logged >= ROTATION_FAILURE_LOG_PERIOD:
                        self._rotation_failure_logged = now
                        log.warning("scheduled key rotation deferred: %s", e)
            try:
                self._push_keys()
            except (DataplaneUnavailable, DataplaneRefused) as e:
                log.warning("pushing keys: %s", e)
            want = self.runtime.sources
            if self._dp_sources != (want.digest(), len(want)) and \
                    time.monotonic() >= self._sources_retry:
                self._sources_retry = time.monotonic() + SOURCES_RETRY_PERIOD
                try:
                    self.config_version = self._version(self._load_sources(self._link(), want))
                    log.info("the dataplane has the source rules again (%s)",
                             want.counts().text())
                except (DataplaneUnavailable, DataplaneRefused, RulesFileError) as e:
                    log.warning("giving the dataplane its source rules again: %s; next try in "
                                "%.0f s", e, SOURCES_RETRY_PERIOD)

    def _restart(self) -> None:
        now = time.monotonic()
        if now < self._next_start or self._stop.is_set():
            return
        with self.lock:
            # A new dataplane gets the boot config's sizes, which may differ from those of a
            # dataplane this controller re-attached to.
            self.start_limits = self.boot.dataplane.start_limits
            self.running_dp = self.boot.dataplane
            self.restart_pending = []
            self._new_dataplane_version()
            cl = self.runtime.limits.cachelimit
            if cl is not None and cl > self.start_limits.max_cachelimit:
                log.warning("cachelimit %d is above the new dataplane's hashsize x bucketlimit "
                            "(%d): back to the default", cl, self.start_limits.max_cachelimit)
                self.runtime = model.RuntimeConfig(self.runtime.limits.replace(cachelimit=None),
                                                   self.runtime.policies, self.runtime.sources)
        try:
            proc, link = self.launcher.start(self._runtime_args(), self._stop)
        except StartError as e:
            log.error("%s; next try in %.0fs", e, self._backoff)
            self._next_start = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, RESTART_BACKOFF_MAX)
            return
        with self.lock:
            self.proc, self.link, self.attached = proc, link, False
            self.restarts += 1
            try:
                self._push_all()
            except (StartError, DataplaneUnavailable, DataplaneRefused) as e:
                log.error("restarted dataplane: %s", e)
                return  # the next tick sees it dead, or tries again
            self._backoff = 1.0
            self._set_state(DataplaneState.RUNNING)
            pushed = self._pushed_keys
            log.info("dataplane restarted (pid %d), config %d and keys (epoch %d) re-applied",
                     proc.pid, self.config_version, pushed.epoch if pushed else -1)

    # --- an operator's restart and upgrade of the dataplane -------------------------------

    def restart_dataplane(self, force: bool = False) -> DataplaneRestart:
        """Stop the dataplane cleanly and start it again with the same start-time settings;
        the new one takes the tables over. The running config and the keys are applied again,
        as after any start. If the binary's file now holds a program of another state layout
        than the running one (replaced in place since it started), FailedPrecondition unless
        force (the tables then start empty)."""
        return self._operation("restart", None, force)

    def upgrade_dataplane(self, binary: str, force: bool = False) -> DataplaneRestart:
        """The same with another binary, whose state layout must be the running binary's
        (unless force: the tables then start empty). If it does not start, the running binary
        is started again (it takes the tables over again) and FailedPrecondition says why.
        The boot file's [dataplane] binary stays as it is."""
        check_binary(binary, "binary")
        return self._operation("upgrade to %s" % binary, binary, force)

    def _operation(self, what: str, binary: str | None, force: bool) -> DataplaneRestart:
        if not self._op_lock.acquire(blocking=False):
            with self.lock:
                busy = self._op_what
            doing, since = busy if busy is not None else ("restart", time.monotonic())
            raise Aborted("the dataplane is being restarted (%s, for %.1f s): one restart or "
                          "upgrade at a time; nothing was done" % (
                              doing, time.monotonic() - since))
        try:
            with self.lock:
                self._op_what = (what, time.monotonic())
            return self._replace_dataplane(binary, force)
        finally:
            with self.lock:
                self._op_what = None
            self._op_lock.release()

    @staticmethod
    def _program_layout(proc: DataplaneProcess) -> str | None:
        """The state layout of the program the dataplane runs: /proc/PID/exe is the file it
        was started from even when its path has since been given another (a package upgrade
        replaces binaries in place). None if it cannot be run (not a synwall-dp that tells
        its layout)."""
        try:
            return state_layout("/proc/%d/exe" % proc.pid)
        except LayoutError:
            return None

    def _check_restart_layout(self, proc: DataplaneProcess, binary: str, force: bool) -> bool:
        """A restart runs `binary` again: is it still a program of the running one's state
        layout? Whether the restart is forced (it is not, or cannot be told);
        FailedPrecondition (nothing stopped) for those without force."""
        running = self._program_layout(proc)
        if running is None:
            return False    # the running program cannot be asked: nothing to compare with
        refused = "nothing was stopped (with force, `synwallctl dataplane restart --force`, " \
            "it restarts anyway, the tables starting empty)"
        try:
            now = state_layout(binary)
        except LayoutError as e:
            if not force:
                raise FailedPrecondition("binary: %s, the running dataplane's binary, has been "
                                         "replaced since it started: %s; %s"
                                         % (binary, e, refused), "binary") from None
            log.warning("restart forced: %s: the tables may start empty", e)
            return True
        if now != running:
            if not force:
                raise FailedPrecondition(
                    "binary: %s has been replaced since the dataplane (pid %d) started from it:"
                    " it now has state layout \"%s\", the running program \"%s\"; it could "
                    "not take the tables over (every connection would be lost): %s"
                    % (binary, proc.pid, now, running, refused), "binary")
            log.warning("restart forced: %s now has state layout \"%s\", the running program "
                        "\"%s\": the tables start empty", binary, now, running)
            return True
        return False

    def _check_layouts(self, running: str, binary: str, force: bool,
                       proc: DataplaneProcess | None = None) -> tuple[str, bool]:
        """The new binary's --state-layout line, and whether the upgrade is forced (layouts
        that differ, or one that cannot be told); FailedPrecondition (nothing stopped) for
        those without force."""
        refused = "nothing was stopped (with force, `synwallctl dataplane upgrade --force`, " \
            "it upgrades anyway, the tables starting empty)"
        try:
            new = state_layout(binary)
        except LayoutError as e:
            if not force:
                raise FailedPrecondition("binary: %s; %s" % (e, refused), "binary") from None
            log.warning("upgrade forced: %s: the tables start empty", e)
            return "", True
        try:
            have = (self._program_layout(proc) if proc is not None else None) or \
                state_layout(running)
        except LayoutError as e:
            if not force:
                raise FailedPrecondition("the running binary's state layout cannot be told "
                                         "(%s); %s" % (e, refused)) from None
            log.warning("upgrade forced: the running binary's state layout cannot be told "
                        "(%s): the tables may start empty", e)
            return new, True
        if new != have:
            if not force:
                raise FailedPrecondition(
                    "binary: %s has another state layout than the running binary: \"%s\", "
                    "the running %s's \"%s\"; it could not take the tables over (every "
                    "connection would be lost): %s" % (binary, new, running, have, refused),
                    "binary")
            log.warning("upgrade forced: %s has state layout \"%s\", the running %s \"%s\": "
                        "the tables start empty", binary, new, running, have)
            return new, True
        return new, False

    def _start_on(self, dataplane: bootconfig.DataplaneSection
                  ) -> tuple[DataplaneProcess, tuple[str, ...], float]:
        """Start a dataplane with these start-time settings and give it the running config
        and keys: it becomes the running dataplane. The process, what it said of its tables,
        and when its control socket answered (monotonic). StartError (the process stopped)
        if it does not start or does not take the config."""
        with self.lock:
            self._new_dataplane_version()
            args = self._runtime_args()
        proc, link = self.launcher.start(args, self._stop, dataplane)
        up = time.monotonic()
        tables = tuple(self.launcher.tables_said())
        with self.lock:
            self.proc, self.link, self.attached = proc, link, False
            self.running_dp = dataplane
            self.restart_pending = runconfig.pending_restarts(dataplane, self.boot.dataplane)
            try:
                self._push_all()
            except (StartError, DataplaneUnavailable, DataplaneRefused) as e:
                refused: Exception | None = e
                link.close()
                self.proc, self.link = None, None
            else:
                refused = None
                self._backoff, self._next_start = 1.0, 0.0
                self._set_state(DataplaneState.RUNNING)
        if refused is not None:
            self.launcher.stop(proc)
            raise StartError("%s (pid %d) started, did not take the running config and keys "
                             "(%s), and was stopped" % (dataplane.binary, proc.pid, refused))
        return proc, tables, up

    def _replace_dataplane(self, binary: str | None, force: bool) -> DataplaneRestart:
        """Called holding _op_lock."""
        with self.lock:
            if self._stop.is_set():
                raise Unavailable("synwalld is stopping")
            if self.state != DataplaneState.RUNNING or self.proc is None:
                raise Unavailable("the dataplane is %s: it can be restarted once it runs" % (
                    "being restarted after it ended" if self.state == DataplaneState.STARTING
                    else "down"))
            old_dp, running = self.running_dp, self.proc
            assert running is not None
        new_dp = old_dp if binary is None else dataclasses.replace(old_dp, binary=binary)
        if binary is None:
            layout, forced = "", self._check_restart_layout(running, old_dp.binary, force)
        else:
            layout, forced = self._check_layouts(old_dp.binary, binary, force, running)
        with self.lock:
            old = self.proc
            assert old is not None
            self._set_state(DataplaneState.STARTING)
            self._link().close()
        doing = "a restart" if binary is None else "an upgrade to %s" % binary
        log.info("dataplane (pid %d): stopping it for %s", old.pid, doing)
        t_signal = time.monotonic()
        if not self.launcher.stop(old):
            # unkillable: nothing can take its place (the state file is locked); the supervisor
            # restarts it once it is gone
            with self.lock:
                self._set_state(DataplaneState.RUNNING)
            raise FailedPrecondition("the dataplane (pid %d) did not exit after SIGTERM and "
                                     "SIGKILL: nothing was started" % old.pid)
        t_exit = time.monotonic()
        with self.lock:
            self.proc, self.link = None, None
        try:
            proc, tables, t_up = self._start_on(new_dp)
        except StartError as e:
            failure = str(e)
        else:
            down = t_up - t_signal
            log.info("dataplane %s: pid %d -> %d, down %.3f s (stopped in %.3f s); config %d "
                     "and keys re-applied", "restarted" if binary is None else "upgraded to "
                     + new_dp.binary, old.pid, proc.pid, down, t_exit - t_signal,
                     self.config_version)
            for line in tables:
                log.info("%s", line)
            with self.lock:
                return DataplaneRestart(
                    old_pid=old.pid, pid=proc.pid, old_binary=old_dp.binary,
                    binary=new_dp.binary, stop_seconds=t_exit - t_signal, down_seconds=down,
                    tables=tables, state_layout=layout, forced=forced,
                    config_version=self.config_version, key_epoch=self.keys.keys().epoch,
                    boot_binary=self.boot.dataplane.binary)
        if binary is None or self._stop.is_set():
            # the supervisor goes on trying, as after a crash (unless synwalld stops)
            log.error("dataplane: %s: %s", doing, failure)
            raise FailedPrecondition("the dataplane did not start again: %s; synwalld keeps "
                                     "trying, as after a crash" % failure)
        log.error("dataplane: %s: %s; starting %s again", doing, failure, old_dp.binary)
        try:
            proc, tables, t_up = self._start_on(old_dp)
        except StartError as e:
            log.error("dataplane: %s did not start again either: %s", old_dp.binary, e)
            raise FailedPrecondition(
                "binary: %s did not start: %s; %s did not start again either (%s): synwalld "
                "keeps trying, as after a crash" % (binary, failure, old_dp.binary, e),
                "binary") from None
        log.info("dataplane: %s runs again (pid %d), down %.3f s", old_dp.binary, proc.pid,
                 t_up - t_signal)
        said = "; ".join(t.removeprefix("synwall-dp: ") for t in tables)
        raise FailedPrecondition(
            "binary: %s did not start: %s; %s runs again (pid %d%s), the dataplane was down "
            "%.2f s" % (binary, failure, old_dp.binary, proc.pid,
                        ": " + said if said else "", t_up - t_signal), "binary")

    # --- requests (called by the gRPC service) --------------------------------------------

    def _running_link(self) -> DpLink:
        """The link of a running dataplane, else Unavailable."""
        with self.lock:
            if self.state != DataplaneState.RUNNING or self.link is None:
                raise Unavailable("the dataplane is %s; try again" % (
                    "restarting" if self.state == DataplaneState.STARTING else "down"))
            return self.link

    def _dp_call(self, fn: Callable[..., T], *args: object) -> T:
        try:
            return fn(*args)
        except DataplaneUnavailable as e:
            raise Unavailable("dataplane unavailable: %s" % e) from None
        except DataplaneRefused as e:
            field = "dataplane." + e.field if e.field else ""
            raise InvalidRequest("the dataplane refused it: %s" % e.message, field) from None

    def _apply(self, cfg: model.RuntimeConfig, validate_only: bool = False) -> int:
        """Send cfg whole; the controller's state changes only once the dataplane took it.
        Called under the lock.

        A change of the source rules is a second request (load_sources): the config is
        validated first, the rules loaded, then the config applied, so that either refusal
        comes before anything changed (a config the dataplane validated is not refused when
        applied; if it were, the rules in force before are loaded again)."""
        link = self._running_link()
        dpcfg = model.to_dp_config(cfg, self.start_limits)
        if validate_only:
            self._dp_call(link.validate_config, dpcfg)
            return self.config_version
        old = self.runtime
        if cfg.sources == old.sources:
            self.config_version = self._version(self._dp_call(link.apply_config, dpcfg))
        else:
            config_change = dpcfg != model.to_dp_config(old, self.start_limits)
            if config_change:
                self._dp_call(link.validate_config, dpcfg)
            self._change_sources(link, cfg.sources, old.sources)
            if config_change:
                try:
                    self.config_version = self._version(self._dp_call(link.apply_config, dpcfg))
                except InvalidRequest:
                    self._restore_sources(link, old.sources)
                    raise
        self.runtime = cfg
        try:
            self._save_runtime()
        except OSError as e:
            self._undo(old)
            raise FailedPrecondition("%s: cannot save the runtime config (%s): the change is "
                                     "undone" % (self.runtime_path, e.strerror or e)) from None
        return self.config_version

    def _change_sources(self, link: DpLink, new: model.SourceList,
                        old: model.SourceList) -> None:
        """load_sources of the new rules; refused (the dataplane's lists and the file it
        reads stay the old ones), InvalidRequest; not answered, Unavailable. Called under
        the lock."""
        try:
            self.config_version = self._version(self._load_sources(link, new))
        except RulesFileError as e:
            raise FailedPrecondition("%s: nothing was changed" % e) from None
        except DataplaneRefused as e:
            self._rewrite_run_sources(old)
            field = "dataplane." + e.field if e.field else ""
            raise InvalidRequest("the dataplane refused the source rules: %s" % e.message,
                                 field) from None
        except DataplaneUnavailable as e:
            raise Unavailable("dataplane unavailable: %s (its source rules are given again "
                              "once it answers)" % e) from None

    def _rewrite_run_sources(self, sources: model.SourceList) -> None:
        try:
            self._write_run_sources(sources)
        except OSError as e:
            log.error("%s: cannot write the source rules in force back (%s)",
                      self.run_sources_path, e.strerror or e)

    def _restore_sources(self, link: DpLink, sources: model.SourceList) -> None:
        """Back to these rules after a change that did not go through whole; logged if the
        dataplane does not take them (the supervisor gives them again)."""
        try:
            self.config_version = self._version(self._load_sources(link, sources))
        except (DataplaneUnavailable, DataplaneRefused, RulesFileError) as e:
            log.error("giving the dataplane its source rules back: %s", e)

    def _undo(self, old: model.RuntimeConfig) -> None:
        """Back to old, in the dataplane and here, after a change that could not be saved.
        Called under the lock."""
        changed_sources = self.runtime.sources != old.sources
        self.runtime = old
        try:
            self.config_version = self._version(self._link().apply_config(
                model.to_dp_config(old, self.start_limits)))
        except (DataplaneUnavailable, DataplaneRefused) as e:
            log.error("undoing a change that could not be saved: %s; the dataplane keeps it "
                      "until the next change", e)
        if changed_sources:
            self._restore_sources(self._link(), old.sources)

    def status(self) -> ControllerStatus:
        with self.lock:
            link = self.link if self.state == DataplaneState.RUNNING else None
        st: dp.DpStatus | None = None
        if link is not None:
            try:
                st = link.status()
            except (DataplaneUnavailable, DataplaneRefused):
                st = None
        with self.lock:
            if st is not None and link is self.link:
                self.dp_status = st
                self.config_version = self._version(st.config_version)
            st = st or self.dp_status
            state, pid = self.state, 0
            if self.proc is not None and self.proc.alive():
                pid = self.proc.pid
            elif state == DataplaneState.RUNNING:
                state = DataplaneState.STARTING  # it died; the supervisor is about to see it
            if state == DataplaneState.STARTING and pid == 0:
                # the process being started, if any: never the one that died
                starting = self.launcher.starting
                if starting is not None and starting.alive():
                    pid = starting.pid
            return ControllerStatus(
                dataplane_state=state,
                dataplane_running=state == DataplaneState.RUNNING,
                dataplane_pid=pid,
                dataplane_restarts=self.restarts,
                workers=st.workers if st else 0,
                config_version=self.config_version,
                uptime_seconds=time.time() - self.started_at,
                outside_port=st.outside_port if st else "",
                inside_port=st.inside_port if st else "",
                key_epoch=self.keys.keys().epoch,
                restart_pending=tuple(self.restart_pending),
                dataplane_binary=self.running_dp.binary)

    def counters(self) -> dp.DpCounters:
        return self._dp_call(self._running_link().counters)

    def limits(self) -> tuple[model.Limits, model.StartLimits]:
        with self.lock:
            return self.runtime.limits, self.start_limits

    def set_limits(self, changes: Mapping[str, int | bool]) -> model.Limits:
        """Only the named limits change; a start-time one may only be given its running
        value."""
        with self.lock:
            runtime_changes: dict[str, int | bool] = {}
            for name, value in changes.items():
                if name in model.START_LIMITS:
                    running = getattr(self.start_limits, name)
                    if value != running:
                        raise InvalidRequest(
                            "%s: start-time only (running: %d); set it in the boot config's "
                            "[dataplane] section and restart the dataplane" % (name, running),
                            name)
                    continue
                model.check_limit(name, value, self.start_limits)  # InvalidConfig names it
                runtime_changes[name] = value
            new = self.runtime.limits.replace(**runtime_changes)
            model.check_limits(new, self.start_limits)
            self._apply(model.RuntimeConfig(new, self.runtime.policies.copy(),
                                            self.runtime.sources))
            return self.runtime.limits

    def policies(self) -> list[model.PortPolicy]:
        with self.lock:
            return self.runtime.policies.ranges()

    def set_policy(self, p: model.PortPolicy) -> list[model.PortPolicy]:
        with self.lock:
            table = self.runtime.policies.copy()
            table.put(p)
            self._apply(model.RuntimeConfig(self.runtime.limits, table, self.runtime.sources))
            return self.policies()

    def delete_policy(self, lo: int, hi: int) -> list[model.PortPolicy]:
        with self.lock:
            table = self.runtime.policies.copy()
            if not table.delete(lo, hi):
                what = "port %d" % lo if lo == hi else "ports %d-%d" % (lo, hi)
                raise NotFound("%s: no policy set (already pass)" % what, "port_lo")
            self._apply(model.RuntimeConfig(self.runtime.limits, table, self.runtime.sources))
            return self.policies()

    def sources(self) -> model.SourceList:
        with self.lock:
            return self.runtime.sources

    def _apply_sources(self, new: model.SourceList) -> model.SourceList:
        """Called under the lock."""
        self._apply(model.RuntimeConfig(self.runtime.limits, self.runtime.policies.copy(), new))
        return self.runtime.sources

    def set_sources(self, rules: list[model.SourceRule]) -> model.SourceList:
        """Each rule replaces the one of its prefix and ports; checked whole (InvalidConfig
        naming rules[i]), applied whole."""
        with self.lock:
            self._running_link()
            return self._apply_sources(self.runtime.sources.with_rules(rules, "rules"))

    def delete_sources(self, keys: list[model.SourceKey]) -> model.SourceList:
        """NotFound (keys[i]) if a key has no rule, and nothing is deleted."""
        with self.lock:
            self._running_link()
            return self._apply_sources(self.runtime.sources.without(keys, "keys"))

    def replace_sources(self, new: model.SourceList) -> model.SourceList:
        with self.lock:
            self._running_link()
            return self._apply_sources(new)

    def top_sources(self, by: str, count: int) -> TopSources:
        """The heaviest source prefixes of the dataplane's source tables by one of
        TOP_ORDERS, heaviest first, each with the global rule that decides for it."""
        if by not in TOP_ORDERS:
            raise InvalidRequest("by: %r is not an order (%s)" % (by, ", ".join(TOP_ORDERS)),
                                 "by")
        count = count or TOP_SOURCES_DEFAULT
        if not 1 <= count <= TOP_SOURCES_MAX:
            raise InvalidRequest("max: %d is out of range: 1..%d" % (count, TOP_SOURCES_MAX),
                                 "max")
        link = self._running_link()
        found = self._dp_call(link.top_sources, TOP_ORDERS.index(by), count)
        st = self._dp_call(link.status)
        rules = self.sources()
        out = []
        for x in found:
            network = source_network(x.prefix, x.len)
            if network is None:
                continue  # not an address: nothing a rule could be about
            out.append(TopSource(network, x.syns, x.syns_limited, x.bad_cookies, x.flows,
                                 x.synacks_capped, x.idle_ms, rules.covering(network)))
        return TopSources(out, st.source_table, st.source_v4_len, st.source_v6_len)

    def _dp_ports(self, link: DpLink) -> list[NicPort]:
        try:
            return [NicPort.of_dp(p) for p in link.ports()]
        except DataplaneUnavailable as e:
            raise Unavailable("dataplane unavailable: %s" % e) from None
        except DataplaneRefused as e:
            raise FailedPrecondition("the running dataplane does not tell its ports (it "
                                     "answered: %s): a synwall-dp older than this synwalld; "
                                     "restart or upgrade it" % e.message) from None

    def nic_ports(self) -> list[NicPort]:
        """The two ports, outside then inside, as their NICs count them (no busy share: the
        metrics, which leave that to rate()s of the cycle counters)."""
        return self._dp_ports(self._running_link())

    def ports(self) -> PortsHealth:
        """The two ports and each worker lcore's busy share since the sample of the cycle
        counters kept from an earlier request (BUSY_MIN_INTERVAL), or else since the
        dataplane started."""
        with self.lock:
            link = self._running_link()
            proc = self.proc
        ports = self._dp_ports(link)
        counters = self._dp_call(link.counters)
        at = time.monotonic()
        dataplane = (proc.pid, proc.start_time) if proc is not None else (0, 0)
        return PortsHealth(tuple(ports), tuple(self._busy_shares(dataplane, counters, at)))

    def _busy_shares(self, dataplane: tuple[int, int], c: dp.DpCounters,
                     at: float) -> list[LcoreBusy]:
        names = list(c.names)
        if "lcore.cycles" not in names or "lcore.busy_cycles" not in names:
            return []  # a dataplane that does not count its rounds
        i_cycles, i_busy = names.index("lcore.cycles"), names.index("lcore.busy_cycles")
        now = CycleSample(dataplane, at, {lc.lcore: (lc.values[i_cycles], lc.values[i_busy])
                                          for lc in c.lcores})
        with self._busy_lock:
            kept = [s for s in self._busy_samples if s.dataplane == dataplane and s.at < at]
            old_enough = [s for s in kept if at - s.at >= BUSY_MIN_INTERVAL]
            base = old_enough[-1] if old_enough else (kept[0] if kept else None)
            self._busy_samples = sorted(kept + [now], key=lambda s: s.at)[-BUSY_SAMPLES_KEPT:]
        age: float | None = None
        out = []
        for lcore, (cycles, busy) in sorted(now.cycles.items()):
            before = base.cycles.get(lcore) if base is not None else None
            if base is None or before is None or cycles < before[0] or busy < before[1]:
                if age is None:
                    age = process_age(dataplane[1])
                out.append(LcoreBusy(lcore, busy_share(busy, cycles), age, True, cycles, busy))
            else:
                dc, db = cycles - before[0], busy - before[1]
                out.append(LcoreBusy(lcore, busy_share(db, dc), at - base.at, False, dc, db))
        return out

    def key_status(self) -> keysched.KeyStatus:
        with self.lock:
            return self.keys.status()

    def rotate_keys(self) -> keysched.KeyStatus:
        with self.lock:
            self._running_link()
            trial = self._copy_keys()
            try:
                trial.rotate()
            except keysched.ScheduleError as e:
                raise FailedPrecondition(str(e)) from None
            self._commit_keys(trial)
            self._dp_call(self._push_keys)
            return self.keys.status()

    def _check_key_change(self, kc: KeyChange, prefix: str = "") -> None:
        if kc.master is not None and len(kc.master) != 16:
            raise InvalidRequest("%smaster_secret: a master secret is 16 bytes (32 hex "
                                 "digits), got %d bytes" % (prefix, len(kc.master)),
                                 prefix + "master_secret")
        # Tried on a copy: the schedule changes only with the rest of the request.
        trial = keysched.KeySchedule(self.keys.interval, self.keys.master, self.keys.skew,
                                     self.clock)
        try:
            trial.set_schedule(kc.interval, kc.master, kc.clear_master, kc.skew)
        except keysched.ScheduleError as e:
            f = prefix + ({"rotation_interval": "rotation_interval_s",
                           "max_clock_skew": "max_clock_skew_s"}.get(e.field, e.field))
            raise InvalidRequest("%s: %s" % (f, e), f) from None

    def set_key_schedule(self, kc: KeyChange) -> keysched.KeyStatus:
        with self.lock:
            self._check_key_change(kc)
            self._running_link()
            trial = self._copy_keys()
            trial.set_schedule(kc.interval, kc.master, kc.clear_master, kc.skew)
            self._commit_keys(trial)
            self._dp_call(self._push_keys)
            return self.keys.status()

    def apply_config(self, cfg: model.RuntimeConfig, kc: KeyChange | None,
                     validate_only: bool, sources_given: bool = True) -> int:
        """A whole runtime config (and, if given, a key schedule), checked whole, applied
        whole. sources_given False: the source rules stay as they are (cfg's are not
        looked at)."""
        with self.lock:
            if not sources_given:
                cfg = model.RuntimeConfig(cfg.limits, cfg.policies, self.runtime.sources)
            model.check_limits(cfg.limits, self.start_limits, "limits.")
            if kc is not None:
                self._check_key_change(kc, "keys.")
            if validate_only:
                if self.state == DataplaneState.RUNNING:
                    self._apply(cfg, validate_only=True)
                return self.config_version
            trial = None
            if kc is not None and not self.keys.same_schedule(
                    self.keys.interval if kc.interval is None else kc.interval,
                    None if kc.clear_master else (kc.master or self.keys.master),
                    self.keys.skew if kc.skew is None else kc.skew):
                trial = self._copy_keys()
                trial.set_schedule(kc.interval, kc.master, kc.clear_master, kc.skew)
            old = self.runtime
            version = self._apply(cfg)
            if trial is not None:
                try:
                    self._commit_keys(trial)
                except FailedPrecondition:
                    self._undo(old)
                    try:
                        self._save_runtime()
                    except OSError as e:
                        log.error("%s: cannot save the runtime config (%s)", self.runtime_path,
                                  e.strerror or e)
                    raise
                self._dp_call(self._push_keys)
            return version

    def dump_syncache(self, token: str,
                      page_size: int) -> tuple[list[dp.DpSyncacheEntry], str]:
        """One page of half-open entries and the token of the next ("" after the last)."""
        if page_size == 0:
            page_size = 100
        if not 1 <= page_size <= 1000:
            raise InvalidRequest("page_size: %d is out of range: 1..1000" % page_size,
                                 "page_size")
        try:
            cursor = int(token) if token else 0
            if cursor < 0:
                raise ValueError
        except ValueError:
            raise InvalidRequest("page_token: %r is not a token from a previous page" % token,
                                 "page_token") from None
        resp = self._dp_call(self._running_link().dump_syncache, cursor, page_size)
        return list(resp.entries), (str(resp.next_cursor) if resp.next_cursor else "")

    def flush_syncache(self) -> int:
        return self._dp_call(self._running_link().flush_syncache)

    # --- the running config as a boot file ------------------------------------------------

    def running_boot(self) -> bootconfig.BootConfig:
        """The boot config as the running dataplane and its runtime config make it (what a
        config sent through the API is compared with)."""
        with self.lock:
            return dataclasses.replace(self.boot, dataplane=self.running_dp,
                                       runtime=self.runtime.copy())

    def running_config(self) -> str:
        """The running config as a boot file (runconfig.render)."""
        with self.lock:
            return runconfig.render(self.running_dp, self.runtime,
                                    KeyParams.of_schedule(self.keys), self.boot.keys,
                                    self.boot.api, self.boot.sources, self._sources_copy)

    def _sources_copy(self, sources: model.SourceList) -> str:
        """A file that holds exactly these rules: the state directory's copy of the running
        list (written with every change of it)."""
        return str(self.state_dir / runconfig.sources_file_name(sources.digest()))

    def boot_file_config(self) -> str:
        """The boot file as it is on disk now, rendered as running_config renders."""
        if self.boot.source == bootconfig.EMBEDDED_NAME:
            return runconfig.render_boot(bootconfig.parse(bootconfig.embedded_default()))
        try:
            return runconfig.render_boot(bootconfig.load(self.boot.source))
        except bootconfig.BootConfigError as e:
            raise FailedPrecondition("the boot file does not load: %s" % e) from None

    def save_config(self) -> tuple[str, str]:
        """The running config into the boot file (runconfig.saved_boot_text), the file
        before kept as FILE.bak, both written durably: (the file, its backup). The request
        names no file: it is the one synwalld was started with."""
        with self.lock:
            if self.boot.source == bootconfig.EMBEDDED_NAME:
                raise FailedPrecondition(
                    "synwalld runs on the embedded default config (no -c FILE, no %s): there is "
                    "no boot file to save to" % bootconfig.DEFAULT_PATH)
            path = Path(os.path.realpath(self.boot.source))
            backup = path.with_name(path.name + ".bak")
            try:
                old = path.read_bytes()
                st = path.stat()
            except OSError as e:
                raise FailedPrecondition("%s: cannot read the boot file: %s"
                                         % (path, e.strerror or e)) from None
            keys = KeyParams.of_schedule(self.keys)
            header = ["synwall boot config, written by `synwallctl config save` on %s"
                      % time.strftime("%Y-%m-%d %H:%M:%S %z"),
                      "(config version %d). The file before is %s; its comments are not kept "
                      "here." % (self.config_version, backup.name)]
            try:
                text, inline, rules = runconfig.saved_boot_text(old.decode(), str(path),
                                                                self.runtime, keys, header)
            except (runconfig.SaveRefused, UnicodeDecodeError) as e:
                raise FailedPrecondition("%s: nothing was written" % e) from None

            def read_file(p: Path) -> bytes:
                # the sources file as it will be once written
                if rules is not None and p == rules.path:
                    return rules.data
                with open(p, "rb") as f:
                    return f.read(model.SOURCE_FILE_MAX + 1)
            try:
                written = bootconfig.parse(text, str(path), path.parent, read_file)
            except bootconfig.BootConfigError as e:
                raise FailedPrecondition("the boot file with the running config in it would "
                                         "not load (%s): nothing was written" % e) from None
            if (written.runtime.limits, written.runtime.policies, written.runtime.sources,
                    KeyParams.of_section(written.keys)) != (
                        self.runtime.limits, self.runtime.policies, self.runtime.sources, keys):
                raise FailedPrecondition("%s: the file written would not give the running "
                                         "config back: nothing was written" % path)
            mode = stat.S_IMODE(st.st_mode)
            if inline:
                mode &= 0o600  # it holds a secret
            rules_before = self._save_sources_file(rules, st) if rules is not None else None
            try:
                durable.write_atomic(backup, old, stat.S_IMODE(st.st_mode),
                                     (st.st_uid, st.st_gid))
                durable.write_atomic(path, text.encode(), mode, (st.st_uid, st.st_gid))
            except OSError as e:
                if rules is not None:
                    self._restore_sources_file(rules.path, rules_before)
                raise FailedPrecondition("%s: cannot write it (%s): the boot file is as it was"
                                         % (getattr(e, "filename", None) or path,
                                            e.strerror or e)) from None
            # The boot file holds the running config: the next start measures against it,
            # and shows its source rules in the boot file's form.
            self.boot = dataclasses.replace(self.boot, sources=written.sources)
            self.base_runtime = self.runtime.copy()
            self.base_keys = keys.record()
            try:
                self._save_runtime()
                self._save_keys()
            except OSError as e:
                log.warning("config saved, but the state files not (%s): the next start logs "
                            "the saved values as boot-file edits", e.strerror or e)
            log.info("running config saved to %s (the file before: %s)", path, backup)
            return str(path), str(backup)

    def reload(self, new: bootconfig.BootConfig) -> list[str]:
        """The boot file read again (new, loaded and checked whole by the caller) made the
        running config, as a restart of synwalld would make it (runconfig's merge: each value
        the file changed since it was last loaded or saved applies, the runtime changes made
        through the API stand where the file did not change), without a restart: applied
        whole or refused whole (FailedPrecondition, InvalidRequest, Unavailable; nothing
        changed). [api] cannot change (the listeners are made at start); [dataplane]'s
        start-time settings that differ from the running dataplane's wait for its next
        start, as at a start of synwalld. Returns what the log should say of it."""
        with self.lock:
            if self._op_lock.locked():
                what = self._op_what[0] if self._op_what else "restart"
                raise FailedPrecondition("the dataplane's %s is under way: reload once it has "
                                         "ended" % what)
            changed = [f.name for f in dataclasses.fields(new.api)
                       if getattr(new.api, f.name) != getattr(self.boot.api, f.name)]
            if changed:
                raise FailedPrecondition(
                    "%s changed: the API's listeners are made at start only (restart "
                    "synwalld for that)" % ", ".join("api." + k for k in changed))
            runtime, notes = runconfig.merge_runtime(new.runtime, self.base_runtime,
                                                     self.runtime)
            keys, key_notes = runconfig.merge_keys(KeyParams.of_section(new.keys),
                                                   self.base_keys,
                                                   KeyParams.of_schedule(self.keys))
            kc = KeyChange(interval=keys.rotation_interval, master=keys.master,
                           clear_master=keys.master is None, skew=keys.max_clock_skew)
            try:
                runtime.sources.check("sources")
            except model.InvalidConfig as e:
                raise InvalidRequest(str(e)) from None
            said: list[str] = []
            try:
                version = self.apply_config(runtime, kc, validate_only=False)
            except Unavailable as e:
                # apply_config raises this only before it changes anything, or once the
                # runtime config and the key schedule are applied and saved but the new keys
                # could not be given to the dataplane yet: the supervisor gives them again
                if self.runtime != runtime:
                    raise
                version = self.config_version
                said.append("the dataplane gets the new keys once it answers (%s)" % e)
            # The file is the base the next start (or reload) measures the state against.
            self.boot = new
            self.launcher.boot = new
            self.base_runtime = new.runtime.copy()
            self.base_keys = KeyParams.of_section(new.keys).record()
            self.restart_pending = runconfig.pending_restarts(self.running_dp, new.dataplane)
            try:
                self._save_runtime()
                self._save_keys()
            except OSError as e:
                log.warning("reloaded, but the state files not (%s): the next start logs the "
                            "file's values as edits again", e.strerror or e)
            said = notes + key_notes + said
            said += ["dataplane.%s: %s in the file, %s running: when the dataplane restarts"
                     % (p.key.removeprefix("dataplane."), p.boot, p.running)
                     for p in self.restart_pending]
            said.append("config version %d" % version)
            return said

    def start_grace(self) -> float:
        """How long a start of the dataplane (or an operator's restart of it) may take before
        it counts as hung: its start timeout, with the stop of the old one before it."""
        return self.boot.dataplane.start_timeout + supervisor.STOP_TIMEOUT + \
            supervisor.KILL_WAIT

    def liveness(self) -> tuple[bool, str]:
        """Whether the dataplane is alive, for the service manager's watchdog: running, its
        control socket answering with its pid, and each worker lcore's cycle counter moved
        on since the call before (a worker that stopped polling is not alive); or being
        started (by the supervisor after a crash, or by an operator's restart or upgrade)
        for less than start_grace(). (alive, what it is doing or why it is not.)

        It reads proc, state and the operation without the lock (each read is atomic; a
        stale one costs one watchdog period at most), so that a long change holding the
        lock (a reload or config apply with a million source rules) does not hold the
        watchdog back, and asks on a control connection of its own for the same reason."""
        proc, state, op = self.proc, self.state, self._op_what
        now = time.monotonic()
        if op is not None or state != DataplaneState.RUNNING:
            since = op[1] if op is not None else self._down_since
            what = ("the dataplane's %s" % op[0]) if op is not None else \
                "dataplane %s" % ("restarting" if state == DataplaneState.STARTING
                                  else "down")
            took = now - since
            if state != DataplaneState.DOWN and took < self.start_grace():
                return True, "%s, for %.0f s" % (what, took)
            return False, "%s for %.0f s" % (what, took)
        if proc is None:
            return False, "no dataplane"
        if not proc.alive():
            return False, "dataplane (pid %d) %s" % (proc.pid, proc.exit_status())
        if self._live_link is None or self._live_link[0] != proc.pid:
            if self._live_link is not None:
                self._live_link[1].close()
            self._live_link = (proc.pid, DpLink(self._live_ctl_path()))
        link = self._live_link[1]
        try:
            st = link.status()
            c = link.counters()
        except (DataplaneUnavailable, DataplaneRefused) as e:
            return False, "dataplane (pid %d) does not answer: %s" % (proc.pid, e)
        if st.pid != proc.pid:
            return False, "the control socket answers for pid %d, not %d" % (st.pid, proc.pid)
        names = list(c.names)
        if "lcore.cycles" in names:
            i = names.index("lcore.cycles")
            cycles = {lc.lcore: lc.values[i] for lc in c.lcores}
            before = self._live_sample
            self._live_sample = (proc.pid, cycles)
            if before is not None and before[0] == proc.pid:
                stuck = sorted(lcore for lcore, n in cycles.items()
                               if lcore in before[1] and n <= before[1][lcore])
                if stuck:
                    return False, "dataplane (pid %d): worker lcore %s stopped polling" % (
                        proc.pid, ", ".join(map(str, stuck)))
        return True, "dataplane (pid %d) running, %d worker(s), config %d" % (
            proc.pid, len(c.lcores), self.config_version)

    def _live_ctl_path(self) -> str:
        link = self.link
        return link.path if link is not None else str(self.launcher.ctl_path)

    @staticmethod
    def _save_sources_file(rules: runconfig.SavedSources,
                           boot_st: os.stat_result) -> bytes | None:
        """The file of source rules that config save writes before the boot file naming it
        (the file before kept as FILE.bak; mode and owner those of the file before, else the
        boot file's): what it held before (None: it did not exist). FailedPrecondition, and
        nothing written, if it cannot be written."""
        path = rules.path
        backup = path.with_name(path.name + ".bak")
        try:
            before = path.read_bytes()
            st: os.stat_result | None = path.stat()
        except FileNotFoundError:
            before, st = None, None
        except OSError as e:
            raise FailedPrecondition("%s: cannot read it (%s): nothing was written"
                                     % (path, e.strerror or e)) from None
        like = st or boot_st
        try:
            if before is not None and st is not None:
                durable.write_atomic(backup, before, stat.S_IMODE(st.st_mode),
                                     (st.st_uid, st.st_gid))
            durable.write_atomic(path, rules.data, stat.S_IMODE(like.st_mode),
                                 (like.st_uid, like.st_gid))
        except OSError as e:
            raise FailedPrecondition("%s: cannot write it (%s): nothing was written"
                                     % (getattr(e, "filename", None) or path,
                                        e.strerror or e)) from None
        return before

    @staticmethod
    def _restore_sources_file(path: Path, before: bytes | None) -> None:
        """The sources file back as it was, after the boot file naming it could not be
        written."""
        try:
            if before is None:
                path.unlink()
            else:
                durable.write_atomic(path, before)
        except OSError as e:
            log.error("%s: cannot put it back as it was (%s); %s.bak holds it", path,
                      e.strerror or e, path.name)

    # --- for tests and tools --------------------------------------------------------------

    def dataplane_config(self) -> dp.DpConfig:
        """The dataplane's own view of its config (get_config), for comparisons."""
        return self._dp_call(self._running_link().get_config)


def source_network(prefix: bytes, length: int) -> model.Network | None:
    """A DpSource's prefix (4 or 16 bytes, its bits past length 0) as a network; None for
    what is neither."""
    if len(prefix) not in (4, 16):
        return None
    addr = ipaddress.ip_address(bytes(prefix))
    return ipaddress.ip_network((addr, min(length, addr.max_prefixlen)), strict=False)


def busy_share(busy_cycles: int, cycles: int) -> float:
    """busy_cycles over cycles, 0..1 (0 for no cycles)."""
    return min(1.0, busy_cycles / cycles) if cycles > 0 else 0.0


def process_age(start_time: int) -> float:
    """Seconds since a process started, from its start time in clock ticks since boot
    (/proc/PID/stat, supervisor.proc_start_time); 0 when it cannot be told."""
    if start_time <= 0:
        return 0.0
    try:
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(0.0, uptime - start_time / os.sysconf("SC_CLK_TCK"))


def check_binary(path: str, field: str) -> None:
    """A dataplane binary named by a request: an absolute, normal path of an executable
    regular file (InvalidRequest naming field otherwise). The one path a request may name, an
    admin's: it is run, as synwalld's user."""
    if not path:
        raise InvalidRequest("%s: required: the absolute path of a synwall-dp on the "
                             "appliance" % field, field)
    if "\0" in path or len(path) > 4096:
        raise InvalidRequest("%s: not a path" % field, field)
    if not os.path.isabs(path):
        raise InvalidRequest("%s: %s is not an absolute path" % (field, path), field)
    if os.path.normpath(path) != path:
        raise InvalidRequest("%s: %s is not a normal path (%s)" % (
            field, path, os.path.normpath(path)), field)
    try:
        st = os.stat(path)
    except OSError as e:
        raise InvalidRequest("%s: %s: %s" % (field, path, e.strerror or e), field) from None
    if not stat.S_ISREG(st.st_mode):
        raise InvalidRequest("%s: %s is not a regular file" % (field, path), field)
    if not os.access(path, os.X_OK):
        raise InvalidRequest("%s: %s is not executable" % (field, path), field)


def _option_value(key: str, text: str | None) -> Any:
    """A [dataplane] key's value from its synwall-dp option's text (None: not given)."""
    if text is None:
        return None
    try:
        if key == "source_prefix":
            v4, v6 = text.split(",")
            return int(v4), int(v6)
        if key == "unparsed":
            return text
        return int(text)
    except ValueError:
        return text
