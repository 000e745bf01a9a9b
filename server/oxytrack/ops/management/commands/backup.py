"""`oxytrack backup`: an online, consistent copy of the database while the server runs.

The logic is in oxytrack.ops.backup; see docs/en/administrator-manual.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from oxytrack.ops.backup import BackupError, backup, default_output, vendor_of


class Command(BaseCommand):
    help = (
        "Back the database up while the server runs and agents upload: on SQLite a "
        "consistent copy through SQLite's backup API, on PostgreSQL pg_dump -Fc (the "
        "connection from DATABASE_URL, the password in PGPASSWORD). The file holds personal "
        "data: it is created 0600, by default under OXYTRACK_VAR_DIR/backups/ (0700). "
        "Restore with `oxytrack restore`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            help="file to write (must not exist); default: "
            "OXYTRACK_VAR_DIR/backups/oxytrack-<UTC time>.sqlite3 or .pgdump",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        settings_dict = connections[DEFAULT_DB_ALIAS].settings_dict
        try:
            output = options["output"] or default_output(
                Path(settings.VAR_DIR), vendor_of(settings_dict)
            )
            size = backup(settings_dict, output)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{output} ({size:,} bytes)")
