"""The 1 Hz sampler: reads the platform, applies privacy, feeds the span builder,
and stores finished spans plus a checkpoint at least every 10 s.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import tzinfo
from typing import Any, Protocol, cast

from oxytrack_agent.pause import PauseWatch
from oxytrack_agent.platforms import Changes, Platform, Window
from oxytrack_agent.queue import Queue
from oxytrack_agent.spans import Observation, Span, SpanBuilder
from oxytrack_agent.spool import Spool
from oxytrack_agent.uploader import PolicyHolder

log = logging.getLogger(__name__)

#: kill -9 loses at most this much: the checkpoint is rewritten this often.
STORE_EVERY_S = 10.0


class Clock(Protocol):
    """Both clocks, injectable for tests."""

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps."""
        ...

    def time(self) -> float:
        """POSIX wall-clock seconds."""
        ...


class SystemClock:
    """The real clocks."""

    def monotonic(self) -> float:
        """time.monotonic()."""
        return time.monotonic()

    def time(self) -> float:
        """time.time()."""
        return time.time()


class InputCounter(Protocol):
    """Counts key presses and mouse clicks, never which key."""

    def start(self) -> None:
        """Begin counting."""
        ...

    def stop(self) -> None:
        """Stop counting and release hooks."""
        ...

    def take(self, until: float) -> tuple[list[float], list[float]]:
        """Monotonic times of key presses and of clicks up to `until`, oldest first.

        Later ones stay for the next call: the sampler reads its clock, then
        takes what happened up to that moment.
        """
        ...


#: Events kept while nobody takes them (input counting on, sampler stalled):
#: a day of fast typing is far below; past it the oldest go, never the memory.
MAX_PENDING_EVENTS = 100_000


class PynputCounter:
    """Counts with pynput's listeners (macOS event taps).

    X11 counts with its platform's own RECORD counter instead
    (platforms/x11_input.py): pynput costs the agent ~5 MiB there. Windows
    counts with its own low-level hooks (platforms/windows_input.py):
    pynput's Windows listener breaks dead keys in the employee's apps.

    pynput picks its backend when imported, so it is imported here, after
    DISPLAY is known, not at module import.
    """

    def __init__(self) -> None:
        self._keys: deque[float] = deque(maxlen=MAX_PENDING_EVENTS)
        self._clicks: deque[float] = deque(maxlen=MAX_PENDING_EVENTS)
        self._lock = threading.Lock()
        self._listeners: list[Any] = []

    def _on_press(self, _key: object) -> None:
        # The key itself is dropped on purpose: only the moment is kept. The
        # clock is read under the lock, so an event stamped before the
        # sampler's reading is always in the list when the sampler takes it.
        with self._lock:
            self._keys.append(time.monotonic())

    def _on_click(self, _x: int, _y: int, _button: object, pressed: bool) -> None:
        if pressed:
            with self._lock:
                self._clicks.append(time.monotonic())

    def start(self) -> None:
        """Start both listeners (threads owned by pynput)."""
        from pynput import keyboard, mouse

        self._listeners = [
            keyboard.Listener(on_press=self._on_press),
            mouse.Listener(on_click=self._on_click),
        ]
        for listener in self._listeners:
            listener.daemon = True
            listener.start()
        for listener in self._listeners:
            listener.wait()

    def stop(self) -> None:
        """Stop the listeners."""
        for listener in self._listeners:
            listener.stop()
        self._listeners = []

    def take(self, until: float) -> tuple[list[float], list[float]]:
        """Event times up to `until` (time.monotonic), and forget them."""
        with self._lock:
            return _pop_until(self._keys, until), _pop_until(self._clicks, until)


def _pop_until(events: deque[float], until: float) -> list[float]:
    out: list[float] = []
    while events and events[0] <= until:
        out.append(events.popleft())
    return out


class NoCounter:
    """Input counting switched off by the policy: nothing is listened to."""

    def start(self) -> None:
        """Nothing to start."""

    def stop(self) -> None:
        """Nothing to stop."""

    def take(self, until: float) -> tuple[list[float], list[float]]:
        """Never any event."""
        return [], []


