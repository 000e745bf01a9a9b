"""The sampler with the scripted platform and a real SQLite queue."""

from __future__ import annotations

from zoneinfo import ZoneInfo

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

    def take(self) -> tuple[int, int]:
        out = (self.keys, self.clicks)
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
