"""The spool: spans wait in memory, bounded, while the queue cannot be written."""

from __future__ import annotations

import time
from pathlib import Path
from zoneinfo import ZoneInfo

from oxytrack_agent.health import Health, read_state
from oxytrack_agent.queue import Queue
from oxytrack_agent.spans import Span
from oxytrack_agent.spool import SpanBuffer, Spool

TZ = ZoneInfo("Europe/Paris")
T0 = float(int(time.time()) - 3600)


def span(i: int, length: float = 10.0) -> Span:
    return Span(T0 + i * length, T0 + (i + 1) * length, "gedit", f"doc {i}", True, i, 0)


def test_the_buffer_drops_the_oldest_first_and_counts_them() -> None:
    buffer = SpanBuffer(max_seconds=35)
    assert buffer.add([span(0), span(1), span(2)]) == (0, 0.0)
    assert buffer.add([span(3)]) == (1, 10.0)  # 40 s > 35 s: the first goes
    assert [s.title for s in buffer.spans] == ["doc 1", "doc 2", "doc 3"]
    assert buffer.seconds == 30.0
    assert buffer.since == span(1).start
    # A span longer than the bound on its own: it goes too, after the older ones.
    assert buffer.add([span(4, 100)]) == (4, 130.0)
    assert len(buffer) == 0 and buffer.seconds == 0.0 and buffer.since is None


def test_the_buffer_is_bounded_in_spans_too() -> None:
    buffer = SpanBuffer(max_seconds=10_000, max_spans=2)
    assert buffer.add([span(0), span(1), span(2)]) == (1, 10.0)
    assert [s.title for s in buffer.spans] == ["doc 1", "doc 2"]


def blocked(tmp_path: Path) -> Path:
    """A data dir that cannot be created (a file is in the way), like a dead disk."""
    (tmp_path / "data").write_text("in the way")
    return tmp_path / "data" / "queue.sqlite3"


def test_spans_wait_in_memory_and_reach_the_queue_once_it_opens(tmp_path: Path) -> None:
    path = blocked(tmp_path)
    health = Health(tmp_path / "state.json")
    spool = Spool(path, tz=TZ, health=health, memory_limit_s=3600)
    assert spool.last_end() == 0.0
    assert spool.store([span(0), span(1)], [span(2)], TZ) is False
    state = read_state(tmp_path / "state.json")
    assert state is not None
    assert state.disk_since is not None and state.disk_message
    assert (state.memory_spans, state.memory_s, state.memory_since) == (2, 20.0, span(0).start)
    assert spool.store([span(2)], [], TZ) is False  # retried, still refused
    (tmp_path / "data").unlink()  # room again
    assert spool.store([span(3)], [], TZ) is True
    queue = Queue(path)
    titles = [r[0] for r in queue._db.execute("SELECT title FROM spans ORDER BY start")]
    assert titles == ["doc 0", "doc 1", "doc 2", "doc 3"]  # each once, in order
    queue.close()
    state = read_state(tmp_path / "state.json")
    assert state is not None
    assert (state.disk_since, state.memory_spans, state.dropped_spans) == (None, 0, 0)
    spool.close()


def test_past_the_bound_and_at_stop_what_the_disk_refused_is_counted_as_lost(
    tmp_path: Path,
) -> None:
    health = Health(tmp_path / "state.json")
    spool = Spool(blocked(tmp_path), tz=TZ, health=health, memory_limit_s=25)
    spool.store([span(0), span(1), span(2)], [], TZ)
    live = health.state
    assert (live.dropped_spans, live.dropped_s, live.memory_s) == (1, 10.0, 20.0)
    spool.close()
    state = read_state(tmp_path / "state.json")
    assert state is not None
    assert (state.dropped_spans, state.dropped_s, state.memory_spans) == (3, 30.0, 0)
    # The losses stay on record for the next run's status.
    again = Health(tmp_path / "state.json")
    assert again.state.dropped_s == 30.0
    again.close()


def test_a_queue_that_opens_late_is_never_overlapped(tmp_path: Path) -> None:
    path = tmp_path / "data" / "queue.sqlite3"
    earlier = Queue(path)  # the run before stored up to span 1's end
    earlier.store([span(0), span(1)], [], TZ)
    earlier.close()
    (tmp_path / "data").rename(tmp_path / "away")
    (tmp_path / "data").write_text("in the way")
    spool = Spool(path, tz=TZ, health=Health(tmp_path / "state.json"))
    assert spool.last_end() == 0.0  # unreadable: the builder starts from scratch
    partly = Span(span(1).start + 4, span(2).end, "gedit", "late", True)
    assert spool.store([span(1), partly], [], TZ) is False
    (tmp_path / "data").unlink()
    (tmp_path / "away").rename(tmp_path / "data")
    assert spool.store([], [], TZ) is True
    queue = Queue(path)
    rows = queue._db.execute("SELECT start, end, title FROM spans ORDER BY start").fetchall()
    queue.close()
    assert rows == [
        (span(0).start, span(0).end, "doc 0"),
        (span(1).start, span(1).end, "doc 1"),
        (span(1).end, span(2).end, "late"),
    ]
    spool.close()
