"""Changes and audit entries of the read API for BI: tokens created and revoked,
and one audit entry for every call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from oxytrack.accounts.models import User
from oxytrack.audit.actions import record
from oxytrack.audit.models import Action, Entry
from oxytrack.bi.models import AccessToken
from oxytrack.bi.tokens import SHOWN_PREFIX_LENGTH, new_token, token_digest
from oxytrack.org.models import Employee


@dataclass(frozen=True)
class IssuedToken:
    token: AccessToken
    secret: str  # shown once, on the page that created it, never stored


def _token_detail(token: AccessToken) -> dict[str, Any]:
    return {"token": str(token.public_id), "token_name": token.name, "prefix": token.prefix}


@transaction.atomic
def do_create_token(
    *, name: str, expires_at: datetime | None, actor: User, ip: str | None
) -> IssuedToken:
    """A new token of `actor` (audited); its secret is returned once."""
    secret = new_token()
    token = AccessToken.objects.create(
        user=actor,
        name=name,
        prefix=secret[:SHOWN_PREFIX_LENGTH],
        digest=token_digest(secret),
        expires_at=expires_at,
    )
    detail = _token_detail(token)
    if expires_at is not None:
        detail["expires_at"] = expires_at.isoformat()
    record(
        Action.CREATE_API_TOKEN,
        actor=actor,
        target=token,
        target_label=name,
        detail=detail,
        ip=ip,
    )
    return IssuedToken(token, secret)


@transaction.atomic
def do_revoke_token(public_id: uuid.UUID, *, actor: User, ip: str | None) -> AccessToken:
    """Revoke one of `actor`'s own tokens (audited); another's or a missing one: 404."""
    token = (
        AccessToken.objects.select_for_update()
        .filter(user=actor, public_id=public_id, revoked_at__isnull=True)
        .first()
    )
    if token is None:
        raise Http404(_("Jeton introuvable."))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record(
        Action.REVOKE_API_TOKEN,
        actor=actor,
        target=token,
        target_label=token.name,
        detail=_token_detail(token),
        ip=ip,
    )
    return token


def do_record_api_view(
    employee: Employee,
    start: date,
    end: date,
    *,
    by: str,
    token: AccessToken,
    ip: str | None,
    reason: str = "",
) -> Entry:
    """A BI tool read one employee's activity: a view of that employee, as on the pages."""
    detail: dict[str, Any] = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "via": "api",
        "by": by,
        **_token_detail(token),
    }
    if reason:
        detail["reason"] = reason
    return record(Action.VIEW_EMPLOYEE, actor=token.user, target=employee, detail=detail, ip=ip)


def do_record_api_read(
    endpoint: str,
    params: dict[str, Any],
    *,
    token: AccessToken,
    ip: str | None,
    employees: list[str] | None = None,
) -> Entry:
    """A BI tool called a list endpoint (`params`: what it asked for).

    `employees`, for a team's usage, are the public ids whose time was summed,
    so an employee's trail can still be searched in the detail.
    """
    detail: dict[str, Any] = {"endpoint": endpoint, "params": params, **_token_detail(token)}
    if employees is not None:
        detail["employees"] = employees
    return record(
        Action.API_READ,
        actor=token.user,
        # Stored data, not UI: the same words whatever the reader's language.
        target_label=f"API {endpoint}",
        target_ref=("api", endpoint[:64]),
        detail=detail,
        ip=ip,
    )
