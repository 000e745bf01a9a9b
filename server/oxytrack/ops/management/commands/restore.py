"""`oxytrack restore PATH`: put a backup of `oxytrack backup` back into the database.

The logic is in oxytrack.ops.backup; see docs/en/administrator-manual.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oxytrack.ops.backup import BackupError, describe_counts, restore_database
from oxytrack.ops.management.commands.serve import pending_migrations


class Command(BaseCommand):
    help = (
        "Restore a backup made by `oxytrack backup` into the configured database, replacing "
        "what it holds. Stop the server first (and so the agents' uploads: they keep their "
        "data and send it once the server is back). Refused without --yes when the "
        "database holds data, and when the file is of the other database's kind. Then "
        "checks the database and prints the counts of its main tables."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the backup file (.sqlite3 or .pgdump)")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="replace a database that holds data (everything in it since the backup is lost)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = restore_database(options["path"], replace=options["yes"])
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from None
        if result.checks:
            raise CommandError(
                "restored, but the database fails its integrity check: "
                + "; ".join(result.checks[:10])
            )
        self.stdout.write(f"Restored {options['path']}: {describe_counts(result.counts)}.")
        self.stdout.write(
            "Integrity check: ok."
            if result.kind == "sqlite"
            else "pg_restore: ok (one transaction); statistics updated (ANALYZE)."
        )
        pending = pending_migrations()
        if pending:
            self.stdout.write(
                f"The backup is from an older version: {len(pending)} migration(s) to apply. "
                "Run `oxytrack migrate` before starting the server."
            )
