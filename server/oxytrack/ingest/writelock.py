"""One batch writer at a time on SQLite, queued in the kernel rather than by polling.

SQLite allows one writer; a second `BEGIN IMMEDIATE` waits in SQLite's busy
handler, which sleeps in growing steps (up to 100 ms) and so leaves the
database idle between uploads. Under a burst of uploads from many agents
that idle time, not the work, bounded the throughput. Batch writers of every
gunicorn worker therefore queue first on a lock file next to the database
(`flock`, polled every millisecond) and take the SQLite write lock only
once it is theirs. PostgreSQL needs none of this (row locks).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from oxytrack.ingest.errors import StorageBusy

# Longer than a batch takes, shorter than an agent's patience: past it the
# agent gets a 503 and retries later.
WAIT_S = 10.0

_thread_lock = threading.Lock()
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
    if not _thread_lock.acquire(timeout=wait_s):
        raise StorageBusy()
    try:
        fd = _lock_fd(database)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StorageBusy() from None
                time.sleep(0.001)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        _thread_lock.release()
