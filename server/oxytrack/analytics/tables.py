"""The team overview's grid: one row per employee, one column per day (or ISO week).

Sorted and paged in SQL (the queryset of `team.grid_employees`); the cells of the
page's rows are read afterwards, once (`fill`). A cell says "—" when the employee has
no data that day, "0 h" when they have data but no active time.

A page can hold 100 rows of 53 weeks (or 31 days): thousands of cells. Through
django-tables2's per-cell path (column lookup by name, accessor, signature
inspection, computed attributes, then the template's loop) a cell cost about 0.4 ms,
a year's page over a second. So each row writes its cells in one pass
(`GridRow.cells_html`, which the shared table template writes for a table with
`rows_write_cells`): the column attributes rendered once per table, the employee's
page URL once per row, each period's query string once per column, each hour figure
once per value. Headers, footers, sorting, paging and exports remain django-tables2's,
through the same columns.
"""

from __future__ import annotations

import uuid
from datetime import date
from functools import lru_cache, partial
from typing import Any
from urllib.parse import urlencode

import django_tables2 as tables
from django.template import Context
from django.template.base import render_value_in_context
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext_lazy, ngettext, override
from django.utils.translation import gettext as _
from django_tables2.rows import BoundRow, BoundRows

from oxytrack.analytics.team import GridColumn, TeamTotals, grid_cells
from oxytrack.web.export import duration_hours
from oxytrack.web.formatting import agent_html, format_duration, format_number
from oxytrack.web.tables import BaseTable, DurationColumn, static_td_html

NO_DATA = "—"
_PLACEHOLDER = uuid.UUID(int=0)


def format_hours(ms: int) -> str:
    """`7,5 h` in French (`7.5 h` in English); `0 h` for no active time at all."""
    return _hours_text(round(ms / 3_600_000, 1) if ms else None)


def _hours_text(hours: float | None) -> str:
    if hours is None:
        return "0 h"
    if hours == 0:
        return "< " + format_number(0.1, 1) + " h"
    return format_number(hours, 1) + " h"


@lru_cache(maxsize=4096)
def _hours_html(hours: float | None, language: str) -> str:
    """_hours_text in `language`, escaped: a page draws thousands of figures, out of a
    few hundred values (hours to a tenth)."""
    with override(language):
        return escape(_hours_text(hours))


@lru_cache(maxsize=16)
def _no_data_html(language: str) -> str:
    """The cell of a period without data, in `language`."""
    with override(language):
        return format_html(
            '<span class="no-data" title="{}">{}</span>', _("Aucune donnée"), NO_DATA
        )


def employee_url(public_id: Any) -> str:
    """The employee's detail page (a cell's link adds period_query)."""
    return reverse("dashboard:employee", args=[public_id])


def period_query(start: date, end: date) -> str:
    """`?start=…&end=…&day=…`: the detail page over that day (or week), its timeline on
    the first day."""
    query = {"start": start.isoformat(), "end": end.isoformat(), "day": start.isoformat()}
    return f"?{urlencode(query)}"


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
        # The page's rows go through GridRow.cells_html; this serves any other reader.
        return table.period_cell(record, self.period)

    def render_footer(self, bound_column: Any, table: Any) -> str:
        ms = table.totals.columns.get(self.period.key)
        return NO_DATA if ms is None else format_hours(ms)


class GridRow(BoundRow):
    """A row of the grid that can write all its `<td>` cells in one pass."""

    @property
    def cells_html(self) -> SafeString:
        """What the shared template's cell loop writes for this row, byte for byte:
        `<td {{ column.attrs.td.as_html }}>{{ cell }}</td>` for each visible column."""
        table = self.table
        record = self.record
        pk, url = record.pk, table.employee_url_html(record)
        language = get_language()
        parts = []
        for column, period, render, td in table.row_layout():
            if period is not None:
                ms = table.cells.get((pk, period.key))
                cell: str = table.period_html(ms, url, period, language)
            elif render is not None:
                cell = conditional_escape(render(record))
            else:
                cell = render_value_in_context(self.get_cell(column.name), Context())
            if td is None:
                # Attributes computed from the cell: as BoundRow.items lets them.
                column.current_value, column.current_record = cell, record
                td = column.attrs["td"].as_html()
            parts.append(f"<td {td}>{cell}</td>")
        return SafeString("".join(parts))  # nosec B703  # td from attrs.as_html(), every cell escaped above or by period_html


