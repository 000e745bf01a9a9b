"""The settings page of personal access tokens: create (shown once), list, revoke; audited."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from oxytrack.accounts.models import User
from oxytrack.audit.models import Action, Entry
from oxytrack.bi.models import AccessToken
from oxytrack.bi.tests.conftest import bearer, token_for
from oxytrack.conftest import Org

URL = "/settings/tokens/"


def test_a_created_token_is_shown_once_and_works(client: Client, org: Org, alice: User) -> None:
    client.force_login(alice)
    response = client.post(URL, {"name": "Rapport <mensuel>", "lifetime": "30"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    stored = AccessToken.objects.get()
    secret = response.context["issued"].secret
    assert secret.startswith("oxp_") and len(secret) == 47
    html = response.content.decode()
    assert secret in html
    assert "Rapport &lt;mensuel&gt;" in html
    assert stored.user == alice
    assert stored.expires_at is not None
    assert 29 <= (stored.expires_at - stored.created_at).days <= 30
    # The list afterwards shows its start, never the secret again.
    again = client.get(URL).content.decode()
    assert secret not in again
    assert stored.prefix in again
    assert client.get("/api/v1/employees", headers=bearer(secret)).status_code == 200
    entry = Entry.objects.get(action=Action.CREATE_API_TOKEN)
    assert (entry.actor, entry.target_label) == (alice, "Rapport <mensuel>")
    assert secret not in str(entry.detail)


def test_a_name_is_required(client: Client, org: Org, alice: User) -> None:
    client.force_login(alice)
    response = client.post(URL, {"name": "   ", "lifetime": "90"})
    assert response.status_code == 200
    assert "Donnez un nom au jeton." in response.content.decode()
    assert not AccessToken.objects.exists()


def test_revoking_stops_the_token_at_once(client: Client, org: Org, alice: User) -> None:
    secret = token_for(alice)
    stored = AccessToken.objects.get()
    client.force_login(alice)
    response = client.post(reverse("bi:token_revoke", args=[stored.public_id]))
    assert response.status_code == 302
    assert client.get("/api/v1/employees", headers=bearer(secret)).status_code == 401
    assert Entry.objects.get(action=Action.REVOKE_API_TOKEN).actor == alice
    assert "révoqué" in client.get(URL).content.decode()
    # Revoking twice finds nothing to revoke.
    again = client.post(reverse("bi:token_revoke", args=[stored.public_id]))
    assert again.status_code == 404


def test_nobody_lists_or_revokes_another_managers_tokens(
    client: Client, org: Org, alice: User, bob: User
) -> None:
    token_for(bob)
    stored = AccessToken.objects.get()
    client.force_login(alice)
    assert stored.prefix not in client.get(URL).content.decode()
    assert client.post(reverse("bi:token_revoke", args=[stored.public_id])).status_code == 404
    assert AccessToken.objects.get().revoked_at is None


def test_the_dpo_has_no_tokens_page(client: Client, dpo: User) -> None:
    client.force_login(dpo)
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"name": "x", "lifetime": "30"}).status_code == 404
    assert not AccessToken.objects.exists()


def test_the_form_is_csrf_protected(org: Org, alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(URL, {"name": "x", "lifetime": "30"}).status_code == 403
    assert not AccessToken.objects.exists()


def test_the_page_speaks_english_too(client: Client, org: Org, alice: User) -> None:
    client.force_login(alice)
    client.cookies["django_language"] = "en"
    html = client.get(URL).content.decode()
    assert "API access tokens" in html
    assert "Never (revoke it by hand)" in html
