"""Changes to the agent policy (super-admin web page)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from oxytrack.accounts.models import User
from oxytrack.audit.actions import record
from oxytrack.audit.models import Action
from oxytrack.org.models import Agency, Service
from oxytrack.policy.models import PolicyOverride
from oxytrack.policy.queries import POLICY_FIELDS


@transaction.atomic
def do_change_policy(
    target: Agency | Service | None,
    values: dict[str, Any],
    *,
    actor: User,
    ip: str | None = None,
) -> PolicyOverride:
    """Store the override of `target` (None: the global one); None/"" values inherit.

    Agents pick the change up with their next upload (the policy version changes).
    """
    if target is None:
        row, _created = PolicyOverride.objects.get_or_create(agency=None, service=None)
    elif isinstance(target, Agency):
        row, _created = PolicyOverride.objects.get_or_create(agency=target)
    else:
        row, _created = PolicyOverride.objects.get_or_create(service=target)
    changes: dict[str, Any] = {}
    for field in POLICY_FIELDS:
        new = values.get(field)
        if field == "titles" and new is None:
            new = ""
        old = getattr(row, field)
        if old != new:
            changes[field] = {"from": old, "to": new}
            setattr(row, field, new)
    if changes:
        row.save(update_fields=list(changes))
    record(
        Action.CHANGE_POLICY,
        actor=actor,
        target=target,
        target_label=str(target) if target is not None else "globale",
        detail={"changes": changes},
        ip=ip,
    )
    return row
