"""`oxytrack seed_demo`: determinism, --if-empty, the printed logins, scaling."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from pytest_django.fixtures import Settings

from oxytrack import settings as production_settings
from oxytrack.activity.models import Span
from oxytrack.activity.tests.factories import assert_rollups_match_spans
from oxytrack.demo.actions import DEMO_ACCOUNTS, do_seed_demo
from oxytrack.demo.tests.fingerprint import demo_fingerprint, demo_tables, wipe_demo
from oxytrack.org.models import Agency, Employee

NOW = "2026-03-31T15:00:00+02:00"
SMALL = ["--employees", "8", "--days", "5", "--now", NOW]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hasher(settings: Settings) -> None:
    """Each seed hashes three passwords; argon2 would make these tests several times slower.

    The test of the printed logins puts the production hashers back.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    seed(*SMALL)
    first = demo_fingerprint()
    tables = demo_tables()
    assert len(tables["spans"]) > 1000
    wipe_demo()
    seed(*SMALL)
    assert demo_fingerprint() == first  # UUIDs included: URLs are stable across runs
    wipe_demo()
    seed(*SMALL, "--seed", "7")
    other = demo_tables()
    assert demo_fingerprint() != first
    assert other["employees"] != tables["employees"]
    assert other["spans"] != tables["spans"]


def test_one_persons_activity_does_not_depend_on_how_many_are_seeded() -> None:
    seed("--employees", "3", "--days", "4", "--now", NOW)
    thomas = Employee.objects.get(username="tsueur")
    few = list(Span.objects.filter(employee=thomas).values_list("start", "duration_ms", "keys"))
    wipe_demo()
    seed("--employees", "14", "--days", "4", "--now", NOW)
    many = list(
        Span.objects.filter(employee__username="tsueur").values_list("start", "duration_ms", "keys")
    )
    assert few and sorted(few) == sorted(many)


def test_if_empty_keeps_the_data_of_a_second_run() -> None:
    out, _ = seed("--if-empty", *SMALL)
    assert "Démo chargée" in out
    before = demo_fingerprint()
    out, err = seed("--if-empty", "--employees", "20", "--now", NOW)
    assert "8 utilisateurs déjà présents, données conservées" in out
    assert demo_fingerprint() == before
    assert not err  # nothing seeded, no progress
    # Either way the logins are printed.
    assert all(account.email in out for account in DEMO_ACCOUNTS)


def test_without_if_empty_a_non_empty_database_is_refused() -> None:
    seed(*SMALL)
    before = demo_fingerprint()
    with pytest.raises(CommandError, match="already holds 8 employees"):
        seed(*SMALL)
    assert demo_fingerprint() == before


@pytest.mark.parametrize("bad", [["--employees", "0"], ["--days", "-1"], ["--now", "yesterday"]])
def test_bad_arguments_are_refused(bad: list[str]) -> None:
    with pytest.raises(CommandError):
        seed(*bad)
    assert not Employee.objects.exists()


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(CommandError, match="UTC offset"):
        seed("--now", "2026-03-31T15:00:00")


def test_the_printed_logins_let_their_managers_in(settings: Settings) -> None:
    settings.PASSWORD_HASHERS = production_settings.PASSWORD_HASHERS
    out, _ = seed(*SMALL)
    logins = re.findall(r"^\s+(\S+@\S+)\s+(\S+)\s+\(", out, flags=re.MULTILINE)
    assert {email for email, _ in logins} == {a.email for a in DEMO_ACCOUNTS}
    request = RequestFactory().post("/login/")
    for email, password in logins:
        user = authenticate(request, username=email, password=password)
        assert user is not None and user.email == email
        assert user.password.startswith("argon2")
        assert authenticate(request, username=email, password=password + "x") is None


def test_an_existing_superadmin_is_kept() -> None:
    from oxytrack.accounts.models import Role, User

    User.objects.create_superadmin("chef@example.com", "Correct-Horse-Battery-9")
    out, _ = seed(*SMALL)
    assert "chef@example.com" in out
    assert list(User.objects.filter(role=Role.SUPERADMIN).values_list("email", flat=True)) == [
        "chef@example.com"
    ]
    assert "superadmin@oxytrack.demo" not in out
    assert "admin.nice@oxytrack.demo" in out


def test_a_scaled_run_spreads_people_over_more_agencies_and_shows_progress() -> None:
    out, err = seed("--employees", "120", "--days", "3", "--now", NOW)
    assert Employee.objects.count() == 120
    agencies = set(Agency.objects.values_list("name", flat=True))
    assert {"Nice", "Marseille", "Fort-de-France"} < agencies
    assert len(agencies) == 5  # about one agency per 25 people
    assert len(set(Employee.objects.values_list("agency", flat=True))) == 5
    steps = re.findall(r"seed_demo: +(\d+) % \((\d+)/120 employees, [\d,]+ spans", err)
    assert len(steps) >= 10
    assert steps[-1] == ("100", "120")
    assert "ETA" in err
    assert "120 utilisateurs" in out
    assert_rollups_match_spans()


def test_the_action_reports_what_it_wrote() -> None:
    from datetime import datetime

    result = do_seed_demo(employees=5, days=2, now=datetime.fromisoformat(NOW))
    assert result.spans == Span.objects.count() > 0
    assert result.employees == 5
    assert result.spans_per_s > 0
