"""What `oxytrack agencies` and `oxytrack services` share: list, add, rename, import."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from oxytrack.org import actions
from oxytrack.org.importing import (
    BadFile,
    BadValue,
    clean_name,
    clean_time_zone,
    find_named,
    read_agencies_csv,
    read_services_csv,
)
from oxytrack.org.models import Agency, Service


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


class UnitCommand(BaseCommand):
    """One console command per kind of unit, with the subcommands list/add/rename/import."""

    model: ClassVar[type[Agency] | type[Service]]
    kind: ClassVar[str]  # "agency"
    a_kind: ClassVar[str]  # "an agency"
    plural: ClassVar[str]  # "agencies", also the command's name

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        listing = sub.add_parser("list", help=f"print the {self.plural} and their employee counts")
        listing.add_argument(
            "--csv", action="store_true", help="print them as a CSV file that `import` reads back"
        )
        add = sub.add_parser("add", help=f"create {self.a_kind} (audited)")
        add.add_argument("name")
        rename = sub.add_parser(
            "rename", help=f"rename {self.a_kind}; its employees and history follow (audited)"
        )
        rename.add_argument("old", help="current name (any case)")
        rename.add_argument("new", help="new name")
        imported = sub.add_parser(
            "import",
            help=f"create the {self.plural} of a CSV file that do not exist yet (audited); "
            "all or nothing, and importing the same file again changes nothing",
        )
        imported.add_argument(
            "file", help="CSV file (UTF-8, with or without BOM, ',' or ';'), or - for stdin"
        )
        imported.add_argument(
            "--dry-run", action="store_true", help="check the file and count, write nothing"
        )
        self.add_unit_arguments(add)

    def add_unit_arguments(self, add: CommandParser) -> None:
        """Extra options of `add` for this kind of unit."""

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        if subcommand == "list":
            self.list(as_csv=options["csv"])
        elif subcommand == "add":
            self.add(self._name(options["name"]), options)
        elif subcommand == "rename":
            self.rename(options["old"], self._name(options["new"]))
        else:
            self.import_file(options["file"], dry_run=options["dry_run"])

    def _name(self, value: str) -> str:
        try:
            return clean_name(value)
        except BadValue as exc:
            raise CommandError(str(exc)) from None

    def _get(self, name: str) -> Agency | Service:
        unit = find_named(self.model, name)
        if unit is None:
            raise CommandError(
                f"no {self.kind} is named {name!r} (`oxytrack {self.plural} list` shows them)"
            )
        return unit

    def _refuse_taken(self, name: str, besides: Agency | Service | None = None) -> None:
        taken = find_named(self.model, name, besides=besides)
        if taken is not None:
            raise CommandError(f"{self.a_kind} named {taken.name!r} already exists")

    def columns(self, unit: Any) -> list[str]:
        """The cells `list` prints for one unit after its name."""
        return []

    def column_names(self) -> list[str]:
        return []

    def list(self, *, as_csv: bool) -> None:
        # Explicit order: Meta.ordering does not apply to a GROUP BY query.
        units: list[Any] = list(
            self.model.objects.annotate(employee_count=Count("employees")).order_by("name")
        )
        if as_csv:
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(["name", *self.column_names()])
            writer.writerows([unit.name, *self.columns(unit)] for unit in units)
            return
        if not units:
            self.stdout.write(self.none_yet())
            return
        header = ["name", *self.column_names(), "employees"]
        body = [[unit.name, *self.columns(unit), str(unit.employee_count)] for unit in units]
        self.stdout.write(_table([header, *body]))

    def none_yet(self) -> str:
        return (
            f"No {self.kind} yet. Create them with `oxytrack {self.plural} import FILE.csv` "
            f"or `oxytrack {self.plural} add NAME`."
        )

    def add(self, name: str, options: dict[str, Any]) -> None:
        raise NotImplementedError

    def rename(self, old: str, new: str) -> None:
        unit = self._get(old)
        self._refuse_taken(new, besides=unit)
        before = unit.name
        if isinstance(unit, Agency):
            actions.do_rename_agency(unit, new, actor=None)
        else:
            actions.do_rename_service(unit, new, actor=None)
        self.stdout.write(f"{self.kind.capitalize()} {before!r} renamed {new!r}.")

    def read(self, data: bytes) -> Any:
        raise NotImplementedError

    def do_import(self, rows: Any, *, dry_run: bool) -> actions.ImportCounts:
        raise NotImplementedError

    def import_file(self, file: str, *, dry_run: bool) -> None:
        try:
            data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        try:
            rows = self.read(data)
        except BadFile as exc:
            count = len(exc.problems)
            raise CommandError(
                f"{file}: nothing imported, {count} bad row{'s' if count > 1 else ''}:\n"
                + "\n".join(f"  {problem}" for problem in exc.problems)
            ) from None
        counts = self.do_import(rows, dry_run=dry_run)
        self.stdout.write(
            f"{file}: {self.plural}: {counts.created} created, {counts.updated} updated, "
            f"{counts.unchanged} unchanged" + (" (dry run: nothing written)." if dry_run else ".")
        )


class AgenciesCommand(UnitCommand):
    help = (
        "List, add, rename or import (CSV: name;time_zone) the agencies that agents "
        "enroll into. See docs/configuration.md."
    )
    model = Agency
    kind, a_kind, plural = "agency", "an agency", "agencies"

    def add_unit_arguments(self, add: CommandParser) -> None:
        add.add_argument(
            "--time-zone",
            default=None,
            help="IANA name of its employees' time zone, e.g. Europe/Paris or "
            "America/Martinique (default: OXYTRACK_TIME_ZONE)",
        )

    def column_names(self) -> list[str]:
        return ["time_zone"]

    def columns(self, unit: Any) -> list[str]:
        return [unit.time_zone]

    def none_yet(self) -> str:
        return (
            "No agency yet. Create them with `oxytrack agencies import FILE.csv` "
            "(columns name;time_zone) or `oxytrack agencies add NAME --time-zone Europe/Paris`."
        )

    def add(self, name: str, options: dict[str, Any]) -> None:
        try:
            zone = clean_time_zone(options["time_zone"] or str(settings.TIME_ZONE))
        except BadValue as exc:
            raise CommandError(str(exc)) from None
        self._refuse_taken(name)
        agency = actions.do_create_agency(name, zone, actor=None)
        self.stdout.write(f"Agency {agency.name!r} created ({agency.time_zone}).")

    def read(self, data: bytes) -> Any:
        return read_agencies_csv(data)

    def do_import(self, rows: Any, *, dry_run: bool) -> actions.ImportCounts:
        return actions.do_import_agencies(rows, actor=None, dry_run=dry_run)


class ServicesCommand(UnitCommand):
    help = (
        "List, add, rename or import (CSV: one column, name) the services that agents "
        "enroll into. See docs/configuration.md."
    )
    model = Service
    kind, a_kind, plural = "service", "a service", "services"

    def add(self, name: str, options: dict[str, Any]) -> None:
        self._refuse_taken(name)
        service = actions.do_create_service(name, actor=None)
        self.stdout.write(f"Service {service.name!r} created.")

    def read(self, data: bytes) -> Any:
        return read_services_csv(data)

    def do_import(self, rows: Any, *, dry_run: bool) -> actions.ImportCounts:
        return actions.do_import_services(rows, actor=None, dry_run=dry_run)
