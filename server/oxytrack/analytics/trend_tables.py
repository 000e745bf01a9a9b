"""The trends' table: one row per category, one column per ISO week, then the change.

A django-tables2 table like every other (so the exports take it as it is); it is small
(a row per category), so it is neither sorted nor paged.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import django_tables2 as tables
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oxytrack.analytics.trends import COMPARE_WEEKS, Change, Trend
from oxytrack.web.activity import colour_swatch
from oxytrack.web.export import duration_hours
from oxytrack.web.formatting import agent_html, format_duration, format_percent
from oxytrack.web.tables import BaseTable


def format_change(change: Change) -> str:
    """`+1 h 30 min (+25,0 %)`, `-20 min (-10,0 %)`; `+2 h 00 min` when nothing came before.

    The minus is U+2212, as typeset French (and English) write it.
    """
    delta = change.delta_ms
    sign = "+" if delta >= 0 else "\u2212"
    text = f"{sign}{format_duration(abs(delta))}"
    if change.ratio is not None:
        text += f" ({sign}{format_percent(abs(change.delta_ms), change.previous_ms)})"
    return text


def week_label(monday: date) -> str:
    """ "S48" in French, "W48" in English: the ISO week of `monday`."""
    return _("S%(week)02d") % {"week": monday.isocalendar().week}


class DurationColumn(tables.Column):
    def render(self, value: int) -> str:
        return format_duration(value)

    def value(self, **kwargs: Any) -> Any:
        # Exports: hours with decimals, as every other table's (web/export.py).
        return duration_hours(kwargs["value"])


class TrendTable(BaseTable):
    """Rows are dicts: label, colour, w0..w11 (ms), recent, previous, change."""

    dom_id = "trends"

    label = tables.Column(verbose_name=gettext_lazy("Catégorie"), orderable=False)

    class Meta(BaseTable.Meta):
        orderable = False

    def __init__(self, rows: list[dict[str, Any]], *, weeks: list[date]) -> None:
        columns: list[tuple[str, tables.Column]] = [
            (
                f"w{i}",
                DurationColumn(
                    # "S48": the ISO week; its Monday on hover is in the header's title.
                    verbose_name=week_label(monday),
                    attrs={"th": {"title": date_format(monday, "SHORT_DATE_FORMAT")}},
                ),
            )
            for i, monday in enumerate(weeks)
        ]
        columns += [
            (
                "recent",
                DurationColumn(verbose_name=_("%(n)d dernières semaines") % {"n": COMPARE_WEEKS}),
            ),
            (
                "previous",
                DurationColumn(verbose_name=_("%(n)d semaines d'avant") % {"n": COMPARE_WEEKS}),
            ),
            ("change", tables.Column(verbose_name=_("Évolution"))),
        ]
        super().__init__(rows, extra_columns=columns)
        self.export_units = {name: "h" for name, _column in columns}

    def render_label(self, value: str, record: dict[str, Any]) -> SafeString:
        # Category names are the super-admin's text: escaped like the agent's. Both
        # parts are safe already, and safe + safe stays safe: no SafeString() over them.
        return colour_swatch(record.get("colour", "")) + agent_html(value)

    def render_change(self, value: Change) -> str:
        return format_change(value)

    def value_change(self, value: Change) -> float | None:
        return duration_hours(value.delta_ms)


def trend_rows(trend: Trend, *, team: bool) -> list[dict[str, Any]]:
    """The table's rows: each category, the total, and for a team the average per employee
    with time that week and that head count."""

    def row(label: str, colour: str, weekly: list[int], change: Change) -> dict[str, Any]:
        values: dict[str, Any] = {f"w{i}": ms for i, ms in enumerate(weekly)}
        values.update(
            label=label,
            colour=colour,
            recent=change.recent_ms,
            previous=change.previous_ms,
            change=change,
        )
        return values

    rows = [row(c.label, c.colour, c.weekly_ms, c.change) for c in trend.categories]
    rows.append(row(_("Total"), "", trend.weekly_ms, trend.change))
    if team:
        rows.append(row(_("Moyenne par employé"), "", trend.average_ms, trend.average_change))
    return rows
