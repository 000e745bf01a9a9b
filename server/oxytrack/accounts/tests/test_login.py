"""Logging in by email: any case of the address, and a French error that reads right."""

from __future__ import annotations

import html

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from oxytrack.accounts.actions import do_create_superadmin
from oxytrack.accounts.models import User
from oxytrack.conftest import PASSWORD

WRONG = "Wrong-Password-Secret-1"


def _login(client: Client, email: str, password: str, **headers: str) -> tuple[int, str]:
    response = client.post(
        reverse("login"), {"username": email, "password": password}, headers=headers
    )
    return response.status_code, html.unescape(response.content.decode())


@pytest.mark.parametrize("typed", ["ALICE@EXAMPLE.COM", "Alice@Example.com", " alice@example.COM "])
def test_any_case_of_the_address_logs_in(client: Client, alice: User, typed: str) -> None:
    status, _body = _login(client, typed, PASSWORD)
    assert status == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_an_address_typed_in_capitals_at_creation_is_stored_lower_case(
    client: Client, db: None
) -> None:
    user, _created = do_create_superadmin("Chef.Service@Example.COM", PASSWORD)
    assert user.email == "chef.service@example.com"
    assert _login(client, "CHEF.SERVICE@example.com", PASSWORD)[0] == 302


def test_the_french_error_reads_right(client: Client, alice: User) -> None:
    status, body = _login(client, alice.email, WRONG)
    assert status == 200
    assert "Saisissez une adresse e-mail et un mot de passe valides." in body
    assert "un adresse" not in body
    # The address is not case-sensitive, so the page does not say it is.
    assert "chacun de ces champs est sensible à la casse" not in body


def test_the_english_error(client: Client, alice: User) -> None:
    _status, body = _login(client, alice.email, WRONG, **{"Accept-Language": "en"})
    assert "Please enter a correct email address and password." in body


def test_failures_in_any_case_count_towards_one_lockout(client: Client, alice: User) -> None:
    # Otherwise changing the case of one letter would buy more guesses.
    typed = ["ALICE@example.com", "Alice@Example.com", "alice@EXAMPLE.com", "aLiCe@example.com"]
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, typed[i % len(typed)], WRONG)[0] == 200
    assert _login(client, "ALICE@EXAMPLE.COM", WRONG)[0] == 429
    assert _login(client, alice.email, PASSWORD)[0] == 429
