"""The sampler's way into the outbox: a full or failing disk never stops sampling.

Finished spans go to the SQLite queue at each store. When the disk refuses
(full, I/O error, the file cannot even be created), they wait in memory, bounded
by `memory_limit_s` of sampled time: past it the oldest are dropped first and
counted, and `status` says how much. Every store retries, the queue is reopened
after an error, and what waited is written as soon as the disk takes it again.

Spans only reach the server from the durable queue: while the disk is full,
uploads wait too (a span sent from memory and then lost at a crash before it is
written could not be told apart from one never sent).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from datetime import tzinfo
from pathlib import Path

from oxytrack_agent.health import Health
from oxytrack_agent.queue import Queue
from oxytrack_agent.spans import Span

log = logging.getLogger(__name__)

#: Sampled time kept in memory while the disk refuses it (a working day's half).
DEFAULT_MEMORY_LIMIT_S = 4 * 3600.0
#: And at most this many spans (titles can be long: this caps the memory).
MEMORY_LIMIT_SPANS = 50_000
#: A disk with less room than this that fails is called full, whatever SQLite said.
_FULL_BELOW_BYTES = 256 * 1024
#: While failing, log once, then every this many failed stores (10 s apart: 10 min).
_LOG_EVERY = 60


class SpanBuffer:
    """Spans not yet stored, oldest first; past the bound the oldest are dropped and counted."""

    def __init__(
        self, max_seconds: float = DEFAULT_MEMORY_LIMIT_S, max_spans: int = MEMORY_LIMIT_SPANS
    ) -> None:
        self.max_seconds = max_seconds
        self.max_spans = max_spans
        self._spans: deque[Span] = deque()
        self.seconds = 0.0

    def __len__(self) -> int:
        return len(self._spans)

    @property
    def spans(self) -> list[Span]:
        """What waits, oldest first."""
        return list(self._spans)

    @property
    def since(self) -> float | None:
        """The start of the oldest span held."""
        return self._spans[0].start if self._spans else None

    def add(self, spans: Iterable[Span]) -> tuple[int, float]:
        """Append; drop the oldest past the bound. Returns (spans dropped, seconds dropped)."""
        for span in spans:
            self._spans.append(span)
            self.seconds += span.duration
        dropped, dropped_s = 0, 0.0
        while self._spans and (
            self.seconds > self.max_seconds + 1e-6 or len(self._spans) > self.max_spans
        ):
            old = self._spans.popleft()
            self.seconds -= old.duration
            dropped += 1
            dropped_s += old.duration
        if not self._spans:
            self.seconds = 0.0  # no float residue once empty
        return dropped, dropped_s

    def clear(self) -> None:
        """Everything was stored."""
        self._spans.clear()
        self.seconds = 0.0


def free_bytes(directory: Path) -> int:
    """Bytes an unprivileged process may still write in `directory`'s filesystem."""
    if not hasattr(os, "statvfs"):  # Windows
        import shutil

        return shutil.disk_usage(directory).free
    # shutil.disk_usage does the same, but importing shutil (bz2, lzma) costs the
    # running agent ~0.5 MiB.
    fs = os.statvfs(directory)
    return fs.f_bavail * fs.f_frsize


def is_disk_full(exc: BaseException, directory: Path) -> bool:
    """Whether a failed write means "no room" (rather than another I/O error)."""
    if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL":
        return True
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    try:
        return free_bytes(directory) < _FULL_BELOW_BYTES
    except OSError:
        return False


def describe(exc: BaseException) -> str:
    """A short technical text of an error, for the log and the state file."""
    name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    return f"{name}: {exc}"


