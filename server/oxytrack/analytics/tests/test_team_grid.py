"""The grid's rows write their cells in one pass (GridRow.cells_html): the same HTML as
the shared template's per-cell loop through django-tables2."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.template.loader import render_to_string

from oxytrack.analytics.tables import TeamGridTable
from oxytrack.analytics.team import grid_columns, grid_employees, team_totals
from oxytrack.analytics.tests.conftest import MONDAY, SUNDAY, Week
from oxytrack.org.models import Employee


def _render(start: date, end: date, *, one_pass: bool) -> str:
    periods = grid_columns(start, end)
    employees = Employee.objects.all()
    table = TeamGridTable(
        grid_employees(employees, start, end),
        periods=periods,
        totals=team_totals(employees, periods),
        show_team=True,
    )
    # Else the template's loop, cell by cell through django-tables2.
    table.rows_write_cells = one_pass
    table.paginate(per_page=25)
    table.fill()
    return render_to_string("oxytrack/table.html", {"table": table})


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        # Tuesday: data, no active time; Saturday and Sunday.
        (MONDAY, SUNDAY, ('">0 h</a>', 'class="num period weekend"')),
        (MONDAY - timedelta(days=60), SUNDAY + timedelta(days=20), ('">27,0 h</a>',)),
    ],
    ids=["days", "weeks"],
)
def test_rows_write_the_cells_the_template_loop_would(
    week: Week, start: date, end: date, shown: tuple[str, ...]
) -> None:
    Employee.objects.create(username="x", display_name='<b>"Léa" & Co</b>')
    one_pass = _render(start, end, one_pass=True)
    assert one_pass == _render(start, end, one_pass=False)
    # Links, hours, "—" with its title, escaped names: all there to compare.
    assert all(text in one_pass for text in shown)
    assert 'class="no-data" title="Aucune donnée"' in one_pass
    assert "&lt;b&gt;&quot;Léa&quot; &amp; Co&lt;/b&gt;" in one_pass
