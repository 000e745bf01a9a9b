"""web/export.table_export: any table as CSV (both separators) or XLSX, every row."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

import django_tables2 as tables
import pytest
from django.http import FileResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.test import RequestFactory
from django.utils import timezone
from openpyxl import load_workbook

from oxytrack.web.export import export_filename_stem, table_export
from oxytrack.web.tables import BaseTable, DurationColumn, configure

HOSTILE = [
    "=cmd|' /C calc'!A0",
    "+1",
    "-1",
    "@SUM(A1)",
    # Blanks first: a CSV import that trims them (LibreOffice's option) runs the rest.
    '  =HYPERLINK("http://evil.example","x")',
    "\u00a0 \t+1",
    "\tTab",
    "\rCR",
]


class Minutes(tables.Column):
    """A column with django-tables2's own export hook."""

    def value(self, **kwargs: Any) -> float:
        return float(kwargs["value"]) / 60_000


class Sample(BaseTable):
    name = tables.Column(verbose_name="Nom")
    day = tables.Column(verbose_name="Jour")
    at = tables.Column(verbose_name="Vu")
    active = DurationColumn(verbose_name="Temps actif")
    share = tables.Column(verbose_name="Part")
    secret = tables.Column(verbose_name="Interne", exclude_from_export=True)
    login = tables.Column(verbose_name="Identifiant", visible=False)
    minutes = Minutes(verbose_name="Minutes", accessor="active")

    export_units = {"share": "%"}

    class Meta(BaseTable.Meta):
        pass

    def value_share(self, value: float) -> float:
        return round(value * 100, 1)


def _rows(count: int) -> list[dict[str, Any]]:
    zone = timezone.get_current_timezone()
    return [
        {
            "name": f"Agent {i:03d}",
            "day": date(2026, 11, 1 + i % 28),
            "at": datetime(2026, 11, 3, 14, 2, 5, 123000, tzinfo=zone),
            "active": 5_400_000 + i,  # 1.5 h and i ms
            "share": 0.5,
            "secret": "x",
            "login": f"agent{i}",
        }
        for i in range(count)
    ]


def _export(data: list[dict[str, Any]], query: str) -> HttpResponseBase:
    request = RequestFactory().get(f"/x/?{query}")
    table = configure(request, Sample(data), url="/x/")
    calls: list[tuple[str, int]] = []
    response = table_export(
        request, table, filename_stem="oxytrack-test", audit=lambda f, n: calls.append((f, n))
    )
    response.audit_calls = calls  # type: ignore[attr-defined]
    return response


def _body(response: HttpResponseBase) -> bytes:
    if isinstance(response, StreamingHttpResponse | FileResponse):
        return b"".join(response.streaming_content)  # type: ignore[arg-type]
    return response.content  # type: ignore[attr-defined]


def _csv(response: HttpResponseBase, delimiter: str) -> list[list[str]]:
    csv.field_size_limit(2_000_000)  # the 1 MB title
    text = _body(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))


def _xlsx(response: HttpResponseBase) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(_body(response))).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_csv_has_every_row_in_the_table_order_with_units_in_the_header() -> None:
    # 30 rows, page size 10, sorted by name descending: the file has all 30, sorted.
    response = _export(_rows(30), "format=csv&per_page=10&page=2&sort=-name")
    assert isinstance(response, StreamingHttpResponse)
    rows = _csv(response, ",")
    assert rows[0] == ["Nom", "Jour", "Vu", "Temps actif (h)", "Part (%)", "Identifiant", "Minutes"]
    assert [r[0] for r in rows[1:]] == [f"Agent {i:03d}" for i in reversed(range(30))]
    assert rows[-1] == [
        "Agent 000",
        "2026-11-01",
        "2026-11-03 14:02:05",
        "1.5",
        "50.0",
        "agent0",
        "90.0",
    ]
    assert response.audit_calls == [("csv", 30)]  # type: ignore[attr-defined]
    assert response["Content-Disposition"] == 'attachment; filename="oxytrack-test.csv"'


def test_semicolon_csv_writes_decimal_commas_for_french_excel() -> None:
    rows = _csv(_export(_rows(1), "format=csv&sep=semicolon"), ";")
    assert rows[1][3:5] == ["1,5", "50,0"]


def test_xlsx_keeps_numbers_and_dates_typed() -> None:
    response = _export(_rows(12), "format=xlsx&sort=name")
    assert isinstance(response, FileResponse)
    assert response["Content-Disposition"] == 'attachment; filename="oxytrack-test.xlsx"'
    rows = _xlsx(response)
    assert rows[0] == ["Nom", "Jour", "Vu", "Temps actif (h)", "Part (%)", "Identifiant", "Minutes"]
    assert len(rows) == 13
    assert rows[1] == [
        "Agent 000",
        # Naive: spreadsheets have no zones (openpyxl reads date cells back as datetimes).
        datetime(2026, 11, 1),  # noqa: DTZ001
        datetime(2026, 11, 3, 14, 2, 5),  # noqa: DTZ001
        1.5,
        50.0,
        "agent0",
        90.0,
    ]
    assert response.audit_calls == [("xlsx", 12)]  # type: ignore[attr-defined]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formulas_are_neutralised(fmt: str) -> None:
    data = _rows(len(HOSTILE))
    for row, text in zip(data, HOSTILE, strict=True):
        row["name"] = text
    response = _export(data, f"format={fmt}&sort=login")
    names = [r[0] for r in (_csv(response, ",") if fmt == "csv" else _xlsx(response))[1:]]
    expected = ["'" + text for text in HOSTILE]
    if fmt == "xlsx":
        # XML reads a lone CR back as LF; the cell still starts with the quote.
        expected[-1] = "'\nCR"
    assert names == expected
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(_body(_export(data, "format=xlsx")))).worksheets[0]
        assert all(c.data_type == "s" for c in sheet["A"][1:])


def test_huge_strings_control_and_bidi_characters() -> None:
    data = _rows(3)
    data[0]["name"] = "A" * 1_000_000
    data[1]["name"] = "gpj\u202eexe.doc"
    data[2]["name"] = "nul\x00bell\x07"
    csv_rows = _csv(_export(data, "format=csv&sort=login"), ",")
    # CSV keeps the whole text; the bidi override is shown, not applied.
    assert [len(csv_rows[1][0]), csv_rows[2][0]] == [1_000_000, "gpj⟨RLO⟩exe.doc"]
    xlsx_rows = _xlsx(_export(data, "format=xlsx&sort=login"))
    # Excel's cell limit, and characters the file format forbids replaced.
    assert len(str(xlsx_rows[1][0])) == 32767
    assert xlsx_rows[2][0] == "gpj⟨RLO⟩exe.doc"
    assert xlsx_rows[3][0] == "nul\ufffdbell\ufffd"


def test_an_unknown_format_is_a_readable_400_and_not_audited() -> None:
    response = _export(_rows(1), "format=pdf")
    assert response.status_code == 400
    assert "csv ou xlsx" in _body(response).decode()
    assert response.audit_calls == []  # type: ignore[attr-defined]


def test_file_name_stems_are_ascii_slugs() -> None:
    stem = export_filename_stem("titres", "Dupont Jean", date(2026, 11, 1), date(2026, 11, 30))
    assert stem == "oxytrack-titres-dupont-jean-2026-11-01-2026-11-30"
    stem = export_filename_stem("équipe", "Île-de-France/Ça", "")
    assert stem == "oxytrack-equipe-ile-de-france-ca"