class Sampler:
    """Owns the span builder; `tick()` once per sample period."""

    def __init__(
        self,
        platform: Platform,
        queue: Queue | Spool,
        policy: PolicyHolder,
        *,
        tz: tzinfo,
        clock: Clock | None = None,
        counter_factory: Callable[[], InputCounter] | None = None,
        idle_threshold_override: float | None = None,
        cut_every: Callable[[], float] = lambda: 600.0,
        on_cut: Callable[[], None] = lambda: None,
        pause: PauseWatch | None = None,
    ) -> None:
        self.platform = platform
        self.queue = queue
        self.policy = policy
        self.tz = tz
        self.clock: Clock = clock or SystemClock()
        # The platform's own counter when it has one (X11: RECORD, lighter than
        # pynput's listeners; Windows: low-level hooks that never translate a
        # key), else pynput (macOS event taps).
        self.counter_factory: Callable[[], InputCounter] = (
            counter_factory or getattr(platform, "input_counter", None) or PynputCounter
        )
        self.idle_override = idle_threshold_override
        self.cut_every = cut_every
        self.on_cut = on_cut
        self.builder = SpanBuilder(idle_threshold_s=self._idle_threshold(), tz=tz)
        # Continue after whatever is stored, so a restart never overlaps it.
        self.builder.continue_after(queue.last_end())
        self._counter: InputCounter = NoCounter()
        self._counting = False
        self._last_store = self.clock.monotonic()
        self._last_cut = self.clock.monotonic()
        self._last_mono = self.clock.monotonic()
        self.errors = 0
        self.pause = pause
        #: Why the last sample recorded nothing: "schedule", "pause" or None.
        self.gated: str | None = None
        # The private pause being recorded as "not tracked": where it began,
        # and the finished pieces waiting for the next store.
        self._pause_from: float | None = None
        self._pause_spans: list[Span] = []
        self._last_wall: float | None = None
        # Held by the sampling thread for each tick and for finish(): another
        # thread (the end of the Windows session) stores between two ticks.
        self._busy = threading.Lock()
        #: Set once `finish()` has stored everything.
        self.finished = threading.Event()

    def _idle_threshold(self) -> float:
        return self.idle_override or self.policy.get().idle_threshold_s

    def _sync_counter(self) -> None:
        wanted = self.policy.get().input_counts
        if wanted == self._counting:
            return
        self._counter.stop()
        self._counter = self.counter_factory() if wanted else NoCounter()
        try:
            self._counter.start()
        except Exception:
            log.exception("input counting unavailable; counts stay at zero")
            self._counter = NoCounter()
        self._counting = wanted
        log.info("input counting %s", "on" if wanted else "off (policy)")

    def observe(self) -> Observation:
        """Read the platform once (never raises: an unreadable sample counts no time)."""
        policy = self.policy.get()
        # Clocks first, both at once: input and changes up to this moment
        # belong to this sample, later ones to the next.
        mono, wall = self.clock.monotonic(), self.clock.time()
        key_times, click_times = self._counter.take(mono)
        keys, clicks = tuple(key_times), tuple(click_times)
        since, self._last_mono = self._last_mono, mono
        changes = self._changes(since, mono)
        self.gated = self.gate(wall)
        if self.gated is not None:
            # Outside working hours or in a pause the platform is not even
            # read: no window, no title in memory, and the input is dropped.
            # Like a lock since the previous sample: that second counts for nothing.
            return Observation(mono, wall, None, None, True, locked_at=since)
        try:
            locked = self.platform.session_locked()
            window = None if locked else self.platform.focused_window()
            idle = self.platform.idle_seconds()
        except Exception as exc:
            if type(exc).__name__ == "ConnectionClosedError":
                raise  # the X server went away: the session is over (logoff)
            self.errors += 1
            # Once, then once a minute: a broken backend must not fill the log.
            if self.errors % 60 == 1:
                log.warning("sample failed (%d so far): %s", self.errors, type(exc).__name__)
            # No idle reading either: an unreadable sample is no sign of input.
            return Observation(mono, wall, None, None, False, key_times=keys, click_times=clicks)
        if window is not None and self._own(window):
            # The pause control (or any window of the agent) is no one's work: no time.
            window = None
        if window is not None:
            window = policy.apply(window)
        return Observation(
            mono,
            wall,
            window,
            idle,
            locked,
            key_times=keys,
            click_times=clicks,
            focus_at=changes.focus,
            locked_at=changes.lock,
            unlocked_at=changes.unlock,
            # Privacy rules apply to the windows of each change too.
            switches=tuple(
                (t, policy.apply(w) if w and not self._own(w) else None) for t, w in changes.windows
            ),
        )

    def _own(self, window: Window) -> bool:
        return (
            self.pause is not None
            and window.pid is not None
            and window.pid in self.pause.own_pids()
        )

    def gate(self, wall: float) -> str | None:
        """Why nothing may be recorded at POSIX time `wall`: "schedule", "pause" or None.

        Working hours come first: outside them not even a pause is recorded.
        """
        policy = self.policy.get()
        schedule = policy.work_schedule
        if schedule is not None and not schedule.is_working(wall, self.tz):
            return "schedule"
        if self.pause is not None:
            state = self.pause.refresh()
            if state.paused_at(wall, policy.pause_max_minutes_per_day):
                return "pause"
        return None

    def _follow_pause(self, wall: float, recorded_until: float) -> None:
        """Record the private pause as "not tracked" time, from its start to its end."""
        paused = self.gated == "pause"
        last = self._last_wall
        self._last_wall = wall
        if self._pause_from is not None and last is not None:
            if not paused:
                state = self.pause.state if self.pause is not None else None
                end = state.end(self.policy.get().pause_max_minutes_per_day) if state else None
                self._end_pause(min(wall, end) if end is not None else wall)
                return
            if wall - last > self.builder.gap_s or wall < last:
                # A suspend (or a clock step) inside the pause: no time at all.
                self._end_pause(last)
                self._pause_from = wall
                return
        if paused and self._pause_from is None:
            since = self.pause.state.since if self.pause is not None else None
            self._pause_from = max(since or wall, recorded_until, last if last else wall)

    def _end_pause(self, end: float) -> None:
        """Close the pause's piece at `end` (queued with the next store)."""
        start, self._pause_from = self._pause_from, None
        if start is not None and end > start:
            self._pause_spans.append(Span(start, end, "", "", False, tracked=False))
            self.builder.continue_after(end)

    def _changes(self, after: float, until: float) -> Changes:
        """What the platform saw change in (after, until], if it watches (X11 does)."""
        watch = getattr(self.platform, "changes", None)
        if watch is None:
            return Changes()
        try:
            return cast(Changes, watch(after, until))
        except Exception:  # a broken watcher must not stop sampling: fall back to samples
            return Changes()

    def store_now(self, timeout: float) -> bool:
        """From another thread: store between two ticks, without waiting for the next.

        True once stored (or once `finish()` has stored everything); False if
        a tick kept the sampler busy for `timeout` s.
        """
        if not self._busy.acquire(timeout=timeout):
            return False
        try:
            if not self.finished.is_set():
                self.store()
            return True
        finally:
            self._busy.release()

    def tick(self) -> None:
        """Take one sample; store and cut on schedule."""
        with self._busy:
            self._tick()

    def _tick(self) -> None:
        self._sync_counter()
        self.builder.idle_threshold_s = self._idle_threshold()
        recorded_until = self.builder.timeline
        obs = self.observe()
        self.builder.feed(obs)
        self._follow_pause(obs.wall, recorded_until)
        now = self.clock.monotonic()
        if now - self._last_cut >= self.cut_every():
            self.builder.cut()
            if self._pause_from is not None:  # a long pause is sent piece by piece
                self._end_pause(obs.wall)
                self._pause_from = obs.wall
            self.store()
            self._last_cut = now
            self.on_cut()
        elif now - self._last_store >= STORE_EVERY_S:
            self.store()

    def store(self) -> None:
        """Write finished spans and the checkpoint in one transaction.

        Through a `Spool` (as `run` does) this never raises for the disk: what
        it refuses waits in memory and the next store retries.
        """
        spans = self.builder.take_finished() + self._pause_spans
        self._pause_spans = []
        self.queue.store(spans, self.builder.snapshot(), self.tz)
        self._last_store = self.clock.monotonic()

    def finish(self) -> None:
        """Count up to now, close the current span and store everything (shutdown)."""
        with self._busy:
            self._finish()
            self.finished.set()

    def _finish(self) -> None:
        try:
            recorded_until = self.builder.timeline
            obs = self.observe()
            self.builder.feed(obs)
            self._follow_pause(obs.wall, recorded_until)
        except Exception:  # the display is gone (logoff): stop at the last sample
            log.info("no last sample at shutdown")
        if self._pause_from is not None and self._last_wall is not None:
            self._end_pause(self._last_wall)
        self.builder.close()
        self.store()
        self._counter.stop()

    def run(self, stop: threading.Event) -> None:
        """Sample every `sample_interval_s` on the monotonic clock until `stop`."""
        period = self.policy.get().sample_interval_s or 1.0
        next_at = time.monotonic()
        while not stop.is_set():
            self.tick()
            next_at += period
            delay = next_at - time.monotonic()
            if delay < 0:  # fell behind (suspend, load): do not burst to catch up
                next_at = time.monotonic()
                delay = 0
            stop.wait(delay)


