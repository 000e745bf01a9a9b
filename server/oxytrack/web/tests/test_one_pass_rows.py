"""OnePassRow: the cells django-tables2's per-cell template loop draws, in one pass."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_tables2 as tables
import pytest
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import override

from oxytrack.web.tables import BaseTable, DurationColumn


class Sample(BaseTable):
    one_pass_rows = True

    name = tables.Column()
    count = tables.Column()
    when = tables.Column()
    missing = tables.Column(accessor="no__such__field")  # resolves to nothing: default
    active = DurationColumn(attrs={"td": {"class": lambda value: f"v{len(str(value))}"}})
    html = tables.Column(empty_values=())

    def render_name(self, value: str) -> str:
        return value.upper()  # plain text: the template escapes it

    def render_html(self, record: dict[str, Any], table: Any) -> SafeString:
        return format_html("<i>{}</i>", len(record))


NOON = datetime(2026, 3, 1, 9, tzinfo=UTC)
ROWS = [
    {"name": "<b>\"x\" & 'y'</b>\u202e", "count": 1234567, "when": NOON, "active": 3_723_000},
    {"name": "", "count": None, "when": None, "active": 0},
    {"name": "é", "count": 0.5, "when": datetime(2026, 7, 1, 23, tzinfo=UTC), "active": None},
]  # fmt: skip


def _body(one_pass: bool) -> str:
    table = Sample(ROWS)
    if not one_pass:
        table.rows_write_cells = False
        table.rows = tables.rows.BoundRows(data=table.data, table=table)
    table.paginate(per_page=25)
    html = render_to_string("oxytrack/table.html", {"table": table})
    return html[html.index("<tbody>") : html.index("</tbody>")]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_cells_are_the_template_loops_byte_for_byte(language: str) -> None:
    with override(language):
        one_pass = _body(one_pass=True)
        assert one_pass == _body(one_pass=False)
    assert "&lt;B&gt;&quot;X&quot; &amp; &#x27;Y&#x27;&lt;/B&gt;" in one_pass
    assert "<i>4</i>" in one_pass and 'class="v' in one_pass
