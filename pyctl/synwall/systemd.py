"""What synwalld says to systemd: the service manager's notifications and the journal's
priorities.

- Notifications (sd_notify(3)): `READY=1` once the API serves and the dataplane runs,
  `RELOADING=1` ... `READY=1` around a reload, `STOPPING=1`, `STATUS=` lines for `systemctl
  status`, and `WATCHDOG=1` while the dataplane is alive (daemon.Watchdog). Sent as datagrams
  to $NOTIFY_SOCKET (a path, or an abstract name when it starts with `@`); nothing is sent
  when it is not set.
- The journal: when synwalld's stderr is the journal ($JOURNAL_STREAM names its device and
  inode, as systemd.exec(5) says), each log line starts with its syslog priority as `<N>`,
  which journald takes as the line's priority; the dataplane's output is connected to the
  journal with `systemd-cat` (supervisor), its standard output at priority info and its
  standard error at err.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket

# syslog priorities of Python's levels
PRIORITIES = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4),
              (logging.INFO, 6))
DEBUG_PRIORITY = 7


def stderr_is_journal() -> bool:
    """Whether this process's stderr is a stream of the journal (systemd.exec(5),
    $JOURNAL_STREAM: `DEVICE:INODE` of that stream)."""
    value = os.environ.get("JOURNAL_STREAM", "")
    dev, sep, ino = value.partition(":")
    if not sep:
        return False
    try:
        st = os.fstat(2)
        return (int(dev), int(ino)) == (st.st_dev, st.st_ino)
    except (OSError, ValueError):
        return False


def priority(levelno: int) -> int:
    for level, prio in PRIORITIES:
        if levelno >= level:
            return prio
    return DEBUG_PRIORITY


class PriorityFormatter(logging.Formatter):
    """`<N>` (the record's syslog priority) before each line the base format makes."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = "<%d>" % priority(record.levelno)
        return "\n".join(prefix + line for line in super().format(record).split("\n"))


def journal_cat() -> str | None:
    """systemd-cat, which runs a program with its output connected to the journal, when this
    process logs to the journal and it is installed; None otherwise."""
    if not stderr_is_journal():
        return None
    return shutil.which("systemd-cat")


def journal_command(cat: str, identifier: str, cmd: list[str]) -> list[str]:
    """cmd run by systemd-cat: same process (it execs cmd), its standard output at priority
    info, its standard error at err, both under identifier."""
    return [cat, "--identifier", identifier, "--priority", "info", "--stderr-priority", "err",
            "--", *cmd]


# What the service manager gives synwalld alone: not passed on to the dataplane.
SERVICE_ONLY = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM")


def child_environment() -> dict[str, str]:
    """synwalld's environment without what the service manager meant for it alone."""
    return {k: v for k, v in os.environ.items() if k not in SERVICE_ONLY}


def notify(*fields: str) -> bool:
    """Send `FIELD=value` lines to the service manager; False when there is none to send
    them to (or it cannot be reached: the service manager then sees what its own timeouts
    say)."""
    path = os.environ.get("NOTIFY_SOCKET")
    if not path or not fields:
        return False
    addr = "\0" + path[1:] if path.startswith("@") else path
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
            s.connect(addr)
            s.sendall("\n".join(fields).encode())
        return True
    except OSError:
        return False


def watchdog_period() -> float | None:
    """The watchdog timeout the service manager asks for, in seconds ($WATCHDOG_USEC, when
    $WATCHDOG_PID is unset or this process); None when there is none."""
    pid = os.environ.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(os.environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 1e6 if usec > 0 else None
