"""synwalld: the controller daemon.

    synwalld [-c FILE] [--check] [--stop-dataplane] [-v]

Reads the boot config (-c FILE; default /etc/synwall/synwall.toml, or the embedded default
synwall/default.toml when that does not exist), re-attaches to the dataplane a previous
synwalld started or starts synwall-dp, pushes the runtime config and the cookie keys, then
serves the gRPC admin API (and Prometheus metrics) and supervises the dataplane until SIGTERM
or SIGINT. The dataplane keeps running when synwalld stops (--stop-dataplane stops it too),
so that restarting the controller never interrupts traffic.

--check checks the boot config (the [sources] file it names read and checked too) and that
this host has what it names (the ports' PCI devices, the dataplane binary), then exits: 0
both good, 2 a bad boot config, 1 something it names is missing (a line each).

SIGHUP (`systemctl reload`) reads the boot file again, checks it whole and applies it whole, or
refuses it whole and logs why (Controller.reload): what a restart of synwalld would make of it,
without the restart.

Under systemd (systemd module): READY=1 once the API serves and the dataplane runs, STATUS=
lines, RELOADING=1 around a reload, STOPPING=1; with WatchdogSec= set, WATCHDOG=1 every half
of it while the dataplane is alive (Controller.liveness: it answers and its workers poll, or
a start of it is within its start timeout), so that a dataplane hung for that long, or one
that cannot be started, restarts the service. Log lines carry their
syslog priority when stderr is the journal.

Exit status: 0 stopped by a signal; 1 could not start (dataplane, listeners); 2 bad boot
config or command line.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from wsgiref.simple_server import WSGIServer

from prometheus_client.registry import CollectorRegistry

from synwall import __version__, bootconfig, systemd
from synwall.controller import Controller
from synwall.errors import ControllerError
from synwall.metrics import serve_metrics
from synwall.server import ApiServer, ListenError
from synwall.supervisor import StartError

log = logging.getLogger("synwalld")


class Daemon:
    """The controller, its gRPC server and its metrics endpoint, started and stopped as one
    (the tests run it in-process)."""

    def __init__(self, boot: bootconfig.BootConfig) -> None:
        self.boot = boot
        self.ctl = Controller(boot)
        self.api = ApiServer(self.ctl, boot.api)
        self.metrics_server: WSGIServer | None = None
        self.metrics_registry: CollectorRegistry | None = None

    def start(self) -> None:
        try:
            # Listeners first: a busy socket must not leave a dataplane started for nothing.
            self.api.listen()
        except ListenError as e:
            raise StartError(str(e)) from None
        try:
            self.ctl.start()
        except BaseException:
            self.api.stop(0)
            raise
        self.api.serve()
        if self.boot.api.metrics:
            try:
                self.metrics_server, self.metrics_registry = serve_metrics(
                    self.ctl, self.boot.api.metrics)
            except OSError as e:
                self.stop()
                raise StartError("api.metrics %s: %s" % (self.boot.api.metrics,
                                                         e.strerror or e)) from None

    def reload(self) -> bool:
        """The boot file read again and applied whole (True), or refused whole with the
        reason logged (False): SIGHUP."""
        source = self.boot.source
        systemd.notify("RELOADING=1", "MONOTONIC_USEC=%d" % (time.monotonic_ns() // 1000),
                       "STATUS=reloading %s" % source)
        try:
            if source == bootconfig.EMBEDDED_NAME:
                raise ControllerError("synwalld runs on the embedded default config (no -c "
                                      "FILE, no %s): there is no boot file to read again"
                                      % bootconfig.DEFAULT_PATH)
            new = bootconfig.load(source)
            said = self.ctl.reload(new)
        except (bootconfig.BootConfigError, ControllerError) as e:
            log.error("reload of %s refused, nothing changed: %s", source, e)
            return False
        except Exception:  # noqa: BLE001 - a reload must not end synwalld
            log.exception("reload of %s failed", source)
            return False
        finally:
            systemd.notify("READY=1", "STATUS=" + self.status_line())
        self.boot = new
        log.info("reloaded %s: %s", source, "; ".join(said))
        return True

    def status_line(self) -> str:
        """What `systemctl status` shows as the service's status."""
        st = self.ctl.status()
        return "dataplane %s%s, config version %d, %d dataplane restart(s)" % (
            st.dataplane_state.value, " (pid %d)" % st.dataplane_pid if st.dataplane_pid else "",
            st.config_version, st.dataplane_restarts)

    @property
    def metrics_port(self) -> int | None:
        return self.metrics_server.server_address[1] if self.metrics_server else None

    def stop(self, stop_dataplane: bool = False) -> None:
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
            self.metrics_server.server_close()
            self.metrics_server = None
        self.api.stop()
        self.ctl.shutdown(stop_dataplane=stop_dataplane)


