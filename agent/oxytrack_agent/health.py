"""What the running agent tells `status`, in a small file that stays writable on a full disk.

The queue may be unreadable (disk full, I/O errors) exactly when the employee
asks why: so the agent also keeps `state.json` in its data directory. The file
has a fixed size, allocated at start while there is room, and every update
rewrites it in place in one write at offset 0 (padded with spaces): that never
needs a new block on the disk, where a write-then-rename would. A reader that
catches a write halfway sees broken JSON and reads again.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

STATE_SIZE = 4096
#: Messages are cut to this, so the state always fits in STATE_SIZE.
MESSAGE_LIMIT = 150


@dataclass(frozen=True)
class State:
    """The agent's health as `status` shows it (POSIX times, seconds)."""

    pid: int | None = None
    started_at: float | None = None
    #: Since when the local queue refuses writes (None: it works), why, and
    #: whether the disk is full (else an I/O error).
    disk_since: float | None = None
    disk_full: bool = False
    disk_message: str = ""
    #: Sampled time held in memory because the disk refused it.
    memory_spans: int = 0
    memory_s: float = 0.0
    memory_since: float | None = None
    #: Sampled time lost for lack of room (the memory bound, or a stop while
    #: the disk was still full), since the first loss on this PC.
    dropped_spans: int = 0
    dropped_s: float = 0.0
    dropped_at: float | None = None
    #: Upload trouble: "network" (server unreachable), "server" (5xx, 429),
    #: "reenroll" (401), "internal"; since when, and the raw text for the log.
    upload_kind: str | None = None
    upload_since: float | None = None
    upload_message: str = ""
    last_success: float | None = None
    platform_note: str | None = None


def state_path(data_dir: Path) -> Path:
    """Where the state file lives."""
    return data_dir / "state.json"


def read_state(path: Path, attempts: int = 5) -> State | None:
    """The last state written, or None if there is none (or it stays unreadable)."""
    for attempt in range(attempts):
        try:
            data = json.loads(path.read_bytes() or b"null")
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            # Caught halfway through the agent's in-place write: read again.
            if attempt < attempts - 1:
                time.sleep(0.02)
            continue
        if not isinstance(data, dict):
            return None
        known = {f.name for f in fields(State)}
        try:
            return State(**{k: v for k, v in data.items() if k in known})
        except TypeError:
            return None
    return None


class Health:
    """The running agent's state, shared by its threads, mirrored to the state file."""

    def __init__(self, path: Path, *, now: float | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        previous = read_state(path) or State()
        # Losses and the last success outlive a restart; the rest is this run's.
        self._state = State(
            pid=os.getpid(),
            started_at=time.time() if now is None else now,
            dropped_spans=previous.dropped_spans,
            dropped_s=previous.dropped_s,
            dropped_at=previous.dropped_at,
            last_success=previous.last_success,
        )
        self._file: IO[bytes] | None = None
        self._written = False
        self._warned = False
        with self._lock:
            self._write()

    @property
    def state(self) -> State:
        """The current state."""
        with self._lock:
            return self._state

    def update(self, **changes: Any) -> None:
        """Change some fields; rewrite the file if anything changed (or the last write failed)."""
        for key in ("disk_message", "upload_message", "platform_note"):
            if isinstance(changes.get(key), str):
                changes[key] = changes[key][:MESSAGE_LIMIT]
        with self._lock:
            new = replace(self._state, **changes)
            if new == self._state and self._written:
                return
            self._state = new
            self._write()

    def retry(self) -> None:
        """Write again if the last write failed (the disk may have room now)."""
        with self._lock:
            if not self._written:
                self._write()

    def _write(self) -> None:
        data = json.dumps(asdict(self._state)).encode("ascii").ljust(STATE_SIZE)
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                self._file = os.fdopen(fd, "r+b", buffering=0)
            self._file.seek(0)
            # One unbuffered write: a short count means the disk is full.
            if self._file.write(data) != len(data):
                raise OSError("short write")
        except OSError as exc:
            self._written = False
            if not self._warned:
                log.warning("state file not written (%s); status may be behind", exc)
                self._warned = True
            return
        self._written = True
        self._warned = False

    def close(self) -> None:
        """Close the file (its last content stays for `status`)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
