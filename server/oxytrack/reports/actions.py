"""Sending the weekly reports, and a manager's choice to receive them or not."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from oxytrack.accounts.models import Role, User
from oxytrack.audit.actions import record
from oxytrack.audit.models import Action
from oxytrack.reports.mail import build_message
from oxytrack.reports.models import ReportPreference, SentReport
from oxytrack.reports.weekly import Week, report_for, team_summaries

logger = logging.getLogger(__name__)


@dataclass
class SendOutcome:
    """What one run did, manager by manager (their e-mail addresses)."""

    sent: list[str] = field(default_factory=list)
    #: (address, reason): opted out, already sent, no employees in scope.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: (address, error); the run went on with the next manager.
    failed: list[tuple[str, str]] = field(default_factory=list)
    #: --dry-run: who would have received one.
    would_send: list[str] = field(default_factory=list)


def recipients(only: str | None = None) -> list[User]:
    """Active admins and the super-admin (never the dpo)."""
    users = User.objects.filter(is_active=True, role__in=[Role.ADMIN, Role.SUPERADMIN])
    if only is not None:
        users = users.filter(email=only.strip().lower())
    return list(users.order_by("email"))


def preference_of(user: User) -> ReportPreference:
    """The stored preference, or the default one (subscribed, the site's language)."""
    return ReportPreference.objects.filter(user=user).first() or ReportPreference(user=user)


def report_language(preference: ReportPreference) -> str:
    return preference.language or str(settings.LANGUAGE_CODE)


def do_send_weekly_reports(
    week: Week, *, only: str | None = None, force: bool = False, dry_run: bool = False
) -> SendOutcome:
    """E-mail each subscribed manager their teams' `week`, once per week unless `force`.

    Each report is sent, then recorded and audited in its own transaction: no
    network call inside a transaction, and one refused address (logged) does
    not stop the others.
    """
    outcome = SendOutcome()
    summaries = team_summaries(week)
    preferences = {p.user_id: p for p in ReportPreference.objects.all()}
    already = set(SentReport.objects.filter(week=week.monday).values_list("user_id", flat=True))
    for user in recipients(only):
        preference = preferences.get(user.pk) or ReportPreference(user=user)
        if not preference.weekly:
            outcome.skipped.append((user.email, "opted out"))
            continue
        if user.pk in already and not force:
            outcome.skipped.append((user.email, "already sent"))
            continue
        report = report_for(user, week, summaries)
        if not report.teams:
            outcome.skipped.append((user.email, "no employees in scope"))
            continue
        if dry_run:
            outcome.would_send.append(user.email)
            continue
        try:
            build_message(report, recipient=user, language=report_language(preference)).send()
        except Exception as error:  # SMTP refusals, timeouts, DNS: whatever it is, go on
            logger.exception("weekly report %s to %s failed", week.label, user.email)
            outcome.failed.append((user.email, f"{type(error).__name__}: {error}"))
            continue
        with transaction.atomic():
            SentReport.objects.update_or_create(
                user=user,
                week=week.monday,
                defaults={
                    "sent_at": timezone.now(),
                    "teams": len(report.teams),
                    "employees": report.employees,
                },
            )
            # The report carries employees' activity to a mailbox: an export.
            record(
                Action.EXPORT,
                actor=None,
                target=user,
                target_label=user.email,
                detail={
                    "format": "email",
                    "report": "weekly",
                    "week": week.label,
                    "teams": len(report.teams),
                    "employees": report.employees,
                },
            )
        outcome.sent.append(user.email)
    return outcome


def do_set_report_preference(user: User, *, weekly: bool, language: str) -> ReportPreference:
    """Subscribe `user` to the weekly e-mail or not, in `language` ("" for the site's)."""
    with transaction.atomic():
        preference, _created = ReportPreference.objects.update_or_create(
            user=user,
            defaults={"weekly": weekly, "language": language, "updated_at": timezone.now()},
        )
    return preference
