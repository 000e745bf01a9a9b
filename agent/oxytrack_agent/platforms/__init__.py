"""Platform backends behind one interface.

Each backend module is imported only by `current_platform()`, so Windows
never imports Xlib and Linux never imports ctypes.windll or pyobjc.
"""

from __future__ import annotations

import os
import sys
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


class UnsupportedPlatform(Exception):
    """The session cannot be observed reliably (e.g. Wayland without X11)."""


class Platform(Protocol):
    """What the sampler needs from the operating system, read once per sample."""

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
