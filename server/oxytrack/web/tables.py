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
from django.http import HttpRequest, QueryDict

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

    class Meta:
        template_name = "oxytrack/table.html"
        attrs = {"class": "data"}
        order_by_field = "sort"
        page_field = "page"
        per_page_field = "per_page"
        empty_text = ""

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
