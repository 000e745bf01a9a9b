"""The effective policy an agent receives."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings

from oxytrack.org.models import Agency, Service
from oxytrack.policy.models import PolicyOverride

POLICY_FIELDS = (
    "sample_interval_s",
    "upload_interval_s",
    "idle_threshold_s",
    "titles",
    "redact",
    "exclude_apps",
    "input_counts",
)


def effective_policy(agency: Agency | None, service: Service | None) -> dict[str, Any]:
    """Defaults, then the global override, then the agency's, then the service's.

    `version` is a digest of the resulting values, so it changes exactly
    when what the agent must apply changes (and not on a no-op save).
    """
    policy: dict[str, Any] = dict(settings.OXYTRACK_POLICY_DEFAULTS)
    layers = [PolicyOverride.objects.filter(agency=None, service=None).first()]
    if agency is not None:
        layers.append(PolicyOverride.objects.filter(agency=agency).first())
    if service is not None:
        layers.append(PolicyOverride.objects.filter(service=service).first())
    for layer in layers:
        if layer is None:
            continue
        for field in POLICY_FIELDS:
            value = getattr(layer, field)
            if value is not None and value != "":
                policy[field] = value
    canonical = json.dumps(policy, sort_keys=True, ensure_ascii=False)
    return {"version": hashlib.sha256(canonical.encode()).hexdigest()[:16], **policy}
