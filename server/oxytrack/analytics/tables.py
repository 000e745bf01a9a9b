"""The team overview's grid: one row per employee, one column per day (or ISO week).

Sorted and paged in SQL (the queryset of `team.grid_employees`); the cells of the
page's rows are read afterwards, once (`fill`). A cell says "—" when the employee has
no data that day, "0 h" when they have data but no active time.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any
from urllib.parse import urlencode

import django_tables2 as tables
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from oxytrack.analytics.team import GridColumn, TeamTotals, grid_cells
from oxytrack.web.export import duration_hours
from oxytrack.web.formatting import agent_html, format_duration, format_number
from oxytrack.web.tables import BaseTable, DurationColumn

NO_DATA = "—"


def format_hours(ms: int) -> str:
    """`7,5 h` in French (`7.5 h` in English); `0 h` for no active time at all."""
    if ms == 0:
        return "0 h"
    hours = round(ms / 3_600_000, 1)
    if hours == 0:
        return "< " + format_number(0.1, 1) + " h"
    return format_number(hours, 1) + " h"


def detail_url(public_id: Any, start: date, end: date) -> str:
    """The employee's detail page for that day (or week), its timeline on the first day."""
    query = {"start": start.isoformat(), "end": end.isoformat(), "day": start.isoformat()}
    return f"{reverse('dashboard:employee', args=[public_id])}?{urlencode(query)}"


class PeriodColumn(tables.Column):
    """One day (or ISO week) of the grid: the employee's active hours, linked to their day."""

    # Exports (web/export.table_export) write the hours with decimals.
    export_unit = "h"

    def __init__(self, period: GridColumn, **kwargs: Any) -> None:
        self.period = period
        # Plain text: the same header on the page and in the exported file.
        if period.weekly:
            week = period.start.isocalendar()[1]
            header = _("S%(week)02d (%(start)s)") % {
                "week": week,
                "start": date_format(period.start, "d/m"),
            }
        else:
            header = date_format(period.start, "D j/m")
        cls = "num period" + (" weekend" if period.weekend else "")
        super().__init__(
            verbose_name=header,
            orderable=False,
            empty_values=(),
            attrs={"th": {"class": cls}, "td": {"class": cls}, "tf": {"class": cls}},
            **kwargs,
        )

    def render(self, record: Any, table: Any) -> SafeString:  # type: ignore[override]
        ms = table.cells.get((record.pk, self.period.key))
        if ms is None:
            return format_html(
                '<span class="no-data" title="{}">{}</span>', _("Aucune donnée"), NO_DATA
            )
        return format_html(
            '<a href="{}">{}</a>',
            detail_url(record.public_id, self.period.start, self.period.end),
            format_hours(ms),
        )

    def render_footer(self, bound_column: Any, table: Any) -> str:
        ms = table.totals.columns.get(self.period.key)
        return NO_DATA if ms is None else format_hours(ms)


class TeamGridTable(BaseTable):
    """Employees by days of active hours, with each employee's and the team's totals."""

    dom_id = "team-grid"

    name = tables.Column(
        verbose_name=gettext_lazy("Nom"),
        accessor="display_name",
        order_by=("sort_name", "display_name", "username"),
        empty_values=(),
        attrs={"td": {"class": "name"}},
        footer=lambda table: (
            ngettext(
                "Équipe (%(count)s utilisateur)",
                "Équipe (%(count)s utilisateurs)",
                table.totals.employees,
            )
            % {"count": format_number(table.totals.employees)}
        ),
    )
    team = tables.Column(
        verbose_name=gettext_lazy("Équipe"),
        accessor="agency__name",
        order_by=("agency__sort_name", "service__sort_name", "sort_name"),
        empty_values=(),
    )
    total_ms = DurationColumn(
        verbose_name=gettext_lazy("Total actif"),
        footer=lambda table: format_duration(table.totals.active_ms),
        attrs={"th": {"class": "num"}, "td": {"class": "num"}, "tf": {"class": "num"}},
    )
    worked_days = tables.Column(
        verbose_name=gettext_lazy("Jours travaillés"),
        footer=lambda table: format_number(table.totals.worked_days),
        attrs={"th": {"class": "num"}, "td": {"class": "num"}, "tf": {"class": "num"}},
    )
    average_ms = DurationColumn(
        verbose_name=gettext_lazy("Moyenne par jour travaillé"),
        empty_values=(),
        footer=lambda table: (
            NO_DATA if table.totals.average_ms is None else format_duration(table.totals.average_ms)
        ),
        attrs={"th": {"class": "num"}, "td": {"class": "num"}, "tf": {"class": "num"}},
    )

    class Meta(BaseTable.Meta):
        attrs = {"class": "data team-grid"}

    def __init__(
        self,
        data: Any,
        *,
        periods: list[GridColumn],
        totals: TeamTotals,
        show_team: bool,
        **kwargs: Any,
    ) -> None:
        extra = [(p.key, PeriodColumn(p)) for p in periods]
        sequence = ["name", "team", *(p.key for p in periods), "total_ms", "worked_days"]
        sequence.append("average_ms")
        super().__init__(
            data,
            extra_columns=extra,
            sequence=sequence,
            exclude=() if show_team else ("team",),
            **kwargs,
        )
        self.periods = periods
        self.totals = totals
        self.cells: dict[tuple[int, str], int] = {}
        # Exports read each period's cell through a value_<column name> method.
        for period in periods:
            setattr(self, f"value_{period.key}", partial(self._period_hours, period.key))

    def _period_hours(self, key: str, record: Any) -> float | None:
        return duration_hours(self.cells.get((record.pk, key)))

    @property
    def page_employees(self) -> list[Any]:
        """The employees of the current page (after paging)."""
        return [row.record for row in self.page.object_list]

    def fill(self) -> None:
        """Read the cells of the current page's employees (call after paging)."""
        self.cells = grid_cells([e.pk for e in self.page_employees], self.periods)

    def fill_all(self) -> None:
        """Read the cells of every employee of the table (an export)."""
        ids = list(self.data.data.values_list("pk", flat=True))
        self.cells = grid_cells(ids, self.periods)

    # Exports: the text the cells show, without HTML.
    def value_name(self, record: Any) -> str:
        return str(record.shown_name)

    def value_team(self, record: Any) -> str:
        agency = record.agency.name if record.agency else "—"
        service = record.service.name if record.service else "—"
        return f"{agency} / {service}"

    def render_name(self, record: Any) -> SafeString:
        return agent_html(record.shown_name)

    def render_team(self, record: Any) -> SafeString:
        agency = record.agency.name if record.agency else "—"
        service = record.service.name if record.service else "—"
        return format_html("{} / {}", agent_html(agency), agent_html(service))

    def render_worked_days(self, value: int) -> str:
        return format_number(value)

    def render_average_ms(self, value: int | None) -> str:
        return NO_DATA if value is None else format_duration(value)
