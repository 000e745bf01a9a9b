"""Server-side tables (django-tables2) shared by every list page.

Each table is rendered by `oxytrack/table.html`: sortable headers, page
numbers with Précédent/Suivant, a 10/25/50/100 page size and the
"Affichage de 11 à 20 sur N éléments" line. The live filter box sits above
it and reloads only the table through htmx.

Every link a table draws (pages, sorting) carries the whole state it was
drawn with: its hidden parameters (a date range the view defaulted), the
live filter, the page size and the sort. A link built from the request's
query string alone loses what the view filled in by default.
"""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db import models
from django.http import HttpRequest, QueryDict
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.safestring import SafeString
from django_tables2.columns.linkcolumn import BaseLinkColumn
from django_tables2.columns.manytomanycolumn import ManyToManyColumn
from django_tables2.rows import BoundRow, BoundRows
from django_tables2.utils import Accessor, signature

from oxytrack.web.export import duration_hours
from oxytrack.web.formatting import format_duration

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25
# Longest filter text accepted; longer is cut (a LIKE on a huge pattern is wasted work).
MAX_FILTER_CHARS = 100


class BaseTable(tables.Table):
    """Common options: our template, our parameter names, our empty text."""

    # The id of the element htmx replaces; set per table so two tables on a
    # page never answer each other's requests.
    dom_id = "table"
    # A CSS selector of other inputs every table request carries (a search form).
    include = ""
    # Hidden inputs every table request carries (the detail page's date range).
    hidden: dict[str, str] = {}
    # Where this table's downloads are answered (`?format=csv|xlsx`, see
    # web/export.table_export); set by the view: the table then shows its export buttons.
    export_url = ""
    # A unit per column name, added to the exported header: "Part (%)".
    export_units: dict[str, str] = {}
    # True when each row writes its own `<td>` cells in one pass (`row.cells_html`, the
    # same HTML as the template's per-cell loop, which costs too much for thousands of
    # cells: the team grid, analytics/tables.GridRow).
    rows_write_cells = False
    # True: each row writes its cells in one pass (OnePassRow), the same HTML as the
    # template's loop, for tables of many cells on pages that must stay fast.
    one_pass_rows = False

    class Meta:
        template_name = "oxytrack/table.html"
        attrs = {"class": "data"}
        order_by_field = "sort"
        page_field = "page"
        per_page_field = "per_page"
        empty_text = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.one_pass_rows and not any(self.pinned_data.values()):
            self.rows_write_cells = True
            self.rows = OnePassRows(data=self.data, table=self)

    def link(self, **overrides: object) -> str:
        """This table's URL with its full state, changed by `overrides` (page=2, sort=...)."""
        return f"{getattr(self, 'url', '')}?{self._state(**overrides)}"

    @property
    def export_link(self) -> str:
        """The export URL with this table's full state (range, filter, sort), no page."""
        return f"{self.export_url}?{self._state(per_page='')}"

    def _state(self, **overrides: object) -> str:
        query = QueryDict(mutable=True)
        request = getattr(self, "request", None)
        if request is not None:
            query.update(request.GET)
        for hidden_name, hidden_value in self.hidden.items():
            query[hidden_name] = hidden_value
        query["q"] = getattr(self, "filter_text", "")
        query["per_page"] = str(getattr(self, "per_page", DEFAULT_PAGE_SIZE))
        query["sort"] = ",".join(self.order_by or ())
        query.pop("page", None)
        for name, value in overrides.items():
            query[name] = str(value)
        # Empty values say nothing: keep the links short.
        for name in [name for name, values in query.lists() if not any(values)]:
            del query[name]
        return query.urlencode()


def static_td_html(table: Any, bound_column: Any) -> str | None:
    """A column's `<td>` attributes, rendered once per table; None when they are
    computed from each cell (a callable in the column's or the table's attrs)."""
    attrs = [table.attrs.get(k, {}) for k in ("td", "cell")]
    attrs += [bound_column.column.attrs.get(k, {}) for k in ("td", "cell")]
    if any(callable(v) for d in attrs for v in d.values()):
        return None
    return str(bound_column.attrs["td"].as_html())


