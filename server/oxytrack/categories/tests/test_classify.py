"""Categories: the starter set, rules applied at read time, caches, slow patterns."""

from __future__ import annotations

import hashlib

import pytest

from oxytrack.activity.models import Window
from oxytrack.categories import classify, revision
from oxytrack.categories.classify import (
    UNCATEGORISED,
    categorise,
    current_categories,
    usage_by_category,
    window_categories,
)
from oxytrack.categories.models import Category, Revision
from oxytrack.categories.patterns import check_speed, compile_pattern

pytestmark = pytest.mark.django_db


def window(app: str, title: str) -> int:
    return Window.objects.create(
        app=app, title=title, digest=hashlib.sha256(f"{app}\n{title}".encode()).hexdigest()
    ).pk


@pytest.mark.parametrize(
    ("app", "title", "expected"),
    [
        ("WINWORD.EXE", "Planning tournées - Word", "Bureautique"),
        ("WINWORD", "Planning tournées - Word", "Bureautique"),  # today's agent drops .exe
        ("EXCEL.EXE", "Liste des patients agence84 2019 - Excel", "Bureautique"),
        ("soffice.bin", "Budget.ods - LibreOffice Calc", "Bureautique"),
        ("libreoffice-writer", "Lettre.odt - LibreOffice Writer", "Bureautique"),
        ("Microsoft Word", "Lettre.docx", "Bureautique"),  # macOS
        ("OUTLOOK.EXE", "Boîte de réception - Outlook", "Messagerie"),
        ("thunderbird", "Courrier entrant - Thunderbird", "Messagerie"),
        ("ms-teams.exe", "Réunion d'équipe | Microsoft Teams", "Réunions"),
        ("zoom.us", "Zoom Meeting", "Réunions"),
        ("chrome.exe", "YouTube - Google Chrome", "Web"),
        ("Google-chrome", "Le Monde - Google Chrome", "Web"),  # Linux WM_CLASS
        ("firefox", "Accueil — Mozilla Firefox", "Web"),
        ("msedge.exe", "Nouvel onglet - Microsoft Edge", "Web"),
        # Care software in a browser: the title decides, before "Web".
        (
            "chrome.exe",
            "Intranet OxyTrack \N{EN DASH} Dossiers patients - Google Chrome",
            "Logiciel de soins",
        ),
        ("chrome.exe", "Ameli pro - Espace professionnel - Google Chrome", "Logiciel de soins"),
        ("ApologicDomicile.exe", "Dossier de Mme DUPONT Jeanne - Apologic", "Logiciel de soins"),
        ("explorer.exe", "Documents", "Autre"),
        ("excellence.exe", "Tableau", "Non classé"),  # anchored: not Excel
        ("Acrobat.exe", "Bon de livraison 12345.pdf - Adobe Acrobat", "Bureautique"),
        ("steam.exe", "Steam", "Non classé"),
    ],
)
def test_the_starter_set_sorts_the_usual_windows(app: str, title: str, expected: str) -> None:
    assert categorise(app, title).name == expected


def test_categories_come_in_rule_order_with_uncategorised_last() -> None:
    names = [c.name for c in current_categories()]
    assert names == [
        "Logiciel de soins",
        "Réunions",
        "Messagerie",
        "Bureautique",
        "Web",
        "Autre",
        "Non classé",
    ]
    assert current_categories()[-1] is UNCATEGORISED


def test_editing_a_rule_recategorises_windows_already_seen() -> None:
    news = window("chrome.exe", "Le Monde.fr - Actualités - Google Chrome")
    assert window_categories([news])[news].name == "Web"
    Category.objects.create(name="Presse", colour="#123456", title_pattern="le monde", order=0)
    assert window_categories([news])[news].name == "Presse"
    Category.objects.filter(name="Presse").delete()
    assert window_categories([news])[news].name == "Web"


def test_a_change_committed_by_another_process_is_seen_at_the_next_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(revision, "OUTSIDE_REQUEST_S", 0.0)  # not a second later: at once
    word = window("WINWORD.EXE", "Lettre - Word")
    assert window_categories([word])[word].name == "Bureautique"
    # What another gunicorn worker's save looks like from here: new rows and
    # a new token, without this process's signals.
    Category.objects.filter(name="Bureautique").update(name="Traitement de texte")
    Revision.objects.filter(pk=1).update(token="another-worker")
    assert window_categories([word])[word].name == "Traitement de texte"


def test_both_patterns_must_match_and_case_is_ignored_by_default() -> None:
    Category.objects.all().delete()
    Category.objects.create(name="Ameli", app_pattern="^chrome", title_pattern="AMELI", order=1)
    assert categorise("Chrome.exe", "ameli pro - Google Chrome").name == "Ameli"
    assert categorise("firefox", "ameli pro").name == "Non classé"
    assert categorise("chrome.exe", "Google").name == "Non classé"


def test_a_case_sensitive_rule_tells_case_apart() -> None:
    Category.objects.all().delete()
    Category.objects.create(name="Sigle", title_pattern=r"\bCAF\b", case_sensitive=True, order=1)
    assert categorise("chrome.exe", "Espace CAF").name == "Sigle"
    assert categorise("chrome.exe", "Pause caf du matin").name == "Non classé"


