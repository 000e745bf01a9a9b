from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from oxytrack.reports.actions import do_send_weekly_reports, recipients
from oxytrack.reports.weekly import last_complete_week, parse_week


class Command(BaseCommand):
    help = (
        "E-mail each active admin and the super-admin a summary of their teams for the last "
        "complete ISO week (HTML with a chart, a CSV attached). Skips managers who opted out, "
        "those without employees, and weeks already sent to them. Run it every Monday "
        "(cron or a systemd timer); exit status 1 when a report could not be sent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--week", help="ISO week to report, e.g. 2026-W48 (default: the last complete one)"
        )
        parser.add_argument("--to", metavar="EMAIL", help="only the manager with this e-mail")
        parser.add_argument("--force", action="store_true", help="send again a week already sent")
        parser.add_argument(
            "--dry-run", action="store_true", help="say who would receive one; send nothing"
        )

    def handle(
        self,
        *args: Any,
        week: str | None,
        to: str | None,
        force: bool,
        dry_run: bool,
        **options: Any,
    ) -> None:
        if week:
            try:
                chosen = parse_week(week)
            except ValueError as error:
                raise CommandError(f"--week: {error}") from None
            if chosen.sunday >= timezone.localdate():
                raise CommandError(f"--week {chosen.label} is not over yet")
        else:
            chosen = last_complete_week()
        if to is not None and not recipients(to):
            raise CommandError(f"--to {to!r}: no active admin or super-admin has this e-mail")
        outcome = do_send_weekly_reports(chosen, only=to, force=force, dry_run=dry_run)
        for email in outcome.would_send:
            self.stdout.write(f"would send {chosen.label} to {email}")
        for email in outcome.sent:
            self.stdout.write(f"sent {chosen.label} to {email}")
        for email, reason in outcome.skipped:
            self.stdout.write(f"skipped {email}: {reason}")
        for email, problem in outcome.failed:
            self.stderr.write(f"FAILED {email}: {problem}")
        self.stdout.write(
            f"Week {chosen.label} ({chosen.monday} to {chosen.sunday}): "
            f"{len(outcome.would_send) if dry_run else len(outcome.sent)} "
            f"{'to send' if dry_run else 'sent'}, {len(outcome.skipped)} skipped, "
            f"{len(outcome.failed)} failed."
        )
        if outcome.failed:
            raise CommandError(f"{len(outcome.failed)} report(s) could not be sent", returncode=1)
