"""Writing audit entries; called inside the action's own transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import models

from oxytrack.accounts.models import User
from oxytrack.audit.models import Action, Entry


def record(
    action: Action,
    *,
    actor: User | None,
    target: models.Model | None = None,
    target_label: str = "",
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> Entry:
    """Write one audit entry. `actor` None means the system (a console command)."""
    return Entry.objects.create(
        actor=actor,
        actor_label=actor.email if actor else "système",
        action=action,
        target_type=target._meta.model_name or "" if target is not None else "",
        target_id=str(getattr(target, "public_id", None) or getattr(target, "pk", "") or ""),
        target_label=(target_label or (str(target) if target is not None else ""))[:300],
        detail=detail or {},
        ip=ip,
    )


def do_record_view(
    employee: models.Model, start: date, end: date, *, actor: User, ip: str | None
) -> Entry:
    """A manager looked at an employee's activity between `start` and `end`."""
    return record(
        Action.VIEW_EMPLOYEE,
        actor=actor,
        target=employee,
        detail={"start": start.isoformat(), "end": end.isoformat()},
        ip=ip,
    )


def do_record_export(
    employee: models.Model, start: date, end: date, *, actor: User, ip: str | None
) -> Entry:
    """A manager downloaded an employee's activity between `start` and `end`."""
    return record(
        Action.EXPORT,
        actor=actor,
        target=employee,
        detail={"start": start.isoformat(), "end": end.isoformat(), "format": "csv"},
        ip=ip,
    )
