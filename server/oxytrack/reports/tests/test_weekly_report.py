"""The weekly e-mail, sent through Django's locmem backend and read back as MIME."""

from __future__ import annotations

import csv
import email
import io
import os
import subprocess
import sys
from datetime import date
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image

from oxytrack.accounts.models import Role, Scope, User
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import PASSWORD, Org
from oxytrack.org.models import Employee
from oxytrack.reports.actions import do_send_weekly_reports
from oxytrack.reports.models import ReportPreference, SentReport
from oxytrack.reports.tests.conftest import W46, W47, H, add_day
from oxytrack.reports.weekly import Week, last_complete_week, parse_week, report_for, team_summaries


class Mail:
    """One sent message's parts: what a mail client would show."""

    def __init__(self, message: Any) -> None:
        parsed = email.message_from_bytes(message.message().as_bytes(), policy=default)
        assert isinstance(parsed, EmailMessage)
        self.to = message.to
        self.subject = str(parsed["Subject"])
        self.structure = [part.get_content_type() for part in parsed.walk()]
        parts = {part.get_content_type(): part for part in parsed.walk()}
        self.text = parts["text/plain"].get_content()
        self.html = parts["text/html"].get_content()
        self.png_part = parts["image/png"]
        self.png = self.png_part.get_content()
        csv_part = parts["text/csv"]
        self.csv_name = csv_part.get_filename()
        self.csv_disposition = csv_part.get_content_disposition()
        self.csv_text = csv_part.get_content()

    def csv_rows(self, delimiter: str = ";") -> list[dict[str, str]]:
        assert self.csv_text.startswith("\ufeff")
        return list(csv.DictReader(io.StringIO(self.csv_text[1:]), delimiter=delimiter))


def _sent() -> dict[str, Mail]:
    return {m.to[0]: Mail(m) for m in mail.outbox}


# --- Weeks ---------------------------------------------------------------------------


def test_the_last_complete_week_is_the_one_before_today_s() -> None:
    # Wednesday 2 December 2026 falls in W49: the report is about W48 (23-29 November).
    assert last_complete_week(date(2026, 12, 2)) == Week(date(2026, 11, 23))
    # On a Monday, the week that just ended; on a Sunday, not yet the one it ends.
    assert last_complete_week(date(2026, 11, 30)).label == "2026-W48"
    assert last_complete_week(date(2026, 11, 29)).label == "2026-W47"
    # ISO years: 1 January 2027 is in 2026-W53.
    assert last_complete_week(date(2027, 1, 5)).label == "2026-W53"


def test_weeks_are_parsed_strictly() -> None:
    assert parse_week("2026-W47") == W47
    assert W47.sunday == date(2026, 11, 22)
    for bad in ("2026-47", "2026-W7", "2025-W53", "W47", "2026-W00"):
        with pytest.raises(ValueError, match="week"):
            parse_week(bad)


# --- Figures ---------------------------------------------------------------------------


def test_team_figures_match_the_hand_computed_week(fortnight: Org) -> None:
    summaries = team_summaries(W47)
    nf = summaries[(fortnight.nice.pk, fortnight.facturation.pk)]
    assert (nf.agency, nf.service, nf.employees, nf.active_employees) == (
        "Nice",
        "Facturation",
        2,
        1,
    )
    assert (nf.active_ms, nf.worked_days, nf.average_ms_per_worked_day) == (4 * H, 2, 2 * H)
    assert (nf.previous_active_ms, nf.change) == (2 * H, 1.0)
    assert [(s.category.name, s.active_ms, s.share) for s in nf.categories] == [
        ("Messagerie", H, 0.25),
        ("Bureautique", 2 * H, 0.5),
        ("Non classé", H, 0.25),
    ]
    nl = summaries[(fortnight.nice.pk, fortnight.logistique.pk)]
    assert (nl.active_ms, nl.previous_active_ms, nl.change) == (3 * H, 0, None)
    ff = summaries[(fortnight.fdf.pk, fortnight.facturation.pk)]
    assert (ff.active_ms, ff.previous_active_ms, ff.change) == (H, 4 * H, -0.75)
    # A team without any time this week is listed with zeros, not left out.
    ml = summaries[(fortnight.marseille.pk, fortnight.logistique.pk)]
    assert (ml.employees, ml.active_employees, ml.active_ms, ml.categories) == (1, 0, 0, [])
    assert ml.average_ms_per_worked_day is None


