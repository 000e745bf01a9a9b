from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from oxytrack.demo.actions import (
    DEFAULT_DAYS,
    DEFAULT_EMPLOYEES,
    DEFAULT_SEED,
    DEMO_ACCOUNTS,
    Progress,
    database_is_empty,
    do_seed_demo,
    existing_demo_accounts,
)
from oxytrack.org.models import Employee


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Load the demo organisation: 3 named agencies (more past 40 employees), 4 services, "
        "employees with their PCs, DAYS days of simulated activity ending now, the daily "
        "rollups, and three demo managers whose logins are printed at the end. "
        "The same --seed gives the same data (use --now to fix the end too). "
        "It only fills a database without employees: on a non-empty one it stops with an "
        "error, or, with --if-empty, leaves the data as it is and prints the demo logins "
        "(what `make run` does). To start over, remove the SQLite file (var/oxytrack.sqlite3) "
        "and migrate again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="seed only when there is no employee yet; otherwise keep the data, no error",
        )
        parser.add_argument(
            "--employees",
            type=_positive,
            default=DEFAULT_EMPLOYEES,
            help=f"number of employees (default {DEFAULT_EMPLOYEES})",
        )
        parser.add_argument(
            "--days",
            type=_positive,
            default=DEFAULT_DAYS,
            help=f"days of activity, ending today (default {DEFAULT_DAYS})",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"random seed (default {DEFAULT_SEED})",
        )
        parser.add_argument(
            "--now",
            help="pretend the current time is this ISO 8601 moment with its offset "
            "(reproducible runs)",
        )

    def handle(
        self,
        *args: Any,
        if_empty: bool,
        employees: int,
        days: int,
        seed: int,
        now: str | None,
        verbosity: int,
        **options: Any,
    ) -> None:
        moment = self._parse_now(now)
        if not database_is_empty():
            count = Employee.objects.count()
            if not if_empty:
                raise CommandError(
                    f"the database already holds {count} employees: seed_demo only fills an "
                    "empty database (use --if-empty to keep the data quietly)"
                )
            self.stdout.write(f"Démo : {count} utilisateurs déjà présents, données conservées.")
            self._print_logins()
            return

        # On a terminal, one line rewritten in place; in a log, one line per step.
        tty = self.stderr.isatty()

        shown = {"step": -1}

        def report(step: Progress) -> None:
            if verbosity < 1:
                return
            percent = 100 * step.employees_done // step.employees_total
            # Chunks can be many (a year of data): one line per 5 % step.
            if percent // 5 == shown["step"]:
                return
            shown["step"] = percent // 5
            line = (
                f"seed_demo: {percent:3d} % ({step.employees_done}/{step.employees_total} "
                f"employees, {step.spans:,} spans, {step.elapsed_s:.1f} s, "
                f"ETA {step.eta_s:.0f} s)"
            )
            if tty:
                last = step.employees_done == step.employees_total
                self.stderr.write("\r" + line, style_func=str, ending="\n" if last else "")
                self.stderr.flush()
            else:
                self.stderr.write(line, style_func=str)

        result = do_seed_demo(
            seed=seed, employees=employees, days=days, now=moment, progress=report
        )
        self.stdout.write(
            f"Démo chargée (seed {seed}) : {result.agencies} agences, {result.services} services, "
            f"{result.employees} utilisateurs, {result.devices} machines, "
            f"{result.spans:,} spans sur {days} jours en {result.seconds:.1f} s "
            f"({result.spans_per_s:,.0f} spans/s)."
        )
        if result.kept_superadmin:
            self.stdout.write(
                f"Super-administrateur existant conservé : {result.kept_superadmin} "
                "(le compte de démo n'a pas été créé)."
            )
        self._print_logins()

    def _parse_now(self, now: str | None) -> datetime | None:
        if now is None:
            return None
        try:
            moment = datetime.fromisoformat(now)
        except ValueError:
            raise CommandError(f"--now {now!r} is not an ISO 8601 date and time") from None
        if timezone.is_naive(moment):
            raise CommandError("--now needs a UTC offset, e.g. 2026-03-02T15:00:00+01:00")
        return moment

    def _print_logins(self) -> None:
        accounts = existing_demo_accounts()
        if not accounts:
            self.stdout.write("Aucun compte de démo dans cette base.")
            return
        self.stdout.write("Comptes de démo (mots de passe publics, à changer hors démo) :")
        width = max(len(a.email) for a in DEMO_ACCOUNTS)
        for account in accounts:
            self.stdout.write(
                f"  {account.email:<{width}}  {account.password}  ({account.description})"
            )
