"""Changes to managers."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from oxytrack.accounts.models import Role, User


class SuperadminExists(Exception):
    """There is already a super-administrator with another email."""


@transaction.atomic
def do_create_superadmin(email: str, password: str) -> tuple[User, bool]:
    """Create the super-administrator, or reset their password if `email` is theirs.

    There is one super-administrator: another email raises SuperadminExists.
    Raises django's ValidationError for a weak password. Returns (user, created).
    """
    email = User.objects.normalize_email(email).strip().lower()
    existing = User.objects.filter(role=Role.SUPERADMIN).exclude(email=email).first()
    if existing is not None:
        raise SuperadminExists(existing.email)
    user = User.objects.filter(email=email).first()
    validate_password(password, user=user or User(email=email))
    if user is None:
        return User.objects.create_superadmin(email, password), True
    user.role = Role.SUPERADMIN
    user.is_active = True
    user.set_password(password)
    user.save(update_fields=["role", "is_active", "password"])
    return user, False