def test_a_transferred_employee_s_week_follows_them(fortnight: Org, carol: User) -> None:
    moved = fortnight.employees["nice_logistique"]
    moved.agency, moved.service = fortnight.fdf, fortnight.facturation
    moved.save(update_fields=["agency", "service"])
    report = report_for(carol, W47, team_summaries(W47))
    [team] = report.teams
    assert (team.employees, team.active_employees, team.active_ms) == (2, 2, 4 * H)


def test_an_admin_s_report_holds_their_teams_only(fortnight: Org, alice: User, bob: User) -> None:
    summaries = team_summaries(W47)
    assert [(t.agency, t.service) for t in report_for(alice, W47, summaries).teams] == [
        ("Nice", "Facturation")
    ]
    # Bob's scope is all of Nice: the employee without a service is a team of its own, last.
    assert [(t.agency, t.service) for t in report_for(bob, W47, summaries).teams] == [
        ("Nice", "Facturation"),
        ("Nice", "Logistique"),
        ("Nice", ""),
    ]


# --- Recipients and what they receive ------------------------------------------------


def test_each_subscribed_manager_with_employees_gets_one_mail(managers: dict[str, User]) -> None:
    outcome = do_send_weekly_reports(W47)
    assert sorted(outcome.sent) == [
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
        "super@example.com",
    ]
    # Not the dpo, not an inactive admin; the opted-out and the empty-scoped are said.
    assert sorted(outcome.skipped) == [
        ("empty@example.com", "no employees in scope"),
        ("quiet@example.com", "opted out"),
    ]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(outcome.sent)
    assert outcome.failed == []


def test_the_mail_has_text_html_the_chart_inline_and_a_csv(managers: dict[str, User]) -> None:
    do_send_weekly_reports(W47)
    alice = _sent()["alice@example.com"]
    assert alice.structure == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "text/csv",
    ]
    assert (
        alice.subject == "OxyTrack : rapport de la semaine 2026-W47 (du 16/11/2026 au 22/11/2026)"
    )
    # The HTML shows the image by its Content-ID.
    cid = alice.png_part["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in alice.html
    assert alice.png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(alice.png))
    image.verify()
    assert image.format == "PNG" and image.size[0] > 400 and image.size[1] > 100
    assert alice.csv_disposition == "attachment"
    assert alice.csv_name == "oxytrack-rapport-2026-W47.csv"


def test_figures_in_the_body_and_the_csv(managers: dict[str, User]) -> None:
    do_send_weekly_reports(W47)
    alice = _sent()["alice@example.com"]
    for body in (alice.text, alice.html):
        assert "Nice / Facturation" in body
        assert "4 h 00 min" in body  # the week
        assert "2 h 00 min" in body  # per worked day, and the previous week
        assert "+100,0\xa0%" in body
        assert "Bureautique" in body and "50,0\xa0%" in body
    [row] = alice.csv_rows()
    assert row["Agence"] == "Nice" and row["Service"] == "Facturation"
    assert (row["Utilisateurs"], row["Utilisateurs actifs"], row["Jours travaillés"]) == (
        "2",
        "1",
        "2",
    )
    assert row["Temps actif (min)"] == "240"
    assert row["Moyenne par jour travaillé (min)"] == "120"
    assert row["Temps actif de la semaine précédente (min)"] == "120"
    assert row["Évolution (%)"] == "100,0"
    assert (row["Bureautique (min)"], row["Bureautique (%)"]) == ("120", "50,0")
    assert (row["Messagerie (min)"], row["Messagerie (%)"]) == ("60", "25,0")
    assert (row["Non classé (min)"], row["Non classé (%)"]) == ("60", "25,0")
    assert (row["Réunions (min)"], row["Réunions (%)"]) == ("0", "0,0")
    carol = _sent()["carol@example.com"]
    [row] = carol.csv_rows()
    assert (row["Agence"], row["Temps actif (min)"], row["Évolution (%)"]) == (
        "Fort-de-France",
        "60",
        "\u221275,0".replace("\u2212", "-"),
    )
    assert "\u221275,0\xa0%" in carol.text


