"""Personal access tokens of the read API for BI (/api/v1/).

A token belongs to one manager and carries nothing else: every call reads
that manager's role and scopes as they are at that moment, so a scope taken
away, a deactivated account or a deleted one (the tokens go with it) takes
effect on the next call.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

NAME_MAX = 100


class AccessToken(models.Model):
    """One personal access token: its digest, never its secret."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens"
    )
    name = models.CharField(_("nom"), max_length=NAME_MAX)
    # The first characters of the token, shown in the list so that its owner
    # recognises which one a BI tool holds (not enough to guess the rest).
    prefix = models.CharField(max_length=16)
    # Hex SHA-256 of the whole token: the lookup key (see bi/tokens.py).
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expire le"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    class Meta:
        verbose_name = _("jeton d'accès API")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def is_usable(self, now: datetime | None = None) -> bool:
        """Neither revoked nor expired at `now` (default: now)."""
        moment = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > moment)
