"""The tentative idle tail survives stores, uploads and a busy process (hypothesis).

In the agent, the uploader thread wakes at each cut and competes with the
sampler for the interpreter; a store waits for SQLite. The sampler then reads
its clocks and the OS a little late, by a different amount at each sample.
Whatever the moments of those stores, cuts and delays, a stretch without input
after a key must be idle from the last input on, entirely.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oxytrack_agent.platforms import Window
from oxytrack_agent.platforms.fake import FakeClock, FakePlatform
from oxytrack_agent.policy import Policy
from oxytrack_agent.queue import Queue
from oxytrack_agent.sampler import NoCounter, Sampler
from oxytrack_agent.uploader import PolicyHolder

TZ = ZoneInfo("Europe/Paris")
THRESHOLD = 5.0


class BusyClock(FakeClock):
    """A clock whose wall reading comes `stolen` seconds after the monotonic one.

    That is what happens when another thread holds the interpreter between the
    two reads: time passes in between, on both clocks.
    """

    stolen: float = 0.0

    def time(self) -> float:
        if self.stolen:
            self.advance(self.stolen)
            self.stolen = 0.0
        return self.wall


Tick = st.tuples(
    st.floats(0.9, 1.4),  # the sample period as the loop achieves it
    st.sampled_from([0.0, 0.0, 0.02, 0.1, 0.3, 0.45]),  # time stolen inside the sample
    st.sampled_from(["none", "none", "store", "cut"]),  # what happens after the sample
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    before=st.integers(1, 5),
    pause=st.lists(Tick, min_size=7, max_size=20),
    after=st.integers(1, 4),
)
def test_a_pause_after_a_key_is_idle_from_the_key_whatever_the_stores_and_uploads(
    tmp_path: Path, before: int, pause: list[tuple[float, float, str]], after: int
) -> None:
    clock = BusyClock()
    platform = FakePlatform(clock, window=Window("gedit", "notes.txt"))
    queue = Queue(tmp_path / f"q-{id(pause)}-{len(list(tmp_path.iterdir()))}.sqlite3")
    sampler = Sampler(
        platform,
        queue,
        PolicyHolder(Policy(idle_threshold_s=THRESHOLD)),
        tz=TZ,
        clock=clock,
        counter_factory=NoCounter,
        cut_every=lambda: 3600,
    )

    def sample(stolen: float, then: str) -> None:
        clock.stolen = stolen
        sampler.tick()
        if then == "store":
            sampler.store()
        elif then == "cut":
            sampler.builder.cut()
            sampler.store()

    for _ in range(before):  # typing, one key a second
        platform.input()
        sample(0.0, "none")
        clock.advance(1.0)
    platform.input()  # the last key before the pause
    last_key = clock.wall
    for period, stolen, then in pause:
        clock.advance(period - stolen)
        sample(stolen, then)
    pause_s = clock.wall - last_key
    clock.advance(0.5)
    platform.input()  # back at the keyboard
    resumed = clock.wall
    for _ in range(after):
        clock.advance(1.0)
        sample(0.0, "none")
    sampler.finish()

    rows = queue._db.execute(
        "SELECT start, end, active FROM spans WHERE end > ? AND start < ? ORDER BY start",
        (last_key + 0.001, resumed - 0.001),
    ).fetchall()
    queue.close()
    if pause_s + 0.5 < THRESHOLD:
        return
    # Everything between the last key and the return is idle: no piece of it
    # was finalized as active by a store, an upload or a late sample.
    assert [bool(active) for _, _, active in rows] == [False] * len(rows), rows
    # From the last key to the return, exactly (to the millisecond of the queue).
    assert abs(rows[0][0] - last_key) < 0.002, rows
    assert abs(rows[-1][1] - resumed) < 0.002, rows
