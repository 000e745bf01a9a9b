"""The span builder, driven by a scripted clock and platform (no OS)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from oxytrack_agent.platforms import Window
from oxytrack_agent.spans import Observation, Span, SpanBuilder, next_local_midnight

PARIS = ZoneInfo("Europe/Paris")
# 2026-06-15 23:55:00 in Paris: five minutes before a local midnight.
BEFORE_MIDNIGHT = datetime(2026, 6, 15, 23, 55, tzinfo=PARIS).timestamp()
EDITOR = Window("gedit", "notes.txt — gedit", 10)
BROWSER = Window("firefox", "Accueil — Mozilla Firefox", 11)
WINDOWS = [EDITOR, BROWSER, Window("xterm", "bash", 12)]


class Driver:
    """Feeds a builder the way the sampler does, one observation per second."""

    def __init__(self, threshold: float = 5.0, wall: float = 1_780_000_000.0) -> None:
        self.builder = SpanBuilder(idle_threshold_s=threshold, tz=PARIS)
        self.mono = 100.0
        self.wall = wall
        self.last_input = self.mono
        self.keys = 0
        self.clicks = 0
        self.spans: list[Span] = []

    def tick(
        self,
        window: Window | None,
        *,
        seconds: int = 1,
        locked: bool = False,
        input_: bool = False,
        keys: int = 0,
        clicks: int = 0,
    ) -> None:
        """Observe `window` now, then let `seconds` pass (input at the first second)."""
        for i in range(seconds):
            if input_ and i == 0:
                self.last_input = self.mono
            self.builder.feed(
                Observation(
                    self.mono,
                    self.wall,
                    window,
                    self.mono - self.last_input,
                    locked,
                    self.keys,
                    self.clicks,
                )
            )
            self.keys, self.clicks = (keys, clicks) if i == 0 else (0, 0)
            self.mono += 1
            self.wall += 1

    def close(self) -> list[Span]:
        """One last observation (which closes the last second), then close."""
        self.builder.feed(
            Observation(
                self.mono,
                self.wall,
                None,
                self.mono - self.last_input,
                False,
                self.keys,
                self.clicks,
            )
        )
        self.builder.close()
        self.spans += self.builder.take_finished()
        return self.spans


def summary(spans: list[Span]) -> list[tuple[str, float, bool, int, int]]:
    return [(s.app, s.duration, s.active, s.keys, s.clicks) for s in spans]


def test_equal_consecutive_samples_extend_one_span() -> None:
    d = Driver()
    d.tick(EDITOR, input_=True, keys=3)
    d.tick(EDITOR, seconds=2, input_=True, clicks=1)
    d.tick(BROWSER, seconds=3, input_=True, keys=2)
    assert summary(d.close()) == [("gedit", 3.0, True, 3, 1), ("firefox", 3.0, True, 2, 0)]


def test_idle_starts_exactly_at_the_last_input_once_the_threshold_passes() -> None:
    d = Driver(threshold=5)
    start = d.wall
    d.tick(EDITOR, input_=True)  # input at start
    d.tick(EDITOR, seconds=9)  # no input for 10 s in all
    d.tick(EDITOR, input_=True, seconds=2)
    spans = d.close()
    assert summary(spans) == [("gedit", 10.0, False, 0, 0), ("gedit", 2.0, True, 0, 0)]
    idle = [s for s in spans if not s.active]
    assert idle[0].start == start
    assert idle[0].end == start + 10


def test_a_pause_shorter_than_the_threshold_stays_active() -> None:
    d = Driver(threshold=5)
    d.tick(EDITOR, input_=True)
    d.tick(EDITOR, seconds=3)  # 4 s without input: one short of the threshold
    d.tick(EDITOR, input_=True, seconds=3)
    assert summary(d.close()) == [("gedit", 7.0, True, 0, 0)]


def test_idle_recut_moves_the_pre_input_part_of_the_span_to_idle() -> None:
    # Active typing, then 7 s without input on the same window: the 7 s
    # become idle retroactively, from the exact moment of the last input.
    d = Driver(threshold=5)
    d.tick(EDITOR, input_=True, keys=4)
    d.tick(EDITOR, input_=True, keys=1)
    d.tick(EDITOR, seconds=7)
    spans = d.close()
    assert summary(spans) == [("gedit", 1.0, True, 4, 0), ("gedit", 8.0, False, 1, 0)]


def test_a_suspend_adds_no_time_and_starts_a_new_span() -> None:
    d = Driver()
    d.tick(EDITOR, input_=True, seconds=3)
    d.wall += 3600  # suspended: the wall clock jumps, the monotonic one does not
    d.last_input = d.mono
    d.tick(EDITOR, input_=True, seconds=3)
    spans = d.close()
    assert sum(s.duration for s in spans) == 5.0  # the second before the suspend is lost
    assert spans[-1].start >= spans[0].end + 3600
    assert d.builder.suspends == 1


def test_after_a_backward_clock_step_spans_resume_at_true_wall_time_without_overlap() -> None:
    d = Driver(threshold=600)
    d.tick(EDITOR, input_=True, seconds=10)
    d.wall -= 60  # NTP or a manual change steps the clock back a minute
    # The wall instants up to `first_end` are already recorded: the minute after
    # the step is not recorded again (nothing overlaps, nothing is sent twice).
    d.tick(BROWSER, input_=True, keys=1, seconds=60)
    d.tick(BROWSER, input_=True, keys=2, seconds=5)
    spans = d.close()
    # The editor's last second ends after the step, inside the recorded minute.
    assert summary(spans) == [("gedit", 9.0, True, 0, 0), ("firefox", 6.0, True, 2, 0)]
    # From there on, spans are at true wall time: the browser's span starts at
    # the editor's end, when the corrected clock reaches it.
    assert spans[1].start == spans[0].end
    assert spans[1].end == d.wall
    assert d.builder.timeline == d.wall


def test_a_backward_step_keeps_later_spans_on_the_wall_clock() -> None:
    d = Driver()
    d.tick(EDITOR, input_=True, seconds=3)
    d.wall -= 1.5  # a small step: half of the next second is already recorded
    d.tick(BROWSER, input_=True, seconds=4)
    spans = d.close()
    assert [s.app for s in spans] == ["gedit", "firefox"]
    assert spans[1].start == spans[0].end
    assert spans[1].end == d.wall
    assert sum(s.duration for s in spans) == 3.0 + 4.0 - 1.5


def test_locked_time_is_no_time() -> None:
    d = Driver()
    d.tick(EDITOR, input_=True, seconds=2)
    d.tick(None, locked=True, seconds=30)
    d.tick(EDITOR, input_=True, seconds=2)
    spans = d.close()
    assert summary(spans) == [("gedit", 2.0, True, 0, 0), ("gedit", 2.0, True, 0, 0)]
    assert spans[1].start - spans[0].end == 30


def test_spans_are_cut_at_local_midnight() -> None:
    d = Driver(threshold=600, wall=BEFORE_MIDNIGHT)
    d.tick(EDITOR, input_=True, seconds=600)
    spans = d.close()
    midnight = datetime(2026, 6, 16, tzinfo=PARIS).timestamp()
    assert [(s.start, s.end) for s in spans] == [
        (BEFORE_MIDNIGHT, midnight),
        (midnight, BEFORE_MIDNIGHT + 600),
    ]


def test_next_local_midnight_on_a_dst_day() -> None:
    # 2026-03-29 has 23 hours in Paris: the next midnight is 23 h after the last.
    start = datetime(2026, 3, 29, 0, 0, tzinfo=PARIS).timestamp()
    assert next_local_midnight(start, PARIS) - start == 23 * 3600


def test_wire_form_has_an_offset_and_round_trips() -> None:
    span = Span(1_780_000_000.25, 1_780_000_010.5, "gedit", "é 😀 <script>", True, 3, 1)
    wire = span.to_wire()
    assert wire["start"].endswith("+00:00")
    assert wire["duration_s"] == 10.25
    assert Span.from_wire(wire) == span


def test_the_snapshot_holds_the_open_span_and_the_tentative_tail() -> None:
    d = Driver(threshold=5)
    d.tick(EDITOR, input_=True, seconds=2)
    d.tick(EDITOR, seconds=1)
    snap = d.builder.snapshot()
    assert sum(s.duration for s in snap) == 2.0  # observed up to the third sample
    assert all(s.active for s in snap)


# --- property test ----------------------------------------------------------------

On = st.tuples(
    st.just("on"), st.integers(0, 2), st.booleans(), st.integers(0, 3), st.integers(0, 2)
)
Step = st.one_of(
    On,
    On,
    On,
    st.tuples(st.just("lock")),
    st.tuples(st.just("unknown")),
    st.tuples(st.just("suspend"), st.integers(10, 5000)),
    st.tuples(st.just("back"), st.integers(1, 5000)),
)


@dataclass
class Second:
    start: float
    window: Window
    active: bool = True
    keys: int = 0
    clicks: int = 0
    mono: int = 0  # the sample that opened it


def samples(steps: list[tuple[object, ...]]) -> list[tuple[int, tuple[object, ...]]]:
    """(net wall-clock jump before it, step) for each sample; the last one closes."""
    out: list[tuple[int, tuple[object, ...]]] = []
    jump = 0
    for step in [*steps, ("end",)]:
        if step[0] == "suspend":
            jump += step[1]  # type: ignore[operator]
        elif step[0] == "back":
            jump -= step[1]  # type: ignore[operator]
        else:
            out.append((jump, step))
            jump = 0
    return out


def reference(steps: list[tuple[object, ...]], start_wall: float, threshold: int) -> list[Second]:
    """The seconds DESIGN.md says to count, each labelled active or idle.

    A second counts when the session is unlocked with a known window, the
    machine does not suspend before the next sample (a net forward jump of
    the wall clock over 4 s between two 1 s samples), and its wall-clock
    position (it ends at the next sample's wall time) lies after everything
    counted so far: after a backward step the same wall instants are not
    counted twice. Within a stretch (from its first unlocked sample to the
    sample that ends it), the stretch start and each input split time, on the
    monotonic clock, into gaps; a gap at least `threshold` long is idle.
    """
    seconds: list[Second] = []
    stretches: list[tuple[int, list[int], list[int]]] = []  # (first second, inputs, [end])
    obs = samples(steps)
    wall = start_wall + obs[0][0]
    hi = wall  # the end of recorded wall time
    open_stretch = False
    for i, (_, step) in enumerate(obs[:-1]):
        kind = step[0]
        next_jump = obs[i + 1][0]
        suspended = next_jump > 4
        next_wall = wall + 1 + next_jump
        if kind == "on":
            _, w, inp, keys, clicks = step
            if not open_stretch:
                stretches.append((len(seconds), [i], [i]))
                open_stretch = True
            if inp:
                stretches[-1][1].append(i)
            if not suspended and next_wall - 1 >= hi:
                seconds.append(
                    Second(
                        next_wall - 1,
                        WINDOWS[w],  # type: ignore[call-overload]
                        True,
                        keys if inp else 0,  # type: ignore[arg-type]
                        clicks if inp else 0,  # type: ignore[arg-type]
                        i,
                    )
                )
            # The stretch's idleness is last decided at the next sample, or
            # at this one if the machine suspends before the next.
            stretches[-1][2][0] = i if suspended else i + 1
        if suspended or kind != "on":
            open_stretch = False
        hi = max(hi, next_wall)
        wall = next_wall
    for n, (first, inputs, (end,)) in enumerate(stretches):
        last = stretches[n + 1][0] if n + 1 < len(stretches) else len(seconds)
        chunk = seconds[first:last]
        marks = sorted({*(x for x in inputs if x <= end), end})
        for a, b in itertools.pairwise(marks):
            if b - a >= threshold:
                for s in chunk:
                    if a <= s.mono < b:
                        s.active = False
    return seconds


def drive(steps: list[tuple[object, ...]], start_wall: float, threshold: int) -> list[Span]:
    builder = SpanBuilder(idle_threshold_s=threshold, tz=PARIS)
    mono, wall, last_input = 100.0, start_wall, 100.0
    keys = clicks = 0
    out: list[Span] = []
    window: Window | None = None
    for step in steps:
        kind = step[0]
        if kind == "suspend":
            wall += step[1]  # type: ignore[operator]
            continue
        if kind == "back":
            wall -= step[1]  # type: ignore[operator]
            continue
        locked = kind == "lock"
        window = WINDOWS[step[1]] if kind == "on" else None  # type: ignore[call-overload]
        if kind == "on" and step[2]:
            last_input = mono
        builder.feed(Observation(mono, wall, window, mono - last_input, locked, keys, clicks))
        keys, clicks = (step[3], step[4]) if kind == "on" and step[2] else (0, 0)  # type: ignore[assignment]
        out += builder.take_finished()
        mono += 1
        wall += 1
    builder.feed(Observation(mono, wall, None, mono - last_input, False, keys, clicks))
    builder.close()
    return out + builder.take_finished()


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(Step, max_size=250),
    before_midnight=st.integers(0, 300),
    threshold=st.sampled_from([2, 3, 5, 17]),
)
def test_spans_match_the_time_semantics(
    steps: list[tuple[object, ...]], before_midnight: int, threshold: int
) -> None:
    # A net forward jump of 1-4 s is clock drift, neither time nor suspend: the
    # builder stretches one sample over it, which seconds cannot describe.
    assume(all(not 0 < jump <= 4 for jump, _ in samples(steps)))
    start = BEFORE_MIDNIGHT + 300 - before_midnight
    spans = drive(steps, start, threshold)
    expected = reference(steps, start, threshold)

    # No overlaps, in order, nothing empty, nothing across a local midnight.
    for a, b in itertools.pairwise(spans):
        assert a.end <= b.start
    for s in spans:
        assert s.duration > 0
        assert s.end <= next_local_midnight(s.start, PARIS)
    # Total time = awake, unlocked time.
    assert sum(s.duration for s in spans) == len(expected)
    # Every second is where it should be, with its active/idle label.
    for sec in expected:
        (covering,) = [s for s in spans if s.start <= sec.start and sec.start + 1 <= s.end]
        assert (covering.app, covering.title, covering.active) == (
            sec.window.app,
            sec.window.title,
            sec.active,
        ), sec
    # Input counts land in the span of the second they happened in.
    for s in spans:
        inside = [x for x in expected if s.start <= x.start < s.end]
        assert s.keys == sum(x.keys for x in inside)
        assert s.clicks == sum(x.clicks for x in inside)
