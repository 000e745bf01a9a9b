"""The durable local outbox: SQLite in the platform data dir.

Finished spans wait in `spans`; `seal` freezes up to 5,000 of them into a
batch whose id and exact bytes are fixed before the first upload attempt, so a
retry re-sends the same batch (the server dedupes by id). `checkpoint` holds
the span being extended and the tentative tail, rewritten with each store, so
`kill -9` loses at most the time since the last store. `daily` keeps today's
totals for `status` after the spans have left.

Each thread opens its own `Queue` (sqlite3 connections are per thread); WAL
and a busy timeout let the sampler and the uploader write side by side.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from oxytrack_agent.spans import Span

SCHEMA_VERSION = 2
MAX_BATCH_SPANS = 5000
#: The server refuses batches over 4 MiB decompressed (DESIGN.md): keep a margin.
MAX_BATCH_BYTES = 3_500_000
DEFAULT_MAX_AGE_S = 30 * 86400

_SCHEMA_V1 = """
CREATE TABLE spans (
    id INTEGER PRIMARY KEY,
    start REAL NOT NULL,
    end REAL NOT NULL,
    app TEXT NOT NULL,
    title TEXT NOT NULL,
    active INTEGER NOT NULL,
    keys INTEGER NOT NULL,
    clicks INTEGER NOT NULL
);
CREATE TABLE batches (
    batch_id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    first_start REAL NOT NULL,
    last_end REAL NOT NULL,
    span_count INTEGER NOT NULL,
    body BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), spans TEXT NOT NULL);
