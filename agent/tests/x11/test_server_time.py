"""X11 input is placed by the X server's timestamps, not by when our threads read it.

Each X thread of the agent reads its own connection: under load the key
pressed just before a focus change can be read after that change. Placed by
the server's clock (mapped onto ours), it still goes to the window it was
typed in.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from Xlib import X
from Xlib.ext import record

from oxytrack_agent.config import Paths
from oxytrack_agent.platforms import Window
from oxytrack_agent.platforms.fake import FakeClock, FakePlatform
from oxytrack_agent.platforms.x11 import ServerClock
from oxytrack_agent.platforms.x11_input import XRecordCounter
from oxytrack_agent.policy import Policy
from oxytrack_agent.queue import Queue
from oxytrack_agent.sampler import Sampler
from oxytrack_agent.uploader import PolicyHolder

TZ = ZoneInfo("Europe/Paris")
EDITOR = Window("gedit", "notes.txt")
BROWSER = Window("firefox", "Accueil")
#: The X server's clock started this long before our monotonic clock's zero.
SERVER_BASE_S = 900.0


def server_ms(mono: float) -> int:
    return round((mono - SERVER_BASE_S) * 1000) % 2**32


def device_events(*events: tuple[int, int, int]) -> SimpleNamespace:
    """A RECORD reply holding core device events (type, detail, server time)."""
    data = b"".join(
        bytes([kind, detail, 0, 0]) + ms.to_bytes(4, sys.byteorder) + bytes(24)
        for kind, detail, ms in events
    )
    return SimpleNamespace(category=record.FromServer, data=data)


class FedCounter(XRecordCounter):
    """The real RECORD counter, fed by the test instead of an X server."""

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


def test_the_server_clock_maps_onto_ours_by_the_fastest_event() -> None:
    clock = ServerClock()
    # Read 30 ms late, then 2 ms late: the offset is the smaller delay.
    assert clock.monotonic(server_ms(1000.0), arrival=1000.03) == pytest.approx(1000.03)
    assert clock.monotonic(server_ms(1001.0), arrival=1001.002) == pytest.approx(1001.002)
    # A late reading no longer moves it: the event is placed when it happened.
    # (The offset ages by 1 ms per second between events.)
    assert clock.monotonic(server_ms(1002.0), arrival=1002.5) == pytest.approx(1002.002, abs=2e-3)
    # Never after its arrival, and across the 32-bit wrap of the server's clock.
    wrap = ServerClock()
    before = wrap.monotonic(2**32 - 100, arrival=50.0)
    after = wrap.monotonic(400, arrival=50.5)
    assert after - before == pytest.approx(0.5)


def test_the_offset_ages_so_a_drifting_server_never_places_events_after_they_arrived() -> None:
    clock = ServerClock()
    clock.monotonic(0, arrival=10.0)
    # An hour later, a server clock 100 ppm slow: events are read 0.36 s "early".
    mapped = clock.monotonic(3_600_000 - 360, arrival=3610.0 + 0.001)
    assert mapped <= 3610.001
    assert mapped == pytest.approx(3610.001, abs=0.01)


def test_keys_and_clicks_are_stamped_by_the_server_and_scrolls_ignored() -> None:
    now = [1000.5]
    counter = FedCounter(None, control=None, now=lambda: now[0])
    counter._on_reply(device_events((X.KeyPress, 38, server_ms(1000.49))))  # calibrates
    now[0] = 1002.0  # read 1.5 s late, under load
    counter._on_reply(
        device_events(
            (X.KeyPress, 38, server_ms(1000.6)),
            (X.ButtonPress, 1, server_ms(1000.7)),
            (X.ButtonPress, 4, server_ms(1000.8)),  # the wheel
            (X.KeyRelease, 38, server_ms(1000.9)),
        )
    )
    keys, clicks = counter.take(1001.0)
    # 10 ms after the server's times (the calibrating delay), plus the aging.
    assert keys == pytest.approx([1000.5, 1000.61], abs=2e-3)
    assert clicks == pytest.approx([1000.71], abs=2e-3)


def test_an_event_read_after_the_sampler_passed_its_moment_goes_to_the_next_sample() -> None:
    now = [1000.0]
    counter = FedCounter(None, control=None, now=lambda: now[0])
    counter._on_reply(device_events((X.KeyPress, 38, server_ms(1000.0))))
    assert counter.take(1001.0)[0] == [1000.0]
    now[0] = 1001.2
    counter._on_reply(device_events((X.KeyPress, 38, server_ms(1000.9))))
    (late,) = counter.take(1002.0)[0]
    assert 1001.0 < late < 1001.01  # not lost


def test_a_key_read_after_a_focus_change_but_typed_before_it_stays_in_its_window(
    paths: Paths,
) -> None:
    clock = FakeClock()
    platform = FakePlatform(clock, window=EDITOR)
    queue = Queue(paths.queue_file)
    counter = FedCounter(None, control=None, now=clock.monotonic)
    sampler = Sampler(
        platform,
        queue,
        PolicyHolder(Policy(idle_threshold_s=600)),
        tz=TZ,
        clock=clock,
        counter_factory=lambda: counter,
        cut_every=lambda: 3600,
    )
    sampler.tick()
    for _ in range(5):
        clock.advance(0.1)
        # A key read at once (as most are), in the editor.
        platform.input()
        counter._on_reply(device_events((X.KeyPress, 38, server_ms(clock.mono))))
        clock.advance(0.15)
        typed = server_ms(clock.mono)  # typed in the editor, just before leaving it
        clock.advance(0.05)
        platform.switch(BROWSER)  # read at once
        clock.advance(0.1)
        counter._on_reply(device_events((X.KeyPress, 38, typed)))  # read 150 ms late
        clock.advance(0.6)
        sampler.tick()
        clock.advance(0.5)
        platform.switch(EDITOR)  # back, with no key typed in the browser
        clock.advance(0.5)
        sampler.tick()
    sampler.finish()
    rows = queue._db.execute("SELECT title, SUM(keys) FROM spans GROUP BY title").fetchall()
    # Every key was typed in the editor; none in the browser.
    assert dict(rows) == {"notes.txt": 10, "Accueil": 0}
