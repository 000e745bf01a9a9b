"""The employee's own data over a range, for download (GDPR arts. 15 and 20).

The same queries as the page (`oxytrack.activity.queries`), so the files carry the
page's figures: totals, per-day times, every title with its times, the machines.
Durations are exact: milliseconds in JSON, seconds with three decimals in CSV and XLSX
(the XLSX holds the CSV's rows, cell for cell, with numbers as numbers).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from oxytrack.activity import queries
from oxytrack.org.models import Employee
from oxytrack.web.export import csv_cell, xlsx_cells
from oxytrack.web.formatting import zone_of

#: Version of the files' layout, in the JSON and the CSV's first line.
FORMAT = 1


def _local(moment: datetime | None, zone: str) -> str | None:
    return moment.astimezone(zone_of(zone)).isoformat() if moment is not None else None


def export_data(employee: Employee, start: date, end: date) -> dict[str, Any]:
    """Everything the portal page shows for the range, as plain JSON-ready values."""
    zone = queries.employee_time_zone(employee)
    activity = queries.employee_activity(employee, start, end)
    return {
        "format": FORMAT,
        "generated_at": timezone.now().isoformat(),
        "employee": {
            "login": employee.login,
            "name": employee.display_name,
            "agency": employee.agency.name if employee.agency else None,
            "service": employee.service.name if employee.service else None,
        },
        "range": {"start": start.isoformat(), "end": end.isoformat()},
        "time_zone": zone,
        "totals": {
            "screen_ms": activity.screen_ms,
            "active_ms": activity.active_ms,
            "idle_ms": activity.idle_ms,
            "keys": activity.keys,
            "clicks": activity.clicks,
        },
        "days": [
            {"day": d.day.isoformat(), "active_ms": d.active_ms, "idle_ms": d.idle_ms}
            for d in activity.days
        ],
        "titles": [
            {
                "app": row["window__app"],
                "title": row["window__title"],
                "first_opened": _local(row["first_opened"], zone),
                "last_closed": _local(row["last_closed"], zone),
                "active_ms": int(row["active"] or 0),
                "idle_ms": int(row["idle"] or 0),
            }
            for row in queries.title_rows(employee, start, end).iterator()
        ],
        "devices": [
            {
                "hostname": d.hostname,
                "os": d.os,
                "agent_version": d.agent_version,
                "time_zone": d.time_zone,
                "last_ip": d.last_ip,
                "local_ips": d.local_ips,
                "last_seen_at": _local(d.last_seen_at, zone),
                "enrolled_at": _local(d.enrolled_at, zone),
                "revoked": d.revoked,
            }
            for d in queries.employee_devices(employee)
        ],
    }


def _seconds(ms: int) -> Decimal:
    # Exact to the millisecond, written "1234.500" in the CSV and kept a number in XLSX.
    return Decimal(ms).scaleb(-3).quantize(_MILLI)


_MILLI = Decimal("0.001")


@dataclass(frozen=True)
class Section:
    """One block of the files: its name, its header row, its rows."""

    name: str
    header: list[str]
    rows: list[list[object]]


def title_row(data: dict[str, Any]) -> list[object]:
    """The files' first row: what they are, their layout's version, whose they are."""
    return ["OxyTrack", _("Format"), data["format"], data["employee"]["login"]]


def sections(data: dict[str, Any]) -> list[Section]:
    """`export_data`'s content as the CSV's and the XLSX's sections, cell by cell.

    Agent text is guarded against spreadsheet formulas (csv_cell); durations are
    seconds (Decimal, three places), counts integers, dates and times ISO text.
    """
    totals = data["totals"]
    return [
        Section(
            _("Période"),
            [_("Début"), _("Fin"), _("Fuseau horaire"), _("Temps d'écran (s)"),
             _("Temps actif (s)"), _("Inactif (s)"), _("Frappes"), _("Clics")],
            [[data["range"]["start"], data["range"]["end"], data["time_zone"],
              _seconds(totals["screen_ms"]), _seconds(totals["active_ms"]),
              _seconds(totals["idle_ms"]), totals["keys"], totals["clicks"]]],
        ),
        Section(
            _("Par jour"),
            [_("Jour"), _("Temps actif (s)"), _("Inactif (s)")],
            [[d["day"], _seconds(d["active_ms"]), _seconds(d["idle_ms"])] for d in data["days"]],
        ),
        Section(
            _("Titres"),
            [_("Application"), _("Titre"), _("Première ouverture"), _("Dernière fermeture"),
             _("Temps actif (s)"), _("Inactif (s)")],
            [[csv_cell(t["app"]), csv_cell(t["title"]), t["first_opened"], t["last_closed"],
              _seconds(t["active_ms"]), _seconds(t["idle_ms"])]
             for t in data["titles"]],
        ),
        Section(
            _("Machines"),
            [_("Machine"), _("Système"), _("Dernière IP"), _("IP locales"), _("Fuseau horaire"),
             _("Version de l'agent"), _("Vu pour la dernière fois")],
            [[csv_cell(m["hostname"]), csv_cell(m["os"]), m["last_ip"] or "",
              " ".join(m["local_ips"]), csv_cell(m["time_zone"]), csv_cell(m["agent_version"]),
              m["last_seen_at"] or ""]
             for m in data["devices"]],
        ),
    ]  # fmt: skip


def write_csv(data: dict[str, Any], out: IO[str]) -> None:
    """`export_data`'s content as one CSV of sections: a name row, a header row, the rows,
    an empty row. Agent text is guarded against spreadsheet formulas."""
    writer = csv.writer(out)
    writer.writerow(title_row(data))
    for section in sections(data):
        writer.writerow([])
        writer.writerow([section.name])
        writer.writerow(section.header)
        writer.writerows(section.rows)


def xlsx_workbook(data: dict[str, Any]) -> Workbook:
    """The CSV's rows in one sheet, cell for cell (an empty row between sections, names
    and headers in bold): text stays text, never a formula; seconds and counts are
    numbers. The sheet is named after the range."""
    book = Workbook(write_only=True)
    # Sheet names: 31 characters, none of []:*?/\ (ISO dates have none).
    sheet = book.create_sheet(title=f"{data['range']['start']} {data['range']['end']}")
    sheet.append(xlsx_cells(sheet, title_row(data), bold=True))
    for section in sections(data):
        sheet.append([])
        sheet.append(xlsx_cells(sheet, [section.name], bold=True))
        sheet.append(xlsx_cells(sheet, section.header, bold=True))
        for row in section.rows:
            sheet.append(xlsx_cells(sheet, row))
    return book
