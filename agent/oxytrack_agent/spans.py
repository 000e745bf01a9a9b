"""The span builder: turns 1 Hz observations into non-overlapping spans.

Time semantics (DESIGN.md): time counts only while the session is awake and
unlocked; once no input has been seen for `idle_threshold_s`, the time since
the last input is idle, retroactively. So the builder keeps the time since the
last input *tentative* until it knows: input before the threshold makes it
active, the threshold passing makes it idle. A wall-clock jump (or a stalled
monotonic clock) larger than `gap_s` is a suspend and adds no time; after the
wall clock steps backwards the timeline continues from where it was, so spans
never overlap. Spans are cut at local midnight.

All times inside are POSIX seconds on the builder's timeline, which follows the
wall clock except that it never goes backwards.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from oxytrack_agent.platforms import Window

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Input seen less than this after the previous last input is clock jitter
#: (the OS idle counter and our clock are read a few ms apart), not new input.
_INPUT_JITTER_S = 0.25


@dataclass(slots=True)
class Span:
    """A stretch of time on one window, active or idle, with its input counts."""

    start: float
    end: float
    app: str
    title: str
    active: bool
    keys: int = 0
    clicks: int = 0

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start

    def to_wire(self) -> dict[str, Any]:
        """The span as the agent API expects it (ISO 8601 start with offset).

        Both ends are rounded to the same millisecond grid, so a span that
        starts where the previous one ended still does on the server (which
        refuses even a 1 ms overlap).
        """
        start_ms = round(self.start * 1000)
        end_ms = round(self.end * 1000)
        start = _EPOCH + timedelta(milliseconds=start_ms)
        return {
            "start": start.isoformat(timespec="milliseconds"),
            "duration_s": (end_ms - start_ms) / 1000,
            "app": self.app,
            "title": self.title,
            "active": self.active,
            "keys": self.keys,
            "clicks": self.clicks,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Span:
        """The inverse of `to_wire` (used by the queue's checkpoint and tests)."""
        start = datetime.fromisoformat(data["start"]).timestamp()
        return cls(
            start=start,
            end=start + float(data["duration_s"]),
            app=str(data["app"]),
            title=str(data["title"]),
            active=bool(data["active"]),
            keys=int(data["keys"]),
            clicks=int(data["clicks"]),
        )


@dataclass(frozen=True, slots=True)
class Observation:
    """One sample: both clocks, what the OS said, and input counts since the last one."""

    mono: float
    wall: float
    window: Window | None
    idle_s: float
    locked: bool = False
    keys: int = 0
    clicks: int = 0


@dataclass(slots=True)
class _Segment:
    start: float
    end: float
    window: Window
    keys: int
    clicks: int


def next_local_midnight(t: float, tz: tzinfo) -> float:
    """The POSIX time of the first local midnight strictly after `t`."""
    local = datetime.fromtimestamp(t, tz=tz)
    day = local.date() + timedelta(days=1)
    midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
    return midnight.timestamp()


class SpanBuilder:
    """Feed observations in order; take finished spans; close at the end."""

    def __init__(self, *, idle_threshold_s: float, tz: tzinfo, gap_s: float = 5.0) -> None:
        self.idle_threshold_s = idle_threshold_s
        self.tz = tz
        self.gap_s = gap_s
        self._prev: Observation | None = None
        self._t = 0.0
        self._last_input = 0.0
        self._stretch_start = 0.0
        self._tentative: list[_Segment] = []
        self._current: Span | None = None
        self._current_day_end = 0.0
        self._finished: list[Span] = []
        self.suspends = 0

    # --- input ---------------------------------------------------------------

    def feed(self, obs: Observation) -> None:
        """Account for the time since the previous observation, then for idleness."""
        prev, self._prev = self._prev, obs
        if prev is None:
            self._start_stretch(max(obs.wall, self._t))
            return
        mono_dt = obs.mono - prev.mono
        wall_dt = obs.wall - prev.wall
        if mono_dt > self.gap_s or wall_dt > self.gap_s or mono_dt < 0:
            # Suspend/hibernate (wall jumps, monotonic does not on Linux/macOS;
            # both jump on Windows) or a process frozen: we cannot know, count nothing.
            self.suspends += 1
            self._end_stretch()
            self._start_stretch(max(obs.wall, self._t))
            return
        expected = self._t + mono_dt
        # Follow the wall clock forwards; after a backward step keep counting
        # from where the timeline was, so nothing overlaps the previous span.
        now = obs.wall if obs.wall > expected else expected
        if prev.locked or prev.window is None:
            self._end_stretch()
            self._start_stretch(now)
        else:
            self._add_segment(self._t, now, prev.window, obs.keys, obs.clicks)
            self._t = now
        self._account_idle(now, obs.idle_s)

    def _start_stretch(self, t: float) -> None:
        self._t = t
        self._stretch_start = t
        # Unlocking or waking is input; idleness is measured from here at the earliest.
        self._last_input = t

    def _end_stretch(self) -> None:
        # The tentative tail is shorter than the threshold (else it would be
        # idle already): it was active time cut short by a lock or a suspend.
        self._finalize_until(float("inf"), active=True, keys_left=True)

    def _add_segment(
        self, start: float, end: float, window: Window, keys: int, clicks: int
    ) -> None:
        if end <= start:
            return
        last = self._tentative[-1] if self._tentative else None
        if last is not None and last.end == start and last.window == window:
            last.end = end
            last.keys += keys
            last.clicks += clicks
        else:
            self._tentative.append(_Segment(start, end, window, keys, clicks))

    def _account_idle(self, now: float, idle_s: float) -> None:
        last_input = max(now - max(idle_s, 0.0), self._stretch_start)
        if last_input > self._last_input + _INPUT_JITTER_S:
            idle_gap = last_input - self._last_input >= self.idle_threshold_s
            # The gap up to this input: idle if it lasted the threshold, else active.
            # Input counts belong to the part after the gap when the gap was idle.
            self._finalize_until(last_input, active=not idle_gap, keys_left=not idle_gap)
            self._last_input = last_input
        if now - self._last_input >= self.idle_threshold_s:
            self._finalize_until(now, active=False, keys_left=True)

    def _finalize_until(self, cut: float, *, active: bool, keys_left: bool) -> None:
        while self._tentative:
            seg = self._tentative[0]
            if seg.start >= cut:
                break
            if seg.end <= cut:
                self._tentative.pop(0)
                self._emit(seg.start, seg.end, seg.window, active, seg.keys, seg.clicks)
                continue
            keys, clicks = (seg.keys, seg.clicks) if keys_left else (0, 0)
            self._emit(seg.start, cut, seg.window, active, keys, clicks)
            seg.start = cut
            seg.keys -= keys
            seg.clicks -= clicks
            break

    # --- output --------------------------------------------------------------

    def _emit(
        self, start: float, end: float, window: Window, active: bool, keys: int, clicks: int
    ) -> None:
        while end > start:
            midnight = next_local_midnight(start, self.tz)
            piece_end = min(end, midnight)
            self._extend_or_open(start, piece_end, window, active, keys, clicks, midnight)
            keys = clicks = 0
            start = piece_end

    def _extend_or_open(
        self,
        start: float,
        end: float,
        window: Window,
        active: bool,
        keys: int,
        clicks: int,
        day_end: float,
    ) -> None:
        cur = self._current
        if (
            cur is not None
            and cur.end == start
            and end <= self._current_day_end
            and cur.app == window.app
            and cur.title == window.title
            and cur.active == active
        ):
            cur.end = end
            cur.keys += keys
            cur.clicks += clicks
            return
        if cur is not None:
            self._finished.append(cur)
        self._current = Span(start, end, window.app, window.title, active, keys, clicks)
        self._current_day_end = day_end

    def continue_after(self, t: float) -> None:
        """Never start before `t` (the end of what an earlier run stored)."""
        self._t = max(self._t, t)

    def take_finished(self) -> list[Span]:
        """Spans that will not change any more, oldest first (and forget them)."""
        out, self._finished = self._finished, []
        return out

    def cut(self) -> None:
        """Finish the span being extended, so an upload now carries it."""
        if self._current is not None:
            self._finished.append(self._current)
            self._current = None

    def close(self) -> None:
        """End of run: the tentative tail is active (shorter than the threshold)."""
        self._end_stretch()
        self.cut()
        self._prev = None

    def snapshot(self) -> list[Span]:
        """What a crash now should keep: the open span and the tentative tail as active."""
        spans = [replace(self._current)] if self._current is not None else []
        for seg in self._tentative:
            keys, clicks, start = seg.keys, seg.clicks, seg.start
            while seg.end > start:  # the tail may cross midnight too
                end = min(seg.end, next_local_midnight(start, self.tz))
                spans.append(Span(start, end, seg.window.app, seg.window.title, True, keys, clicks))
                keys = clicks = 0
                start = end
        return spans

    @property
    def timeline(self) -> float:
        """The builder's current time (POSIX seconds)."""
        return self._t
