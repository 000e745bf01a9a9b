"""The private pause: the employee stops tracking for a while, within a daily maximum.

`oxytrack-agent pause [MINUTES]` and `resume` write a small JSON control file
in the agent's data directory (written whole, then renamed: never half a
file); the running agent's sampler reads it again whenever its modification
time changes, so a command takes effect within a second without any socket.

The file holds the local day, the seconds of pause already used that day
before the current pause, and the current pause (`since`, `until`, POSIX
seconds). The daily maximum comes from the policy
(`pause_max_minutes_per_day`, 0: pausing is off) and is enforced twice: the
command never asks for more than what is left, and the sampler ends a pause
once the maximum is reached even if the file says otherwise (a policy that
lowered the maximum meanwhile, an edited file).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, replace
from datetime import datetime, tzinfo
from pathlib import Path

from oxytrack_agent.i18n import _
from oxytrack_agent.policy import Policy

FILE_NAME = "pause.json"
#: The pause window's process id (pausewin.py), so the sampler never counts it.
WINDOW_PID_FILE = "pause-window.pid"
#: The same for the tray's "detailed status" window.
STATUS_WINDOW_PID_FILE = "status-window.pid"


class PauseRefused(Exception):
    """The pause cannot start (off by policy, daily maximum used): the message says why."""


@dataclass(frozen=True)
class PauseState:
    """The control file's content."""

    day: str = ""
    used_s: float = 0.0
    since: float | None = None
    until: float | None = None

    def end(self, max_minutes: float) -> float | None:
        """When the current pause ends under a daily maximum of `max_minutes` (None: no pause)."""
        if self.since is None or self.until is None or max_minutes <= 0:
            return None
        return min(self.until, self.since + max(0.0, max_minutes * 60 - self.used_s))

    def paused_at(self, t: float, max_minutes: float) -> bool:
        """True when POSIX time `t` is inside the current pause."""
        end = self.end(max_minutes)
        return end is not None and self.since is not None and self.since <= t < end

    def used_on(self, day: str, t: float, max_minutes: float) -> float:
        """Seconds of pause used on local `day` up to `t` (a pause counts for its start day)."""
        if self.day != day:
            return 0.0
        used = self.used_s
        end = self.end(max_minutes)
        if end is not None and self.since is not None:
            used += max(0.0, min(t, end) - self.since)
        return used


def pause_path(data_dir: Path) -> Path:
    """The control file of the agent whose data directory is `data_dir`."""
    return data_dir / FILE_NAME


def read_pause(path: Path) -> PauseState:
    """The saved state; an absent or unreadable file is "no pause"."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return PauseState(
            day=str(data.get("day", "")),
            used_s=float(data.get("used_s", 0.0)),
            since=None if data.get("since") is None else float(data["since"]),
            until=None if data.get("until") is None else float(data["until"]),
        )
    except (OSError, ValueError, TypeError, AttributeError):
        return PauseState()


def write_pause(path: Path, state: PauseState) -> None:
    """Write atomically: the sampler never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(state)), encoding="utf-8")
    tmp.replace(path)


def _settled(state: PauseState, t: float, tz: tzinfo, max_minutes: float) -> PauseState:
    """The state with a finished or current pause folded into the day's use, as of `t`."""
    today = datetime.fromtimestamp(t, tz=tz).date().isoformat()
    # A pause counts for the day it started: yesterday's is no use of today.
    return PauseState(day=today, used_s=state.used_on(today, t, max_minutes))


def start_pause(
    path: Path, minutes: float | None, *, max_minutes: float, t: float, tz: tzinfo
) -> PauseState:
    """Start (or restart) a pause of `minutes` (None: all that is left today) at time `t`.

    Raises PauseRefused when the policy disables pausing or today's maximum is used up.
    """
    if max_minutes <= 0:
        raise PauseRefused(_("La pause privée est désactivée par la politique de l'entreprise."))
    if minutes is not None and minutes <= 0:
        raise PauseRefused(_("La durée de la pause doit être positive (en minutes)."))
    state = _settled(read_pause(path), t, tz, max_minutes)
    left = max_minutes * 60 - state.used_s
    if left < 1:
        raise PauseRefused(
            _("Vous avez déjà utilisé vos {n} minutes de pause d'aujourd'hui.").format(
                n=round(max_minutes)
            )
        )
    wanted = left if minutes is None else min(minutes * 60, left)
    state = replace(state, since=t, until=t + wanted)
    write_pause(path, state)
    return state


