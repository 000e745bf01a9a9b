"""Downloads every page shares: CSV (UTF-8 with a BOM, `,` or `;`) and XLSX, with cells
a spreadsheet will not run.

`csv_response` writes rows a caller builds; `table_export` writes any django-tables2
table (every row in its current sort and filter) as CSV or XLSX, streamed.
The ground floor: it imports no domain app.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import django_tables2 as tables
from django.db import models
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django_tables2.utils import call_with_appropriate
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from oxytrack.web.formatting import chart_label

# Excel in a French locale reads `;` as the separator; everything else reads `,`.
DELIMITERS = {"comma": ",", "semicolon": ";"}


def csv_cell(value: object) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ (or tab/CR) gets a quote,
    also after leading blanks ("  =HYPERLINK(…)"): LibreOffice's CSV import can trim them
    ("Trim spaces"), as Excel's Power Query does, and the formula then runs."""
    text = str(value)
    if text and (text[0] in "=+-@\t\r" or text.lstrip()[:1] in ("=", "+", "-", "@")):
        return "'" + text
    return text


def _cell(value: object) -> object:
    if value is None:
        return ""
    return value if isinstance(value, int | float) else csv_cell(value)


def delimiter_for(request: HttpRequest) -> str:
    """The separator asked by `?sep=semicolon` (else `,`)."""
    return DELIMITERS.get(request.GET.get("sep", ""), ",")


class _Echo:
    """A file-like object csv.writer writes to, handing each line back."""

    def write(self, value: str) -> str:
        return value


