"""Platform backends behind one interface.

Each backend module is imported only by `current_platform()`, so Windows
never imports Xlib and Linux never imports ctypes.windll or pyobjc.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

#: The app name a desktop with no focused window is recorded under: it is still
#: screen time (the session is unlocked and awake), just not in any window.
DESKTOP_APP = "desktop"


@dataclass(frozen=True, slots=True)
class Window:
    """The focused window as the employee sees it."""

    app: str
    title: str
    pid: int | None = None


@dataclass(frozen=True, slots=True)
class Changes:
    """Moments (monotonic seconds) a platform saw between two samples; None: not seen.

    A backend that watches the session (X11: X events) reports them so input
    is placed by its moment; `Platform.changes(after, until)` is optional.
    """

    focus: float | None = None  # the first focus or title change
    lock: float | None = None  # the first time the session locked
    unlock: float | None = None  # the last time it unlocked
    #: Every focus or title change, oldest first, with the window read just after.
    windows: tuple[tuple[float, Window | None], ...] = ()


def changes_of(
    events: Iterable[tuple[float, str, Window | None]], after: float, until: float
) -> Changes:
    """Summarize (monotonic time, "focus" | "lock" | "unlock", window) events in (after, until]."""
    seen = [e for e in events if after < e[0] <= until]
    focus = tuple((t, w) for t, kind, w in seen if kind == "focus")
    return Changes(
        focus=focus[0][0] if focus else None,
        lock=min((t for t, kind, _ in seen if kind == "lock"), default=None),
        unlock=max((t for t, kind, _ in seen if kind == "unlock"), default=None),
        windows=focus,
    )


class UnsupportedPlatform(Exception):
    """The session cannot be observed reliably (e.g. Wayland without X11)."""


class Platform(Protocol):
    """What the sampler needs from the operating system, read once per sample.

    A backend may also offer `changes(after, until)` (the moments of focus
    changes and locks it saw: X11, Windows), `input_counter()` (its own key
    and click counter: X11, Windows) and `on_session_end(handler)` (logoff
    and shutdown come as messages to it, not as signals: Windows; see
    sampler.SessionEnd).
    """

    name: str

    def focused_window(self) -> Window | None:
        """The focused window; None when it cannot be known (then no time is recorded)."""
        ...

    def idle_seconds(self) -> float:
        """Seconds since the last keyboard or mouse input in this session."""
        ...

    def session_locked(self) -> bool:
        """True when the OS says the session is locked (locked time is no time)."""
        ...

    def close(self) -> None:
        """Release OS resources (display connection, handles)."""
        ...


def wayland_without_x11(environ: dict[str, str] | None = None) -> bool:
    """True on a Wayland session: X11 there only sees XWayland windows, so it would lie."""
    env = os.environ if environ is None else environ
    return env.get("XDG_SESSION_TYPE", "").lower() == "wayland" or (
        bool(env.get("WAYLAND_DISPLAY")) and not env.get("DISPLAY")
    )


def full_user_name() -> str:
    """The person's full name as this OS knows it, or '' (never raises).

    Sent at enrollment so pages show "Jean Dupont" rather than a login; the
    backend module is imported lazily, as in `current_platform()`.
    """
    try:
        if sys.platform == "win32":
            from oxytrack_agent.platforms import windows

            return windows.full_user_name()
        if sys.platform == "darwin":
            from oxytrack_agent.platforms import macos

            return macos.full_user_name()
        from oxytrack_agent.platforms import x11

        return x11.full_user_name()
    except Exception:
        # A name is a nicety: nothing about it may stop an enrollment.
        return ""


def current_platform() -> Platform:
    """The backend for this OS, imported lazily.

    Raises UnsupportedPlatform with a message for the employee and the log when
    the session cannot be observed (Wayland without X11, no display).
    """
    if sys.platform == "win32":
        from oxytrack_agent.platforms.windows import WindowsPlatform

        return WindowsPlatform()
    if sys.platform == "darwin":
        from oxytrack_agent.platforms.macos import MacPlatform

        return MacPlatform()
    if wayland_without_x11():
        raise UnsupportedPlatform(
            "Session Wayland sans X11 : la fenêtre active ne peut pas être lue, "
            "rien n'est enregistré (Wayland session without X11: nothing is recorded)."
        )
    if not os.environ.get("DISPLAY"):
        raise UnsupportedPlatform(
            "Aucun affichage X11 (DISPLAY vide) : rien n'est enregistré "
            "(no X11 display: nothing is recorded)."
        )
    from oxytrack_agent.platforms.x11 import X11Platform

    return X11Platform()
