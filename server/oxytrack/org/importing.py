"""Checking agency and service names, time zones, and the CSV files that list them.

Shared by the console commands (`oxytrack agencies`, `oxytrack services`):
a file is read and checked whole before anything is written, so a bad row
is reported with its line number and the database is left as it was.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db.models import QuerySet

from oxytrack.org.models import Agency, Service

NAME_MAX_CHARS = Agency._meta.get_field("name").max_length or 100

# Header cells accepted for each column, compared after `_header_key`:
# English or French, as a spreadsheet user would type them.
_AGENCY_HEADERS = {"name", "nom", "agency", "agence"}
_SERVICE_HEADERS = {"name", "nom", "service"}
_ZONE_HEADERS = {"time zone", "timezone", "tz", "fuseau", "fuseau horaire", "zone"}


class BadValue(ValueError):
    """A name or time zone that cannot be stored; the message says why."""


@dataclass(frozen=True)
class BadRow:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class BadFile(ValueError):
    """A CSV file with bad rows; nothing of it may be written."""

    def __init__(self, problems: list[BadRow]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class AgencyRow:
    line: int
    name: str
    # None: the file gives none (no column, or an empty cell): the server's
    # default for a new agency, no change for an existing one.
    time_zone: str | None


@dataclass(frozen=True)
class ServiceRow:
    line: int
    name: str


def clean_name(value: str) -> str:
    """An agency or service name without surrounding spaces; BadValue if unusable.

    Control and invisible formatting characters (bidi overrides, zero-width
    spaces) are refused: the name is shown in the installer's dialog and on
    every page, where they would disguise it.
    """
    name = value.strip()
    if not name:
        raise BadValue("empty name")
    if len(name) > NAME_MAX_CHARS:
        raise BadValue(f"name longer than {NAME_MAX_CHARS} characters")
    if any(unicodedata.category(char) in {"Cc", "Cf"} for char in name):
        raise BadValue(f"name {name!r} contains control or invisible characters")
    return name


@lru_cache(maxsize=1)
def _zones_by_key() -> dict[str, str]:
    return {zone.casefold(): zone for zone in zoneinfo.available_timezones()}


def clean_time_zone(value: str) -> str:
    """The IANA name in its canonical spelling (`europe/paris` → `Europe/Paris`)."""
    key = value.strip().casefold()
    zone = _zones_by_key().get(key)
    if zone is None:
        raise BadValue(
            f"unknown time zone {value.strip()!r} (an IANA name such as Europe/Paris "
            "or America/Martinique)"
        )
    return zone


def name_key(name: str) -> str:
    """What two names that are the same agency or service have in common (any case)."""
    return name.casefold()


def find_named(
    model: type[Agency] | type[Service], name: str, *, besides: Agency | Service | None = None
) -> Agency | Service | None:
    """The agency (or service) called `name` in any case, other than `besides`."""
    # Compared in Python (casefold), not with SQL lower(), which SQLite
    # applies to ASCII only: "Île" and "île" are one agency on both databases.
    units: QuerySet[Any] = model.objects.all()
    if besides is not None:
        units = units.exclude(pk=besides.pk)
    key = name_key(name)
    return next((unit for unit in units if name_key(unit.name) == key), None)


def _header_key(cell: str) -> str:
    return " ".join(cell.strip().casefold().replace("_", " ").replace("-", " ").split())


def _decode(data: bytes) -> str:
    try:
        # utf-8-sig drops the byte-order mark Excel writes in "CSV UTF-8".
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BadFile(
            [
                BadRow(
                    line,
                    "the file is not UTF-8 text (in Excel: Save as, "
                    "« CSV UTF-8 (délimité par des virgules) »)",
                )
            ]
        ) from None


def _rows(data: bytes) -> tuple[list[str], int, list[tuple[int, list[str]]]]:
    """The header, its line, and each non-blank row with the line it starts on."""
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    # French Excel separates with ";" (the comma is the decimal mark there).
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    previous_end = 0
    try:
        for row in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if any(cell.strip() for cell in row):
                rows.append((start, row))
    except csv.Error as exc:
        raise BadFile([BadRow(reader.line_num, f"not valid CSV ({exc})")]) from None
    if not rows:
        raise BadFile([BadRow(1, "the file is empty (expected a header row, then one row each)")])
    header_line, header = rows[0]
    return header, header_line, rows[1:]


def _columns(
    header: list[str], line: int, wanted: dict[str, set[str]], required: str
) -> dict[str, int]:
    """Column index of each wanted column found in the header; BadFile on anything else."""
    found: dict[str, int] = {}
    problems = []
    for index, cell in enumerate(header):
        key = _header_key(cell)
        column = next((name for name, aliases in wanted.items() if key in aliases), None)
        if column is None:
            if key:
                problems.append(BadRow(line, f"unknown column {cell.strip()!r}"))
        elif column in found:
            problems.append(BadRow(line, f"column {cell.strip()!r} appears twice"))
        else:
            found[column] = index
    if required not in found:
        problems.append(
            BadRow(
                line,
                f"the first row must name the columns, e.g. {' ; '.join(wanted)} "
                f"(found {' ; '.join(c.strip() for c in header)!r})",
            )
        )
    if problems:
        raise BadFile(problems)
    return found


def _cell(row: list[str], index: int | None) -> str:
    return row[index] if index is not None and index < len(row) else ""


def _check_duplicate(
    seen: dict[str, int], name: str, line: int, problems: list[BadRow], what: str
) -> bool:
    """Record `name`; False (and a problem) when an earlier row has it already."""
    first = seen.setdefault(name_key(name), line)
    if first != line:
        problems.append(BadRow(line, f"{what} {name!r} is already on line {first}"))
        return False
    return True


def read_agencies_csv(data: bytes) -> list[AgencyRow]:
    """The rows of an agencies file (columns `name` and optional `time_zone`).

    UTF-8 with or without BOM, `,` or `;` separated, blank rows skipped.
    Every problem of the file is raised at once as BadFile.
    """
    header, header_line, rows = _rows(data)
    columns = _columns(
        header, header_line, {"name": _AGENCY_HEADERS, "time_zone": _ZONE_HEADERS}, "name"
    )
    problems: list[BadRow] = []
    seen: dict[str, int] = {}
    result = []
    for line, row in rows:
        if len(row) > len(header):
            problems.append(BadRow(line, f"{len(row)} cells, the header has {len(header)}"))
            continue
        try:
            name = clean_name(_cell(row, columns["name"]))
            zone_cell = _cell(row, columns.get("time_zone")).strip()
            zone = clean_time_zone(zone_cell) if zone_cell else None
        except BadValue as exc:
            problems.append(BadRow(line, str(exc)))
            continue
        if _check_duplicate(seen, name, line, problems, "agency"):
            result.append(AgencyRow(line, name, zone))
    if problems:
        raise BadFile(problems)
    return result


def read_services_csv(data: bytes) -> list[ServiceRow]:
    """The rows of a services file (one column, `name`); same rules as agencies."""
    header, header_line, rows = _rows(data)
    columns = _columns(header, header_line, {"name": _SERVICE_HEADERS}, "name")
    problems: list[BadRow] = []
    seen: dict[str, int] = {}
    result = []
    for line, row in rows:
        if len(row) > len(header):
            problems.append(BadRow(line, f"{len(row)} cells, the header has {len(header)}"))
            continue
        try:
            name = clean_name(_cell(row, columns["name"]))
        except BadValue as exc:
            problems.append(BadRow(line, str(exc)))
            continue
        if _check_duplicate(seen, name, line, problems, "service"):
            result.append(ServiceRow(line, name))
    if problems:
        raise BadFile(problems)
    return result
