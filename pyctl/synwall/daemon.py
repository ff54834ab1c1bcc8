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

Exit status: 0 stopped by a signal; 1 could not start (dataplane, listeners); 2 bad boot
config or command line.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client.registry import CollectorRegistry

from synwall import __version__, bootconfig
from synwall.controller import Controller
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
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--version", action="version", version="synwalld " + __version__)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if args.verbose else logging.INFO,
                        format="synwalld: %(message)s")

    try:
        boot = bootconfig.load(args.config)
    except bootconfig.BootConfigError as e:
        print("synwalld: %s" % e, file=sys.stderr)
        return 2
    if args.check:
        problems = bootconfig.check_host(boot)
        for p in problems:
            print("synwalld: %s" % p, file=sys.stderr)
        if problems:
            return 1
        print("%s: ok" % boot.source)
        return 0

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    try:
        d = Daemon(boot)
        d.start()
    except StartError as e:
        print("synwalld: %s" % e, file=sys.stderr)
        return 1
    where = ", ".join(x for x in (
        boot.api.unix_socket,
        boot.api.tcp and "tcp %s (TLS, port %s)" % (boot.api.tcp, d.api.tcp_port),
        boot.api.metrics and "metrics %s (port %s)" % (boot.api.metrics, d.metrics_port))
        if x)
    proc = d.ctl.proc
    log.info("serving on %s; dataplane pid %d", where, proc.pid if proc is not None else 0)
    while not stop.wait(1.0):
        pass
    log.info("stopping%s", " (and the dataplane)" if args.stop_dataplane else
             "; the dataplane keeps running")
    d.stop(stop_dataplane=args.stop_dataplane)
    return 0


if __name__ == "__main__":
    sys.exit(main())
