"""`oxytrack create_superadmin`: the first login of a fresh install."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from pytest_django.fixtures import Settings

from oxytrack.accounts.models import Role, User

pytestmark = pytest.mark.django_db

GOOD = "Tres-Bon-Mot-De-Passe-42"


@pytest.fixture(autouse=True)
def production_hasher(settings: Settings) -> None:
    """The superadmin's password is hashed as in production (the test settings use MD5)."""
    settings.PASSWORD_HASHERS = settings.PRODUCTION_PASSWORD_HASHERS


def can_log_in(email: str, password: str) -> bool:
    # django-axes wants the request that carries the login attempt.
    request = RequestFactory().post("/login/")
    return authenticate(request, username=email, password=password) is not None


def run(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    call_command("create_superadmin", *args, stdout=out)
    return out.getvalue()


def test_it_creates_the_superadmin_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    output = run(monkeypatch, "--email", "Chef@Example.COM", "--password-stdin", stdin=GOOD + "\n")
    assert "chef@example.com created" in output
    user = User.objects.get(email="chef@example.com")
    assert user.role == Role.SUPERADMIN
    assert user.password.startswith("argon2")
    assert can_log_in("chef@example.com", GOOD)


def test_it_prompts_twice_without_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([GOOD, GOOD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    run(monkeypatch, "--email", "chef@example.com")
    assert User.objects.get(email="chef@example.com").check_password(GOOD)


def test_two_different_prompted_passwords_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([GOOD, GOOD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandError, match="differ"):
        run(monkeypatch, "--email", "chef@example.com")
    assert not User.objects.exists()


@pytest.mark.parametrize("weak", ["short", "password123", "12345678901"])
def test_a_weak_password_is_refused_and_nothing_created(
    monkeypatch: pytest.MonkeyPatch, weak: str
) -> None:
    with pytest.raises(CommandError, match="password refused"):
        run(monkeypatch, "--email", "chef@example.com", "--password-stdin", stdin=weak)
    assert not User.objects.exists()


def test_an_invalid_email_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CommandError, match="not a valid email"):
        run(monkeypatch, "--email", "not-an-email", "--password-stdin", stdin=GOOD)
    assert not User.objects.exists()


def test_there_is_only_one_superadmin(monkeypatch: pytest.MonkeyPatch) -> None:
    run(monkeypatch, "--email", "chef@example.com", "--password-stdin", stdin=GOOD)
    with pytest.raises(CommandError, match=r"already exists: chef@example\.com"):
        run(monkeypatch, "--email", "autre@example.com", "--password-stdin", stdin=GOOD)
    assert User.objects.filter(role=Role.SUPERADMIN).count() == 1


def test_the_same_email_again_resets_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    run(monkeypatch, "--email", "chef@example.com", "--password-stdin", stdin=GOOD)
    output = run(monkeypatch, "--email", "chef@example.com", "--password-stdin", stdin=GOOD + "!")
    assert "updated" in output
    assert can_log_in("chef@example.com", GOOD + "!")
    assert not can_log_in("chef@example.com", GOOD)


def test_promoting_an_existing_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    User.objects.create_user("chef@example.com", "Old-Password-123", role=Role.ADMIN)
    run(monkeypatch, "--email", "chef@example.com", "--password-stdin", stdin=GOOD)
    assert User.objects.get(email="chef@example.com").is_superadmin