class GridRows(BoundRows):
    """django-tables2's rows (paged by its paginator), as GridRow."""

    def __iter__(self) -> Any:
        for record in self.data:
            yield GridRow(record, table=self.table)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            return GridRows(data=self.data[key], table=self.table)
        return GridRow(record=self.data[key], table=self.table)


class TeamGridTable(BaseTable):
    """Employees by days of active hours, with each employee's and the team's totals."""

    dom_id = "team-grid"
    rows_write_cells = True  # GridRow.cells_html

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

    # Columns whose cell is `render_<name>(record)` whatever their value, which
    # django-tables2 would never replace by the column's default: name, team and
    # average_ms declare no empty values, total_ms and worked_days are sums coalesced
    # to 0. Rows call these directly, without django-tables2's per-cell path (GridRow).
    record_rendered = ("name", "team", "total_ms", "worked_days", "average_ms")

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
        self.period_of = {p.key: p for p in periods}
        self.totals = totals
        self.cells: dict[tuple[int, str], int] = {}
        # No pinned rows here: GridRows yields none.
        self.rows = GridRows(data=self.data, table=self)
        # Worked out when the page is drawn (GridRow), once.
        self._layout: list[tuple[Any, GridColumn | None, Any, str | None]] | None = None
        self._employee_url: list[str] | None = None
        self._period_queries: dict[str, str] = {}
        # Exports read each period's cell through a value_<column name> method.
        for period in periods:
            setattr(self, f"value_{period.key}", partial(self._period_hours, period.key))

    def row_layout(self) -> list[tuple[Any, GridColumn | None, Any, str | None]]:
        """Per visible column, worked out once per table: (bound column, its period or
        None, its record renderer or None, its `<td>` attributes or None when they are
        computed from the cell: a callable in the column's or the table's attrs)."""
        if self._layout is None:
            layout = []
            for column in self.columns:
                period = self.period_of.get(column.name)
                render = None
                if column.name in self.record_rendered:
                    render = getattr(self, f"render_{column.name}")
                layout.append((column, period, render, static_td_html(self, column)))
            self._layout = layout
        return self._layout

    def period_cell(self, record: Any, period: GridColumn) -> SafeString:
        """The employee's hours in that period, linked to their page on it; "—" (with
        its explanation) when they have no data there."""
        ms = self.cells.get((record.pk, period.key))
        return self.period_html(ms, self.employee_url_html(record), period, get_language())

    def employee_url_html(self, record: Any) -> str:
        """The employee's page, escaped for an attribute. Reversed once per table, for
        a placeholder id: a UUID is written as str() gives it, and needs no quoting."""
        if self._employee_url is None:
            self._employee_url = employee_url(_PLACEHOLDER).split(str(_PLACEHOLDER))
        prefix, suffix = self._employee_url
        return escape(f"{prefix}{record.public_id}{suffix}")

    def period_html(
        self, ms: int | None, url: str, period: GridColumn, language: str
    ) -> SafeString:
        """period_cell's HTML from its parts, in `language` (the active one): what
        format_html gave for the whole, from figures and texts formatted once."""
        if ms is None:
            return SafeString(_no_data_html(language))  # nosec B703  # format_html() output, kept as str by lru_cache
        # Escaping works character by character: the URL, the query and the hours
        # escaped apart (each once) give what escaping the whole link would.
        query = self._period_queries.get(period.key)
        if query is None:
            query = escape(period_query(period.start, period.end))
            self._period_queries[period.key] = query
        hours = _hours_html(round(ms / 3_600_000, 1) if ms else None, language)
        return SafeString(f'<a href="{url}{query}">{hours}</a>')  # nosec B703  # url, query and hours each escape()d (above and in their helpers)

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

    def render_total_ms(self, record: Any) -> str:
        return format_duration(record.total_ms)

    def render_worked_days(self, record: Any) -> str:
        return format_number(record.worked_days)

    def render_average_ms(self, record: Any) -> str:
        return NO_DATA if record.average_ms is None else format_duration(record.average_ms)
