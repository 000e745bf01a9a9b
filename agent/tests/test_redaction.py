"""The built-in deny-list and the rules: what realistic titles become on the PC."""

from __future__ import annotations

import time

import pytest

from oxytrack_agent.platforms import Window
from oxytrack_agent.policy import Policy
from oxytrack_agent.redaction import (
    DEFAULT_RULES,
    MAX_RULES,
    Redactor,
    RuleError,
    compile_pattern,
    parse_rules,
    rules_from_text,
    rules_to_text,
)

#: (app, title, what is stored). Realistic titles of a home-care provider's PCs.
CORPUS = [
    # Care and patient-record software: the category, whatever the title says.
    ("ApologicDomicile.exe", "Dossier de Mme DUPONT Jeanne - Apologic", "Logiciel de soins"),
    ("Ximi.exe", "Planning intervenants - Mme Martin", "Logiciel de soins"),
    ("javaw.exe", "Arche MC2 - Fiche usager Bernard Lucien", "Logiciel de soins"),
    ("msedge.exe", "Perceval - Plan d'aide M. Robert - Microsoft Edge", "Logiciel de soins"),
    ("chrome.exe", "Domilink | Tournée de Julie - Google Chrome", "Logiciel de soins"),
    ("Medisys.exe", "Transmissions du 12/03 - Mme Petit", "Logiciel de soins"),
    ("AlfaDomicile.exe", "Cegi Alfa Domicile - Facturation Leroy", "Logiciel de soins"),
    # Titles that look like patient files: the app name.
    ("EXCEL.EXE", "Liste des patients agence84 2019 - Excel", "EXCEL"),
    ("WINWORD.EXE", "Ordonnance Mme Garcia.docx - Word", "WINWORD"),
    ("AcroRd32.exe", "prescription_kiné_Moreau.pdf - Adobe Acrobat Reader", "AcroRd32"),
    ("EXCEL.EXE", "Bénéficiaires APA Vaucluse.xlsx - Excel", "EXCEL"),
    ("explorer.exe", "Dossiers patients - Explorateur de fichiers", "explorer"),
    ("soffice.bin", "Patiente Mme Roux - LibreOffice Calc", "soffice.bin"),
    # Social-security numbers (NIR), with or without spaces, key or not.
    ("WINWORD.EXE", "Attestation 1 85 05 78 006 084 36 - Word", "WINWORD"),
    ("EXCEL.EXE", "Relevé 285052A006084 - Excel", "EXCEL"),
    ("notepad.exe", "2850578006084.txt - Bloc-notes", "notepad"),
    # Dates of birth: next to "né(e)", or any full date of the 1900s.
    ("WINWORD.EXE", "Courrier Mme Faure née le 03/04/1937 - Word", "WINWORD"),
    ("EXCEL.EXE", "Suivi Lucas DDN 12-06-2015 - Excel", "EXCEL"),
    ("EXCEL.EXE", "Fiche 07/11/1942 Lemoine - Excel", "EXCEL"),
    # E-mail clients: subject lines never leave the PC.
    ("OUTLOOK.EXE", "RE: Mme Durand, retour d'hospitalisation - Message (HTML)", "Messagerie"),
    ("OUTLOOK.EXE", "Boîte de réception - julie@example.fr - Outlook", "Messagerie"),
    ("thunderbird", "Compte rendu Mme Blanc - Mozilla Thunderbird", "Messagerie"),
    ("msedge.exe", "Courrier - Julie Martin - Outlook - Microsoft Edge", "Messagerie"),
    ("olk.exe", "Planning semaine 12", "Messagerie"),
    # Password managers.
    ("KeePass.exe", "Base.kdbx - KeePass", "Gestionnaire de mots de passe"),
    ("KeePassXC", "Passwords.kdbx [Verrouillé] - KeePassXC", "Gestionnaire de mots de passe"),
    ("Bitwarden.exe", "Coffre - Bitwarden", "Gestionnaire de mots de passe"),
    ("1Password.exe", "Tous les éléments — 1Password", "Gestionnaire de mots de passe"),
    ("chrome.exe", "Dashlane - Google Chrome", "Gestionnaire de mots de passe"),
    # Private or incognito browser windows.
    ("msedge.exe", "Leboncoin - [InPrivate] - Microsoft Edge", "Navigation privée"),
    ("firefox.exe", "Forum santé — Navigation privée de Mozilla Firefox", "Navigation privée"),
    ("chrome.exe", "Nouvel onglet - Google Chrome (Incognito)", "Navigation privée"),
    ("firefox", "Mozilla Firefox Private Browsing", "Navigation privée"),
    # Banking.
    ("chrome.exe", "Crédit Agricole - Mes comptes - Google Chrome", "Banque"),
    ("firefox.exe", "BNP Paribas - Consulter mes comptes — Mozilla Firefox", "Banque"),
    ("msedge.exe", "Société Générale - Particuliers - Microsoft Edge", "Banque"),
    ("chrome.exe", "LCL Mes Comptes - Google Chrome", "Banque"),
    ("chrome.exe", "La Banque Postale - Espace client - Google Chrome", "Banque"),
    ("chrome.exe", "Caisse d'Epargne - Mon budget - Google Chrome", "Banque"),
    ("chrome.exe", "CIC - Virements - Google Chrome", "Banque"),
    ("firefox", "Boursorama Banque — Mozilla Firefox", "Banque"),
    # Browsers keep the site's name, not the rest of a URL.
    (
        "chrome.exe",
        "https://intranet.example.fr/patients/1234?nom=Dupont - Google Chrome",
        "intranet.example.fr - Google Chrome",
    ),
    (
        "firefox",
        "intranet.example.fr/planning?agent=julie.martin — Mozilla Firefox",
        "intranet.example.fr — Mozilla Firefox",
    ),
    (
        "msedge.exe",
        "http://julie:secret@10.0.0.5:8080/rapport#Durand - Microsoft Edge",
        "10.0.0.5 - Microsoft Edge",
    ),
    # Not sensitive: unchanged.
    ("EXCEL.EXE", "Budget 2026 - Excel", "Budget 2026 - Excel"),
    ("WINWORD.EXE", "Planning tournées - Word", "Planning tournées - Word"),
    ("chrome.exe", "Wikipédia - Google Chrome", "Wikipédia - Google Chrome"),
    ("EXCEL.EXE", "Congés 12/07/2026 - Excel", "Congés 12/07/2026 - Excel"),
    ("Teams.exe", "Réunion d'équipe | Microsoft Teams", "Réunion d'équipe | Microsoft Teams"),
    # Outside a browser a URL-like text is left to the rules.
    ("notepad.exe", "notes.example.fr/x - Bloc-notes", "notes.example.fr/x - Bloc-notes"),
]


