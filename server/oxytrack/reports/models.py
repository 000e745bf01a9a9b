"""The weekly e-mail: who opted out, and which reports went out."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReportPreference(models.Model):
    """A manager's choice about the weekly e-mail; no row means subscribed, site language."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="report_preference",
    )
    weekly = models.BooleanField(_("recevoir l'e-mail hebdomadaire"), default=True)
    # Empty: the site's language (LANGUAGE_CODE). The User model keeps none.
    language = models.CharField(_("langue de l'e-mail"), max_length=10, blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("préférence d'e-mail")

    def __str__(self) -> str:
        return f"{self.user_id}: weekly={self.weekly}"


class SentReport(models.Model):
    """One weekly report sent to one manager: the same week is never sent twice unasked."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sent_reports"
    )
    # The Monday of the ISO week the report describes.
    week = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)
    teams = models.PositiveIntegerField(default=0)
    employees = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("rapport envoyé")
        constraints = [
            models.UniqueConstraint(fields=["user", "week"], name="sent_report_unique_user_week")
        ]

    def __str__(self) -> str:
        return f"{self.week_label} to {self.user_id}"

    @property
    def week_label(self) -> str:
        """`2026-W48`."""
        year, number, _weekday = self.week.isocalendar()
        return f"{year}-W{number:02d}"
