"""A scripted platform and clock for tests: a timeline of states, no OS."""

from __future__ import annotations

from dataclasses import dataclass, field

from oxytrack_agent.platforms import Changes, Window, changes_of


@dataclass
class FakeClock:
    """Monotonic and wall clocks that tests move by hand (suspend = wall only)."""

    mono: float = 1000.0
    wall: float = 1_780_000_000.0

    def monotonic(self) -> float:
        """The fake monotonic clock."""
        return self.mono

    def time(self) -> float:
        """The fake wall clock (POSIX seconds)."""
        return self.wall

    def advance(self, seconds: float) -> None:
        """Both clocks move: the machine is awake."""
        self.mono += seconds
        self.wall += seconds

    def suspend(self, seconds: float) -> None:
        """Only the wall clock moves, as across a suspend on Linux and macOS."""
        self.wall += seconds


@dataclass
class FakePlatform:
    """A platform whose focused window, last input and lock state tests set."""

    clock: FakeClock
    window: Window | None = None
    locked: bool = False
    last_input_mono: float = field(default=0.0)
    name: str = "fake"
    #: (monotonic time, "focus" | "lock" | "unlock", window), as a watcher sees them.
    events: list[tuple[float, str, Window | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.last_input_mono:
            self.last_input_mono = self.clock.mono

    def input(self) -> None:
        """Record input now (a key or a click)."""
        self.last_input_mono = self.clock.mono

    def focused_window(self) -> Window | None:
        """The scripted window."""
        return self.window

    def idle_seconds(self) -> float:
        """Seconds since the scripted last input, on the monotonic clock as OSes count it."""
        return max(0.0, self.clock.mono - self.last_input_mono)

    def session_locked(self) -> bool:
        """The scripted lock state."""
        return self.locked

    def switch(self, window: Window | None) -> None:
        """Focus `window` now, as a watcher would see it."""
        self.window = window
        self.events.append((self.clock.mono, "focus", window))

    def lock(self, locked: bool) -> None:
        """Lock or unlock the session now."""
        self.locked = locked
        self.events.append((self.clock.mono, "lock" if locked else "unlock", None))

    def changes(self, after: float, until: float) -> Changes:
        """The scripted events in (after, until]."""
        return changes_of(self.events, after, until)

    def close(self) -> None:
        """Nothing to release."""