@pytest.mark.parametrize(("app", "title", "stored"), CORPUS)
def test_the_default_policy_redacts_the_corpus(app: str, title: str, stored: str) -> None:
    assert Policy().apply(Window(app, title, 1)).title == stored


def test_what_is_redacted_keeps_none_of_the_sensitive_words() -> None:
    sensitive = ["Dupont", "Martin", "Durand", "patients", "1234", "006 084", "1937", "Blanc"]
    for app, title, _ in CORPUS:
        stored = Policy().apply(Window(app, title)).title
        if stored != title:
            assert not any(word in stored for word in sensitive), (title, stored)


def test_a_rule_names_why_a_title_changed() -> None:
    redactor = Redactor.from_policy({})
    app, title, why = redactor.explain("EXCEL.EXE", "Liste des patients - Excel")
    assert (app, title, why) == ("EXCEL.EXE", "EXCEL", "Dossiers de patients")
    assert redactor.explain("chrome", "https://a.fr/b - Chromium")[2] == "browser_sites"
    assert redactor.explain("EXCEL.EXE", "Budget - Excel")[2] == ""


def test_browser_sites_off_keeps_urls() -> None:
    policy = Policy.from_json({"browser_sites": False})
    title = "https://intranet.example.fr/planning?s=12 - Google Chrome"
    assert policy.apply(Window("chrome.exe", title)).title == title


