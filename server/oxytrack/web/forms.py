"""Form pieces every page shares: bounded dates and the date range."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

# Longest range one request may ask for: a year of rollups stays a fast read.
MAX_RANGE_DAYS = 366
# Dates a page accepts. Far enough for any real activity; near enough that
# the day after, a time zone's offset or an epoch in milliseconds never
# overflow (9999-12-31 + 1 day or 0001-01-01 in UTC-4 raise OverflowError).
FIRST_DATE = date(2000, 1, 1)
LAST_DATE = date(2099, 12, 31)


class BoundedDateField(forms.DateField):
    """A date between FIRST_DATE and LAST_DATE, else a readable form error."""

    widget = forms.DateInput(
        attrs={"type": "date", "min": FIRST_DATE.isoformat(), "max": LAST_DATE.isoformat()}
    )

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not FIRST_DATE <= value <= LAST_DATE:
            raise forms.ValidationError(
                _("Choisissez une date entre le %(first)s et le %(last)s."),
                code="out_of_range",
                params={
                    "first": date_format(FIRST_DATE, "SHORT_DATE_FORMAT"),
                    "last": date_format(LAST_DATE, "SHORT_DATE_FORMAT"),
                },
            )


class RangeForm(forms.Form):
    """A date range (inclusive) and the day shown on the timeline."""

    start = BoundedDateField(label=_("Du"))
    end = BoundedDateField(label=_("Au"))
    day = BoundedDateField(label=_("Jour de la frise"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(
                    _("La date de fin est antérieure à la date de début."), code="end_before_start"
                )
            if (end - start).days >= MAX_RANGE_DAYS:
                raise forms.ValidationError(
                    _("La période ne peut pas dépasser %(days)d jours.") % {"days": MAX_RANGE_DAYS},
                    code="too_long",
                )
        return data


class TeamRangeForm(RangeForm):
    """The team overview's range: no timeline, so no day."""

    day = None  # type: ignore[assignment]


def shortcuts(today: date) -> list[tuple[str, date, date]]:
    """The range shortcuts: today, this week (from Monday), last 7 days, this month."""
    return [
        (str(_("Aujourd'hui")), today, today),
        (str(_("Cette semaine")), today - timedelta(days=today.weekday()), today),
        (str(_("7 derniers jours")), today - timedelta(days=6), today),
        (str(_("Ce mois-ci")), today.replace(day=1), today),
    ]
