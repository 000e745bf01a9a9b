"""The policy page's redaction rules: editing, the live preview and the test bench."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

from django.test import Client
from django.urls import reverse
from django.utils import translation

from oxytrack.accounts.models import User
from oxytrack.conftest import EnrolledDevice, Org
from oxytrack.ingest.tests.payloads import BASE
from oxytrack.policy.models import PolicyOverride
from oxytrack.policy.queries import effective_policy
from oxytrack_agent.redaction import default_rules_json, rules_to_text

EDIT = "policy:edit_global"
PREVIEW_GLOBAL = reverse("policy:preview", args=["global"])
PAYE = "[Paie]\ntitre = bulletin|salaire\ncatégorie = Paie\n"


def preview(client: Client, **data: str) -> str:
    response = client.post(PREVIEW_GLOBAL, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


def test_the_edit_page_shows_the_inherited_deny_list_and_a_preview(
    client: Client, superadmin: User
) -> None:
    client.force_login(superadmin)
    page = client.get(reverse(EDIT)).content.decode()
    assert "[Dossiers de patients]" in page  # the textarea holds the built-in rules
    assert "Collez un titre" in page
    assert f'hx-post="{PREVIEW_GLOBAL}"' in page
    # The preview, computed on the server: a patient list becomes the app name.
    assert "Liste des patients agence84 2019 - Excel" in page
    assert "<bdi>EXCEL</bdi>" in page
    assert "intranet.example.fr - Google Chrome" in page


def test_saving_unchanged_rules_keeps_them_inherited(client: Client, superadmin: User) -> None:
    client.force_login(superadmin)
    text = rules_to_text(default_rules_json())
    response = client.post(reverse(EDIT), {"redact_rules": text.replace("\n", "\r\n")})
    assert response.status_code == 302
    assert PolicyOverride.objects.get(agency=None, service=None).redact_rules is None


def test_edited_rules_reach_the_agents_policy(
    client: Client, superadmin: User, enrolled_device: EnrolledDevice
) -> None:
    client.force_login(superadmin)
    response = client.post(reverse(EDIT), {"redact_rules": PAYE, "browser_sites": "no"})
    assert response.status_code == 302
    policy = client.get(
        f"{BASE}/policy", headers={"Authorization": f"Bearer {enrolled_device.token}"}
    ).json()
    assert policy["redact_rules"] == [
        {
            "name": "Paie",
            "title": "bulletin|salaire",
            "category": "Paie",
            "replace_with": "category",
        }
    ]
    assert policy["browser_sites"] is False
    assert policy["redact"] == []  # old agents keep what they knew
    # The page shows the stored rules, not the inherited ones.
    page = client.get(reverse(EDIT)).content.decode()
    assert "[Paie]" in page
    assert "[Banque]" not in page


def test_no_rules_at_all_is_written_as_a_comment(client: Client, superadmin: User) -> None:
    client.force_login(superadmin)
    assert client.post(reverse(EDIT), {"redact_rules": "# aucune"}).status_code == 302
    assert effective_policy(None, None)["redact_rules"] == []
    assert "# aucune" in client.get(reverse(EDIT)).content.decode()


def test_an_invalid_rule_is_a_readable_error_and_changes_nothing(
    client: Client, superadmin: User
) -> None:
    client.force_login(superadmin)
    for text, message in [
        ("[Cassée]\ntitre = (patient\n", "« Cassée » (titre) : expression régulière invalide"),
        ("[Lente]\ntitre = (a+)+$\n", "répétition imbriquée"),
        ("[Sans]\ncatégorie = X\n", "indiquez au moins une expression"),
        ("titre = x\n", "commencez la règle par son nom"),
        ("[Coûteuse]\ntitre = a.*b.*c.*d\n", "« Coûteuse » prend trop de temps"),
    ]:
        response = client.post(reverse(EDIT), {"redact_rules": text})
        assert response.status_code == 200, text
        assert message in response.content.decode(), text
    assert not PolicyOverride.objects.exists()


def test_an_invalid_rule_is_worded_in_english_in_the_english_ui(
    client: Client, superadmin: User
) -> None:
    client.force_login(superadmin)
    for text, message in [
        ("[Cassée]\ntitre = (patient\n", "“Cassée” (title): invalid regular expression"),
        ("[Lente]\ntitre = (a+)+$\n", "“Lente” (title): repeat nested in a repeat (risk of"),
        ("[Sans]\ncatégorie = X\n", "“Sans”: give at least one expression (apps or title)"),
        ("titre = x\n", "line 1: start the rule with its name in square brackets"),
        ("[]\ntitre = x\n", "a rule has no name"),
    ]:
        response = client.post(
            reverse(EDIT), {"redact_rules": text}, headers={"Accept-Language": "en"}
        )
        page = response.content.decode()
        assert response.status_code == 200, text
        assert "Redaction rules: " + message in page, text
        assert "expression régulière" not in page and "répétition" not in page
    assert not PolicyOverride.objects.exists()


def test_every_rule_error_has_an_english_translation_on_the_server(tmp_path: Path) -> None:
    """The catalogue holds the agent module's messages (makemessages does not see them)."""
    import oxytrack_agent.redaction as redaction

    pot = tmp_path / "redaction.pot"
    subprocess.run(
        ["xgettext", "-L", "Python", "--from-code=UTF-8", "--keyword=N_", "--no-location",
         "-o", str(pot), redaction.__file__],
        check=True, timeout=60,
    )  # fmt: skip
    ids = [m for m in polib_msgids(pot) if m]
    assert len(ids) >= 15
    with translation.override("en"):
        untranslated = [m for m in ids if translation.gettext(m) == m]
    assert untranslated == []


