"""The data protection officer reads the compliance kit and is named in it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from oxytrack.accounts.models import User
from oxytrack.compliance.queries import compliance_facts
from oxytrack.compliance.tests.test_access import NAMES


@pytest.mark.parametrize("name", NAMES)
def test_the_dpo_opens_every_page_of_the_kit(client: Client, dpo: User, name: str) -> None:
    client.force_login(dpo)
    assert client.get(reverse(name)).status_code == 200
    assert client.post(reverse(name)).status_code in (403, 405)


def test_the_documents_name_the_dpo_apart_from_the_admins(
    client: Client, superadmin: User, dpo: User, alice: User
) -> None:
    facts = compliance_facts()
    assert [m.email for m in facts.dpos] == ["dpo@example.com"]
    assert "dpo@example.com" not in [m.email for m in facts.admins]
    client.force_login(superadmin)
    html = client.get(reverse("compliance:notice_fr")).content.decode()
    assert "dpo@example.com) : délégué à la protection des données" in html


def test_the_dpo_finds_the_kit_on_the_settings_page(client: Client, dpo: User) -> None:
    client.force_login(dpo)
    html = client.get(reverse("org:settings")).content.decode()
    assert f'href="{reverse("compliance:dpia_fr")}"' in html
