"""Starting, finding and watching the synwall-dp process.

The dataplane runs in its own session (setsid), so that it outlives the controller: a
restarted synwalld finds it through runtime_dir/dataplane.pid (pid, start time, control
socket, command line and the [dataplane] settings it was started with) and re-attaches
instead of starting a second one. A dataplane that dies is started again by the controller.

Its output: when synwalld logs to the journal (under systemd), the dataplane's is connected to
the journal too, by systemd-cat, under the identifier synwall-dp (standard output at priority
info, standard error at err; `journalctl -t synwall-dp`); its lines are read back from there
for what synwalld reports of a start. Otherwise it goes to state_dir/dataplane.log, one run's
output after another; a file grown past LOG_ROTATE_SIZE is renamed dataplane.log.1 (the one
before that is dropped) when the next dataplane starts.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

from synwall import bootconfig, systemd
from synwall.dplink import DataplaneRefused, DataplaneUnavailable, DpLink

log = logging.getLogger("synwalld")

# After SIGTERM, how long a dataplane may take to stop (its tables saved) before SIGKILL.
STOP_TIMEOUT = 10.0
# After SIGKILL, how long a dataplane may take to be gone (its hugepages and devices released)
# before stop() gives up waiting.
KILL_WAIT = 30.0
# How often a stopping dataplane is looked at until it has exited, and a starting one's
# control socket until it answers: both are part of the time a restart does not forward.
POLL_PERIOD = 0.01
# `synwall-dp --state-layout` starts nothing (no EAL): it answers at once.
LAYOUT_TIMEOUT = 5.0
LAYOUT_LINE = re.compile(r"^synwall-dp state layout \d+ fingerprint [0-9a-f]{8}$")
# What a starting synwall-dp says of the tables it found in its state file
# (docs/DATAPLANE.md, "Restarts"): taken over, rebuilt, or refused and started empty.
TABLES_LINE = re.compile(r"^synwall-dp: (--state |queue \d+: .*taken over)")
# dataplane.log is renamed dataplane.log.1 at a start once it is larger than this.
LOG_ROTATE_SIZE = 4 << 20
# The journal's identifier of the dataplane's lines.
JOURNAL_ID = "synwall-dp"
# How long each of the two journalctl runs that read the dataplane's lines back may take.
JOURNAL_READ_TIMEOUT = 2.0


class StartError(RuntimeError):
    pass


class LayoutError(RuntimeError):
    """A binary's `--state-layout` gave no layout line."""


def state_layout(binary: str) -> str:
    """The line `BINARY --state-layout` prints (`synwall-dp state layout N fingerprint X`):
    two binaries whose lines are equal take over each other's tables. LayoutError if it does
    not run, fails, or prints anything else."""
    try:
        r = subprocess.run([binary, "--state-layout"], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=LAYOUT_TIMEOUT, close_fds=True)
    except subprocess.TimeoutExpired:
        raise LayoutError("%s --state-layout did not answer within %gs"
                          % (binary, LAYOUT_TIMEOUT)) from None
    except OSError as e:
        raise LayoutError("cannot run %s: %s" % (binary, e.strerror or e)) from None
    out = r.stdout.decode(errors="replace").strip()
    if r.returncode == 0 and LAYOUT_LINE.match(out):
        return out
    said = [ln.strip() for ln in (out + "\n" + r.stderr.decode(errors="replace")).splitlines()
            if ln.strip()]
    how = "exited %d" % r.returncode if r.returncode >= 0 else \
        "was killed by signal %d" % -r.returncode
    raise LayoutError("%s --state-layout %s, printing %s: not a synwall-dp that tells its "
                      "state layout" % (binary, how, (" | ".join(said[:2])[:200] or "nothing")))


def proc_start_time(pid: int) -> int | None:
    """The process's start time (clock ticks since boot; /proc/PID/stat field 22), or None if
    there is no such process or it is a zombie."""
    try:
        stat = Path("/proc/%d/stat" % pid).read_text()
    except OSError:
        return None
    rest = stat[stat.rfind(")") + 2:].split()
    if rest[0] in ("Z", "X"):
        return None
    return int(rest[19])


