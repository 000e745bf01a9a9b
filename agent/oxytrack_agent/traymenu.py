"""What the tray icon shows: its state and its menu's texts, as pure functions.

Kept apart from tray.py so that it can be tested without a display and
without pystray or Pillow: the tray only draws what these functions say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import Enum

from oxytrack_agent.i18n import _
from oxytrack_agent.pause import PauseState
from oxytrack_agent.policy import Policy

#: The pause lengths offered, in minutes (each cut to what is left of the day).
PAUSE_CHOICES = (15, 30, 60)


class Mode(Enum):
    """What the agent does now, as the employee should read it."""

    TRACKING = "tracking"
    PAUSED = "paused"
    OFF_HOURS = "off_hours"
    STOPPED = "stopped"


@dataclass(frozen=True)
class TrayState:
    """Everything the icon and its menu depend on; equal states draw the same icon."""

    mode: Mode
    #: End of the current pause, "HH:MM" local (only when paused).
    until: str = ""
    #: The policy's daily maximum, minutes (0: pausing is off).
    max_minutes: int = 0
    #: Whole minutes of pause left today.
    left_minutes: int = 0


@dataclass(frozen=True)
class PauseChoice:
    """One "pause" menu item: its text, the minutes it asks for, whether it can be used."""

    label: str
    minutes: int | None
    enabled: bool


def tray_state(
    policy: Policy, pause: PauseState, *, running: bool, t: float, tz: tzinfo
) -> TrayState:
    """The state at POSIX time `t` (`running`: the agent's `run` holds its lock)."""
    maximum = policy.pause_max_minutes_per_day
    today = datetime.fromtimestamp(t, tz=tz).date().isoformat()
    left = max(0.0, maximum * 60 - pause.used_on(today, t, maximum)) if maximum > 0 else 0.0
    mode, until = Mode.TRACKING, ""
    schedule = policy.work_schedule
    end = pause.end(maximum)
    if not running:
        mode = Mode.STOPPED
    elif schedule is not None and not schedule.is_working(t, tz):
        mode = Mode.OFF_HOURS
    elif end is not None and pause.paused_at(t, maximum):
        mode = Mode.PAUSED
        until = datetime.fromtimestamp(end, tz=tz).strftime("%H:%M")
    return TrayState(mode, until, round(maximum), int(left // 60))


def state_text(state: TrayState) -> str:
    """One line: the menu's first item and the icon's tooltip."""
    if state.mode is Mode.STOPPED:
        return _("Agent arrêté : rien n'est mesuré")
    if state.mode is Mode.OFF_HOURS:
        return _("Hors horaires de travail : rien n'est enregistré")
    if state.mode is Mode.PAUSED:
        return _("En pause jusqu'à {time} : rien n'est enregistré").format(time=state.until)
    return _("Suivi actif")


def pause_choices(state: TrayState) -> list[PauseChoice]:
    """The pause items: 15/30/60 min, cut to what is left today; one disabled line when none."""
    if state.max_minutes <= 0:
        return [PauseChoice(_("Pause désactivée par la politique de l'entreprise"), None, False)]
    if state.left_minutes < 1:
        return [
            PauseChoice(
                _("Pause : les {n} min du jour sont utilisées").format(n=state.max_minutes),
                None,
                False,
            )
        ]
    choices: list[PauseChoice] = []
    for minutes in PAUSE_CHOICES:
        if minutes <= state.left_minutes:
            choices.append(PauseChoice(_("Pause {n} min").format(n=minutes), minutes, True))
            continue
        # Longer than what is left: one item for "the rest of today", then nothing longer.
        if not choices or (choices[-1].minutes or 0) < state.left_minutes:
            choices.append(
                PauseChoice(
                    _("Pause {n} min (tout ce qui reste aujourd'hui)").format(n=state.left_minutes),
                    state.left_minutes,
                    True,
                )
            )
        break
    return choices


def left_text(state: TrayState) -> str:
    """What is left of today's pause (a disabled line under the state); "" when pausing is off."""
    if state.max_minutes <= 0:
        return ""
    return _("Pause restante aujourd'hui : {left} min sur {n}").format(
        left=state.left_minutes, n=state.max_minutes
    )


def resume_text() -> str:
    """The "resume" item."""
    return _("Reprendre le suivi")


def portal_text() -> str:
    """The item that opens the employee portal."""
    return _("Mon activité (ce que voient mes responsables)")


def status_text() -> str:
    """The item that shows `oxytrack-agent status` in a window."""
    return _("État détaillé de l'agent")


def window_text() -> str:
    """The item (and click action) that opens the small pause window."""
    return _("Petite fenêtre de pause")
