"""Changes to the organisation."""

from __future__ import annotations

from django.db import transaction

from oxytrack.accounts.models import User
from oxytrack.audit.actions import record
from oxytrack.audit.models import Action
from oxytrack.org.models import EnrollmentKey, new_enrollment_key


def get_enrollment_key() -> str:
    """The current enrollment key, created on first use."""
    current = EnrollmentKey.objects.order_by("-created_at").first()
    if current is None:
        current = EnrollmentKey.objects.create()
    return current.key


@transaction.atomic
def do_rotate_enrollment_key(*, actor: User | None, ip: str | None = None) -> str:
    """Replace the enrollment key; installers holding the old one are refused from now on.

    Enrolled devices keep working: they use their own tokens.
    """
    EnrollmentKey.objects.all().delete()
    key = EnrollmentKey.objects.create(key=new_enrollment_key())
    record(Action.ROTATE_KEY, actor=actor, target_label="enrollment key", ip=ip)
    return key.key
