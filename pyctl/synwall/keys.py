"""The cookie key schedule: which two secrets the dataplane holds, and when they change.

The dataplane keeps two secrets, indexed by the parity of their epoch (the cookie's key bit):
it signs new cookies with the secret of `epoch` and accepts cookies made with either. The
controller owns the schedule (DpKeys via set_keys) in one of two modes:

* random (default): every `interval` seconds the epoch goes up by one, the current secret
  becomes the previous one and a new random secret becomes current. A cookie therefore
  validates for one to two intervals and one from two rotations back never does.

* master (fleet mode): secrets derive from a shared master secret and the epoch number
  (siphash.derive_key, the same derivation as `synwall-dp --master`), and the epoch comes from
  the clock, floor(t / interval). Appliances behind one ECMP router then hold the same secrets
  without talking to each other.

Clock skew in master mode. If peers switched at exactly floor(t / interval), a peer whose
clock is ahead by d seconds would sign with epoch e + 1 for d seconds while the others still
only accept e and e - 1. With two slots the schedule can do better: the secrets are a function
of the local time t with S = max_clock_skew (seconds):

    sign epoch s = floor((t - S) / interval)
    other slot   = s + 1  in the last 2S seconds of s's period (a peer ahead already signs it)
                   s - 1  otherwise (cookies made shortly before, or by a peer behind)

Any two peers whose clocks differ by at most 2S accept each other's cookies at every moment,
as long as interval >= 4S + 1 (checked); a cookie validates on its own appliance for at least
interval - 2S seconds; one from two epochs back never does. S = 0 is the plain schedule.
(The key bit is the parity, and e - 1 and e + 1 have the same parity: the second slot holds
whichever of the two is needed.) A peer that runs `synwall-dp --master` on its own (switching at
floor(t / interval), accepting e and e - 1) interoperates too.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synwall import durable
from synwall.siphash import derive_key

DEFAULT_INTERVAL = 15
DEFAULT_SKEW = 2
MAX_INTERVAL = 86400
MAX_SKEW = 3600


def default_skew(interval: int) -> int:
    """max_clock_skew when none is given: DEFAULT_SKEW, or less where the interval is too
    short for it (4 x skew + 1 <= interval)."""
    return max(0, min(DEFAULT_SKEW, (interval - 1) // 4))


def fingerprint(secret: bytes) -> str:
    """What may be shown of a secret: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(secret).hexdigest()[:16]


@dataclass(frozen=True)
class KeySet:
    """The two secrets the dataplane holds: `epoch`'s signs, both are accepted."""
    epoch: int
    current: bytes
    other_epoch: int  # epoch - 1, or epoch + 1 just before a fleet-mode switch
    other: bytes


@dataclass(frozen=True)
class KeyStatus:
    """What may be shown of the schedule: fingerprints, never secrets."""
    epoch: int
    current_fingerprint: str
    previous_epoch: int  # the other slot's epoch (the next one just before a fleet switch)
    previous_fingerprint: str
    rotation_interval_s: int
    derived_from_master: bool
    master_fingerprint: str  # "" without a master secret
    next_rotation_unix: float
    max_clock_skew_s: int
    last_rotation_unix: float = 0.0  # the last change of either secret (next_rotation's mirror)


class ScheduleError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_schedule(interval: int, master: bytes | None, skew: int) -> None:
    """Raise ScheduleError when a schedule makes no sense. The same checks whether the
    secrets are random or derived from a master secret: the skew only matters with a master
    secret, but a schedule that is switched to one later (SetKeySchedule) must be valid
    already, and a value out of range is an error in both."""
    if not 1 <= interval <= MAX_INTERVAL:
        raise ScheduleError("rotation_interval", "rotation interval %d s is out of range "
                            "(1..%d)" % (interval, MAX_INTERVAL))
    if master is not None and len(master) != 16:
        raise ScheduleError("master_secret", "a master secret is 16 bytes (32 hex digits), "
                            "got %d bytes" % len(master))
    if not 0 <= skew <= MAX_SKEW:
        raise ScheduleError("max_clock_skew", "max clock skew %d s is out of range (0..%d)"
                            % (skew, MAX_SKEW))
    if 4 * skew + 1 > interval:
        raise ScheduleError("max_clock_skew", "max clock skew %d s needs a rotation interval "
                            "of at least %d s (4 x skew + 1), got %d s"
                            % (skew, 4 * skew + 1, interval))


