"""The compliance kit: four documents, French and English, filled from the live configuration."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from oxytrack.accounts.models import Role, Scope, User
from oxytrack.compliance.queries import compliance_facts
from oxytrack.compliance.views import DOCUMENTS, LANGUAGES
from oxytrack.conftest import PASSWORD, Org
from oxytrack.policy.models import PolicyOverride

PAGES = [(slug, lang) for slug in DOCUMENTS for lang in LANGUAGES]


def _page(client: Client, slug: str, lang: str) -> str:
    response = client.get(reverse(f"compliance:{slug}_{lang}"))
    assert response.status_code == 200
    return response.content.decode()


def _text(html: str) -> str:
    """The page's words without tags, spaces folded: what a reader sees."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _section(html: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, flags=re.S)
    assert match, element_id
    return _text(match.group(2))


@pytest.mark.parametrize(("slug", "lang"), PAGES)
def test_each_document_renders_in_its_language_from_the_defaults(
    client: Client, superadmin: User, slug: str, lang: str
) -> None:
    client.force_login(superadmin)
    html = _page(client, slug, lang)
    text = _text(html)
    assert f'<article class="legal-doc card" lang="{lang}"' in html
    assert f'<html lang="{lang}">' in html
    # Retention defaults of the issue.
    retention = _section(html, "retention")
    for days in ("30", "180", "365", "90"):
        assert days in retention
    # What is collected and what never is.
    collected = _section(html, "collected")
    if lang == "fr":
        assert "jamais leur contenu" in collected
        assert "ce n'est pas du temps non travaillé" in collected
        assert "depuis 3 minutes" in collected
        assert "captures d'écran" in text
        assert "toute la durée de la session" in _section(html, "schedule")
        assert "[À compléter" in text
        assert "[To complete" not in text
    else:
        assert "never their content" in collected
        assert "this does not mean time not worked" in collected
        assert "for 3 minutes" in collected
        assert "screenshots" in text
        assert "whole duration of the work session" in _section(html, "schedule")
        assert "[To complete" in text
        assert "[À compléter" not in text
    # Who has access: the super-admin, named.
    assert "super@example.com" in _section(html, "access")
    # How employees see their data.
    rights = _section(html, "rights")
    assert "oxytrack-agent portal" in rights
    assert "JSON" in rights and "CSV" in rights and "XLSX" in rights


@pytest.mark.parametrize(("slug", "lang"), PAGES)
def test_documents_follow_a_change_of_policy_retention_and_admins(
    client: Client, superadmin: User, org: Org, settings: Any, slug: str, lang: str
) -> None:
    client.force_login(superadmin)
    before = _page(client, slug, lang)
    assert "dana@example.com" not in before
    PolicyOverride.objects.create(
        idle_threshold_s=300, redact=[r"(?i)patient\s+\w+"], exclude_apps=["KeePassXC"]
    )
    settings.OXYTRACK_SPAN_RETENTION_DAYS = 21
    settings.OXYTRACK_DEPARTED_AFTER_DAYS = 45
    settings.OXYTRACK_CONTROLLER_NAME = "Soins à Domicile 84"
    settings.OXYTRACK_DPO_CONTACT = "dpo@soins84.example"
    dana = User.objects.create_user("dana@example.com", PASSWORD, role=Role.ADMIN)
    Scope.objects.create(user=dana, agency=org.marseille, service=org.logistique)

    html = _page(client, slug, lang)
    text = _text(html)
    minutes = "depuis 5 minutes" if lang == "fr" else "for 5 minutes"
    assert minutes in _section(html, "collected")
    assert "(?i)patient\\s+\\w+" in _section(html, "redaction-rules")
    assert "KeePassXC" in text
    retention = _section(html, "retention")
    assert "21" in retention and "45" in retention
    access = _section(html, "access")
    assert "dana@example.com" in access
    assert "Marseille / Logistique" in access
    assert "Soins à Domicile 84" in text
    assert "dpo@soins84.example" in text