def test_an_empty_rule_list_redacts_nothing_but_the_legacy_regexes() -> None:
    policy = Policy.from_json({"redact_rules": [], "browser_sites": False})
    assert policy.apply(Window("EXCEL.EXE", "Liste des patients - Excel")).title == (
        "Liste des patients - Excel"
    )


def test_the_servers_rules_replace_the_defaults_and_bad_ones_are_skipped() -> None:
    rules = [
        {"name": "RH", "title": "salaire", "replace_with": "category", "category": "Paie"},
        {"name": "cassé", "title": "(a+)+$", "replace_with": "app"},
        {"name": "vide"},
    ]
    policy = Policy.from_json({"redact_rules": rules})
    assert [r["name"] for r in policy.redact_rules] == ["RH"]
    assert policy.apply(Window("x", "Salaire mars")).title == "Paie"
    # The defaults no longer apply.
    assert policy.apply(Window("x", "Banque Postale")).title == "Banque Postale"
    assert Policy.from_json(policy.to_json()) == policy


def test_an_old_saved_policy_without_rules_gets_the_built_in_deny_list() -> None:
    policy = Policy.from_json({"version": "old", "redact": []})
    assert policy.redact_rules == tuple(dict(r) for r in DEFAULT_RULES)


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("(a+)+$", "imbriquée"),
        ("(x*y)*", "imbriquée"),
        ("(a{1,9})+", "imbriquée"),
        (r"(a)\1", "référence arrière"),
        ("a*b*c*d*", "sans borne"),
        ("[", "invalide"),
        ("a" * 301, "trop longue"),
    ],
)
def test_costly_or_broken_patterns_are_refused_with_a_reason(pattern: str, why: str) -> None:
    with pytest.raises(RuleError, match=why):
        compile_pattern(pattern)


def test_the_default_rules_pass_their_own_checks_and_run_fast_on_hostile_titles() -> None:
    rules = parse_rules(DEFAULT_RULES)
    redactor = Redactor(rules=rules)
    hostile = ["1 " * 600, "a" * 5000, "né " * 400, "0/" * 600, "https://" + "a." * 600]
    began = time.perf_counter()
    for title in hostile:
        redactor.apply("chrome.exe", title)
    assert time.perf_counter() - began < 0.5


def test_too_many_rules_are_refused() -> None:
    rule = {"name": "r", "title": "x"}
    with pytest.raises(RuleError, match=str(MAX_RULES)):
        parse_rules([rule] * (MAX_RULES + 1))


def test_the_text_form_round_trips_and_reports_the_line_of_a_mistake() -> None:
    text = rules_to_text(DEFAULT_RULES)
    assert rules_from_text(text) == [dict(r) for r in DEFAULT_RULES]
    written = (
        "# mes règles\n[Paie]\ntitre = bulletin|salaire\ncatégorie = Paie\n\n[Perso]\napps = ^x$\n"
    )
    assert rules_from_text(written) == [
        {
            "name": "Paie",
            "title": "bulletin|salaire",
            "category": "Paie",
            "replace_with": "category",
        },
        {"name": "Perso", "apps": "^x$", "replace_with": "app"},
    ]
    with pytest.raises(RuleError, match="ligne 3"):
        rules_from_text("[a]\ntitre = x\nn'importe quoi\n")
    with pytest.raises(RuleError, match="« b » \\(titre\\) : expression régulière invalide"):
        rules_from_text("[b]\ntitre = (\n")