def stop_pause(path: Path, *, max_minutes: float, t: float, tz: tzinfo) -> bool:
    """End the current pause at `t`; False if none was running."""
    state = read_pause(path)
    running = state.paused_at(t, max_minutes)
    write_pause(path, _settled(state, t, tz, max_minutes))
    return running


class PauseWatch:
    """What the sampler asks each second: is `t` paused? Re-reads the file only when it changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self.state = PauseState()
        self._pid_paths = (path.parent / WINDOW_PID_FILE, path.parent / STATUS_WINDOW_PID_FILE)
        self._pid_stamps: tuple[tuple[int, int] | None, ...] = (None, None)
        self._pids = frozenset({os.getpid()})

    def own_pids(self) -> frozenset[int]:
        """The agent's own processes: this one and its windows (pause, status), if open."""
        stamps = []
        for pid_path in self._pid_paths:
            stamp = None
            with contextlib.suppress(OSError):
                info = pid_path.stat()
                stamp = (info.st_mtime_ns, info.st_size)
            stamps.append(stamp)
        if tuple(stamps) != self._pid_stamps:
            self._pid_stamps = tuple(stamps)
            pids = {os.getpid()}
            for pid_path in self._pid_paths:
                with contextlib.suppress(OSError, ValueError):
                    pids.add(int(pid_path.read_text(encoding="utf-8").strip()))
            self._pids = frozenset(pids)
        return self._pids

    def refresh(self) -> PauseState:
        """The file's state (a stat per call; a read only when it changed)."""
        stamp = None
        with contextlib.suppress(OSError):
            info = self.path.stat()
            stamp = (info.st_mtime_ns, info.st_size)
        if stamp != self._stamp:
            self._stamp = stamp
            self.state = read_pause(self.path) if stamp is not None else PauseState()
        return self.state


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _weekday(day: int) -> str:
    return (
        _("lundi"),
        _("mardi"),
        _("mercredi"),
        _("jeudi"),
        _("vendredi"),
        _("samedi"),
        _("dimanche"),
    )[day]


def describe_now(policy: Policy, data_dir: Path, tz: tzinfo, now: datetime) -> list[str]:
    """For `status`: a line when nothing is being recorded now (outside hours, in a pause)."""
    t = now.timestamp()
    schedule = policy.work_schedule
    if schedule is not None and not schedule.is_working(t, tz):
        start = schedule.next_start(t, tz)
        if start is None:
            return [_("Hors des horaires de travail : rien n'est enregistré.")]
        when = start.strftime("%H:%M")
        if start.date() != now.astimezone(tz).date():
            when = f"{_weekday(start.weekday())} {when}"
        return [
            _("Hors des horaires de travail : rien n'est enregistré jusqu'à {when}.").format(
                when=when
            )
        ]
    maximum = policy.pause_max_minutes_per_day
    state = read_pause(pause_path(data_dir))
    end = state.end(maximum)
    if end is not None and state.paused_at(t, maximum):
        return [
            _(
                "Pause privée jusqu'à {time} : rien n'est enregistré, le temps compte comme "
                "« non suivi » (oxytrack-agent resume pour reprendre)."
            ).format(time=datetime.fromtimestamp(end, tz=tz).strftime("%H:%M"))
        ]
    return []


def describe_limits(policy: Policy) -> list[str]:
    """For `status`: the working hours and the pause the policy allows, one line each."""
    lines = []
    schedule = policy.work_schedule
    if schedule is not None:
        days = []
        for index, ranges in enumerate(schedule.week):
            if ranges:
                hours = ", ".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in ranges)
                days.append(f"{_weekday(index)} {hours}")
        lines.append(
            _("- seulement pendant les horaires de travail : {days} ;").format(
                days="; ".join(days) or _("aucun")
            )
        )
        if schedule.holiday_zone:
            lines.append(_("- rien les jours fériés ;"))
    if policy.pause_max_minutes_per_day > 0:
        lines.append(
            _("- pause privée possible, {n} min par jour au plus (oxytrack-agent pause) ;").format(
                n=round(policy.pause_max_minutes_per_day)
            )
        )
    return lines