def test_a_server_with_no_rules_left_has_everything_uncategorised() -> None:
    Category.objects.all().delete()
    assert current_categories() == [UNCATEGORISED]
    assert categorise("WINWORD.EXE", "x") is UNCATEGORISED


def test_a_flushed_database_gets_the_starter_set_back() -> None:
    Category.objects.all().delete()
    Revision.objects.all().delete()
    classify.forget()
    assert categorise("WINWORD.EXE", "x").name == "Bureautique"


def test_window_categories_reads_each_window_once_per_process(
    django_assert_max_num_queries: object,
) -> None:
    ids = [window("EXCEL.EXE", f"Budget {n} - Excel") for n in range(3)]
    window_categories(ids)
    with django_assert_max_num_queries(1):  # type: ignore[operator]
        # At most the Revision token: the windows' categories are remembered.
        got = window_categories(ids)
    assert {c.name for c in got.values()} == {"Bureautique"}
    assert window_categories([999_999]) == {999_999: UNCATEGORISED}


def test_usage_by_category_sums_in_rule_order() -> None:
    word = window("WINWORD.EXE", "Lettre - Word")
    excel = window("EXCEL.EXE", "Budget - Excel")
    mail = window("OUTLOOK.EXE", "Boîte de réception - Outlook")
    game = window("steam.exe", "Steam")
    usage = usage_by_category([(word, 60_000), (game, 5_000), (excel, 30_000), (mail, 1_000)])
    assert [(c.name, ms) for c, ms in usage] == [
        ("Messagerie", 1_000),
        ("Bureautique", 90_000),
        ("Non classé", 5_000),
    ]


def test_a_catastrophic_pattern_is_caught_at_save_time_and_cut_at_read_time() -> None:
    assert not check_speed(compile_pattern(r"(a+)+$", case_sensitive=False))
    assert check_speed(compile_pattern(r"^(winword|excel)(\.exe)?$", case_sensitive=False))
    # Saved around the form: the read stops it and skips the rule afterwards.
    Category.objects.create(name="Lent", title_pattern=r"(a+)+$", order=0)
    hostile = [window("chrome.exe", "a" * 1024 + f"!{n}") for n in range(20)]
    got = window_categories(hostile)
    assert {c.name for c in got.values()} == {"Web"}


# What a production agent sends: the raw titles never leave the PC. Its default
# redaction (the policy's built-in rules) rewrites these before the server sees them.
@pytest.mark.parametrize(
    ("app", "raw_title", "expected"),
    [
        ("ApologicDomicile.exe", "Dossier de Mme DUPONT Jeanne - Apologic", "Logiciel de soins"),
        ("Ximi.exe", "Planning de M. Martin", "Logiciel de soins"),
        ("chrome.exe", "Ameli pro - Espace professionnel - Google Chrome", "Logiciel de soins"),
        ("msedge.exe", "Doctolib - Agenda - Microsoft Edge", "Logiciel de soins"),
        ("OUTLOOK.EXE", "RE: visite de Mme Durand - Message (HTML)", "Messagerie"),
    ],
)
def test_what_the_agents_default_redaction_sends_is_still_categorised(
    app: str, raw_title: str, expected: str
) -> None:
    from oxytrack.policy.queries import effective_policy
    from oxytrack_agent.redaction import Redactor

    redactor = Redactor.from_policy(effective_policy(None, None))
    sent_app, sent_title = redactor.apply(app, raw_title)
    assert sent_title != raw_title  # redacted on the PC
    assert categorise(sent_app, sent_title).name == expected


@pytest.mark.django_db(transaction=True)
def test_migration_0005_updates_the_starter_care_rule_only_where_unedited() -> None:
    import importlib

    from django.core.management import call_command

    from oxytrack.categories.starter import CARE_TITLE_PATTERN

    migration = importlib.import_module(
        "oxytrack.categories.migrations.0005_care_title_from_redaction"
    )
    before = migration.BEFORE
    assert migration.AFTER == CARE_TITLE_PATTERN  # a new server starts where it ends

    current_categories()  # a flushed database (transaction test) is seeded again
    call_command("migrate", "categories", "0004", verbosity=0)
    classify.forget()  # this process then sees the migration's work at once
    care = Category.objects.get(name="Logiciel de soins")
    assert care.title_pattern == before
    assert categorise("ApologicDomicile", "Logiciel de soins") is UNCATEGORISED
    token = Revision.objects.get(pk=1).token
    call_command("migrate", "categories", verbosity=0)
    classify.forget()
    assert Category.objects.get(name="Logiciel de soins").title_pattern == CARE_TITLE_PATTERN
    assert Revision.objects.get(pk=1).token != token  # every process compiles again
    assert categorise("ApologicDomicile", "Logiciel de soins").name == "Logiciel de soins"
    # A rule the super-admin wrote is theirs: neither direction touches it.
    Category.objects.filter(pk=care.pk).update(title_pattern="apologic|ximi")
    call_command("migrate", "categories", "0004", verbosity=0)
    call_command("migrate", "categories", verbosity=0)
    assert Category.objects.get(pk=care.pk).title_pattern == "apologic|ximi"