CREATE TABLE daily (
    day TEXT NOT NULL,
    app TEXT NOT NULL,
    active_s REAL NOT NULL DEFAULT 0,
    idle_s REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (day, app)
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# v2: today's totals per title (what `status` shows is what the server will
# store), and each batch's covered time (what waits, as time).
_SCHEMA_V2 = """
ALTER TABLE daily RENAME TO daily_v1;
CREATE TABLE daily (
    day TEXT NOT NULL,
    app TEXT NOT NULL,
    title TEXT NOT NULL,
    active_s REAL NOT NULL DEFAULT 0,
    idle_s REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (day, app, title)
);
INSERT INTO daily (day, app, title, active_s, idle_s)
    SELECT day, app, '', active_s, idle_s FROM daily_v1;
DROP TABLE daily_v1;
ALTER TABLE batches ADD COLUMN duration_s REAL NOT NULL DEFAULT 0;
UPDATE batches SET duration_s = last_end - first_start;
"""

_MIGRATIONS = {1: _SCHEMA_V1, 2: _SCHEMA_V2}


@dataclass(frozen=True)
class PendingBatch:
    """A sealed batch waiting for the server's acknowledgement."""

    batch_id: str
    body: bytes
    span_count: int


@dataclass(frozen=True)
class QueueStats:
    """What `status` shows about the outbox."""

    waiting_spans: int
    #: Sampled time waiting to be sent (spans and sealed batches), and its oldest start.
    waiting_s: float
    waiting_since: float | None
    pending_batches: int
    rejected_batches: int
    dropped_spans: int
    last_success: str | None
    last_error: str | None
    last_error_at: str | None


def _now_iso() -> str:
    return datetime.now(tz=UTC).isoformat(timespec="seconds")


class Queue:
    """One connection to the outbox; open one per thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so the write
        # lock is taken up front and two writers wait on the timeout, not fail.
        # check_same_thread=False: a Queue may be handed to another thread (the
        # final upload, tests), never used by two at once.
        self._db = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            # SQLite's page cache grows to 2 MiB per connection (two in `run`) as
            # the file grows, e.g. while the server is down for days: 512 KiB each
            # bounds the agent's memory, and the OS caches the file anyway.
            self._db.execute("PRAGMA cache_size=-512")
            self._migrate()
        except BaseException:
            # A full disk fails here: let go of the file (and its -shm) at once.
            self._db.close()
            raise

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    @classmethod
    def read_only(cls, path: Path) -> Queue:
        """A connection that never writes (for `status`): no migration, no file created.

        sqlite3.Error when the file is missing, unreadable, or of another schema.
        """
        self = cls.__new__(cls)
        self._db = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2, isolation_level=None
        )
        try:
            version = self.schema_version
            if version != SCHEMA_VERSION:
                raise sqlite3.DatabaseError(f"queue schema {version}, expected {SCHEMA_VERSION}")
        except BaseException:
            self._db.close()
            raise
        return self

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            # After SQLITE_FULL or an I/O error SQLite may already have rolled
            # back: a ROLLBACK then fails, and must not hide the first error.
            if self._db.in_transaction:
                with suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
            raise

    def _migrate(self) -> None:
        with self._tx() as db:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"queue schema {version} is newer than this agent ({SCHEMA_VERSION})"
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[target].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {target}")

    @property
    def schema_version(self) -> int:
        """The `PRAGMA user_version` of the file."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    # --- sampler side -------------------------------------------------------

    def store(self, spans: Iterable[Span], checkpoint: list[Span], tz: tzinfo) -> None:
        """Add finished spans and replace the checkpoint, in one transaction."""
        with self._tx() as db:
            for s in spans:
                db.execute(
                    "INSERT INTO spans (start, end, app, title, active, keys, clicks)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (s.start, s.end, s.app, s.title, int(s.active), s.keys, s.clicks),
                )
                day = datetime.fromtimestamp(s.start, tz=tz).date().isoformat()
                column = "active_s" if s.active else "idle_s"
                db.execute(
                    f"INSERT INTO daily (day, app, title, {column}) VALUES (?, ?, ?, ?)"  # noqa: S608  # nosec B608  # {column}: one of two literal names (above); the values bound as ?
                    f" ON CONFLICT (day, app, title)"
                    f" DO UPDATE SET {column} = {column} + excluded.{column}",
                    (day, s.app, s.title, s.duration),
                )
            payload = json.dumps([s.to_wire() for s in checkpoint], ensure_ascii=False)
            db.execute("INSERT OR REPLACE INTO checkpoint (id, spans) VALUES (1, ?)", (payload,))

    def recover(self, tz: tzinfo) -> int:
        """After a crash: keep what the last checkpoint held as finished spans."""
        row = self._db.execute("SELECT spans FROM checkpoint WHERE id = 1").fetchone()
        if row is None:
            return 0
        spans = [Span.from_wire(d) for d in json.loads(row[0])]
        with self._tx() as db:
            db.execute("DELETE FROM checkpoint")
        if spans:
            self.store(spans, [], tz)
            with self._tx() as db:
                db.execute("DELETE FROM checkpoint")
        return len(spans)

    def last_end(self) -> float:
        """The end of the latest stored span, so a new run never overlaps it."""
        row = self._db.execute(
            "SELECT MAX(m) FROM (SELECT MAX(end) AS m FROM spans"
            " UNION ALL SELECT MAX(last_end) FROM batches)"
        ).fetchone()
        return float(row[0] or 0.0)

    # --- uploader side ------------------------------------------------------

    def seal(
        self,
        *,
        time_zone: str,
        local_ips: list[str] | None = None,
        max_spans: int = MAX_BATCH_SPANS,
    ) -> int:
        """Freeze waiting spans into batches of at most `max_spans`; return how many."""
        made = 0
        while True:
            with self._tx() as db:
                rows = db.execute(
                    "SELECT id, start, end, app, title, active, keys, clicks FROM spans"
                    " ORDER BY start, id LIMIT ?",
                    (max_spans,),
                ).fetchall()
                if not rows:
                    return made
                spans: list[Span] = []
                size = 0
                for r in rows:
                    # An empty app marks a private pause (the privacy rules
                    # name every real window's app, "unknown" at worst).
                    span = Span(r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7], tracked=r[3] != "")
                    size += len(json.dumps(span.to_wire(), ensure_ascii=False).encode()) + 2
                    if spans and size > MAX_BATCH_BYTES:
                        break
                    spans.append(span)
                rows = rows[: len(spans)]
                batch_id = str(uuid.uuid4())
                body: dict[str, Any] = {
                    "batch_id": batch_id,
                    "sent_at": _now_iso(),
                    "time_zone": time_zone,
                    "spans": [s.to_wire() for s in spans],
                }
                if local_ips:
                    body["local_ips"] = local_ips
                db.execute(
                    "INSERT INTO batches (batch_id, created_at, first_start, last_end,"
                    " span_count, body, duration_s) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        batch_id,
                        time.time(),
                        spans[0].start,
                        max(s.end for s in spans),
                        len(spans),
                        json.dumps(body, ensure_ascii=False).encode("utf-8"),
                        sum(s.duration for s in spans),
                    ),
                )
                db.executemany("DELETE FROM spans WHERE id = ?", [(r[0],) for r in rows])
                made += 1

    def pending(self) -> list[PendingBatch]:
        """Sealed batches not yet acknowledged nor set aside, oldest first."""
        rows = self._db.execute(
            "SELECT batch_id, body, span_count FROM batches WHERE state = 'pending'"
            " ORDER BY created_at, rowid"
        ).fetchall()
        return [PendingBatch(r[0], bytes(r[1]), int(r[2])) for r in rows]

    def ack(self, batch_id: str) -> None:
        """The server stored (or already had) the batch: it leaves the queue."""
        with self._tx() as db:
            db.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_success', ?)",
                (_now_iso(),),
            )

    def reject(self, batch_id: str, message: str) -> None:
        """The server refused the batch for good: keep it aside, never resend it."""
        with self._tx() as db:
            db.execute(
                "UPDATE batches SET state = 'rejected', last_error = ? WHERE batch_id = ?",
                (message, batch_id),
            )
        self.note_error(message)

    def note_attempt(self, batch_id: str) -> None:
        """Count one upload attempt of a batch."""
        with self._tx() as db:
            db.execute("UPDATE batches SET attempts = attempts + 1 WHERE batch_id = ?", (batch_id,))

    def note_error(self, message: str) -> None:
        """Remember the last error for `status`."""
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [("last_error", message[:500]), ("last_error_at", _now_iso())],
            )

    def set_meta(self, key: str, value: str | None) -> None:
        """Set (or clear with None) one meta value."""
        with self._tx() as db:
            if value is None:
                db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def meta(self, key: str) -> str | None:
        """One meta value."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # --- bounds and status ----------------------------------------------------

    def prune(self, *, max_age_s: float = DEFAULT_MAX_AGE_S, now: float | None = None) -> int:
        """Drop what is older than `max_age_s` (oldest first); count it for `status`."""
        cutoff = (time.time() if now is None else now) - max_age_s
        with self._tx() as db:
            n_spans = db.execute("DELETE FROM spans WHERE end < ?", (cutoff,)).rowcount
            n_batched = db.execute(
                "SELECT COALESCE(SUM(span_count), 0) FROM batches WHERE last_end < ?", (cutoff,)
            ).fetchone()[0]
            db.execute("DELETE FROM batches WHERE last_end < ?", (cutoff,))
            day_cutoff = datetime.fromtimestamp(cutoff, tz=UTC).date().isoformat()
            db.execute("DELETE FROM daily WHERE day < ?", (day_cutoff,))
            dropped = int(n_spans) + int(n_batched)
            if dropped:
                db.execute(
                    "INSERT INTO meta (key, value) VALUES ('dropped_spans', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + ?",
                    (str(dropped), dropped),
                )
        return dropped

    def stats(self) -> QueueStats:
        """Queue depth, errors and last success."""
        db = self._db
        waiting, spans_s, spans_since = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(end - start), 0), MIN(start) FROM spans"
        ).fetchone()
        batched, n_pending, batched_s, batched_since = db.execute(
            "SELECT COALESCE(SUM(span_count), 0), COUNT(*), COALESCE(SUM(duration_s), 0),"
            " MIN(first_start) FROM batches WHERE state = 'pending'"
        ).fetchone()
        starts = [float(t) for t in (spans_since, batched_since) if t is not None]
        rejected = db.execute("SELECT COUNT(*) FROM batches WHERE state = 'rejected'").fetchone()[0]
        return QueueStats(
            waiting_spans=int(waiting) + int(batched),
            waiting_s=float(spans_s) + float(batched_s),
            waiting_since=min(starts, default=None),
            pending_batches=int(n_pending),
            rejected_batches=int(rejected),
            dropped_spans=int(self.meta("dropped_spans") or 0),
            last_success=self.meta("last_success"),
            last_error=self.meta("last_error"),
            last_error_at=self.meta("last_error_at"),
        )

    def day_totals(self, day: str, tz: tzinfo) -> list[tuple[str, float, float]]:
        """(app, active s, idle s) for one local day, most active first."""
        totals: dict[str, list[float]] = {}
        for app, _title, active, idle in self.title_totals(day, tz):
            entry = totals.setdefault(app, [0.0, 0.0])
            entry[0] += active
            entry[1] += idle
        return sorted(((app, a, i) for app, (a, i) in totals.items()), key=lambda t: (-t[1], t[0]))

    def title_totals(self, day: str, tz: tzinfo) -> list[tuple[str, str, float, float]]:
        """(app, title, active s, idle s) for one local day, most active first.

        The titles as stored, so after the privacy rules: what the server gets.
        Includes the span being extended (from the checkpoint), so a morning
        spent in one window shows before the window changes.
        """
        totals: dict[tuple[str, str], list[float]] = {}
        for app, title, active, idle in self._db.execute(
            "SELECT app, title, active_s, idle_s FROM daily WHERE day = ?", (day,)
        ):
            totals[(str(app), str(title))] = [float(active), float(idle)]
        row = self._db.execute("SELECT spans FROM checkpoint WHERE id = 1").fetchone()
        for data in json.loads(row[0]) if row else []:
            span = Span.from_wire(data)
            if datetime.fromtimestamp(span.start, tz=tz).date().isoformat() == day:
                entry = totals.setdefault((span.app, span.title), [0.0, 0.0])
                entry[0 if span.active else 1] += span.duration
        return sorted(
            ((app, title, a, i) for (app, title), (a, i) in totals.items()),
            key=lambda t: (-t[2], -t[3], t[0], t[1]),
        )
