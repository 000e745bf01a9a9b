"""Working hours in the policy: parsing the form's text, the wire form, a summary.

The wire form (what agents receive as `schedule`, see docs/api.md) is null
(collect at any hour) or ``{"mon": [["08:00", "12:30"], ["13:30", "18:00"]],
…, "holidays": "fr"}``: wall-clock ranges in the employee's time zone, a
missing weekday is a day off, `holidays` names the public holidays that are
days off (agent/oxytrack_agent/schedule.py computes them). In a stored
override, null inherits and the string "always" says "no working hours" on
purpose (so a service can lift its agency's hours).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS = {
    "mon": gettext_lazy("Lundi"),
    "tue": gettext_lazy("Mardi"),
    "wed": gettext_lazy("Mercredi"),
    "thu": gettext_lazy("Jeudi"),
    "fri": gettext_lazy("Vendredi"),
    "sat": gettext_lazy("Samedi"),
    "sun": gettext_lazy("Dimanche"),
}
HOLIDAY_CHOICES = [
    ("fr", gettext_lazy("France métropolitaine")),
    ("fr-alsace-moselle", gettext_lazy("Alsace-Moselle (avec Vendredi saint et 26 décembre)")),
    ("fr-971", gettext_lazy("Guadeloupe")),
    ("fr-972", gettext_lazy("Martinique")),
    ("fr-973", gettext_lazy("Guyane")),
    ("fr-974", gettext_lazy("La Réunion")),
    ("fr-976", gettext_lazy("Mayotte")),
]
#: The stored value of an override that collects at any hour.
ALWAYS = "always"
#: A day has at most this many ranges (a split shift, a long lunch…).
MAX_RANGES = 6

_TIME = re.compile(r"^(\d{1,2})[:hH](\d{2})$")
# "08:00-12:30", with an en dash, or "08:00 à 12:30".
_RANGE = re.compile("^\\s*(\\S+?)\\s*(?:-|\u2013|\\s\u00e0\\s)\\s*(\\S+)\\s*$")


class ScheduleError(ValueError):
    """A day's hours cannot be read; the message is for the admin."""


def _minutes(text: str) -> int:
    match = _TIME.match(text)
    if match is None:
        raise ScheduleError(_("« %(time)s » n'est pas une heure (HH:MM).") % {"time": text})
    hours, minutes = int(match[1]), int(match[2])
    if (hours, minutes) != (24, 0) and (hours > 23 or minutes > 59):
        raise ScheduleError(_("« %(time)s » n'est pas une heure (HH:MM).") % {"time": text})
    return hours * 60 + minutes


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_day(text: str) -> list[list[str]]:
    """ "08:00-12:30, 13:30-18:00" as [["08:00", "12:30"], ["13:30", "18:00"]], sorted.

    ScheduleError for a bad time, a range that ends before it starts, or
    ranges that overlap. Empty text: a day off.
    """
    ranges: list[tuple[int, int]] = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;]", text))):
        match = _RANGE.match(part)
        if match is None:
            raise ScheduleError(
                _("« %(range)s » : écrivez début-fin, par exemple 08:00-12:30.") % {"range": part}
            )
        start, end = _minutes(match[1]), _minutes(match[2])
        if end <= start:
            raise ScheduleError(_("« %(range)s » : la fin vient avant le début.") % {"range": part})
        ranges.append((start, end))
    if len(ranges) > MAX_RANGES:
        raise ScheduleError(_("Au plus %(n)d plages par jour.") % {"n": MAX_RANGES})
    ranges.sort()
    for (a, b), (c, d) in itertools.pairwise(ranges):
        if c < b:
            raise ScheduleError(
                _("Les plages %(first)s et %(second)s se chevauchent.")
                % {"first": f"{_hhmm(a)}-{_hhmm(b)}", "second": f"{_hhmm(c)}-{_hhmm(d)}"}
            )
    return [[_hhmm(a), _hhmm(b)] for a, b in ranges]


def day_text(ranges: list[list[str]] | None) -> str:
    """The form's text of one day's ranges."""
    return ", ".join(f"{a}-{b}" for a, b in ranges or [])


def wire_schedule(stored: Any) -> dict[str, Any] | None:
    """What agents receive for a stored (or default) value: None for "always"."""
    return stored if isinstance(stored, dict) else None


def summary(stored: Any) -> str:
    """The schedule in one line, for the policy list."""
    if not isinstance(stored, dict):
        return _("à toute heure")
    days = [f"{DAY_LABELS[day]} {day_text(stored[day])}" for day in DAYS if stored.get(day)]
    text = " ; ".join(days) or _("aucune heure")
    zone = dict(HOLIDAY_CHOICES).get(stored.get("holidays") or "")
    if zone:
        text += " ; " + _("jours fériés : %(zone)s") % {"zone": zone}
    return text
