"""The controller: owns the dataplane, its runtime config and its cookie keys.

Every change is built whole (limits + every port range), checked here with errors naming the
field, and sent as one apply_config; the dataplane publishes it to its workers under RCU or
refuses it whole. Only after the dataplane accepted it does the controller's own state
change, and it is then saved (state_dir/runtime.json) so that a restarted synwalld re-attaches
to the running dataplane with the same config. Keys live in state_dir/keys.json (mode 0600)
and are pushed again, unchanged, to a dataplane restarted after a crash, so that the cookies
it handed out stay valid.

Requests fail with the kinds of synwall.errors.ControllerError; the gRPC server maps them to
status codes.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from synwall import bootconfig, model
from synwall import keys as keysched
from synwall.dp.v1 import dataplane_pb2 as dp
from synwall.dplink import DataplaneRefused, DataplaneUnavailable, DpLink
from synwall.errors import FailedPrecondition, InvalidRequest, NotFound, Unavailable
from synwall.supervisor import DataplaneProcess, Launcher, StartError

log = logging.getLogger("synwalld")

SUPERVISE_PERIOD = 0.2
RESTART_BACKOFF_MAX = 30.0

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


@dataclass
class KeyChange:
    interval: int | None = None
    master: bytes | None = None
    clear_master: bool = False
    skew: int | None = None


class Controller:
    """The dataplane's owner.

    `lock` (re-entrant) guards the dataplane's identity and the controller's state: proc,
    link, state, attached, restarts, runtime, start_limits, keys, config_version, dp_status.
    The supervisor thread writes them (restart: the swap of proc and link) and the request
    threads (gRPC, metrics) read them or apply changes, always under the lock. A change holds
    it across its dataplane calls so that changes are applied one whole config at a time; a
    plain read (status, counters, syncache dump) takes it only to pick the link, then talks
    to the dataplane without it. Starting a new dataplane process, the slow part of a
    restart, happens outside it.
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

    # --- life cycle ------------------------------------------------------------------------

    def on_state(self, fn: Callable[[DataplaneState], None]) -> None:
        """fn(state) on every change of the dataplane state (health service)."""
        with self.lock:
            self._state_listeners.append(fn)
            fn(self.state)

    def _set_state(self, state: DataplaneState) -> None:
        with self.lock:
            if state != self.state:
                self.state = state
                for fn in self._state_listeners:
                    fn(state)

    def start(self) -> None:
        """Re-attach to a running dataplane or start one, push config and keys, supervise.
        StartError if the dataplane cannot be started or refuses the boot config."""
        self.launcher.prepare_dirs()
        found = self.launcher.find_running()
        if found is not None:
            with self.lock:
                self.proc, self.link = found
                self.attached = True
                self._load_state(attached=True)
                log.info("re-attached to the running dataplane (pid %d)", found[0].pid)
                self._check_start_params(found[1])
        else:
            self._load_state(attached=False)
            self._set_state(DataplaneState.STARTING)
            started = self.launcher.start(self._runtime_args())
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
            self._thread.join(10)
        with self.lock:
            if stop_dataplane and self.proc is not None:
                self.launcher.stop(self.proc)
                self._set_state(DataplaneState.DOWN)
            if self.link is not None:
                self.link.close()

    def _load_state(self, attached: bool) -> None:
        """Keys: the saved schedule and secrets when they match the boot config's schedule (or
        always when re-attaching: the running dataplane has them). Runtime config: the saved
        one when re-attaching, the boot config's otherwise."""
        saved_keys = None
        try:
            saved_keys = keysched.KeySchedule.load(self.keys_path, self.clock)
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("%s: unusable (%s): new keys", self.keys_path, e)
        k = self.boot.keys
        if saved_keys is not None and (attached or saved_keys.same_schedule(
                k.rotation_interval, k.master_secret, k.max_clock_skew)):
            self.keys = saved_keys
        if attached:
            try:
                self.runtime = model.from_json(json.loads(self.runtime_path.read_text()))
            except FileNotFoundError:
                pass
            except (OSError, ValueError, KeyError, TypeError) as e:
                log.warning("%s: unusable (%s): the boot config's runtime config is applied",
                            self.runtime_path, e)
        self._save_keys()

    def _check_start_params(self, link: DpLink) -> None:
        st = link.status()
        d = self.boot.dataplane
        for name, running, want in (("hashsize", st.hashsize, d.hashsize),
                                    ("bucketlimit", st.bucketlimit, d.bucketlimit),
                                    ("flows", st.flows, d.flows)):
            if running != want:
                log.warning("the running dataplane has %s %d, the boot config says %d: it "
                            "takes effect when the dataplane restarts", name, running, want)
        self.start_limits = model.StartLimits(st.hashsize, st.bucketlimit, st.flows)
        if self.proc is None or self.proc.cmd is None:
            return
        for key, option, asked in d.start_options:
            given = self.proc.option(option)
            if given != asked:
                log.warning("the running dataplane has %s %s, the boot config's %s is %s: it "
                            "takes effect when the dataplane restarts", option,
                            given or "(not given: the default)", key,
                            asked or "not set (the default)")

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
        """Limits and modes on the command line: protection from the first packet, before
        apply_config (which adds the server profiles) arrives."""
        lim = self.runtime.limits
        args = ["--cachelimit", str(lim.resolved_cachelimit(self.start_limits)),
                "--rexmtlimit", str(lim.rexmtlimit),
                "--syncookies", str(int(lim.syncookies)),
                "--syncookies-only", str(int(lim.syncookies_only)),
                "--mss", str(lim.mss), "--wscale", str(lim.wscale),
                "--server-retries", str(lim.server_retries),
                "--cookie-check-rate", str(lim.cookie_check_rate),
                "--rotate", str(min(self.keys.interval, keysched.MAX_INTERVAL))]
        spec = model.protect_spec(self.runtime)
        if spec and len(spec) < 64 * 1024:
            args += ["--protect", spec]
        return args

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
                self.config_version = link.status().config_version
                want = None
        if want is not None:
            try:
                self.config_version = link.apply_config(want)
            except DataplaneRefused as e:
                raise StartError("the dataplane refused the config: %s (%s)"
                                 % (e.message, e.field)) from None
        self._push_keys(force=True)
        self.dp_status = link.status()
        self.config_version = self.dp_status.config_version
        self._save_runtime()

    def _push_keys(self, force: bool = False) -> None:
        """Called under the lock."""
        ks = self.keys.keys()
        if not force and ks == self._pushed_keys:
            return
        self.config_version = self._link().set_keys(ks.epoch, ks.current, ks.other)
        self._pushed_keys = ks

    def _save_runtime(self) -> None:
        tmp = self.runtime_path.with_name(self.runtime_path.name + ".tmp")
        tmp.write_text(json.dumps(model.to_json(self.runtime)) + "\n")
        os.replace(tmp, self.runtime_path)

    def _save_keys(self) -> None:
        self.keys.save(self.keys_path)

    # --- supervision -----------------------------------------------------------------------

    def _supervise(self) -> None:
        while not self._stop.wait(SUPERVISE_PERIOD):
            try:
                self._tick()
            except Exception:  # noqa: BLE001 - the supervisor must never die
                log.exception("supervisor")

    def _tick(self) -> None:
        with self.lock:
            proc, state = self.proc, self.state
        if state == DataplaneState.RUNNING and proc is not None and not proc.alive():
            log.error("dataplane (pid %d) %s: restarting it", proc.pid, proc.exit_status())
            with self.lock:
                self._set_state(DataplaneState.STARTING)
                self._link().close()
            self._next_start = 0.0
            state = DataplaneState.STARTING
        if state == DataplaneState.STARTING:
            self._restart()
            return
        with self.lock:
            if self.state != DataplaneState.RUNNING:
                return
            if self.keys.due():
                self.keys.rotate()
                self._save_keys()
                log.info("keys rotated: epoch %d", self.keys.keys().epoch)
            try:
                self._push_keys()
            except (DataplaneUnavailable, DataplaneRefused) as e:
                log.warning("pushing keys: %s", e)

    def _restart(self) -> None:
        now = time.monotonic()
        if now < self._next_start or self._stop.is_set():
            return
        with self.lock:
            # A new dataplane gets the boot config's sizes, which may differ from those of a
            # dataplane this controller re-attached to.
            self.start_limits = self.boot.dataplane.start_limits
            cl = self.runtime.limits.cachelimit
            if cl is not None and cl > self.start_limits.max_cachelimit:
                log.warning("cachelimit %d is above the new dataplane's hashsize x bucketlimit "
                            "(%d): back to the default", cl, self.start_limits.max_cachelimit)
                self.runtime = model.RuntimeConfig(self.runtime.limits.replace(cachelimit=None),
                                                   self.runtime.policies)
        try:
            proc, link = self.launcher.start(self._runtime_args())
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
        Called under the lock."""
        link = self._running_link()
        dpcfg = model.to_dp_config(cfg, self.start_limits)
        if validate_only:
            self._dp_call(link.validate_config, dpcfg)
            return self.config_version
        self.config_version = self._dp_call(link.apply_config, dpcfg)
        self.runtime = cfg
        self._save_runtime()
        return self.config_version

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
            st = st or self.dp_status
            return ControllerStatus(
                dataplane_state=self.state,
                dataplane_running=self.state == DataplaneState.RUNNING,
                dataplane_pid=self.proc.pid if self.proc is not None else 0,
                dataplane_restarts=self.restarts,
                workers=st.workers if st else 0,
                config_version=st.config_version if st else self.config_version,
                uptime_seconds=time.time() - self.started_at,
                outside_port=st.outside_port if st else "",
                inside_port=st.inside_port if st else "",
                key_epoch=self.keys.keys().epoch)

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
            self._apply(model.RuntimeConfig(new, self.runtime.policies.copy()))
            return self.runtime.limits

    def policies(self) -> list[model.PortPolicy]:
        with self.lock:
            return self.runtime.policies.ranges()

    def set_policy(self, p: model.PortPolicy) -> list[model.PortPolicy]:
        with self.lock:
            table = self.runtime.policies.copy()
            table.put(p)
            self._apply(model.RuntimeConfig(self.runtime.limits, table))
            return self.policies()

    def delete_policy(self, lo: int, hi: int) -> list[model.PortPolicy]:
        with self.lock:
            table = self.runtime.policies.copy()
            if not table.delete(lo, hi):
                what = "port %d" % lo if lo == hi else "ports %d-%d" % (lo, hi)
                raise NotFound("%s: no policy set (already pass)" % what, "port_lo")
            self._apply(model.RuntimeConfig(self.runtime.limits, table))
            return self.policies()

    def key_status(self) -> keysched.KeyStatus:
        with self.lock:
            return self.keys.status()

    def rotate_keys(self) -> keysched.KeyStatus:
        with self.lock:
            self._running_link()
            try:
                self.keys.rotate()
            except keysched.ScheduleError as e:
                raise FailedPrecondition(str(e)) from None
            self._save_keys()
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
            self.keys.set_schedule(kc.interval, kc.master, kc.clear_master, kc.skew)
            self._save_keys()
            self._dp_call(self._push_keys)
            return self.keys.status()

    def apply_config(self, cfg: model.RuntimeConfig, kc: KeyChange | None,
                     validate_only: bool) -> int:
        """A whole runtime config (and, if given, a key schedule), checked whole, applied
        whole."""
        with self.lock:
            model.check_limits(cfg.limits, self.start_limits, "limits.")
            if kc is not None:
                self._check_key_change(kc, "keys.")
            if validate_only:
                if self.state == DataplaneState.RUNNING:
                    self._apply(cfg, validate_only=True)
                return self.config_version
            version = self._apply(cfg)
            if kc is not None and not self.keys.same_schedule(
                    self.keys.interval if kc.interval is None else kc.interval,
                    None if kc.clear_master else (kc.master or self.keys.master),
                    self.keys.skew if kc.skew is None else kc.skew):
                self.keys.set_schedule(kc.interval, kc.master, kc.clear_master, kc.skew)
                self._save_keys()
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

    # --- for tests and tools --------------------------------------------------------------

    def dataplane_config(self) -> dp.DpConfig:
        """The dataplane's own view of its config (get_config), for comparisons."""
        return self._dp_call(self._running_link().get_config)