class Spool:
    """Stores spans through the queue when it can, else holds them in memory (one thread)."""

    def __init__(
        self,
        path: Path,
        *,
        tz: tzinfo,
        health: Health,
        memory_limit_s: float = DEFAULT_MEMORY_LIMIT_S,
    ) -> None:
        self.path = path
        self.tz = tz
        self.health = health
        self.buffer = SpanBuffer(memory_limit_s)
        self._queue: Queue | None = None
        self._opened_once = False
        #: Spans are never stored before this (the end of what the queue held
        #: when it opened), so a queue that opens late is never overlapped.
        self._floor = 0.0
        self._failures = 0

    @property
    def queue(self) -> Queue | None:
        """The open queue, if the disk let it open."""
        return self._queue

    def _open(self) -> Queue:
        if self._queue is not None:
            return self._queue
        queue = Queue(self.path)
        try:
            if not self._opened_once:
                # What the last run left: its checkpoint (unclean stop), its age bound.
                recovered = queue.recover(self.tz)
                if recovered:
                    log.info(
                        "recovered %d span(s) from the last checkpoint (unclean stop)", recovered
                    )
                queue.prune()
                self._floor = queue.last_end()
                self._opened_once = True
        except BaseException:
            queue.close()
            raise
        self._queue = queue
        return queue

    def last_end(self) -> float:
        """The end of what is stored (0 if the queue cannot be read yet)."""
        try:
            return self._open().last_end()
        except (sqlite3.Error, OSError) as exc:
            self._failed(exc)
            return 0.0

    def _clip(self, spans: list[Span]) -> list[Span]:
        if not spans or spans[0].start >= self._floor:
            return spans
        out = []
        for span in spans:
            if span.end <= self._floor:
                continue  # already in the queue, from the run before
            out.append(replace(span, start=self._floor) if span.start < self._floor else span)
        return out

    def store(self, spans: Iterable[Span], checkpoint: list[Span], tz: tzinfo) -> bool:
        """Store what waits plus `spans`, and the checkpoint; never raises for the disk.

        True if written; False if kept in memory (retried at the next call).
        """
        dropped, dropped_s = self.buffer.add(spans)
        if dropped:
            self._count_dropped(dropped, dropped_s)
        try:
            queue = self._open()
            queue.store(self._clip(self.buffer.spans), self._clip(checkpoint), tz)
        except (sqlite3.Error, OSError) as exc:
            self._failed(exc)
            return False
        if self._failures:
            log.info(
                "local queue writable again: %d span(s) held in memory stored", len(self.buffer)
            )
        self.buffer.clear()
        self._failures = 0
        self.health.update(
            disk_since=None, disk_full=False, disk_message="", memory_spans=0, memory_s=0.0,
            memory_since=None,
        )  # fmt: skip
        self.health.retry()
        return True

    def _failed(self, exc: BaseException) -> None:
        self._failures += 1
        if self._failures % _LOG_EVERY == 1:
            log.warning(
                "local queue unavailable (%s): %d span(s), %.0f s held in memory",
                describe(exc),
                len(self.buffer),
                self.buffer.seconds,
            )
        if self._queue is not None:
            # A connection that saw an I/O error may be unusable: start afresh next time.
            queue, self._queue = self._queue, None
            with contextlib.suppress(sqlite3.Error):
                queue.close()
        state = self.health.state
        self.health.update(
            disk_since=state.disk_since or time.time(),
            disk_full=is_disk_full(exc, self.path.parent),
            disk_message=describe(exc),
            memory_spans=len(self.buffer),
            memory_s=self.buffer.seconds,
            memory_since=self.buffer.since,
        )

    def _count_dropped(self, spans: int, seconds: float) -> None:
        state = self.health.state
        log.warning("no room: %d span(s), %.0f s of sampled time dropped", spans, seconds)
        self.health.update(
            dropped_spans=state.dropped_spans + spans,
            dropped_s=state.dropped_s + seconds,
            dropped_at=time.time(),
        )

    def close(self) -> None:
        """At shutdown: what the disk still refuses is lost, and counted."""
        if len(self.buffer):
            self._count_dropped(len(self.buffer), self.buffer.seconds)
            self.buffer.clear()
            self.health.update(memory_spans=0, memory_s=0.0, memory_since=None)
        if self._queue is not None:
            with contextlib.suppress(sqlite3.Error):
                self._queue.close()
            self._queue = None