class DataplaneProcess:
    """One synwall-dp: ours (a child) or found running (attached). `cmd`: its command line
    (when attached, the one its pid file recorded; None if it has none). `settings`: the
    [dataplane] table it was started with (bootconfig.dataplane_table, start_timeout aside;
    None when its pid file has none)."""

    def __init__(self, pid: int, start_time: int,
                 popen: subprocess.Popen[bytes] | None = None,
                 cmd: list[str] | None = None,
                 settings: dict[str, Any] | None = None) -> None:
        self.pid = pid
        self.start_time = start_time
        self.popen = popen
        self.cmd = cmd
        self.settings = settings

    def option(self, name: str) -> str | None:
        """The value of one of synwall-dp's own options (after "--") on its command line,
        the last one given; None if it is not there or the command line is unknown."""
        if self.cmd is None or "--" not in self.cmd:
            return None
        app = self.cmd[self.cmd.index("--") + 1:]
        found = None
        for i, a in enumerate(app[:-1]):
            if a == name:
                found = app[i + 1]
        return found

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        return proc_start_time(self.pid) == self.start_time

    def exit_status(self) -> str:
        if self.popen is None or self.popen.returncode is None:
            return "gone"
        rc = self.popen.returncode
        if rc < 0:
            try:
                return "killed by %s" % signal.Signals(-rc).name
            except ValueError:
                return "killed by signal %d" % -rc
        return "exited %d" % rc

    def signal(self, sig: int) -> None:
        if self.alive():
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return True
            time.sleep(POLL_PERIOD)
        return not self.alive()