def csv_response(
    filename: str,
    header: Iterable[object],
    rows: Iterable[Iterable[Any]],
    *,
    delimiter: str = ",",
) -> StreamingHttpResponse:
    """A download of `rows` under `header`, streamed (a long log never sits in memory).

    Every text cell goes through csv_cell; numbers are written as they are.
    """
    writer = csv.writer(_Echo(), delimiter=delimiter)

    def lines() -> Iterator[str]:
        yield "\ufeff"  # so Excel reads UTF-8
        yield writer.writerow([csv_cell(c) for c in header])
        for row in rows:
            yield writer.writerow([_cell(c) for c in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Any table, as CSV or XLSX -------------------------------------------------------

#: The formats `?format=` accepts.
FORMATS = ("csv", "xlsx")
# Rows read from the database per round trip; a 100,000-row export never sits in memory.
CHUNK_ROWS = 2000
# Excel's limit for one cell; a longer one makes it "repair" the file.
XLSX_MAX_CELL = 32767
# The XLSX is written here, then sent; past this size it lives on disk, not in memory.
SPOOL_BYTES = 8 * 1024 * 1024
_MS_PER_HOUR = 3_600_000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ExportAudit = Callable[[str, int], object]


def duration_hours(ms: int | None) -> float | None:
    """A duration in milliseconds as hours with decimals (0.36 s precision), for exports."""
    return None if ms is None else round(ms / _MS_PER_HOUR, 4)


def export_format(request: HttpRequest) -> str | None:
    """The format asked by `?format=` (None when the page itself is asked)."""
    return request.GET.get("format") or None


def export_filename_stem(*parts: object) -> str:
    """`oxytrack-titres-dupont-jean-2026-11-01-2026-11-30`: ASCII, no extension.

    Dates are written ISO; text is slugified (accents dropped), empty parts skipped.
    """
    words = ["oxytrack"]
    for part in parts:
        text = part.isoformat() if isinstance(part, date) else str(part or "")
        # Punctuation separates words ("Agence/Service"), as spaces do.
        slug = slugify(re.sub(r"[^\w\s-]", " ", text))[:60].strip("-")
        if slug:
            words.append(slug)
    return "-".join(words)


def _text(value: str, limit: int | None = None) -> str:
    # Bidi controls would reorder the cell in a spreadsheet, which isolates nothing:
    # shown as a visible mark, as in the charts. Then the formula guard.
    text = csv_cell(chart_label(value))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def plain_value(value: object) -> object:
    """A cell's value as a spreadsheet should hold it.

    Numbers and dates stay numbers and dates (aware datetimes on the reader's
    clock, without zone: spreadsheets have none); dicts and lists become JSON;
    anything else becomes text, guarded (formulas, bidi controls).
    """
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, date):
        return value
    if isinstance(value, timedelta):
        return duration_hours(round(value.total_seconds() * 1000))
    if isinstance(value, dict | list | tuple):
        return _text(json.dumps(value, ensure_ascii=False, default=str))
    return _text(str(value))


def _columns(table: Any) -> list[Any]:
    # django-tables2's rule for exports: invisible columns are exported (export-only
    # columns), exclude_from_export ones are not.
    return [c for c in table.columns.iterall() if not c.column.exclude_from_export]


def _header(table: Any, columns: list[Any]) -> list[object]:
    units: dict[str, str] = getattr(table, "export_units", {})
    header: list[object] = []
    for bound in columns:
        unit = units.get(bound.name) or getattr(bound.column, "export_unit", "")
        label = str(bound.header)
        header.append(f"{label} ({unit})" if unit else label)
    return header


def _cell_value(table: Any, bound: Any, record: Any) -> object:
    """The plain value of one cell: the table's `value_<name>`, else the column's
    `export_value` (or an overridden django-tables2 `value`), else the raw accessor
    value (choices shown by their label)."""
    value = bound.accessor.resolve(record, quiet=True)
    if isinstance(record, models.Model) and not any(s in bound.accessor for s in (".", "__")):
        display = getattr(record, f"get_{bound.accessor}_display", None)
        if display is not None:
            value = display()
    explicit = getattr(table, f"value_{bound.name}", None)
    if explicit is not None:
        kwargs = {"value": value, "record": record, "column": bound.column, "bound_column": bound}
        value = call_with_appropriate(explicit, kwargs)
    elif hasattr(bound.column, "export_value"):
        value = bound.column.export_value(value)
    elif type(bound.column).value is not tables.Column.value:
        # django-tables2's own hook for exports, when a column class overrides it.
        kwargs = {"value": value, "record": record, "column": bound.column, "bound_column": bound}
        value = call_with_appropriate(bound.column.value, kwargs)
    return plain_value(value)


def _records(table: Any) -> Iterator[Any]:
    """Every row of `table` in its current sort and filter (not just the page)."""
    data = table.data.data
    if isinstance(data, models.QuerySet):
        # Prefetches still apply per chunk (Django ≥ 4.1).
        yield from data.iterator(chunk_size=CHUNK_ROWS)
    else:
        yield from data


def table_rows(table: Any) -> Iterator[list[object]]:
    """The header, then every row of `table` as plain values (see plain_value)."""
    columns = _columns(table)
    yield _header(table, columns)
    for record in _records(table):
        yield [_cell_value(table, bound, record) for bound in columns]


def _csv_text(value: object, decimal: str) -> object:
    if value is None:
        return ""
    if isinstance(value, float | Decimal):
        # French Excel reads "1,5" beside a ";" separator, "1.5" beside ",".
        return str(value).replace(".", decimal)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _attachment(response: HttpResponseBase, filename: str) -> None:
    response["Content-Disposition"] = content_disposition_header(True, filename) or ""


def _table_csv(table: Any, filename: str, delimiter: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo(), delimiter=delimiter)
    decimal = "," if delimiter == ";" else "."

    def lines() -> Iterator[str]:
        yield "\ufeff"  # so Excel reads UTF-8
        for row in table_rows(table):
            yield writer.writerow([_csv_text(v, decimal) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    _attachment(response, filename)
    return response


def xlsx_cells(sheet: Any, row: Iterable[object], bold: bool = False) -> list[Any]:
    """One row of a write-only sheet: text always text (never a formula, whatever it
    starts with), numbers and dates with a format; the caller guards text (csv_cell)."""
    cells = []
    for value in row:
        if isinstance(value, str):
            value = _xlsx_text(value)
        cell = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]  # plain_value's types
        if isinstance(value, str):
            # Text, never a formula, whatever it starts with.
            cell.data_type = "s"
        elif isinstance(value, datetime):
            cell.number_format = "yyyy-mm-dd hh:mm:ss"
        elif isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"
        elif isinstance(value, float):
            cell.number_format = "0.00"
        elif isinstance(value, Decimal):
            # As many decimals as it was given (seconds to the millisecond: 0.000).
            places = -int(value.as_tuple().exponent)
            cell.number_format = "0." + "0" * places if places > 0 else "0"
        if bold:
            cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def _xlsx_text(value: str) -> str:
    # Control characters are not allowed in the file format; Excel caps cell length.
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    if len(text) > XLSX_MAX_CELL:
        text = text[: XLSX_MAX_CELL - 1] + "…"
    return text


def _table_xlsx(table: Any, stem: str) -> FileResponse:
    book = Workbook(write_only=True)
    # Sheet names: 31 characters, none of []:*?/\ (the stem is a slug).
    sheet = book.create_sheet(title=stem.removeprefix("oxytrack-")[:31] or "oxytrack")
    sheet.freeze_panes = "A2"
    rows = table_rows(table)
    sheet.append(xlsx_cells(sheet, next(rows), bold=True))
    for row in rows:
        # Plain values, a third faster than cells: openpyxl types a text starting with
        # "=" as a formula, and no text here does (plain_value's guard); dates get
        # its default date formats.
        sheet.append([_xlsx_text(v) if isinstance(v, str) else v for v in row])
    return xlsx_response(book, f"{stem}.xlsx")


def xlsx_response(book: Workbook, filename: str) -> FileResponse:
    """`book` as a download named `filename`."""
    # Write-only sheets go to temporary files row by row; the zip is then spooled.
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (FileResponse closes it)
    book.save(out)
    out.seek(0)
    return FileResponse(
        out,
        as_attachment=True,
        filename=filename,
        content_type=XLSX_CONTENT_TYPE,
    )


def table_export(
    request: HttpRequest, table: Any, *, filename_stem: str, audit: ExportAudit
) -> HttpResponseBase:
    """`table` (a configured BaseTable: sort and filter applied) as a download.

    `?format=csv|xlsx` (csv when absent), `&sep=comma|semicolon` for CSV. Every
    row in the table's current order, not only the page; headers are the columns'
    verbose names, durations in hours (DurationColumn). `audit(format, rows)` is
    called before anything is sent, so an export that fails half-way is still logged.
    An unknown format is a 400.
    """
    fmt = export_format(request) or "csv"
    if fmt not in FORMATS:
        return HttpResponseBadRequest(
            _("Format d'export inconnu : %(format)s (csv ou xlsx).") % {"format": fmt[:20]},
            content_type="text/plain; charset=utf-8",
        )
    audit(fmt, len(table.data))
    if fmt == "xlsx":
        return _table_xlsx(table, filename_stem)
    return _table_csv(table, f"{filename_stem}.csv", delimiter_for(request))
