"""The read API for BI: scopes, pagination, tokens, 404s, audit, errors as JSON."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.test import Client

from oxytrack.accounts.models import Role, Scope, User
from oxytrack.audit.models import Action, Entry
from oxytrack.bi.models import AccessToken
from oxytrack.bi.tests.conftest import (
    BUDGET,
    DAY1,
    DAY2,
    HOSTILE,
    LONG,
    Usage,
    bearer,
    in_days,
    token_for,
)
from oxytrack.categories import window_map
from oxytrack.categories.models import Category
from oxytrack.conftest import Org

BASE = "/api/v1"


def _get(client: Client, token: str, path: str, **params: Any) -> Any:
    return client.get(f"{BASE}{path}", params, headers=bearer(token))


def _usage_of(client: Client, token: str, employee: Any, **params: Any) -> Any:
    return _get(client, token, f"/employees/{employee.public_id}/usage", **params)


RANGE = {"start": DAY1.isoformat(), "end": DAY2.isoformat()}


# --- Employees ------------------------------------------------------------------------


def test_employees_are_those_of_my_scopes_in_name_order(
    client: Client, org: Org, alice: User, bob: User
) -> None:
    alice_rows = _get(client, token_for(alice), "/employees").json()
    assert [e["username"] for e in alice_rows["items"]] == ["nice_facturation"]
    bob_rows = _get(client, token_for(bob), "/employees").json()
    # "Nice Facturation", "Nice Logistique", then the login of the one without a name.
    assert [e["username"] for e in bob_rows["items"]] == [
        "nice_facturation",
        "nice_logistique",
        "nice_no_service",
    ]
    first = bob_rows["items"][0]
    assert first == {
        "id": str(org.employees["nice_facturation"].public_id),
        "name": "Nice Facturation",
        "username": "nice_facturation",
        "domain": "CORP",
        "display_name": "Nice Facturation",
        "agency": "Nice",
        "service": "Facturation",
        "time_zone": "Europe/Paris",
    }


def test_employees_filter_by_agency_service_and_text(
    client: Client, org: Org, superadmin: User
) -> None:
    token = token_for(superadmin)

    def names(**params: Any) -> list[str]:
        response = _get(client, token, "/employees", **params)
        assert response.status_code == 200, response.content
        return [e["username"] for e in response.json()["items"]]

    assert names(agency="Fort-de-France") == ["fdf_facturation", "fdf_logistique"]
    assert names(service="Logistique") == [
        "fdf_logistique",
        "marseille_logistique",
        "nice_logistique",
    ]
    assert names(agency="Nice", service="Logistique") == ["nice_logistique"]
    # Case and accents ignored, as the home page's filter.
    assert names(q="MARSEÏLLE") == ["marseille_facturation", "marseille_logistique"]


def test_employees_pages_cover_everyone_once_in_a_stable_order(
    client: Client, org: Org, superadmin: User
) -> None:
    token = token_for(superadmin)
    whole = _get(client, token, "/employees").json()
    assert whole["count"] == 8
    paged: list[str] = []
    for offset in range(0, 9, 3):
        page = _get(client, token, "/employees", limit=3, offset=offset).json()
        assert (page["count"], page["limit"], page["offset"]) == (8, 3, offset)
        paged += [e["id"] for e in page["items"]]
    assert paged == [e["id"] for e in whole["items"]]
    assert len(set(paged)) == 8
    assert _get(client, token, "/employees", offset=8).json()["items"] == []


def test_an_agency_out_of_my_scopes_is_a_404_like_an_unknown_one(
    client: Client, org: Org, alice: User
) -> None:
    token = token_for(alice)
    for name in ("Fort-de-France", "Atlantis"):
        response = _get(client, token, "/employees", agency=name)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    # alice sees Facturation only: Logistique (of Nice, in her agency) is out too.
    assert _get(client, token, "/employees", service="Logistique").status_code == 404


# --- One employee's usage -------------------------------------------------------------


def test_employee_usage_by_title_and_day(client: Client, usage: Usage, alice: User) -> None:
    employee = usage.org.employees["nice_facturation"]
    token = token_for(alice)
    titles = _usage_of(client, token, employee, by="title", **RANGE).json()
    assert titles["count"] == 3
    assert titles["unit"] == "ms"
    assert [(r["title"], r["active_ms"], r["idle_ms"]) for r in titles["items"]] == [
        (BUDGET, 4_800_000, 600_000),
        (HOSTILE, 1_800_000, 0),
        (LONG, 60_000, 0),
    ]
    assert (titles["items"][0]["app"], titles["items"][0]["app_raw"]) == ("Excel", ["EXCEL.EXE"])
    assert titles["items"][0]["category"] == "Bureautique"
    days = _usage_of(
        client, token, employee, by="day", start="2026-03-01", end=DAY2.isoformat()
    ).json()
    assert days["items"] == [
        {"day": "2026-03-01", "active_ms": 0, "idle_ms": 0},
        {"day": "2026-03-02", "active_ms": 5_460_000, "idle_ms": 600_000},
        {"day": "2026-03-03", "active_ms": 1_200_000, "idle_ms": 0},
    ]


def test_hostile_titles_come_back_exactly_as_json_text(
    client: Client, usage: Usage, alice: User
) -> None:
    employee = usage.org.employees["nice_facturation"]
    response = _usage_of(client, token_for(alice), employee, by="title", **RANGE)
    assert response["Content-Type"].startswith("application/json")
    titles = [r["title"] for r in response.json()["items"]]
    assert HOSTILE in titles and LONG in titles


def test_employee_usage_pages_in_a_stable_order(client: Client, usage: Usage, bob: User) -> None:
    employee = usage.org.employees["nice_facturation"]
    token = token_for(bob)
    whole = _usage_of(client, token, employee, by="title", **RANGE).json()["items"]
    pages = [
        _usage_of(client, token, employee, by="title", limit=1, offset=n, **RANGE).json()
        for n in range(3)
    ]
    assert [p["items"][0] for p in pages] == whole
    assert all(p["count"] == 3 for p in pages)


def test_an_employee_out_of_scope_is_a_404_like_a_missing_one(
    client: Client, usage: Usage, alice: User
) -> None:
    token = token_for(alice)
    out = usage.org.employees["fdf_facturation"]
    answer = _usage_of(client, token, out, by="day", **RANGE)
    missing = client.get(
        f"{BASE}/employees/00000000-0000-4000-8000-000000000000/usage",
        {"by": "day", **RANGE},
        headers=bearer(token),
    )
    assert answer.status_code == missing.status_code == 404
    assert answer.json() == missing.json()
    assert not Entry.objects.filter(action=Action.VIEW_EMPLOYEE).exists()


def test_the_overseas_employee_has_their_own_local_day(
    client: Client, usage: Usage, carol: User
) -> None:
    employee = usage.org.employees["fdf_facturation"]
    days = _usage_of(client, token_for(carol), employee, by="day", **RANGE).json()["items"]
    assert days[0] == {"day": "2026-03-02", "active_ms": 300_000, "idle_ms": 0}


def test_employee_usage_by_friendly_app_and_by_category(
    client: Client, usage: Usage, alice: User
) -> None:
    employee = usage.org.employees["nice_facturation"]
    token = token_for(alice)
    apps = _usage_of(client, token, employee, by="app", **RANGE).json()["items"]
    assert apps == [
        {"app": "Excel", "app_raw": ["EXCEL.EXE"], "active_ms": 4_800_000, "idle_ms": 600_000},
        {"app": "Google Chrome", "app_raw": ["chrome.exe"], "active_ms": 1_800_000, "idle_ms": 0},
        {"app": "Bloc-notes", "app_raw": ["notepad.exe"], "active_ms": 60_000, "idle_ms": 0},
    ]
    categories = _usage_of(client, token, employee, by="category", **RANGE).json()["items"]
    assert [(r["category"], r["active_ms"], r["idle_ms"]) for r in categories] == [
        ("Bureautique", 4_860_000, 600_000),
        ("Web", 1_800_000, 0),
    ]
    assert all(r["colour"].startswith("#") for r in categories)


def test_a_rule_added_later_recategorises_the_history(
    client: Client, usage: Usage, alice: User
) -> None:
    employee = usage.org.employees["nice_facturation"]
    token = token_for(alice)
    Category.objects.create(name="Budget", colour="#123456", title_pattern="budget", order=0)
    categories = _usage_of(client, token, employee, by="category", **RANGE).json()["items"]
    assert [(r["category"], r["active_ms"]) for r in categories] == [
        ("Budget", 4_800_000),
        ("Bureautique", 60_000),
        ("Web", 1_800_000),
    ]


def test_team_usage_by_category_follows_the_rules_as_they_are_now(
    client: Client, usage: Usage, bob: User
) -> None:
    token = token_for(bob)

    def by_category() -> list[tuple[str, int, int]]:
        response = _get(client, token, "/usage", by="category", **RANGE)
        assert response.status_code == 200, response.content
        return [(r["category"], r["active_ms"], r["idle_ms"]) for r in response.json()["items"]]

    # The sum over Bob's scope (Nice) of what each employee's own call answers.
    employees = [usage.org.employees[key] for key in usage.org.employees]
    expected: dict[str, list[int]] = {}
    for employee in employees:
        answer = _usage_of(client, token, employee, by="category", **RANGE)
        if answer.status_code != 200:  # out of Bob's scope
            continue
        for r in answer.json()["items"]:
            pair = expected.setdefault(r["category"], [0, 0])
            pair[0] += r["active_ms"]
            pair[1] += r["idle_ms"]
    before = by_category()
    assert {c: [a, i] for c, a, i in before} == expected
    assert sum(a for _c, a, _i in before) == 6_360_000 + 1_200_000  # Bob's days (below)
    # A rule added afterwards moves the history (read from the category rollup).
    Category.objects.create(name="Budget", colour="#123456", title_pattern="budget", order=0)
    after = by_category()
    assert after[0] == ("Budget", 4_800_000, 600_000)
    assert sum(a for _c, a, _i in after) == sum(a for _c, a, _i in before)


def test_employee_usage_by_local_hour(client: Client, usage: Usage, alice: User) -> None:
    employee = usage.org.employees["nice_facturation"]
    hours = _usage_of(client, token_for(alice), employee, by="hour", **RANGE).json()
    assert hours["count"] == 4
    assert hours["items"] == [
        {"day": "2026-03-02", "hour": 9, "active_ms": 3_600_000, "idle_ms": 0},
        {"day": "2026-03-02", "hour": 10, "active_ms": 1_800_000, "idle_ms": 600_000},
        {"day": "2026-03-02", "hour": 11, "active_ms": 60_000, "idle_ms": 0},
        {"day": "2026-03-03", "hour": 9, "active_ms": 1_200_000, "idle_ms": 0},
    ]
    pages = [
        _usage_of(client, token_for(alice), employee, by="hour", limit=3, offset=n, **RANGE).json()
        for n in (0, 3)
    ]
    assert [p["count"] for p in pages] == [4, 4]
    assert pages[0]["items"] + pages[1]["items"] == hours["items"]


# --- A team's usage -------------------------------------------------------------------


def test_team_usage_sums_my_scope_or_the_unit_asked(
    client: Client, usage: Usage, bob: User, superadmin: User
) -> None:
    def by_title(token: str, **params: Any) -> list[tuple[str, int]]:
        response = _get(client, token, "/usage", by="title", **RANGE, **params)
        assert response.status_code == 200, response.content
        return [(r["title"], r["active_ms"]) for r in response.json()["items"]]

    bob_token = token_for(bob)
    # Bob's whole scope is Nice: the Martinique Excel is not in it.
    assert by_title(bob_token) == [(BUDGET, 4_800_000), (HOSTILE, 2_700_000), (LONG, 60_000)]
    assert by_title(bob_token, service="Logistique") == [(HOSTILE, 900_000)]
    everyone = token_for(superadmin)
    assert by_title(everyone) == [(BUDGET, 5_100_000), (HOSTILE, 2_700_000), (LONG, 60_000)]
    assert by_title(everyone, agency="Fort-de-France", service="Facturation") == [(BUDGET, 300_000)]
    days = _get(client, bob_token, "/usage", by="day", **RANGE).json()["items"]
    assert [(r["day"], r["active_ms"]) for r in days] == [
        ("2026-03-02", 6_360_000),
        ("2026-03-03", 1_200_000),
    ]


def test_team_usage_outside_my_scopes_is_a_404(client: Client, usage: Usage, alice: User) -> None:
    token = token_for(alice)
    for params in ({"agency": "Fort-de-France"}, {"service": "Logistique"}, {"agency": "Nowhere"}):
        response = _get(client, token, "/usage", by="day", **RANGE, **params)
        assert response.status_code == 404, params
        assert response.json()["code"] == "not_found"


# --- Tokens ---------------------------------------------------------------------------


def _status(client: Client, token: str) -> tuple[int, str]:
    response = _get(client, token, "/employees")
    return response.status_code, response.json().get("code", "")


def test_a_missing_unknown_revoked_or_expired_token_is_a_401(
    client: Client, org: Org, alice: User
) -> None:
    assert client.get(f"{BASE}/employees").status_code == 401
    assert _status(client, "oxp_" + "A" * 43) == (401, "unauthorized")
    assert _status(client, "not-a-token") == (401, "unauthorized")
    token = token_for(alice)
    assert _status(client, token)[0] == 200
    stored = AccessToken.objects.get()
    stored.expires_at = in_days(-1)
    stored.save()
    assert _status(client, token) == (401, "unauthorized")
    stored.expires_at = in_days(1)
    stored.revoked_at = in_days(0)
    stored.save()
    assert _status(client, token) == (401, "unauthorized")


def test_the_token_follows_its_owners_scopes_and_role_live(
    client: Client, usage: Usage, bob: User
) -> None:
    token = token_for(bob)
    logistique = usage.org.employees["nice_logistique"]
    assert _usage_of(client, token, logistique, by="day", **RANGE).status_code == 200
    Scope.objects.filter(user=bob).update(service=usage.org.facturation)
    assert _usage_of(client, token, logistique, by="day", **RANGE).status_code == 404
    bob.role = Role.DPO  # the dpo never sees activity
    bob.save()
    assert _status(client, token)[0] == 401
    bob.role = Role.ADMIN
    bob.is_active = False
    bob.save()
    assert _status(client, token)[0] == 401
    bob.delete()
    assert _status(client, token)[0] == 401
    assert not AccessToken.objects.exists()


def test_the_token_is_stored_as_its_sha256_only(org: Org, alice: User) -> None:
    token = token_for(alice)
    stored = AccessToken.objects.get()
    assert stored.digest == hashlib.sha256(token.encode()).hexdigest()
    assert stored.prefix == token[:12]
    assert token not in str(list(AccessToken.objects.values()))


def test_last_used_is_recorded(client: Client, org: Org, alice: User) -> None:
    token = token_for(alice)
    assert AccessToken.objects.get().last_used_at is None
    _get(client, token, "/employees")
    assert AccessToken.objects.get().last_used_at is not None


# --- Audit ----------------------------------------------------------------------------


def test_every_call_is_audited(client: Client, usage: Usage, alice: User) -> None:
    token = token_for(alice)
    employee = usage.org.employees["nice_facturation"]
    stored = AccessToken.objects.get()
    before = Entry.objects.count()
    _get(client, token, "/employees", q="nice")
    _usage_of(client, token, employee, by="title", **RANGE)
    _get(client, token, "/usage", by="day", **RANGE)
    new = list(Entry.objects.order_by("id"))[before:]
    assert [e.action for e in new] == [Action.API_READ, Action.VIEW_EMPLOYEE, Action.API_READ]
    assert all(e.actor == alice for e in new)
    listing, view, team = new
    assert listing.detail["endpoint"] == "employees"
    assert listing.detail["params"]["q"] == "nice"
    assert listing.detail["token"] == str(stored.public_id)
    assert view.target_id == str(employee.public_id)
    assert view.detail == {
        "start": "2026-03-02",
        "end": "2026-03-03",
        "via": "api",
        "by": "title",
        "token": str(stored.public_id),
        "token_name": "Power BI",
        "prefix": stored.prefix,
    }
    assert team.detail["endpoint"] == "usage"
    assert team.detail["employees"] == [str(employee.public_id)]


def test_the_access_reason_is_asked_and_recorded_when_on(
    client: Client, usage: Usage, alice: User, settings: Any
) -> None:
    settings.OXYTRACK_ACCESS_REASON = True
    token = token_for(alice)
    employee = usage.org.employees["nice_facturation"]
    refused = _usage_of(client, token, employee, by="day", **RANGE)
    assert refused.status_code == 422
    assert refused.json()["code"] == "reason_required"
    assert _usage_of(client, token, employee, by="day", reason="Charge", **RANGE).status_code == 200
    assert Entry.objects.get(action=Action.VIEW_EMPLOYEE).detail["reason"] == "Charge"


# --- Bad parameters and limits ---------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"by": "day", "start": "2026-03-03", "end": "2026-03-02"}, "invalid_range"),
        ({"by": "day", "start": "2025-01-01", "end": "2026-03-02"}, "invalid_range"),
        ({"by": "day", "start": "0001-01-01", "end": "2026-03-02"}, "invalid_field"),
        ({"by": "day", "start": "2026-02-30", "end": "2026-03-02"}, "invalid_field"),
        ({"by": "week", **RANGE}, "invalid_field"),
        ({"by": "day", "limit": 0, **RANGE}, "invalid_field"),
        ({"by": "day", "limit": 1001, **RANGE}, "invalid_field"),
        ({"by": "day", "offset": -1, **RANGE}, "invalid_field"),
        ({"start": "2026-03-02", "end": "2026-03-03"}, "invalid_field"),
    ],
)
def test_bad_parameters_are_a_422_in_json(
    client: Client, usage: Usage, alice: User, params: dict[str, Any], code: str
) -> None:
    employee = usage.org.employees["nice_facturation"]
    response = _usage_of(client, token_for(alice), employee, **params)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code
    assert response.json()["message"]


def test_past_the_ceiling_a_token_is_told_to_slow_down(
    client: Client, org: Org, alice: User, settings: Any
) -> None:
    settings.OXYTRACK_API_CALLS_PER_MINUTE = 2
    token = token_for(alice)
    assert [_status(client, token)[0] for _ in range(2)] == [200, 200]
    response = _get(client, token, "/employees")
    assert response.status_code == 429
    assert response.json()["code"] == "slow_down"
    assert int(response["Retry-After"]) > 0
    # Another manager's token has its own count.
    assert _status(client, token_for(User.objects.create_superadmin("s@example.com")))[0] == 200


def test_other_methods_and_unknown_paths_answer_json(client: Client, org: Org, alice: User) -> None:
    token = token_for(alice)
    assert client.post(f"{BASE}/employees", headers=bearer(token)).status_code == 405
    response = client.get(f"{BASE}/nothing", headers=bearer(token))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_calls_keep_a_bounded_query_count(
    client: Client, usage: Usage, superadmin: User, django_assert_max_num_queries: Any
) -> None:
    token = token_for(superadmin)
    employee = usage.org.employees["nice_facturation"]
    # The window map is built once per rule change, not per call (test_window_map.py).
    window_map.refresh()
    # Token, org choices, count, page, audit entry (+ last used): whatever the rows.
    with django_assert_max_num_queries(8):
        assert _get(client, token, "/employees").status_code == 200
    for by in ("title", "app", "category", "day", "hour"):
        with django_assert_max_num_queries(10):
            assert _usage_of(client, token, employee, by=by, **RANGE).status_code == 200
        with django_assert_max_num_queries(12):
            assert _get(client, token, "/usage", by=by, **RANGE).status_code == 200


def test_a_team_too_large_for_one_call_is_told_to_narrow_it(
    client: Client, usage: Usage, bob: User, settings: Any
) -> None:
    # Bob's team is 3 employees: 2 days are 6 employee-days.
    settings.OXYTRACK_API_MAX_EMPLOYEE_DAYS = 5
    token = token_for(bob)
    for by in ("title", "app"):
        response = _get(client, token, "/usage", by=by, **RANGE)
        assert response.status_code == 422
        assert response.json()["code"] == "too_much"
    # Per day, hour or category it reads a few rows per employee and day: no bound.
    for by in ("day", "hour", "category"):
        assert _get(client, token, "/usage", by=by, **RANGE).status_code == 200
    one_day = {"start": DAY1.isoformat(), "end": DAY1.isoformat()}
    assert _get(client, token, "/usage", by="title", **one_day).status_code == 200