class _Cell:
    """How one column's cells are drawn, worked out once per table (OnePassRow)."""

    def __init__(self, table: Any, bound_column: Any, record: Any) -> None:
        self.bound_column = bound_column
        column = bound_column.column
        self.accessor = Accessor(bound_column.accessor)
        self.empty_values = column.empty_values
        self.default = bound_column.default
        self.render = bound_column.render
        self.args, catch_all = signature(self.render)
        self.catch_all = catch_all is not None
        # What django-tables2 treats apart (get_FOO_display, links, many-to-many):
        # drawn through its own per-cell path, as the template's loop would.
        self.own_path = isinstance(column, (BaseLinkColumn, ManyToManyColumn)) or bool(
            bound_column.link
        )
        if not self.own_path and isinstance(record, models.Model):
            penultimate, _field_name = self.accessor.penultimate(record)
            if isinstance(penultimate, models.Model):
                try:
                    field = self.accessor.get_field(record)
                except Exception:  # an annotation, a property: no field, no choices
                    field = None
                self.own_path = bool(getattr(field, "choices", None))
        self.td = static_td_html(table, bound_column)

    def html(self, row: BoundRow) -> Any:
        """The cell as BoundRow.get_cell gives it (rendered, not yet escaped)."""
        if self.own_path:
            return row.get_cell(self.bound_column.name)
        record = row.record
        try:
            value = self.accessor.resolve(record)
        except Exception:
            value = None  # as django-tables2: a column without a field
        if value in self.empty_values:
            return self.default
        given = {
            "value": value,
            "record": record,
            "column": self.bound_column.column,
            "bound_column": self.bound_column,
            "bound_row": row,
            "table": row.table,
        }
        if self.catch_all:
            return self.render(**given)
        if any(arg not in given for arg in self.args):
            return None
        return self.render(**{arg: given[arg] for arg in self.args})


class OnePassRow(BoundRow):
    """A row that writes all its `<td>` cells in one pass.

    django-tables2's per-cell path (column lookup by name, signature inspection,
    computed attributes, then the template's loop) costs about 0.3 ms a cell: the
    signatures and attributes are worked out once per table here instead, and the
    HTML is the template loop's, byte for byte (web/tests/test_one_pass_rows.py).
    """

    @property
    def cells_html(self) -> SafeString:
        """`<td {{ column.attrs.td.as_html }}>{{ cell }}</td>` for each visible column."""
        table = self.table
        layout = getattr(table, "_one_pass_layout", None)
        if layout is None:
            layout = [_Cell(table, column, self.record) for column in table.columns]
            table._one_pass_layout = layout
        context = Context()
        parts = []
        for cell in layout:
            value = cell.html(self)
            text = render_value_in_context(value, context)
            td = cell.td
            if td is None:  # attributes computed from the cell: as BoundRow.items lets them
                column = cell.bound_column
                column.current_value, column.current_record = value, self.record
                td = column.attrs["td"].as_html()
            parts.append(f"<td {td}>{text}</td>")
        return SafeString("".join(parts))  # nosec B703  # td from attrs.as_html(), each cell escaped by render_value_in_context


class OnePassRows(BoundRows):
    """django-tables2's rows (paged by its paginator), as OnePassRow."""

    def __iter__(self) -> Any:
        yield from self.generator_pinned_row(self.pinned_data.get("top"))
        for record in self.data:
            yield OnePassRow(record, table=self.table)
        yield from self.generator_pinned_row(self.pinned_data.get("bottom"))

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            return OnePassRows(data=self.data[key], table=self.table, pinned_data=self.pinned_data)
        return OnePassRow(record=self.data[key], table=self.table)


class DurationColumn(tables.Column):
    """Milliseconds: "2 h 05 min" on the page, hours with decimals in exports."""

    export_unit = "h"

    def render(self, value: int) -> str:
        return format_duration(value)

    def export_value(self, value: int | None) -> float | None:
        """Hours with decimals (what web/export writes)."""
        return duration_hours(value)


def filter_text(request: HttpRequest) -> str:
    """The live filter's text (`q`), stripped and bounded."""
    return request.GET.get("q", "").strip()[:MAX_FILTER_CHARS]


def configure(request: HttpRequest, table: Any, *, url: str) -> Any:
    """Apply the request's sort, page size (one of PAGE_SIZES) and page to `table`.

    Unlike django-tables2's RequestConfig, a page size outside the offered
    values falls back to the default instead of fetching any number of rows.
    """
    table.request = request
    table.url = url
    table.filter_text = filter_text(request)
    # The hidden `sort` input sends "a,-b" (or nothing): split and drop blanks.
    sort = [key for value in request.GET.getlist("sort") for key in value.split(",") if key]
    if sort:
        table.order_by = sort
    try:
        per_page = int(request.GET.get("per_page", DEFAULT_PAGE_SIZE))
    except ValueError:
        per_page = DEFAULT_PAGE_SIZE
    if per_page not in PAGE_SIZES:
        per_page = DEFAULT_PAGE_SIZE
    table.page_sizes = PAGE_SIZES
    table.per_page = per_page
    try:
        table.paginate(per_page=per_page, page=request.GET.get("page", 1))
    except PageNotAnInteger:
        table.paginate(per_page=per_page, page=1)
    except EmptyPage:
        table.paginate(per_page=per_page, page=table.paginator.num_pages)
    return table


def wants_table_only(request: HttpRequest, table: Any) -> bool:
    """True for the htmx requests that replace just this table's body."""
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and htmx.target == f"{table.dom_id}-body"
