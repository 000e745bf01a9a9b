"""Agent policy overrides: global, per agency, per service (service wins).

Every field is nullable: null means "inherit" (from the global row, then
from settings.OXYTRACK_POLICY_DEFAULTS).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class TitleMode(models.TextChoices):
    FULL = "full", _("Titres complets")
    APP_ONLY = "app_only", _("Application seulement")


class PolicyOverride(models.Model):
    # Neither agency nor service: the global row. Never both.
    agency = models.OneToOneField(
        "org.Agency", on_delete=models.CASCADE, null=True, blank=True, related_name="policy"
    )
    service = models.OneToOneField(
        "org.Service", on_delete=models.CASCADE, null=True, blank=True, related_name="policy"
    )
    sample_interval_s = models.PositiveIntegerField(null=True, blank=True)
    upload_interval_s = models.PositiveIntegerField(null=True, blank=True)
    idle_threshold_s = models.PositiveIntegerField(null=True, blank=True)
    # "" inherits, like the nullable fields.
    titles = models.CharField(max_length=20, choices=TitleMode.choices, blank=True, default="")
    redact = models.JSONField(null=True, blank=True)
    exclude_apps = models.JSONField(null=True, blank=True)
    input_counts = models.BooleanField(null=True, blank=True)
    # Redaction rules in the wire form ([{name, apps?, title?, replace_with,
    # category?}], checked by oxytrack_agent.redaction); null inherits, [] is "none".
    redact_rules = models.JSONField(null=True, blank=True)
    browser_sites = models.BooleanField(null=True, blank=True)
    # Working hours in the wire form (policy/schedule.py), or "always" (no
    # hours, on purpose); null inherits.
    schedule = models.JSONField(null=True, blank=True)
    pause_max_minutes_per_day = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(agency__isnull=True) | Q(service__isnull=True),
                name="policy_agency_or_service",
            ),
            models.UniqueConstraint(
                fields=["agency", "service"],
                condition=Q(agency__isnull=True, service__isnull=True),
                name="policy_one_global_row",
            ),
        ]

    def __str__(self) -> str:
        return str(self.service or self.agency or _("globale"))
