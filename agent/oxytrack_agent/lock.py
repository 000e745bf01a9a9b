"""Single-instance lock: one `run` per user, held by the OS for the process's life.

An OS file lock (not a PID file) is released by the kernel when the process
dies, even on kill -9, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import IO

from oxytrack_agent.i18n import _

#: A `status` probing the lock holds it for an instant: a starting agent retries this long.
_RETRY_S = 1.0


def _try_lock(fd: int, *, exclusive: bool) -> bool:
    """Take the lock without waiting; False if another process holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def is_running(path: Path) -> bool:
    """Whether an agent holds the lock at `path`, without disturbing it.

    Takes the lock non-blockingly (shared on POSIX, so two `status` never
    collide) and lets go at once; creates nothing: no lock file, no agent.
    """
    try:
        fd = os.open(path, os.O_RDONLY if sys.platform != "win32" else os.O_RDWR)
    except OSError:
        return False
    try:
        if not _try_lock(fd, exclusive=False):
            return True
        if sys.platform == "win32":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return False
    finally:
        os.close(fd)


class AlreadyRunning(Exception):
    """Another `oxytrack-agent run` of this user holds the lock."""


class SingleInstance:
    """Hold an exclusive, non-blocking lock on `path` until `release()`."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = open(path, "a+", encoding="utf-8")  # noqa: SIM115
        deadline = time.monotonic() + _RETRY_S
        while not _try_lock(self._file.fileno(), exclusive=True):
            if time.monotonic() >= deadline:
                self._file.close()
                self._file = None
                raise AlreadyRunning(
                    _("un agent tourne déjà pour cet utilisateur ({path})").format(path=path)
                )
            time.sleep(0.1)
        # The PID is for people reading the file; on a full disk it cannot be
        # written, and the lock holds all the same.
        try:
            self._file.seek(0)
            self._file.truncate()
            self._file.write(str(os.getpid()))
            self._file.flush()
        except OSError:
            pass

    def release(self) -> None:
        """Drop the lock (closing the file releases it)."""
        if self._file is not None:
            # Flushing the unwritten PID fails on a full disk; the lock goes all the same.
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
