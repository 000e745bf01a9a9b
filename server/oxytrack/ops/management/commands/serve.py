"""`oxytrack serve`: the one way to start OxyTrack under gunicorn (`make run` uses it too).

Checks the database is migrated (or migrates it with --migrate), collects the
static files, then replaces itself with gunicorn, so a process manager
(systemd, a container) supervises gunicorn directly and its signals reach it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from oxytrack.env import env_int, env_str
from oxytrack.ops.checks import cache_problem, static_files_problem


def _default_workers() -> int:
    # gunicorn's rule of thumb (2 per core + 1), capped: each process keeps
    # its own database connection and a Django in memory.
    return min(2 * (os.cpu_count() or 1) + 1, 8)


def gunicorn_settings() -> set[str]:
    """The names of the settings the installed gunicorn knows."""
    from gunicorn.config import KNOWN_SETTINGS  # type: ignore[import-untyped]

    return {setting.name for setting in KNOWN_SETTINGS}


def pending_migrations() -> list[str]:
    """`app.migration` names not applied to the database yet, in order."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


class Command(BaseCommand):
    help = (
        "Start OxyTrack in production: check (or, with --migrate, apply) the database "
        "migrations, collect the static files, then run gunicorn. Other gunicorn settings "
        "go in GUNICORN_CMD_ARGS. See docs/configuration.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--bind",
            default=env_str("OXYTRACK_BIND") or "127.0.0.1:8000",
            help="address:port to listen on (default OXYTRACK_BIND, else 127.0.0.1:8000; "
            "port 0 picks a free one)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=env_int("OXYTRACK_WORKERS", _default_workers(), minimum=1),
            help="gunicorn processes (default OXYTRACK_WORKERS, else 2 per CPU + 1, at most 8)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=env_int("OXYTRACK_THREADS", 4, minimum=1),
            help="threads per process (default OXYTRACK_THREADS, else 4)",
        )
        parser.add_argument(
            "--timeout",
            type=int,
            default=env_int("OXYTRACK_TIMEOUT_S", 60, minimum=1),
            help="seconds before a silent process is restarted (default OXYTRACK_TIMEOUT_S, "
            "else 60)",
        )
        parser.add_argument(
            "--migrate",
            action="store_true",
            help="apply pending database migrations first instead of refusing to start",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("workers", "threads", "timeout"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1")
        self._database(migrate=options["migrate"])
        call_command("collectstatic", interactive=False, verbosity=0)
        problem = static_files_problem() or cache_problem()
        if problem:
            raise CommandError(problem)
        # gunicorn forks its own connections: none is carried over the exec.
        connections.close_all()
        if settings.DEBUG:
            self.stderr.write("Warning: DEBUG is on; never in production.")
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "oxytrack.wsgi",
            "--bind",
            options["bind"],
            "--workers",
            str(options["workers"]),
            # Threads let a process answer pages while another of its
            # requests waits for the SQLite write lock or a slow upload.
            "--threads",
            str(options["threads"]),
            "--timeout",
            str(options["timeout"]),
            "--graceful-timeout",
            "30",
            "--keep-alive",
            "5",
            "--access-logfile",
            "-",
            "--error-logfile",
            "-",
        ]
        if "control_socket_disable" in gunicorn_settings():
            # gunicorn ≥ 24 opens a control socket in $HOME by default: one
            # path for every server of that user, and an interface we do not use.
            argv.append("--no-control-socket")
        # The settings module chosen with --settings goes on to gunicorn.
        os.environ["DJANGO_SETTINGS_MODULE"] = settings.SETTINGS_MODULE
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, argv)  # noqa: S606  (our own interpreter, no shell)

    def _database(self, *, migrate: bool) -> None:
        try:
            pending = pending_migrations()
        except DatabaseError as exc:
            raise CommandError(f"cannot read the database: {exc}") from None
        if not pending:
            return
        if migrate:
            call_command("migrate", interactive=False, verbosity=1)
            return
        shown = ", ".join(pending[:3]) + (", …" if len(pending) > 3 else "")
        raise CommandError(
            f"the database is not up to date: {len(pending)} migration(s) to apply "
            f"({shown}). Back up the database, then run `oxytrack migrate`, or start with "
            "`oxytrack serve --migrate`."
        )
