"""The sampler with the scripted platform and a real SQLite queue."""

from __future__ import annotations

import itertools
from zoneinfo import ZoneInfo

import pytest

from oxytrack_agent.config import Paths
from oxytrack_agent.platforms import Window
from oxytrack_agent.platforms.fake import FakeClock, FakePlatform
from oxytrack_agent.policy import PRIVATE_MARKER, Policy
from oxytrack_agent.queue import Queue
from oxytrack_agent.sampler import NoCounter, Sampler
from oxytrack_agent.uploader import PolicyHolder

TZ = ZoneInfo("Europe/Paris")


class CountingFake:
    """An input counter that reports what the test typed."""

    def __init__(self) -> None:
        self.keys = 0
        self.clicks = 0
        self.started = 0

    def start(self) -> None:
        self.started += 1

    def stop(self) -> None:
        pass

    def take(self, until: float) -> tuple[list[float], list[float]]:
        # What the test typed happened just before the sample that takes it.
        out = ([until - 0.5] * self.keys, [until - 0.5] * self.clicks)
        self.keys = self.clicks = 0
        return out


def make(
    paths: Paths, policy: Policy, counter: CountingFake | None = None
) -> tuple[Sampler, FakePlatform, FakeClock, Queue]:
    clock = FakeClock()
    platform = FakePlatform(clock, window=Window("firefox", "Banque — relevé", 5))
    queue = Queue(paths.queue_file)
    sampler = Sampler(
        platform,
        queue,
        PolicyHolder(policy),
        tz=TZ,
        clock=clock,
        counter_factory=(lambda: counter) if counter else NoCounter,
        cut_every=lambda: 3600,
    )
    return sampler, platform, clock, queue


def run(sampler: Sampler, platform: FakePlatform, clock: FakeClock, seconds: int) -> None:
    for _ in range(seconds):
        platform.input()
        sampler.tick()
        clock.advance(1)


def stored(queue: Queue) -> list[tuple[str, str, float]]:
    rows = queue._db.execute("SELECT app, title, end - start FROM spans ORDER BY start").fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def test_privacy_rules_apply_before_anything_is_stored(paths: Paths) -> None:
    sampler, platform, clock, queue = make(paths, Policy.from_json({"exclude_apps": ["firefox"]}))
    run(sampler, platform, clock, 5)
    platform.window = Window("gedit", "Relevé bancaire.odt")
    sampler.policy.set(Policy.from_json({"redact": ["(?i)bancaire"]}))
    run(sampler, platform, clock, 5)
    sampler.finish()
    everything = (
        queue._db.execute("SELECT * FROM spans").fetchall()
        + queue._db.execute("SELECT * FROM checkpoint").fetchall()
    )
    assert "Banque" not in repr(everything)
    assert "bancaire" not in repr(everything)
    assert stored(queue) == [(PRIVATE_MARKER, PRIVATE_MARKER, 5.0), ("gedit", "gedit", 5.0)]


def test_spans_reach_the_queue_at_least_every_10_seconds(paths: Paths) -> None:
    sampler, platform, clock, queue = make(paths, Policy())
    run(sampler, platform, clock, 11)
    # Same window all along: nothing finished yet, but the checkpoint holds it.
    assert stored(queue) == []
    recovered = Queue(paths.queue_file)
    assert recovered.recover(TZ) == 1
    assert stored(recovered)[0][2] >= 10.0


def test_input_counts_follow_the_policy(paths: Paths) -> None:
    counter = CountingFake()
    sampler, platform, clock, queue = make(paths, Policy(), counter)
    run(sampler, platform, clock, 1)
    counter.keys, counter.clicks = 4, 1  # typed during the first second
    run(sampler, platform, clock, 2)
    assert counter.started == 1
    sampler.policy.set(Policy(input_counts=False))
    counter.keys = 50  # would be counted if the listener were still used
    run(sampler, platform, clock, 3)
    sampler.finish()
    totals = queue._db.execute("SELECT SUM(keys), SUM(clicks) FROM spans").fetchone()
    assert tuple(totals) == (4, 1)


def test_an_unreadable_sample_counts_no_time(paths: Paths) -> None:
    sampler, platform, clock, queue = make(paths, Policy())

    def broken() -> Window | None:
        raise OSError("access denied")

    run(sampler, platform, clock, 3)
    platform.focused_window = broken  # type: ignore[method-assign]
    run(sampler, platform, clock, 3)
    sampler.finish()
    assert sum(d for _, _, d in stored(queue)) == 3.0
    assert sampler.errors == 4  # three ticks and the last sample at shutdown


# --- input at the edges: placed by its moment ----------------------------------------


