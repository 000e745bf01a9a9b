"""Who opens the compliance kit: the super-admin and the dpo; admins get 403; no session: login."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from oxytrack.accounts.models import User
from oxytrack.compliance.views import DOCUMENTS, LANGUAGES

NAMES = [
    "compliance:kit",
    *(f"compliance:{slug}_{lang}" for slug in DOCUMENTS for lang in LANGUAGES),
]


@pytest.mark.parametrize("name", NAMES)
def test_the_superadmin_opens_every_page(client: Client, superadmin: User, name: str) -> None:
    client.force_login(superadmin)
    assert client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", NAMES)
def test_an_admin_gets_403_like_on_other_settings_pages(
    client: Client, bob: User, name: str
) -> None:
    client.force_login(bob)
    assert client.get(reverse(name)).status_code == 403
    assert client.get(reverse("org:settings")).status_code == 403


@pytest.mark.parametrize("name", NAMES)
def test_without_a_session_the_kit_asks_for_a_login(client: Client, db: None, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", NAMES)
def test_the_kit_only_reads(client: Client, superadmin: User, name: str) -> None:
    client.force_login(superadmin)
    assert client.post(reverse(name)).status_code == 405


def test_the_settings_page_links_every_document(client: Client, superadmin: User) -> None:
    client.force_login(superadmin)
    html = client.get(reverse("org:settings")).content.decode()
    for slug in DOCUMENTS:
        for lang in LANGUAGES:
            assert f'href="{reverse(f"compliance:{slug}_{lang}")}"' in html


def test_the_kit_page_lists_every_document(client: Client, superadmin: User) -> None:
    client.force_login(superadmin)
    html = client.get(reverse("compliance:kit")).content.decode()
    assert html.count('id="doc-') == len(DOCUMENTS) * len(LANGUAGES)