def test_an_admin_sees_only_their_teams_in_body_and_csv(managers: dict[str, User]) -> None:
    do_send_weekly_reports(W47)
    sent = _sent()
    alice, carol, boss = (
        sent["alice@example.com"],
        sent["carol@example.com"],
        sent["super@example.com"],
    )
    for body in (alice.text, alice.html, alice.csv_text):
        assert "Logistique" not in body and "Fort-de-France" not in body
        assert "Marseille" not in body
    for body in (carol.text, carol.html, carol.csv_text):
        assert "Nice" not in body
    assert [r["Agence"] for r in carol.csv_rows()] == ["Fort-de-France"]
    # The super-admin: every team, the one without an agency last.
    assert [(r["Agence"], r["Service"]) for r in boss.csv_rows()] == [
        ("Fort-de-France", "Facturation"),
        ("Fort-de-France", "Logistique"),
        ("Marseille", "Facturation"),
        ("Marseille", "Logistique"),
        ("Nice", "Facturation"),
        ("Nice", "Logistique"),
        ("Nice", "Sans service"),
        ("Sans agence", "Sans service"),
    ]
    # No person is named: teams only, never a ranking.
    for body in (boss.text, boss.html, boss.csv_text):
        assert "Zoé" not in body and "nice_facturation" not in body


def test_hostile_names_are_escaped_and_defused(fortnight: Org, alice: User) -> None:
    fortnight.nice.name = '=HYPERLINK("x")<img src=x onerror=alert(1)>\u202e$x^2$'
    fortnight.nice.save(update_fields=["name"])
    do_send_weekly_reports(W47)
    sent = _sent()["alice@example.com"]
    assert "<img src=x" not in sent.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in sent.html
    # The bidi control cannot reorder the mail: shown as a mark instead.
    assert "\u202e" not in sent.html and "\u202e" not in sent.text
    assert "⟨RLO⟩" in sent.html
    [row] = sent.csv_rows()
    assert row["Agence"].startswith("'=HYPERLINK")
    Image.open(io.BytesIO(sent.png)).verify()  # the "$" drawn as text, not as mathtext


def test_the_mail_is_in_the_manager_s_language(managers: dict[str, User]) -> None:
    ReportPreference.objects.create(user=managers["alice"], language="en")
    do_send_weekly_reports(W47)
    alice = _sent()["alice@example.com"]
    assert alice.subject == "OxyTrack: weekly report 2026-W47 (11/16/2026 to 11/22/2026)"
    assert "Active time" in alice.text and "+100.0%" in alice.text
    [row] = alice.csv_rows(delimiter=",")
    assert (row["Agency"], row["Active time (min)"], row["Change (%)"]) == ("Nice", "240", "100.0")
    assert row["Uncategorised (%)"] == "25.0"
    # The others keep the site's language.
    assert _sent()["bob@example.com"].subject.startswith("OxyTrack : rapport")


# --- Once per week, audited, failures ------------------------------------------------


def test_a_week_is_sent_once_unless_forced(managers: dict[str, User]) -> None:
    do_send_weekly_reports(W47)
    assert len(mail.outbox) == 4
    again = do_send_weekly_reports(W47)
    assert again.sent == [] and len(mail.outbox) == 4
    assert ("alice@example.com", "already sent") in again.skipped
    forced = do_send_weekly_reports(W47, only="alice@example.com", force=True)
    assert forced.sent == ["alice@example.com"] and len(mail.outbox) == 5
    assert SentReport.objects.filter(week=W47.monday).count() == 4
    # Another week is another report.
    assert len(do_send_weekly_reports(W46).sent) == 4


def test_each_report_sent_is_audited(managers: dict[str, User]) -> None:
    do_send_weekly_reports(W47)
    entries = Entry.objects.filter(action=Action.EXPORT, detail__report="weekly")
    assert entries.count() == 4
    entry = entries.get(target_id=str(managers["bob"].public_id))
    assert entry.actor is None and entry.target_label == "bob@example.com"
    assert entry.detail == {
        "format": "email",
        "report": "weekly",
        "week": "2026-W47",
        "teams": 3,
        "employees": 4,
    }


