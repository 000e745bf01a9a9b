"""The effective policy an agent receives."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db.models import Q

from oxytrack.org.models import Agency, Service
from oxytrack.policy.models import PolicyOverride
from oxytrack.policy.schedule import wire_schedule

POLICY_FIELDS = (
    "sample_interval_s",
    "upload_interval_s",
    "idle_threshold_s",
    "titles",
    "redact",
    "exclude_apps",
    "input_counts",
    "redact_rules",
    "browser_sites",
    "schedule",
    "pause_max_minutes_per_day",
)


def effective_policy(agency: Agency | int | None, service: Service | int | None) -> dict[str, Any]:
    """Defaults, then the global override, then the agency's, then the service's.

    `agency` and `service` may be instances or primary keys (an employee's
    `agency_id` spares a query). One query reads every layer that applies.
    `version` is a digest of the resulting values, so it changes exactly
    when what the agent must apply changes (and not on a no-op save).
    """
    agency_id = agency.pk if isinstance(agency, Agency) else agency
    service_id = service.pk if isinstance(service, Service) else service
    applies = Q(agency__isnull=True, service__isnull=True)
    if agency_id is not None:
        applies |= Q(agency_id=agency_id)
    if service_id is not None:
        applies |= Q(service_id=service_id)
    found = list(PolicyOverride.objects.filter(applies))

    def rank(layer: PolicyOverride) -> int:
        # Global, then agency, then service: later layers win.
        return 2 if layer.service_id is not None else 1 if layer.agency_id is not None else 0

    policy: dict[str, Any] = dict(settings.OXYTRACK_POLICY_DEFAULTS)
    for layer in sorted(found, key=rank):
        for field in POLICY_FIELDS:
            value = getattr(layer, field)
            if value is not None and value != "":
                policy[field] = value
    # "always" in an override lifts the hours of the level above: agents get null.
    policy["schedule"] = wire_schedule(policy.get("schedule"))
    canonical = json.dumps(policy, sort_keys=True, ensure_ascii=False)
    return {"version": hashlib.sha256(canonical.encode()).hexdigest()[:16], **policy}


def inherited_policy(kind: str) -> dict[str, Any]:
    """What a level inherits: the defaults for the global row, else the global policy.

    (An agency's or a service's row sits on top of the global one; for a
    given employee the service's row also beats the agency's.)
    """
    if kind == "global":
        return dict(settings.OXYTRACK_POLICY_DEFAULTS)
    policy = effective_policy(None, None)
    policy.pop("version")
    return policy