def test_no_redaction_rule_is_said_plainly_with_a_field_to_complete(
    client: Client, superadmin: User, settings: Any
) -> None:
    settings.OXYTRACK_POLICY_DEFAULTS = {
        **settings.OXYTRACK_POLICY_DEFAULTS,
        "redact": [],
        "redact_rules": [],
    }
    client.force_login(superadmin)
    rules = _section(_page(client, "dpia", "fr"), "redaction-rules")
    assert "Aucune règle de masquage n'est configurée" in rules
    assert "[À compléter" in rules


@pytest.mark.parametrize(
    ("lang", "monday", "holidays", "pause"),
    [
        ("fr", "Lundi : 08:00\u201312:30, 13:30\u201318:00", "jours fériés", "45 minutes par jour"),
        (
            "en",
            "Monday: 08:00\u201312:30, 13:30\u201318:00",
            "public holidays",
            "45 minutes a day",
        ),
    ],
)
def test_working_hours_and_the_pause_replace_the_whole_session(
    client: Client,
    superadmin: User,
    settings: Any,
    lang: str,
    monday: str,
    holidays: str,
    pause: str,
) -> None:
    # The global policy, stored as the policy page stores it (policy/schedule.py's wire
    # form): a missing weekday is a day off.
    PolicyOverride.objects.create(
        schedule={"mon": [["08:00", "12:30"], ["13:30", "18:00"]], "holidays": "fr"},
        pause_max_minutes_per_day=45,
    )
    client.force_login(superadmin)
    html = _page(client, "notice", lang)
    schedule = _section(html, "schedule")
    assert monday in schedule
    assert holidays in schedule
    assert "Tuesday" not in schedule and "Mardi" not in schedule
    assert "session" not in schedule
    assert pause in _section(html, "pause")
    assert "08:00" not in _section(html, "policy-values")


def test_collection_at_any_hour_says_the_whole_session(db: None, settings: Any) -> None:
    for value in (None, "always"):
        settings.OXYTRACK_POLICY_DEFAULTS = {**settings.OXYTRACK_POLICY_DEFAULTS, "schedule": value}
        assert compliance_facts().schedule == ()


def test_redaction_rules_of_any_shape_are_listed(db: None, settings: Any) -> None:
    # The deny-list may carry rules as mappings (pattern, category...): each key shows.
    settings.OXYTRACK_POLICY_DEFAULTS = {
        **settings.OXYTRACK_POLICY_DEFAULTS,
        "redact_rules": [
            {
                "name": "Soins",
                "title": "(?i)ordonnance",
                "replace_with": "category",
                "category": "Dossier patient",
            },
            {"name": "Banque", "apps": "banque", "replace_with": "app", "scope": "all"},
        ],
        "redact": ["secret"],
    }
    with translation.override("fr"):
        facts = compliance_facts()
    assert [(rule.name, rule.parts) for rule in facts.redaction_rules] == [
        (
            "Soins",
            (
                ("Titre", "(?i)ordonnance", True),
                ("Devient", "la catégorie « Dossier patient »", False),
            ),
        ),
        (
            "Banque",
            (
                ("Applications", "banque", True),
                ("Devient", "le nom de l'application", False),
                ("scope", "all", False),
            ),
        ),
        ("", (("Motif", "secret", True),)),
    ]


def test_hostile_text_in_the_configuration_is_escaped(
    client: Client, superadmin: User, settings: Any
) -> None:
    PolicyOverride.objects.create(redact=["<script>alert(1)</script>"])
    settings.OXYTRACK_CONTROLLER_NAME = "<img src=x onerror=alert(1)>"
    client.force_login(superadmin)
    html = _page(client, "notice", "fr")
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_facts_read_the_live_configuration(db: None, org: Org, alice: User) -> None:
    facts = compliance_facts()
    assert facts.retention.raw_spans_days == 30
    assert facts.retention.rollups_days == 180
    assert facts.retention.audit_days == 365
    assert facts.retention.departed_days == 90
    assert [m.email for m in facts.admins] == ["alice@example.com"]
    assert facts.admins[0].scopes == ("Nice / Facturation",)
    assert facts.employee_count == len(org.employees)
    assert facts.idle_threshold_minutes == "3"