# How often the main loop looks at what the signals asked.
SIGNAL_POLL = 0.1


class Signals:
    """What SIGTERM/SIGINT (stop) and SIGHUP (reload) asked for."""

    def __init__(self) -> None:
        self.stop = False
        self.reload = False

    def on_stop(self, *_: object) -> None:
        self.stop = True

    def on_reload(self, *_: object) -> None:
        self.reload = True


class Watchdog:
    """WATCHDOG=1 to the service manager every `period` seconds while the dataplane is alive,
    and a STATUS= line whenever what it says changes; a line in the log when the dataplane
    stops being alive and when it is again."""

    def __init__(self, daemon: Daemon, period: float) -> None:
        self.daemon = daemon
        self.period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="synwall-watchdog",
                                        daemon=True)
        self._said: str | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.period + 5)

    def _run(self) -> None:
        alive_before = True
        while not self._stop.wait(self.period):
            try:
                alive, why = self.daemon.ctl.liveness()
            except Exception:  # noqa: BLE001 - the watchdog thread must not die
                log.exception("watchdog")
                continue
            if alive:
                systemd.notify("WATCHDOG=1")
            if alive != alive_before:
                if alive:
                    log.info("watchdog: %s again", why)
                else:
                    log.warning("watchdog: not told while %s", why)
                alive_before = alive
            status = self.daemon.status_line() if alive else why
            if status != self._said:
                self._said = status
                systemd.notify("STATUS=" + status)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="synwalld", description="synwall controller daemon: supervises synwall-dp and "
        "serves the gRPC admin API")
    ap.add_argument("-c", "--config", metavar="FILE",
                    help="boot config (default: /etc/synwall/synwall.toml if it exists, else "
                    "the embedded default)")
    ap.add_argument("--check", action="store_true",
                    help="check the boot config, the ports' PCI devices and the dataplane "
                    "binary, and exit")
    ap.add_argument("--stop-dataplane", action="store_true",
                    help="stop the dataplane too when synwalld stops")
    ap.add_argument("-v", "--verbose", action="store_true", help="log debug lines too")
    ap.add_argument("--version", action="version", version="synwalld " + __version__)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    fmt = "synwalld: %(message)s"
    handler.setFormatter(systemd.PriorityFormatter(fmt) if systemd.stderr_is_journal()
                         else logging.Formatter(fmt))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        handlers=[handler])

    try:
        boot = bootconfig.load(args.config)
    except bootconfig.BootConfigError as e:
        log.error("%s", e)
        return 2
    if args.check:
        problems = bootconfig.check_host(boot)
        for p in problems:
            log.error("%s", p)
        if problems:
            return 1
        print("%s: ok" % boot.source)
        return 0

    # The handlers only set flags (no lock: a handler runs in the main thread, between any
    # two of its bytecodes, also while it holds one); the main loop looks at them.
    asked = Signals()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, asked.on_stop)
    # ignored until there is something to reload
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    try:
        d = Daemon(boot)
        d.start()
    except StartError as e:
        log.error("%s", e)
        return 1
    signal.signal(signal.SIGHUP, asked.on_reload)
    where = ", ".join(x for x in (
        boot.api.unix_socket,
        boot.api.tcp and "tcp %s (TLS, port %s)" % (boot.api.tcp, d.api.tcp_port),
        boot.api.metrics and "metrics %s (port %s)" % (boot.api.metrics, d.metrics_port))
        if x)
    proc = d.ctl.proc
    log.info("serving on %s; dataplane pid %d", where, proc.pid if proc is not None else 0)
    systemd.notify("READY=1", "STATUS=" + d.status_line())
    period = systemd.watchdog_period()
    watchdog = None
    if period is not None:
        watchdog = Watchdog(d, max(period / 2, 0.1))
        watchdog.start()
    while not asked.stop:
        time.sleep(SIGNAL_POLL)
        if asked.reload and not asked.stop:
            asked.reload = False
            d.reload()
    systemd.notify("STOPPING=1", "STATUS=stopping")
    log.info("stopping%s", " (and the dataplane)" if args.stop_dataplane else
             "; the dataplane keeps running")
    if watchdog is not None:
        watchdog.stop()
    d.stop(stop_dataplane=args.stop_dataplane)
    return 0


if __name__ == "__main__":
    sys.exit(main())
