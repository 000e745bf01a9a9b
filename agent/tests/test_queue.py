"""The SQLite outbox: schema version, checkpoint recovery, bounds, totals."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from oxytrack_agent.config import Paths
from oxytrack_agent.queue import SCHEMA_VERSION, Queue
from oxytrack_agent.spans import Span

TZ = ZoneInfo("Europe/Paris")
DAY = datetime(2026, 11, 28, 9, 0, tzinfo=TZ).timestamp()


def test_the_schema_is_versioned(paths: Paths) -> None:
    Queue(paths.queue_file).close()
    db = sqlite3.connect(paths.queue_file)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(RuntimeError, match="newer"):
        Queue(paths.queue_file)


def test_a_checkpoint_is_recovered_once_after_a_crash(paths: Paths) -> None:
    q = Queue(paths.queue_file)
    q.store([Span(DAY, DAY + 5, "a", "t", True)], [Span(DAY + 5, DAY + 9, "b", "u", True, 2)], TZ)
    q.close()  # as if killed: the checkpoint stays
    q = Queue(paths.queue_file)
    assert q.recover(TZ) == 1
    assert q.recover(TZ) == 0
    assert q.last_end() == DAY + 9
    assert q.stats().waiting_spans == 2
    assert q.day_totals("2026-11-28", TZ) == [("a", 5.0, 0.0), ("b", 4.0, 0.0)]


def test_todays_totals_include_the_span_being_extended(paths: Paths) -> None:
    q = Queue(paths.queue_file)
    q.store([Span(DAY, DAY + 5, "a", "t", True)], [Span(DAY + 5, DAY + 65, "a", "t", True)], TZ)
    assert q.day_totals("2026-11-28", TZ) == [("a", 65.0, 0.0)]


def test_a_clean_store_leaves_nothing_to_recover(paths: Paths) -> None:
    q = Queue(paths.queue_file)
    q.store([Span(DAY, DAY + 5, "a", "t", True)], [], TZ)
    assert q.recover(TZ) == 0


def test_old_data_is_dropped_oldest_first_and_counted(paths: Paths) -> None:
    q = Queue(paths.queue_file)
    old = DAY - 40 * 86400
    q.store([Span(old, old + 10, "a", "t", True), Span(old + 20, old + 30, "a", "t", True)], [], TZ)
    q.seal(time_zone="Europe/Paris")
    q.store(
        [Span(old + 40, old + 50, "a", "t", True), Span(DAY, DAY + 10, "b", "t", False)], [], TZ
    )
    dropped = q.prune(max_age_s=30 * 86400, now=DAY + 60)
    assert dropped == 3
    stats = q.stats()
    assert stats.dropped_spans == 3
    assert stats.waiting_spans == 1
    assert q.day_totals("2026-11-28", TZ) == [("b", 0.0, 10.0)]


def test_batches_freeze_contents_and_leave_only_when_acknowledged(paths: Paths) -> None:
    q = Queue(paths.queue_file)
    q.store([Span(DAY + i, DAY + i + 1, "a", "t", True) for i in range(7)], [], TZ)
    assert q.seal(time_zone="UTC", max_spans=3) == 3
    batches = q.pending()
    assert [b.span_count for b in batches] == [3, 3, 1]
    assert q.pending() == batches  # same ids, same bytes
    q.ack(batches[0].batch_id)
    assert q.stats().waiting_spans == 4
