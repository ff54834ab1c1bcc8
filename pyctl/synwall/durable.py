"""Files that must survive a crash or a power cut whole: the controller's state (runtime.json,
keys.json, version.json) and the boot file that `synwallctl config save` writes.

A file is written to a temporary file in its own directory, flushed to disk (fsync), renamed
over the old one (atomic on one file system), and the directory is flushed too, so that the
rename itself is on disk before the caller reports success. A reader therefore finds the old
file or the new one, never a mixture, whatever moment the machine stops.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = 0o600,
                 owner: tuple[int, int] | None = None) -> None:
    """Replace path with data, durably (see the module's docstring); OSError on failure, and
    then path is as it was. mode: the new file's permissions (it is created 0600 and changed
    to them before anything is written); owner: (uid, gid) to give it, when synwalld runs as
    root (otherwise the file is synwalld's user's)."""
    path = Path(path)
    directory = path.parent
    fd, tmp = tempfile.mkstemp(prefix=".%s." % path.name, suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            if owner is not None and os.geteuid() == 0 and owner != (0, os.getegid()):
                os.fchown(f.fileno(), *owner)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(directory)