class Launcher:
    """Builds synwall-dp's command line from the boot config, starts it, finds it again."""

    def __init__(self, boot: bootconfig.BootConfig):
        self.boot = boot
        d = boot.dataplane
        self.state_dir = Path(d.state_dir)
        self.runtime_dir = Path(d.runtime_dir)
        self.ctl_path = self.runtime_dir / "dataplane.ctl"
        self.pid_path = self.runtime_dir / "dataplane.pid"
        self.log_path = self.state_dir / "dataplane.log"
        self._log_offset = 0
        # systemd-cat when the dataplane's output goes to the journal (systemd module)
        self.journal_cat = systemd.journal_cat()
        # the dataplane started last, and since when (wall clock), for reading its lines back
        self._started: tuple[int, float] | None = None
        # the process start() is waiting for (read by status, written by start)
        self.starting: DataplaneProcess | None = None

    def prepare_dirs(self) -> None:
        for p in (self.state_dir, self.runtime_dir):
            p.mkdir(parents=True, exist_ok=True)
            os.chmod(p, 0o700)

    def command(self, runtime_args: list[str],
                dataplane: bootconfig.DataplaneSection | None = None) -> list[str]:
        """synwall-dp's command line: the start-time settings of `dataplane` (the boot
        file's when None), then the runtime ones."""
        d = dataplane or self.boot.dataplane
        cmd = [d.binary, *d.eal, "--file-prefix", d.file_prefix]
        if d.lcores:
            cmd += ["-l", d.lcores]
        cmd += bootconfig.eal_port_args(d.outside) + bootconfig.eal_port_args(d.inside)
        cmd += ["--",
                "--outside", bootconfig.device_name(d.outside),
                "--inside", bootconfig.device_name(d.inside),
                "--hashsize", str(d.hashsize), "--bucketlimit", str(d.bucketlimit),
                "--flows", str(d.flows), "--ctl", str(self.ctl_path),
                # the tables, for the next dataplane to take over (docs/DATAPLANE.md,
                # "Restarts"): one restarted by synwalld keeps every spliced connection
                "--state", str(d.tables_path),
                "--stats-json", str(self.state_dir / "dataplane-stats.json")]
        if d.mbufs is not None:
            cmd += ["--mbufs", str(d.mbufs)]
        for _key, option, value in d.start_options:
            if value is not None:
                cmd += [option, value]
        return cmd + list(runtime_args) + list(d.args)

    def settings(self, dataplane: bootconfig.DataplaneSection | None = None) -> dict[str, Any]:
        """The [dataplane] settings a dataplane started now runs with (its pid file keeps
        them, so that a later synwalld can tell which boot-file edits wait for a restart)."""
        table = bootconfig.dataplane_table(dataplane or self.boot.dataplane)
        for k in bootconfig.CONTROLLER_DATAPLANE_KEYS:
            table.pop(k, None)
        return table

    def start(self, runtime_args: list[str], cancel: threading.Event | None = None,
              dataplane: bootconfig.DataplaneSection | None = None
              ) -> tuple[DataplaneProcess, DpLink]:
        """Start synwall-dp with the start-time settings of `dataplane` (the boot file's when
        None) and wait until its control socket answers. A set `cancel` (synwalld stopping)
        ends the wait: the process is killed and StartError raised."""
        try:
            return self._start(runtime_args, cancel, dataplane)
        finally:
            self.starting = None

    def _start(self, runtime_args: list[str], cancel: threading.Event | None,
               dataplane: bootconfig.DataplaneSection | None
               ) -> tuple[DataplaneProcess, DpLink]:
        self.prepare_dirs()
        cmd = self.command(runtime_args, dataplane)
        try:
            self.ctl_path.unlink()
        except FileNotFoundError:
            pass
        started = time.time()
        if self.journal_cat is not None:
            log.info("starting %s", " ".join(cmd))
            try:
                popen = subprocess.Popen(
                    systemd.journal_command(self.journal_cat, JOURNAL_ID, cmd),
                    stdin=subprocess.DEVNULL, start_new_session=True, close_fds=True,
                    env=systemd.child_environment())
            except OSError as e:
                raise StartError("cannot run %s: %s" % (self.journal_cat, e.strerror or e)
                                 ) from None
        else:
            logf = self._open_log()
            self._log_offset = logf.tell()
            try:
                logf.write(("--- synwalld: starting %s\n" % " ".join(cmd)).encode())
                logf.flush()
                popen = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         close_fds=True, env=systemd.child_environment())
            except OSError as e:
                raise StartError("cannot run %s: %s" % (cmd[0], e.strerror or e)) from None
            finally:
                logf.close()
        self._started = (popen.pid, started)
        proc = DataplaneProcess(popen.pid, proc_start_time(popen.pid) or 0, popen, cmd,
                                self.settings(dataplane))
        self.starting = proc
        self._write_pid(proc, cmd)
        link = DpLink(str(self.ctl_path))
        deadline = time.monotonic() + self.boot.dataplane.start_timeout
        while True:
            if cancel is not None and cancel.is_set():
                self.stop(proc, timeout=0)
                raise StartError("synwall-dp (pid %d) stopped while starting: synwalld is "
                                 "stopping" % proc.pid)
            if not proc.alive():
                self._remove_pid()
                raise StartError("synwall-dp %s during start-up: %s" % (
                    proc.exit_status(), self.log_tail() or "(no output)"))
            if self.ctl_path.exists():
                try:
                    st = link.status()
                    if st.pid == proc.pid:
                        return proc, link
                except (DataplaneUnavailable, DataplaneRefused):
                    pass
            if time.monotonic() > deadline:
                self.stop(proc, timeout=0)
                raise StartError("synwall-dp did not answer on %s within %gs: %s" % (
                    self.ctl_path, self.boot.dataplane.start_timeout, self.log_tail()))
            time.sleep(POLL_PERIOD)

    def find_running(self) -> tuple[DataplaneProcess, DpLink] | None:
        """The dataplane a previous synwalld started, if it still runs and answers."""
        try:
            info = json.loads(self.pid_path.read_text())
            pid, start_time = int(info["pid"]), int(info["start_time"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if proc_start_time(pid) != start_time:
            log.info("dataplane pid file %s: process %d is gone", self.pid_path, pid)
            self._remove_pid()
            return None
        cmd, settings = info.get("cmd"), info.get("dataplane")
        proc = DataplaneProcess(pid, start_time, cmd=cmd if isinstance(cmd, list) else None,
                                settings=settings if isinstance(settings, dict) else None)
        link = DpLink(info.get("ctl") or str(self.ctl_path))
        deadline = time.monotonic() + 5
        while True:
            try:
                if link.status().pid == pid:
                    return proc, link
            except (DataplaneUnavailable, DataplaneRefused):
                pass
            if time.monotonic() > deadline or not proc.alive():
                break
            time.sleep(0.1)
        # Ours (the pid file says so) but not answering: it cannot be managed; replace it.
        log.warning("dataplane %d does not answer on its control socket: stopping it", pid)
        self.stop(proc)
        return None

    def stop(self, proc: DataplaneProcess, timeout: float = STOP_TIMEOUT) -> bool:
        """SIGTERM, SIGKILL after timeout seconds, and return once the process has exited
        (True), or once it outlived SIGKILL by KILL_WAIT seconds (False, logged: its pid file
        stays, so that the next synwalld finds it again rather than start a second one)."""
        proc.signal(signal.SIGTERM)
        if not proc.wait(timeout):
            log.warning("dataplane (pid %d) still runs %gs after SIGTERM: SIGKILL", proc.pid,
                        timeout)
            proc.signal(signal.SIGKILL)
            if not proc.wait(KILL_WAIT):
                log.error("dataplane (pid %d) still runs %gs after SIGKILL", proc.pid,
                          KILL_WAIT)
                return False
        self._remove_pid()
        return True

    def _write_pid(self, proc: DataplaneProcess, cmd: list[str]) -> None:
        tmp = self.pid_path.with_name(self.pid_path.name + ".tmp")
        tmp.write_text(json.dumps({"pid": proc.pid, "start_time": proc.start_time,
                                   "ctl": str(self.ctl_path), "cmd": cmd,
                                   "dataplane": proc.settings}) + "\n")
        os.replace(tmp, self.pid_path)

    def _remove_pid(self) -> None:
        try:
            self.pid_path.unlink()
        except FileNotFoundError:
            pass

    def _open_log(self) -> BinaryIO:
        """dataplane.log to append to, renamed dataplane.log.1 first if it is too large."""
        try:
            if self.log_path.stat().st_size > LOG_ROTATE_SIZE:
                os.replace(self.log_path, self.log_path.with_name(self.log_path.name + ".1"))
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("%s: cannot rotate it (%s)", self.log_path, e.strerror or e)
        return open(self.log_path, "ab")

    def _journal_lines(self) -> list[str]:
        """What the dataplane started last wrote, read back from the journal."""
        if self._started is None:
            return []
        pid, since = self._started
        try:
            # --sync: every line written before it returns is in the journal
            subprocess.run(["journalctl", "--sync"], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=JOURNAL_READ_TIMEOUT)
            r = subprocess.run(
                ["journalctl", "--no-pager", "--output", "cat", "--identifier", JOURNAL_ID,
                 "_PID=%d" % pid, "--since", "@%d" % int(since)],
                stdin=subprocess.DEVNULL, capture_output=True, timeout=JOURNAL_READ_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as e:
            log.warning("reading the dataplane's lines from the journal: %s", e)
            return []
        return [ln for ln in r.stdout.decode(errors="replace").splitlines() if ln]

    def _log_lines(self) -> list[str]:
        """What the dataplane started last wrote to its log."""
        if self.journal_cat is not None:
            return self._journal_lines()
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_offset)
                text = f.read().decode(errors="replace")
        except OSError:
            return []
        return [ln for ln in text.splitlines() if ln and not ln.startswith("--- synwalld")]

    def log_tail(self, lines: int = 5) -> str:
        return " | ".join(self._log_lines()[-lines:])

    def tables_said(self) -> list[str]:
        """The lines in which the dataplane started last said what became of the tables in
        its state file (taken over, rebuilt, or started empty, and why)."""
        return [ln for ln in self._log_lines() if TABLES_LINE.match(ln)]
