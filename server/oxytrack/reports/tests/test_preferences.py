"""The page where a manager stops (or resumes) the weekly e-mail."""

from __future__ import annotations

from django.core import mail
from django.test import Client
from django.urls import reverse

from oxytrack.accounts.models import User
from oxytrack.conftest import Org
from oxytrack.reports.actions import do_send_weekly_reports
from oxytrack.reports.models import ReportPreference
from oxytrack.reports.tests.conftest import W47

URL = reverse("reports:preferences")


def test_a_manager_reaches_it_from_every_page(client: Client, alice: User) -> None:
    client.force_login(alice)
    home = client.get(reverse("dashboard:home"))
    assert f'href="{URL}"' in home.content.decode()
    page = client.get(URL).content.decode()
    # Subscribed by default, in the site's language.
    assert 'name="weekly" id="id_weekly" checked' in page
    assert "Aucun e-mail envoyé pour l'instant." in page


def test_opting_out_stops_the_mail_and_opting_in_resumes_it(
    client: Client, fortnight: Org, alice: User
) -> None:
    client.force_login(alice)
    response = client.post(URL, {"language": ""})  # the box unticked
    assert response.status_code == 302 and response["Location"] == URL
    assert client.get(URL).content.decode().count("Vous ne recevrez plus") == 1
    assert ReportPreference.objects.get(user=alice).weekly is False
    assert do_send_weekly_reports(W47).skipped == [("alice@example.com", "opted out")]
    assert mail.outbox == []

    client.post(URL, {"weekly": "on", "language": "en"})
    assert do_send_weekly_reports(W47).sent == ["alice@example.com"]
    assert mail.outbox[0].subject.startswith("OxyTrack: weekly report 2026-W47")
    page = client.get(URL).content.decode()
    assert "Semaine 2026-W47, envoyé le" in page
    assert '<option value="en" selected>' in page


def test_a_bad_language_is_a_form_error(client: Client, alice: User) -> None:
    client.force_login(alice)
    response = client.post(URL, {"weekly": "on", "language": "xx"})
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert not ReportPreference.objects.exists()


def test_the_dpo_gets_no_report_and_no_page(client: Client, dpo: User) -> None:
    client.force_login(dpo)
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"weekly": "on"}).status_code == 404
    assert "E-mail hebdomadaire" not in client.get(reverse("audit:log")).content.decode()


def test_the_form_needs_its_csrf_token(alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(URL, {"language": ""}).status_code == 403
    assert not ReportPreference.objects.exists()


def test_each_manager_changes_only_their_own_choice(client: Client, alice: User, bob: User) -> None:
    client.force_login(alice)
    client.post(URL, {"language": ""})
    assert list(ReportPreference.objects.values_list("user__email", "weekly")) == [
        ("alice@example.com", False)
    ]
