"""CSV downloads every page shares: UTF-8 with a BOM, `,` or `;`, cells a spreadsheet
will not run.

The ground floor: it imports no domain app; callers pass the header and rows.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse

# Excel in a French locale reads `;` as the separator; everything else reads `,`.
DELIMITERS = {"comma": ",", "semicolon": ";"}


def csv_cell(value: object) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ (or tab/CR) gets a quote."""
    text = str(value)
    if text and text[0] in "=+-@\t\r":
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
