"""The span builder: turns 1 Hz observations into non-overlapping spans.

Time semantics (DESIGN.md): time counts only while the session is awake and
unlocked; once no input has been seen for `idle_threshold_s`, the time since
the last input is idle, retroactively. So the builder keeps the time since the
last input *tentative* until it knows: input before the threshold makes it
active, the threshold passing makes it idle (measured on the monotonic clock).
A wall-clock jump (or a stalled monotonic clock) larger than `gap_s` is a
suspend and adds no time. Spans are cut at local midnight.

All times inside are POSIX seconds on the builder's timeline, which is the
wall clock at each sample, except that nothing is recorded twice: after the
wall clock steps backwards, time counts again (at true wall time) once the
clock passes the end of what was recorded, so spans never overlap.

Input is placed by the moment it happened: a key typed just after a focus
change goes to the new window, one typed just after an unlock is counted,
when the platform reports those moments (X11 does, from X events).
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
    #: False for a private pause: time not tracked, with no app, title or counts.
    tracked: bool = True

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
        wire: dict[str, Any] = {
            "start": start.isoformat(timespec="milliseconds"),
            "duration_s": (end_ms - start_ms) / 1000,
            "app": self.app,
            "title": self.title,
            "active": self.active,
            "keys": self.keys,
            "clicks": self.clicks,
        }
        if not self.tracked:
            # Only paused spans carry the flag: tracked spans keep the old shape.
            wire["tracked"] = False
        return wire

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
            tracked=data.get("tracked", True) is not False,
        )


@dataclass(frozen=True, slots=True)
class Observation:
    """One sample: both clocks, what the OS said, and the input since the last one.

    Input comes as monotonic times of each key press and click
    (`key_times`, `click_times`); `keys` and `clicks` count events of unknown
    time, taken as happening at the previous sample. `focus_at`, `locked_at`
    and `unlocked_at` are monotonic times the platform saw since the previous
    sample (the first focus or title change, the first lock, the last unlock),
    None when it did not see one or cannot tell. `idle_s` None: not read.
    """

    mono: float
    wall: float
    window: Window | None
    idle_s: float | None
    locked: bool = False
    keys: int = 0
    clicks: int = 0
    key_times: tuple[float, ...] = ()
    click_times: tuple[float, ...] = ()
    focus_at: float | None = None
    locked_at: float | None = None
    unlocked_at: float | None = None
    #: Every focus/title change since the previous sample with the window then.
    switches: tuple[tuple[float, Window | None], ...] = ()


@dataclass(slots=True)
class _Segment:
    """Tentative time on one window; input as positions on the timeline."""

    start: float
    end: float
    window: Window
    keys: list[float]
    clicks: list[float]


def _split(times: list[float], cut: float) -> tuple[list[float], list[float]]:
    """(before `cut`, from `cut` on)."""
    return [t for t in times if t < cut], [t for t in times if t >= cut]


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
        # The end of recorded time: nothing is ever recorded before it.
        self._t = 0.0
        # Idleness is measured on the monotonic clock, never on the timeline:
        # the timeline follows the wall clock, which NTP slews and steps, and
        # which a busy process reads a little after the monotonic one. The
        # timeline positions of those moments are kept for the cuts.
        self._last_input = 0.0
        self._last_input_mono = 0.0
        self._stretch_start_mono = 0.0
        # Input of an interval whose time could not be placed (the first
        # sample after an unlock whose moment is unknown, an unreadable
        # sample): it goes to the start of the next counted time.
        self._carry_keys = 0
        self._carry_clicks = 0
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
            self._restart(obs, obs.wall)
            return
        mono_dt = obs.mono - prev.mono
        wall_dt = obs.wall - prev.wall
        if mono_dt > self.gap_s or wall_dt > self.gap_s or mono_dt < 0:
            # Suspend/hibernate (wall jumps, monotonic does not on Linux/macOS;
            # both jump on Windows) or a process frozen: we cannot know, count nothing.
            # Input of that interval has no moment we could place either.
            self.suspends += 1
            self._end_stretch()
            self._restart(obs, obs.wall, carry=False)
            return
        # Follow the wall clock. After it steps backwards, the wall instants up
        # to the end of recorded time are not recorded again (no overlap, nothing
        # twice): time counts again, at true wall time, once the clock passes it.
        now = max(obs.wall, self._t)
        seg_start = self._t

        def pos(mono: float) -> float:
            """The timeline position of a monotonic moment of this interval."""
            return min(now, max(seg_start, now - (obs.mono - mono)))

        keys = [*obs.key_times, *([prev.mono] * obs.keys)]
        clicks = [*obs.click_times, *([prev.mono] * obs.clicks)]
        if prev.locked or prev.window is None:
            self._end_stretch()
            if obs.locked or obs.window is None:
                # Typed into a lock screen, or nowhere we can tell: no time, no input.
                self._restart(obs, now, carry=False)
            elif prev.locked and obs.unlocked_at is not None:
                # The platform saw the unlock: time and input count from that moment.
                since = min(max(obs.unlocked_at, prev.mono), obs.mono)
                self._start_stretch(pos(since), since)
                self._add_segment(
                    pos(since),
                    now,
                    obs.window,
                    [pos(m) for m in keys if m >= since],
                    [pos(m) for m in clicks if m >= since],
                )
            else:
                self._restart(obs, now)
        else:
            until = obs.mono
            if obs.locked and obs.locked_at is not None:
                until = min(max(obs.locked_at, prev.mono), obs.mono)
            keys = [m for m in keys if m <= until]
            clicks = [m for m in clicks if m <= until]
            keys_at = [seg_start] * self._carry_keys + [pos(m) for m in keys]
            clicks_at = [seg_start] * self._carry_clicks + [pos(m) for m in clicks]
            if now > seg_start:
                self._carry_keys = self._carry_clicks = 0
            end = pos(until)
            pieces: list[tuple[float, Window]] = [(seg_start, prev.window)]
            if not obs.locked and obs.window is not None:
                seen = [(m, w) for m, w in obs.switches if prev.mono < m <= until]
                if not seen and obs.focus_at is not None and obs.window != prev.window:
                    seen = [(obs.focus_at, obs.window)]
                for i, (m, w) in enumerate(seen):
                    # The sample's own reading rules from the last change on.
                    window = obs.window if i == len(seen) - 1 else w or pieces[-1][1]
                    pieces.append((pos(max(m, prev.mono)), window))
            # Cut the second at each change the platform saw: time and input
            # go to the window that had the focus at their moment.
            bounds = [start for start, _ in pieces[1:]] + [end]
            kept = [(a, b, w) for (a, w), b in zip(pieces, bounds, strict=True) if b > a]
            for i, (a, b, window) in enumerate(kept):
                first, last = i == 0, i == len(kept) - 1
                self._add_segment(
                    a,
                    b,
                    window,
                    [t for t in keys_at if (first or t >= a) and (last or t < b)],
                    [t for t in clicks_at if (first or t >= a) and (last or t < b)],
                )
        self._t = now
        self._account_idle(obs, prev.mono, seg_start, now, [*keys, *clicks])

    def _restart(self, obs: Observation, t: float, *, carry: bool = True) -> None:
        """A new stretch at `t`; the observation's input, if any, goes to its first second."""
        self._start_stretch(max(t, self._t), obs.mono)
        if carry:
            self._carry_keys += obs.keys + len(obs.key_times)
            self._carry_clicks += obs.clicks + len(obs.click_times)
        else:
            self._carry_keys = self._carry_clicks = 0

    def _start_stretch(self, t: float, mono: float) -> None:
        self._t = max(self._t, t)
        # Unlocking or waking is input; idleness is measured from here at the earliest.
        self._last_input = t
        self._last_input_mono = mono
        self._stretch_start_mono = mono

    def _end_stretch(self) -> None:
        # The tentative tail is shorter than the threshold (else it would be
        # idle already): it was active time cut short by a lock or a suspend.
        self._finalize_until(float("inf"), active=True)

    def _add_segment(
        self, start: float, end: float, window: Window, keys: list[float], clicks: list[float]
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

    def _account_idle(
        self,
        obs: Observation,
        prev_mono: float,
        seg_start: float,
        now: float,
        events: list[float],
    ) -> None:
        if obs.idle_s is None:
            return  # nothing was read: no news about input

        def pos(mono: float) -> float:
            # An input of this interval lies in it; one the previous sample
            # missed (its idle reading came late) lies before it, after the
            # input seen before.
            at = now - (obs.mono - mono)
            if mono >= prev_mono:
                return min(now, max(seg_start, at))
            return min(seg_start, max(self._last_input, at))

        if not obs.locked:  # what is typed into a lock screen is no activity
            last_input = max(obs.mono - max(obs.idle_s, 0.0), self._stretch_start_mono)
            if last_input > self._last_input_mono + _INPUT_JITTER_S:
                # The pause ended at the first input after it: the OS idle
                # counter knows the last event, our listener each one.
                after = [m for m in events if m > self._last_input_mono + _INPUT_JITTER_S]
                resumed = min([last_input, *after])
                if resumed - self._last_input_mono >= self.idle_threshold_s:
                    self._finalize_until(pos(resumed), active=False)
                self._finalize_until(pos(last_input), active=True)
                self._last_input_mono = last_input
                self._last_input = pos(last_input)
        if obs.mono - self._last_input_mono >= self.idle_threshold_s:
            self._finalize_until(now, active=False)

    def _finalize_until(self, cut: float, *, active: bool) -> None:
        while self._tentative:
            seg = self._tentative[0]
            if seg.start >= cut:
                break
            if seg.end <= cut:
                self._tentative.pop(0)
                self._emit(seg.start, seg.end, seg.window, active, seg.keys, seg.clicks)
                continue
            keys, seg.keys = _split(seg.keys, cut)
            clicks, seg.clicks = _split(seg.clicks, cut)
            self._emit(seg.start, cut, seg.window, active, keys, clicks)
            seg.start = cut
            break

    # --- output --------------------------------------------------------------

    def _emit(
        self,
        start: float,
        end: float,
        window: Window,
        active: bool,
        keys: list[float],
        clicks: list[float],
    ) -> None:
        while end > start:
            midnight = next_local_midnight(start, self.tz)
            piece_end = min(end, midnight)
            if piece_end < end:
                here_k, keys = _split(keys, piece_end)
                here_c, clicks = _split(clicks, piece_end)
            else:
                here_k, here_c = keys, clicks
            self._extend_or_open(
                start, piece_end, window, active, len(here_k), len(here_c), midnight
            )
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
                here_k, keys = _split(keys, end) if end < seg.end else (keys, [])
                here_c, clicks = _split(clicks, end) if end < seg.end else (clicks, [])
                spans.append(
                    Span(
                        start, end, seg.window.app, seg.window.title, True, len(here_k), len(here_c)
                    )
                )
                start = end
        return spans

    @property
    def timeline(self) -> float:
        """The builder's current time (POSIX seconds)."""
        return self._t
