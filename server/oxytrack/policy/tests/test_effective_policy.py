"""The effective policy: defaults, global, agency, service (service wins), and its version."""

from __future__ import annotations

from django.conf import settings
from django.test import Client, override_settings

from oxytrack.conftest import EnrolledDevice, Org
from oxytrack.ingest.tests.payloads import BASE
from oxytrack.policy.models import PolicyOverride, TitleMode
from oxytrack.policy.queries import effective_policy
from oxytrack_agent.redaction import default_rules_json


def get_policy(client: Client, token: str) -> dict[str, object]:
    response = client.get(f"{BASE}/policy", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return dict(response.json())


def test_defaults_come_from_settings(client: Client, enrolled_device: EnrolledDevice) -> None:
    policy = get_policy(client, enrolled_device.token)
    assert policy == {
        "version": policy["version"],
        "sample_interval_s": 1,
        "upload_interval_s": 600,
        "idle_threshold_s": 180,
        "titles": "full",
        "redact": [],
        "exclude_apps": [],
        "input_counts": True,
        # The built-in deny-list, the one the agent applies (one source).
        "redact_rules": default_rules_json(),
        "browser_sites": True,
        "schedule": None,
        "pause_max_minutes_per_day": 60,
    }


def test_service_wins_over_agency_over_global(
    client: Client, enrolled_device: EnrolledDevice, org: Org
) -> None:
    PolicyOverride.objects.create(upload_interval_s=300, idle_threshold_s=120)
    PolicyOverride.objects.create(
        agency=org.nice, idle_threshold_s=90, titles=TitleMode.APP_ONLY, redact=["(?i)salaire"]
    )
    PolicyOverride.objects.create(service=org.facturation, idle_threshold_s=60)
    policy = get_policy(client, enrolled_device.token)  # Nice / Facturation
    assert policy["upload_interval_s"] == 300  # global
    assert policy["titles"] == "app_only"  # agency
    assert policy["redact"] == ["(?i)salaire"]  # agency
    assert policy["idle_threshold_s"] == 60  # service beats agency and global
    # Another agency with the same service, another service in the same agency.
    assert effective_policy(org.marseille, org.facturation)["titles"] == "full"
    assert effective_policy(org.nice, org.logistique)["idle_threshold_s"] == 90


def test_version_changes_exactly_when_the_policy_does(
    client: Client, enrolled_device: EnrolledDevice, org: Org
) -> None:
    first = get_policy(client, enrolled_device.token)["version"]
    # An override that repeats the defaults changes nothing the agent applies.
    override = PolicyOverride.objects.create(agency=org.nice, idle_threshold_s=180)
    assert get_policy(client, enrolled_device.token)["version"] == first
    override.idle_threshold_s = 200
    override.save()
    second = get_policy(client, enrolled_device.token)["version"]
    assert second != first
    # Another agency's override does not concern this device.
    PolicyOverride.objects.create(agency=org.marseille, input_counts=False)
    assert get_policy(client, enrolled_device.token)["version"] == second
    with override_settings(
        OXYTRACK_POLICY_DEFAULTS={**settings.OXYTRACK_POLICY_DEFAULTS, "sample_interval_s": 2}
    ):
        changed = get_policy(client, enrolled_device.token)
        assert changed["sample_interval_s"] == 2
        assert changed["version"] not in (first, second)


def test_policy_needs_a_device_token(client: Client, enrolled_device: EnrolledDevice) -> None:
    response = client.get(f"{BASE}/policy")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