#: What Windows leaves a process between WM_QUERYENDSESSION or WM_ENDSESSION
#: and telling the user it "prevents shutdown" (or ending it): 5 s; we stay under.
SESSION_END_WAIT_S = 4.0


class SessionEnd:
    """Logoff and shutdown, as the platform hears them on its own thread.

    `query()` (WM_QUERYENDSESSION) stores the open span and the tentative tail
    as the checkpoint, which the next start keeps (`Queue.recover`), at once
    (Windows asks the apps one after the other: the logoff waits for us); the
    logoff may still be cancelled, so sampling goes on. `end()` (WM_ENDSESSION)
    stops the run loop and returns once `finish()` has closed and stored
    everything, since Windows may end the process as soon as it returns.
    """

    def __init__(
        self, sampler: Sampler, stop: threading.Event, timeout: float = SESSION_END_WAIT_S
    ) -> None:
        self.sampler = sampler
        self.stop = stop
        self.timeout = timeout

    def query(self) -> None:
        """Store now; the session may still go on."""
        if not self.sampler.store_now(self.timeout):
            log.warning("session ending: the sampler did not store in time")
        else:
            log.info("session ending: everything stored")

    def end(self) -> None:
        """Stop sampling; return once everything is stored (or after the timeout)."""
        log.info("session ends: stopping")
        self.stop.set()
        if not self.sampler.finished.wait(self.timeout):
            log.warning("session ends: the last span was not stored in time")