def polib_msgids(po: Path) -> list[str]:
    text = po.read_text(encoding="utf-8")
    blocks = re.findall(r'^msgid ((?:".*"\n)+)', text, flags=re.M)
    return ["".join(ast.literal_eval(line) for line in b.splitlines()) for b in blocks]


def test_the_dpo_reads_the_sample_titles_without_the_test_box(
    client: Client, dpo: User, org: Org
) -> None:
    client.force_login(dpo)
    page = client.get(reverse(EDIT)).content.decode()
    # The box's calls would answer 403: no form to paste into, nothing posted as they type.
    assert "hx-post" not in page
    assert 'id="redaction-bench"' not in page and "Collez un titre" not in page
    # What the saved rules do to the sample titles stays readable.
    assert "Liste des patients agence84 2019 - Excel" in page
    assert "<bdi>EXCEL</bdi>" in page


def test_the_preview_applies_the_forms_rules_to_a_pasted_title(
    client: Client, superadmin: User
) -> None:
    client.force_login(superadmin)
    text = preview(
        client,
        redact_rules=PAYE,
        bench_app="EXCEL.EXE",
        bench_title="Bulletin de salaire Dupont mars - Excel",
    )
    assert "Bulletin de salaire Dupont mars - Excel" in text  # the original, shown
    assert "<bdi>Paie</bdi>" in text
    # The form's rules replace the inherited ones: patients are no longer masked.
    assert 'class="stored"><bdi>Liste des patients agence84 2019 - Excel</bdi>' in text
    default = preview(client, bench_app="chrome.exe", bench_title="https://a.fr/x?id=9 - Chromium")
    assert "<bdi>a.fr - Chromium</bdi>" in default
    assert "site du navigateur" in default


def test_the_preview_escapes_hostile_titles(client: Client, superadmin: User) -> None:
    client.force_login(superadmin)
    text = preview(client, bench_app="x", bench_title="<script>alert(1)</script>\u202e")
    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_the_preview_reports_a_bad_rule_and_keeps_the_inherited_ones(
    client: Client, superadmin: User
) -> None:
    client.force_login(superadmin)
    text = preview(client, redact_rules="[X]\ntitre = [\n", bench_title="Mes patients")
    assert "expression régulière invalide" in text
    assert "<bdi>chrome</bdi>" in text  # the inherited patient rule still applied
    slow = preview(client, redact_rules="[Lente]\ntitre = a.*b.*c.*d\n", bench_title="abc")
    assert "« Lente » prend trop de temps" in slow


def test_the_preview_needs_csrf(superadmin: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(superadmin)
    assert client.post(PREVIEW_GLOBAL, {"bench_title": "x"}).status_code == 403


def test_the_preview_is_for_the_superadmin(client: Client, bob: User, dpo: User, org: Org) -> None:
    for user in (bob, dpo):
        client.force_login(user)
        assert client.post(PREVIEW_GLOBAL, {"bench_title": "x"}).status_code == 403
    client.logout()
    assert client.post(PREVIEW_GLOBAL).status_code == 302


def test_the_preview_takes_only_post_and_known_levels(client: Client, superadmin: User) -> None:
    client.force_login(superadmin)
    assert client.get(PREVIEW_GLOBAL).status_code == 405
    assert client.post(reverse("policy:preview", args=["nowhere"])).status_code == 404
    agency = reverse("policy:preview", args=["agency"])
    assert client.post(agency, {"bench_title": "Mes patients"}).status_code == 200


def test_the_preview_refuses_an_overlong_title_readably(client: Client, superadmin: User) -> None:
    client.force_login(superadmin)
    text = preview(client, bench_title="x" * 5000)
    assert "4096" in text.replace("\u202f", "").replace(" ", "")


def test_a_broken_expression_is_explained_in_the_admins_language(
    client: Client, superadmin: User
) -> None:
    client.force_login(superadmin)
    rules = "[Paie]\ntitre = bulletin(\ncatégorie = Paie\n"
    with translation.override("fr"):
        page = client.post(reverse(EDIT), {"redact_rules": rules}).content.decode()
    assert "parenthèse fermante manquante (caractère 9)" in page
    assert "unterminated" not in page
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        page = client.post(reverse(EDIT), {"redact_rules": rules}).content.decode()
    assert "missing closing parenthesis (character 9)" in page
    assert not PolicyOverride.objects.exists()