class TimedCounter:
    """An input counter fed with the moments of each key, as pynput's listener is."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.keys: list[float] = []

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def press(self) -> None:
        self.keys.append(self.clock.mono)

    def take(self, until: float) -> tuple[list[float], list[float]]:
        taken = [t for t in self.keys if t <= until]
        self.keys = [t for t in self.keys if t > until]
        return taken, []


EDITOR = Window("gedit", "notes.txt")
BROWSER = Window("firefox", "Accueil")


def timed(paths: Paths) -> tuple[Sampler, FakePlatform, FakeClock, Queue, TimedCounter]:
    clock = FakeClock()
    platform = FakePlatform(clock, window=EDITOR)
    queue = Queue(paths.queue_file)
    counter = TimedCounter(clock)
    sampler = Sampler(
        platform,
        queue,
        PolicyHolder(Policy(idle_threshold_s=600)),
        tz=TZ,
        clock=clock,
        counter_factory=lambda: counter,
        cut_every=lambda: 3600,
    )
    return sampler, platform, clock, queue, counter


def keys_per_window(queue: Queue) -> dict[str, int]:
    rows = queue._db.execute("SELECT title, SUM(keys) FROM spans GROUP BY title").fetchall()
    return {r[0]: r[1] for r in rows}


def test_a_key_typed_just_after_a_focus_change_goes_to_the_new_window(paths: Paths) -> None:
    sampler, platform, clock, queue, counter = timed(paths)
    for i in range(20):
        sampler.tick()
        clock.advance(0.3)
        platform.switch(BROWSER if i % 2 == 0 else EDITOR)
        switched = clock.wall
        clock.advance(0.1)
        platform.input()
        counter.press()  # 100 ms after the switch, long before the next sample
        clock.advance(0.6)
    sampler.finish()
    assert keys_per_window(queue) == {"Accueil": 10, "notes.txt": 10}
    # Time too is cut at the switch, not at the sample that saw it.
    last = queue._db.execute("SELECT start, title FROM spans ORDER BY start DESC").fetchone()
    assert last == (pytest.approx(switched, abs=0.001), "notes.txt")


def test_without_change_moments_a_switch_is_placed_at_the_sample(paths: Paths) -> None:
    sampler, platform, clock, queue, counter = timed(paths)
    sampler.tick()
    clock.advance(0.3)
    platform.window = BROWSER  # a platform that reports no moments
    clock.advance(0.1)
    counter.press()
    clock.advance(0.6)
    sampler.tick()
    clock.advance(1)
    sampler.finish()
    assert keys_per_window(queue) == {"notes.txt": 1, "Accueil": 0}


def test_a_key_typed_just_after_unlocking_is_counted_and_locked_time_is_not(
    paths: Paths,
) -> None:
    sampler, platform, clock, queue, counter = timed(paths)
    sampler.tick()
    clock.advance(1)
    sampler.tick()
    clock.advance(0.4)
    platform.lock(True)
    locked_at = clock.wall
    clock.advance(0.2)
    counter.press()  # typed into the lock screen: no activity
    clock.advance(0.4)
    for _ in range(5):
        sampler.tick()
        counter.press()
        clock.advance(1)
    clock.advance(0.2)
    platform.lock(False)
    unlocked_at = clock.wall
    clock.advance(0.1)
    platform.input()
    counter.press()  # 100 ms after unlocking
    clock.advance(0.7)
    sampler.tick()
    clock.advance(1)
    sampler.finish()
    rows = queue._db.execute("SELECT start, end, keys FROM spans ORDER BY start").fetchall()
    assert rows[0][1] == pytest.approx(locked_at, abs=0.001)  # time stops at the lock...
    assert rows[1][0] == pytest.approx(unlocked_at, abs=0.001)  # ...and starts at the unlock
    assert sum(r[2] for r in rows) == 1


def test_a_backward_clock_step_resumes_at_true_wall_time_without_overlap(paths: Paths) -> None:
    sampler, platform, clock, queue, _ = timed(paths)
    for _ in range(30):
        platform.input()
        sampler.tick()
        clock.advance(1)
    before = clock.wall
    clock.wall -= 60  # NTP steps the clock back a minute
    for _ in range(90):
        platform.input()
        sampler.tick()
        clock.advance(1)
    sampler.finish()
    rows = queue._db.execute("SELECT start, end FROM spans ORDER BY start").fetchall()
    for (_, end), (start, _) in itertools.pairwise(rows):
        assert end <= start
    assert rows[-1][1] == clock.wall  # the last span ends at true wall time
    # Recorded once: up to the end before the step, then from there at true time.
    covered = sum(end - start for start, end in rows)
    assert covered == (before - 1 - rows[0][0]) + (clock.wall - (before - 1))
    assert sampler.builder.timeline == clock.wall


def test_several_switches_within_one_second_each_get_their_keys(paths: Paths) -> None:
    sampler, platform, clock, queue, counter = timed(paths)
    terminal = Window("xterm", "bash")
    sampler.tick()
    for window in (BROWSER, terminal, EDITOR, BROWSER):
        clock.advance(0.05)
        platform.switch(window)
        clock.advance(0.1)
        counter.press()  # 100 ms after each switch, four switches in 0.6 s
        clock.advance(0.05)
    clock.advance(0.2)
    sampler.tick()
    clock.advance(1)
    sampler.finish()
    assert keys_per_window(queue) == {"notes.txt": 1, "Accueil": 2, "bash": 1}