class KeySchedule:
    """The key schedule and its state (random secrets, or the master secret).

    Not thread-safe: the controller calls it under its lock. `clock` returns Unix time.
    """

    def __init__(self, interval: int = DEFAULT_INTERVAL, master: bytes | None = None,
                 skew: int | None = None, clock: Callable[[], float] = time.time) -> None:
        """skew None: default_skew(interval)."""
        skew = default_skew(interval) if skew is None else skew
        check_schedule(interval, master, skew)
        self.clock = clock
        self.interval = interval
        self.master = master
        self.skew = skew
        # random mode state
        self._epoch = 1
        self._current = secrets.token_bytes(16)
        self._previous = secrets.token_bytes(16)
        self._next_rotation = clock() + interval

    # --- what the dataplane should hold -------------------------------------------------

    def keys(self, now: float | None = None) -> KeySet:
        if self.master is None:
            return KeySet(self._epoch, self._current, self._epoch - 1, self._previous)
        t = self.clock() if now is None else now
        s, late = self._master_position(t)
        other = s + 1 if late else s - 1
        return KeySet(s, derive_key(self.master, s), other, derive_key(self.master, other))

    def _master_position(self, t: float) -> tuple[int, bool]:
        shifted = t - self.skew
        s = int(shifted // self.interval)
        late = self.skew > 0 and shifted - s * self.interval >= self.interval - 2 * self.skew
        return s, late

    def next_change(self, now: float | None = None) -> float:
        """Unix time of the next change of either secret."""
        if self.master is None:
            return self._next_rotation
        t = self.clock() if now is None else now
        s, late = self._master_position(t)
        if self.skew == 0:
            return (s + 1) * self.interval
        if late:
            return (s + 1) * self.interval + self.skew
        return (s + 1) * self.interval - self.skew

    def last_change(self, now: float | None = None) -> float:
        """Unix time of the last change of either secret, next_change's mirror. Random mode:
        the start of the current period, that is the last rotation (or the schedule's start,
        or the change of interval that began the period again); a rotation deferred past its
        time leaves this as it was and next_change in the past. With a master secret: the
        clock's last switch."""
        if self.master is None:
            return self._next_rotation - self.interval
        t = self.clock() if now is None else now
        s, late = self._master_position(t)
        if self.skew == 0:
            return s * self.interval
        if late:
            return (s + 1) * self.interval - self.skew
        return s * self.interval + self.skew

    def due(self, now: float | None = None) -> bool:
        """Random mode: is a scheduled rotation due? (Master mode follows the clock.)"""
        t = self.clock() if now is None else now
        return self.master is None and t >= self._next_rotation

    # --- changes --------------------------------------------------------------------------

    def rotate(self) -> None:
        """Random mode: a new current secret now; the current one becomes the previous."""
        if self.master is not None:
            raise ScheduleError("", "keys derive from the master secret and the clock; they "
                                "rotate every %d s on their own" % self.interval)
        self._epoch += 1
        self._previous = self._current
        self._current = secrets.token_bytes(16)
        self._next_rotation = self.clock() + self.interval

    def set_schedule(self, interval: int | None = None, master: bytes | None = None,
                     clear_master: bool = False, skew: int | None = None) -> None:
        """Change the interval, the master secret or the skew; checked whole first."""
        new_interval = self.interval if interval is None else interval
        new_master = None if clear_master else (self.master if master is None else master)
        new_skew = self.skew if skew is None else skew
        if clear_master and master is not None:
            raise ScheduleError("clear_master", "give a master secret or clear it, not both")
        check_schedule(new_interval, new_master, new_skew)
        if self.master is not None and new_master is None:
            # Back to random secrets: the last derived secret stays valid one more period.
            ks = self.keys()
            self._epoch = ks.epoch + 1
            self._previous = ks.current
            self._current = secrets.token_bytes(16)
            self._next_rotation = self.clock() + new_interval
        elif new_master is None and new_interval != self.interval:
            self._next_rotation = self.clock() + new_interval
        self.interval, self.master, self.skew = new_interval, new_master, new_skew

    # --- persistence (the controller's state_dir, mode 0600) ------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "interval": self.interval,
            "skew": self.skew,
            "master": self.master.hex() if self.master is not None else None,
            "epoch": self._epoch,
            "current": self._current.hex(),
            "previous": self._previous.hex(),
            "next_rotation": self._next_rotation,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any], clock: Callable[[], float] = time.time) -> KeySchedule:
        master = bytes.fromhex(d["master"]) if d.get("master") else None
        interval = int(d["interval"])
        ks = cls(interval, master, int(d.get("skew", default_skew(interval))), clock)
        ks._epoch = int(d["epoch"])
        ks._current = bytes.fromhex(d["current"])
        ks._previous = bytes.fromhex(d["previous"])
        ks._next_rotation = float(d["next_rotation"])
        if len(ks._current) != 16 or len(ks._previous) != 16:
            raise ValueError("key state: secrets are not 16 bytes")
        return ks

    def save(self, path: Path) -> None:
        """Write the state durably (synwall.durable), readable by the owner only (it holds
        secrets)."""
        durable.write_atomic(Path(path), json.dumps(self.to_json()).encode(), 0o600)

    @classmethod
    def load(cls, path: Path, clock: Callable[[], float] = time.time) -> KeySchedule:
        return cls.from_json(json.loads(Path(path).read_text()), clock)

    def same_schedule(self, interval: int, master: bytes | None, skew: int) -> bool:
        return (self.interval, self.master, self.skew) == (interval, master, skew)

    # --- what may be shown ----------------------------------------------------------------

    def status(self) -> KeyStatus:
        t = self.clock()
        ks = self.keys(t)
        return KeyStatus(
            epoch=ks.epoch,
            current_fingerprint=fingerprint(ks.current),
            previous_epoch=ks.other_epoch,
            previous_fingerprint=fingerprint(ks.other),
            rotation_interval_s=self.interval,
            derived_from_master=self.master is not None,
            master_fingerprint=fingerprint(self.master) if self.master else "",
            next_rotation_unix=self.next_change(t),
            max_clock_skew_s=self.skew,
            last_rotation_unix=self.last_change(t))
