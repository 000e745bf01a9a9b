"""Changes to managers."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from oxytrack.accounts.models import Role, Scope, User
from oxytrack.audit.actions import record
from oxytrack.audit.models import Action
from oxytrack.org.models import Agency, Service


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


class CannotDelete(Exception):
    """The super-administrator, or one's own account, is never deleted from the web app."""


@transaction.atomic
def do_create_admin(
    *,
    email: str,
    display_name: str,
    password: str,
    role: str,
    scopes: list[tuple[Agency, Service | None]],
    actor: User,
    ip: str | None = None,
) -> User:
    """Create a manager with their scopes (the form has validated email and password)."""
    user = User.objects.create_user(email, password, display_name=display_name, role=role)
    Scope.objects.bulk_create(
        [Scope(user=user, agency=agency, service=service) for agency, service in scopes]
    )
    record(
        Action.CREATE_ADMIN,
        actor=actor,
        target=user,
        target_label=user.email,
        detail={
            "role": role,
            "scopes": [f"{a.name} / {s.name if s else '*'}" for a, s in scopes],
        },
        ip=ip,
    )
    return user


@transaction.atomic
def do_delete_admin(user: User, *, actor: User, ip: str | None = None) -> None:
    """Delete an admin; never the super-administrator nor oneself (raises CannotDelete)."""
    if user.role == Role.SUPERADMIN or user.pk == actor.pk:
        raise CannotDelete(user.email)
    record(Action.DELETE_ADMIN, actor=actor, target=user, target_label=user.email, ip=ip)
    user.delete()
