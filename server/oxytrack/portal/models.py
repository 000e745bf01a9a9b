"""One-time links to the employee portal, asked for by the agent with its device token."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class PortalLink(models.Model):
    """A code the agent opens in the browser: single use, short-lived, stored hashed.

    Only the HMAC of the code is kept (as for device tokens): the database alone
    cannot open anyone's portal.
    """

    employee = models.ForeignKey(
        "org.Employee", on_delete=models.CASCADE, related_name="portal_links"
    )
    device = models.ForeignKey("org.Device", on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"portal link {self.pk} of employee {self.employee_id}"
