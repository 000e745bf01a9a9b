"""One batch writer at a time on SQLite, queued in the kernel rather than by polling.

SQLite allows one writer; a second `BEGIN IMMEDIATE` waits in SQLite's busy
handler, which sleeps in growing steps (up to 100 ms) and so leaves the
database idle between uploads. Under a burst of uploads from many agents
that idle time, not the work, bounded the throughput. Batch writers of every
gunicorn worker therefore queue first on a lock file next to the database
(`flock`, polled every millisecond) and take the SQLite write lock only
once it is theirs. PostgreSQL needs none of this (row locks).

Two more things keep that queue short: one thread per process works on a
batch at a time (batch_slot), and the write-ahead log is checkpointed after
the lock is released (checkpoint_wal).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import OperationalError, connection

from oxytrack.ingest.errors import StorageBusy

# Longer than a batch takes, shorter than an agent's patience: past it the
# agent gets a 503 and retries later.
WAIT_S = 10.0

logger = logging.getLogger(__name__)

if sys.platform == "win32":
    # The server also runs on Windows (the agent's installer test starts one there);
    # msvcrt locks a byte range where flock locks the file, to the same effect here.
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


# One batch per process at a time (see batch_slot); re-entrant, as the
# write lock takes it again for callers that hold no slot.
_slot = threading.RLock()
_files: dict[str, int] = {}


def _lock_fd(database: str) -> int:
    fd = _files.get(database)
    if fd is None:
        fd = os.open(f"{database}.ingest-lock", os.O_RDWR | os.O_CREAT, 0o600)
        _files[database] = fd
    return fd


def _database_file() -> str | None:
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or "mode=memory" in name or not Path(name).parent.is_dir():
        return None
    return name


@contextmanager
def batch_write_lock(wait_s: float = WAIT_S) -> Iterator[None]:
    """Hold the batch writers' lock of this SQLite database (no-op elsewhere).

    Raises StorageBusy after `wait_s` without getting it.
    """
    database = _database_file()
    if database is None:
        yield
        return
    deadline = time.monotonic() + wait_s
    # Threads of one process share the file description, and flock does not
    # exclude them from each other: a thread lock does.
    if not _slot.acquire(timeout=wait_s):
        raise StorageBusy()
    try:
        fd = _lock_fd(database)
        while not _try_lock(fd):
            if time.monotonic() > deadline:
                raise StorageBusy()
            time.sleep(0.001)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        _slot.release()


@contextmanager
def batch_slot(wait_s: float = WAIT_S) -> Iterator[None]:
    """Let one thread of this process at a time work on a batch (SQLite only).

    From parsing to commit, a batch is Python work under the GIL. Two
    threads of a process working on batches at once run no faster than
    one after the other, but the thread holding the write lock then gets
    the interpreter only part of the time, and every other process waits
    for that lock meanwhile. One at a time, the lock is held for as short
    as the work allows. Raises StorageBusy after `wait_s` without a slot.
    """
    if _database_file() is None:
        yield
        return
    if not _slot.acquire(timeout=wait_s):
        raise StorageBusy()
    try:
        yield
    finally:
        _slot.release()


def checkpoint_wal() -> None:
    """Copy the SQLite write-ahead log back into the database, outside the write lock.

    SQLite checkpoints by itself from inside the commit that makes the log
    long enough, that is, while the batch writers' lock is held, and a
    checkpoint syncs both files to disk: the other writers would wait for
    the disk. A passive checkpoint after each batch, lock released, keeps
    the log short and the syncs out of the queue (a writer may run
    meanwhile; the checkpoint never waits for it). SQLite's own stays as a
    backstop, at a higher threshold (settings.py). No-op on PostgreSQL.
    """
    if _database_file() is None:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except OperationalError as exc:
        # The batch is stored: a checkpoint that fails now is done by the next.
        logger.warning("WAL checkpoint failed: %s", exc)
