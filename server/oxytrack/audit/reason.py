"""The access reason (OXYTRACK_ACCESS_REASON): a manager says why before seeing one
employee's activity; the reason goes into each audit entry of that browsing.

A given reason is kept in the session for that employee for REASON_LIFETIME, so
paging, sorting, a new range and the CSV do not ask again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oxytrack.org.models import Employee

REASON_MAX_LENGTH = 200
REASON_LIFETIME = timedelta(minutes=30)
_SESSION_KEY = "oxytrack_access_reasons"


class AccessReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de la consultation"),
        max_length=REASON_MAX_LENGTH,
        help_text=_(
            "Pourquoi consultez-vous l'activité de cette personne ? Le motif est inscrit "
            "au journal d'audit."
        ),
        error_messages={
            "required": _("Indiquez le motif de la consultation."),
            "max_length": _("Le motif tient en %(limit_value)d caractères au plus."),
        },
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )


def reason_required() -> bool:
    """Whether opening an employee's activity asks for a reason (off by default)."""
    return bool(settings.OXYTRACK_ACCESS_REASON)


def current_reason(request: HttpRequest, employee: Employee) -> str:
    """The reason given for `employee` in this session within REASON_LIFETIME, else ""."""
    stored = request.session.get(_SESSION_KEY, {}).get(str(employee.public_id))
    if not stored:
        return ""
    given = datetime.fromisoformat(stored["at"])
    if timezone.now() - given > REASON_LIFETIME:
        return ""
    return str(stored["reason"])


def remember_reason(request: HttpRequest, employee: Employee, reason: str) -> None:
    """Keep `reason` for `employee` in this session; expired ones are dropped."""
    now = timezone.now()
    reasons = {
        key: value
        for key, value in request.session.get(_SESSION_KEY, {}).items()
        if now - datetime.fromisoformat(value["at"]) <= REASON_LIFETIME
    }
    reasons[str(employee.public_id)] = {"reason": reason, "at": now.isoformat()}
    request.session[_SESSION_KEY] = reasons
