"""The super-admin's category and app-name pages, through the Django test client."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.activity.models import DailyUsage, Window
from oxytrack.audit.models import Action, Entry
from oxytrack.categories.classify import window_categories
from oxytrack.categories.models import AppName, Category
from oxytrack.categories.names import friendly_app
from oxytrack.conftest import Org

RULE = {
    "name": "Presse",
    "colour": "#AA3300",
    "app_pattern": "",
    "title_pattern": r"le monde|nice-matin",
}


@pytest.fixture
def admin_client(client: Client, superadmin: User) -> Client:
    client.force_login(superadmin)
    return client


def window(app: str, title: str) -> Window:
    return Window.objects.create(
        app=app, title=title, digest=hashlib.sha256(f"{app}\n{title}".encode()).hexdigest()
    )


def names() -> list[str]:
    return list(Category.objects.values_list("name", flat=True))


def test_the_list_shows_the_rules_in_matching_order(admin_client: Client) -> None:
    page = admin_client.get(reverse("categories:list")).content.decode()
    positions = [page.index(n) for n in ("Logiciel de soins", "Réunions", "Bureautique", "Web")]
    assert positions == sorted(positions)
    assert reverse("categories:list") in page  # the nav link


def test_only_the_superadmin_opens_the_pages(client: Client, alice: User, dpo: User) -> None:
    for user in (alice, dpo):
        client.force_login(user)
        assert client.get(reverse("categories:list")).status_code == 403
        assert client.get(reverse("categories:app_names")).status_code == 403
        assert client.post(reverse("categories:create"), RULE).status_code == 403
    assert "Presse" not in names()


def test_a_new_rule_goes_last_recategorises_history_and_is_audited(
    admin_client: Client, superadmin: User
) -> None:
    news = window("chrome.exe", "Nice-Matin - L'info de Nice - Google Chrome")
    assert window_categories([news.pk])[news.pk].name == "Web"
    response = admin_client.post(reverse("categories:create"), RULE)
    assert response.status_code == 302
    assert names()[-1] == "Presse"
    # Last, after Web: the browser's rule still wins. Moved above Web, it takes the window.
    assert window_categories([news.pk])[news.pk].name == "Web"
    presse = Category.objects.get(name="Presse")
    assert presse.colour == "#aa3300"
    for _ in range(2):
        admin_client.post(reverse("categories:move", args=[presse.pk]), {"direction": "up"})
    assert names().index("Presse") == names().index("Web") - 1
    assert window_categories([news.pk])[news.pk].name == "Presse"
    entries = Entry.objects.filter(action=Action.CHANGE_CATEGORIES).order_by("at", "pk")
    assert [e.detail["change"] for e in entries] == ["create", "move", "move"]
    assert entries[0].actor == superadmin
    assert entries[0].detail["changes"]["title_pattern"]["to"] == RULE["title_pattern"]


def test_moving_the_first_rule_up_changes_nothing(admin_client: Client) -> None:
    first = Category.objects.first()
    assert first is not None
    before = names()
    admin_client.post(reverse("categories:move", args=[first.pk]), {"direction": "up"})
    assert names() == before
    assert not Entry.objects.filter(action=Action.CHANGE_CATEGORIES).exists()


def test_editing_and_deleting_a_rule(admin_client: Client) -> None:
    web = Category.objects.get(name="Web")
    edited = {**RULE, "name": "Navigateurs", "title_pattern": "", "app_pattern": "^chrome"}
    assert admin_client.post(reverse("categories:edit", args=[web.pk]), edited).status_code == 302
    web.refresh_from_db()
    assert (web.name, web.app_pattern, web.title_pattern) == ("Navigateurs", "^chrome", "")
    firefox = window("firefox", "Accueil")
    assert window_categories([firefox.pk])[firefox.pk].name == "Non classé"
    admin_client.post(reverse("categories:delete", args=[web.pk]))
    assert "Navigateurs" not in names()
    changes = Entry.objects.filter(action=Action.CHANGE_CATEGORIES).values_list(
        "detail__change", flat=True
    )
    assert sorted(changes) == ["delete", "edit"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"title_pattern": "(unclosed"}, "Expression invalide"),
        ({"app_pattern": "[z-a]"}, "Expression invalide"),
        ({"title_pattern": "(a+)+$"}, "trop de temps"),
        ({"title_pattern": "", "app_pattern": ""}, "Indiquez une expression"),
        ({"colour": "red"}, "#rrvvbb"),
        ({"name": "Presse\u202eesserP"}, "caractères invisibles"),
        ({"name": "web"}, "déjà ce nom"),  # the starter set's "Web", case ignored
        ({"title_pattern": "x" * 1001}, "1000"),
        ({"title_pattern": "a\x00b"}, "caractère nul"),
    ],
)
def test_bad_rules_are_refused_with_a_message(
    admin_client: Client, values: dict[str, str], message: str
) -> None:
    before = names()
    response = admin_client.post(reverse("categories:create"), {**RULE, **values})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert names() == before


def test_the_english_page_speaks_english(admin_client: Client) -> None:
    admin_client.cookies["django_language"] = "en"
    response = admin_client.post(reverse("categories:create"), {**RULE, "title_pattern": "("})
    assert "Invalid expression" in response.content.decode()


def test_hostile_names_and_patterns_are_shown_escaped(admin_client: Client) -> None:
    hostile = {
        **RULE,
        "name": "<script>alert(1)</script>",
        "title_pattern": "<img src=x onerror=alert(1)>",
    }
    assert admin_client.post(reverse("categories:create"), hostile).status_code == 302
    page = admin_client.get(reverse("categories:list")).content.decode()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page


def test_the_preview_shows_the_top_titles_it_would_match_without_naming_anyone(
    admin_client: Client, org: Org
) -> None:
    today = timezone.localdate()
    monde = window("chrome.exe", "Le Monde.fr - Actualités - Google Chrome")
    xss = window("chrome.exe", "Le Monde <script>alert(1)</script>")
    word = window("WINWORD.EXE", "Lettre - Word")
    old = window("chrome.exe", "Le Monde.fr - archives - Google Chrome")
    alice_emp, bob_emp = org.employees["nice_facturation"], org.employees["fdf_logistique"]
    for employee, win, day, ms in [
        (alice_emp, monde, today, 60_000),
        (bob_emp, monde, today - timedelta(days=6), 120_000),  # still within 7 days
        (alice_emp, xss, today, 60_000),
        (alice_emp, word, today, 600_000),
        (bob_emp, old, today - timedelta(days=7), 900_000),  # 8 days ago: outside
    ]:
        at = timezone.now()
        DailyUsage.objects.create(
            employee=employee, day=day, window=win, active_ms=ms, first_start=at, last_end=at
        )
    response = admin_client.post(
        reverse("categories:preview"), {"title_pattern": "le monde", "app_pattern": ""}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "2 titres sur les 3 plus utilisés correspondent (4 min sur 14 min)" in page
    assert "Le Monde.fr - Actualités" in page
    assert "archives" not in page
    assert "Lettre - Word" not in page
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;" in page
    for employee in (alice_emp, bob_emp):
        assert employee.username not in page
    assert "Web" in page  # where the saved rules put them today


def test_the_preview_reports_a_bad_or_slow_pattern(admin_client: Client) -> None:
    url = reverse("categories:preview")
    assert "Expression invalide" in admin_client.post(url, {"title_pattern": "("}).content.decode()
    assert "trop lente" in admin_client.post(url, {"title_pattern": "(a+)+$"}).content.decode()


def test_changes_need_the_csrf_token(superadmin: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(superadmin)
    web = Category.objects.get(name="Web")
    assert client.post(reverse("categories:create"), RULE).status_code == 403
    assert client.post(reverse("categories:delete", args=[web.pk])).status_code == 403
    assert client.post(reverse("categories:app_names_reset")).status_code == 403
    assert "Presse" not in names()


# --- app names --------------------------------------------------------------------------


def test_adding_editing_deleting_and_resetting_app_names(admin_client: Client) -> None:
    url = reverse("categories:app_names")
    assert admin_client.post(url, {"app": "Steam.EXE", "name": "Steam"}).status_code == 302
    assert friendly_app("steam.exe") == "Steam"
    word = AppName.objects.get(app="winword")
    edit = reverse("categories:app_name_edit", args=[word.pk])
    assert admin_client.post(edit, {"app": "winword", "name": "Microsoft Word"}).status_code == 302
    assert friendly_app("WINWORD.EXE") == "Microsoft Word"
    teams = AppName.objects.get(app="ms-teams")
    admin_client.post(reverse("categories:app_name_delete", args=[teams.pk]))
    assert friendly_app("ms-teams.exe") == "ms-teams.exe"
    page = admin_client.post(reverse("categories:app_names_reset"), follow=True).content.decode()
    assert "Noms d&#x27;origine rétablis : 2." in page
    assert friendly_app("WINWORD.EXE") == "Word"
    assert friendly_app("ms-teams.exe") == "Microsoft Teams"
    assert friendly_app("steam.exe") == "Steam"  # added by hand: kept
    changes = Entry.objects.filter(action=Action.CHANGE_APP_NAMES).values_list(
        "detail__change", flat=True
    )
    assert sorted(changes) == ["create", "delete", "edit", "reset"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"app": "WINWORD.exe", "name": "Word 2"}, "déjà un nom"),
        ({"app": "x", "name": "A\u2067B"}, "caractères invisibles"),
        ({"app": ".exe", "name": "Rien"}, "obligatoire"),
        ({"app": "x", "name": "y" * 121}, "120"),
    ],
)
def test_bad_app_names_are_refused(
    admin_client: Client, values: dict[str, str], message: str
) -> None:
    count = AppName.objects.count()
    response = admin_client.post(reverse("categories:app_names"), values)
    assert message in response.content.decode()
    assert AppName.objects.count() == count


def test_hostile_app_names_are_shown_escaped(admin_client: Client) -> None:
    admin_client.post(
        reverse("categories:app_names"), {"app": "<b>evil</b>.exe", "name": "<img src=x onerror=1>"}
    )
    page = admin_client.get(reverse("categories:app_names")).content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=1&gt;" in page
    assert friendly_app("<B>EVIL</B>.EXE") == "<img src=x onerror=1>"


def test_the_list_pages_take_a_fixed_number_of_queries(
    admin_client: Client, django_assert_max_num_queries: Any
) -> None:
    for n in range(30):
        Category.objects.create(name=f"R{n}", title_pattern=f"r{n}", order=100 + n)
    # Session and user, the second factor's device, the rules or the names, the
    # messages: not one per row.
    with django_assert_max_num_queries(7):
        assert admin_client.get(reverse("categories:list")).status_code == 200
    with django_assert_max_num_queries(7):
        assert admin_client.get(reverse("categories:app_names")).status_code == 200


def test_the_preview_reuses_the_sums_but_never_stale_rules(admin_client: Client, org: Org) -> None:
    monde = window("chrome.exe", "Le Monde.fr - Google Chrome")
    at = timezone.now()
    DailyUsage.objects.create(
        employee=org.employees["nice_facturation"],
        day=timezone.localdate(),
        window=monde,
        active_ms=60_000,
        first_start=at,
        last_end=at,
    )
    url = reverse("categories:preview")
    assert "<bdi>Web</bdi>" in admin_client.post(url, {"title_pattern": "monde"}).content.decode()
    Category.objects.filter(name="Web").update(name="Navigateurs")
    Category.objects.create(name="Autre chose", title_pattern="zzz", order=99)  # new token
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.post(url, {"title_pattern": "monde"}).content.decode()
    assert "<bdi>Navigateurs</bdi>" in page
    assert not [q for q in queries.captured_queries if "activity_dailyusage" in q["sql"]]