def test_one_failing_address_does_not_stop_the_others(managers: dict[str, User]) -> None:
    # A corrupted address (a header injection): building the message refuses it.
    broken = User.objects.create_user("aaa@example.com", PASSWORD)
    User.objects.filter(pk=broken.pk).update(email="aaa@example.com\nBcc: spy@example.net")
    Scope.objects.create(user=broken, agency=managers["alice"].scopes.get().agency)
    with pytest.raises(CommandError, match="1 report") as raised:
        call_command(
            "send_weekly_report", "--week", "2026-W47", stdout=io.StringIO(), stderr=io.StringIO()
        )
    assert raised.value.returncode == 1
    assert len(mail.outbox) == 4
    assert not SentReport.objects.filter(user=broken).exists()
    assert not Entry.objects.filter(target_id=str(broken.public_id)).exists()


# --- The command ---------------------------------------------------------------------


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("send_weekly_report", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_command_sends_the_given_week(managers: dict[str, User]) -> None:
    output = _command("--week", "2026-W47")
    assert "sent 2026-W47 to alice@example.com" in output
    assert "skipped quiet@example.com: opted out" in output
    assert "Week 2026-W47 (2026-11-16 to 2026-11-22): 4 sent, 2 skipped, 0 failed." in output
    assert "skipped alice@example.com: already sent" in _command("--week", "2026-W47")


def test_dry_run_sends_and_records_nothing(managers: dict[str, User]) -> None:
    output = _command("--week", "2026-W47", "--dry-run")
    assert "would send 2026-W47 to carol@example.com" in output
    assert mail.outbox == [] and not SentReport.objects.exists()
    assert not Entry.objects.filter(action=Action.EXPORT).exists()


def test_to_sends_one_manager_s_report_only(managers: dict[str, User]) -> None:
    _command("--week", "2026-W47", "--to", "Carol@Example.com")
    assert [m.to for m in mail.outbox] == [["carol@example.com"]]
    with pytest.raises(CommandError, match="no active admin"):
        _command("--week", "2026-W47", "--to", "dpo@example.com")


def test_the_command_refuses_a_bad_or_unfinished_week(managers: dict[str, User]) -> None:
    with pytest.raises(CommandError, match="ISO week"):
        _command("--week", "47")
    with pytest.raises(CommandError, match="not over yet"):
        _command("--week", "2099-W01")
    assert mail.outbox == []


def test_without_a_week_the_last_complete_one_is_sent(
    fortnight: Org, managers: dict[str, User]
) -> None:
    week = last_complete_week()
    add_day(fortnight.employees["fdf_facturation"], week.sunday, {"OUTLOOK.EXE": H})
    assert f"Week {week.label}" in _command("--to", "carol@example.com")
    [row] = Mail(mail.outbox[0]).csv_rows()
    assert row["Temps actif (min)"] == "60"


def test_an_opted_back_in_manager_receives_it_again(managers: dict[str, User]) -> None:
    quiet = managers["quiet"]
    ReportPreference.objects.filter(user=quiet).update(weekly=True)
    assert do_send_weekly_reports(W47, only=quiet.email).sent == [quiet.email]
    assert quiet.role == Role.ADMIN


def test_web_workers_never_load_matplotlib() -> None:
    # The whole URL conf (every view, the preferences page included) and the
    # mail module import without it; only drawing the chart does.
    code = (
        "import sys, django; django.setup(); import oxytrack.urls, oxytrack.reports.mail; "
        "from django.test import Client; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib loaded'"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "oxytrack.settings_test"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_week_is_read_in_a_bounded_number_of_queries(
    fortnight: Org, django_assert_max_num_queries: Any
) -> None:
    for i in range(20):
        extra = Employee.objects.create(username=f"extra{i}", agency=fortnight.marseille)
        add_day(extra, W47.monday, {f"app{i}": H})
    team_summaries(W47)  # the category rules compiled once per process
    with django_assert_max_num_queries(7):
        summaries = team_summaries(W47)
    assert summaries[(fortnight.marseille.pk, None)].active_ms == 20 * H
