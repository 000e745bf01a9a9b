"""The super-administrator's pages: employees, admins, organisation, key, policy, audit."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from oxytrack.accounts.models import Role, Scope, User
from oxytrack.activity.models import DailyTotal, DailyUsage, Span
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import PASSWORD, Org
from oxytrack.dashboard.tests.conftest import Activity
from oxytrack.org.actions import get_enrollment_key
from oxytrack.org.models import Agency, Device, Employee
from oxytrack.policy.models import PolicyOverride

SUPER_PAGES = [
    "org:employee_create",
    "org:settings",
    "org:enrollment_key",
    "accounts:admins",
    "accounts:admin_create",
    "policy:list",
    "policy:edit_global",
    "audit:log",
]


@pytest.mark.parametrize("name", SUPER_PAGES)
def test_superadmin_pages_open_for_the_superadmin(
    client: Client, superadmin: User, org: Org, name: str
) -> None:
    client.force_login(superadmin)
    assert client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", SUPER_PAGES)
def test_superadmin_pages_are_403_for_an_admin(client: Client, bob: User, name: str) -> None:
    client.force_login(bob)
    response = client.get(reverse(name))
    assert response.status_code == 403
    assert "Action non autorisée" in response.content.decode()


@pytest.mark.parametrize("name", ["org:employee_transfer", "org:employee_delete"])
def test_an_admin_in_scope_gets_403_on_employee_changes(
    client: Client, bob: User, org: Org, name: str
) -> None:
    client.force_login(bob)
    url = reverse(name, args=[org.employees["nice_facturation"].public_id])
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert Employee.objects.filter(pk=org.employees["nice_facturation"].pk).exists()


def test_add_an_employee_and_refuse_a_duplicate(client: Client, superadmin: User, org: Org) -> None:
    client.force_login(superadmin)
    url = reverse("org:employee_create")
    data = {
        "username": "jdupont",
        "domain": "CORP",
        "display_name": "Jean Dupont",
        "agency": org.nice.pk,
        "service": org.facturation.pk,
    }
    response = client.post(url, data)
    employee = Employee.objects.get(username="jdupont")
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:employee", args=[employee.public_id])
    assert Entry.objects.filter(action=Action.CREATE_EMPLOYEE).count() == 1
    again = client.post(url, {**data, "username": "JDUPONT", "domain": "corp"})
    assert again.status_code == 200
    assert "existe déjà" in again.content.decode()
    assert Employee.objects.filter(username__iexact="jdupont").count() == 1


def test_add_refuses_an_unknown_agency(client: Client, superadmin: User, org: Org) -> None:
    client.force_login(superadmin)
    response = client.post(reverse("org:employee_create"), {"username": "x", "agency": 99999})
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert not Employee.objects.filter(username="x").exists()


def test_transfer_moves_the_employee_and_is_audited(
    client: Client, superadmin: User, org: Org
) -> None:
    client.force_login(superadmin)
    employee = org.employees["nice_facturation"]
    url = reverse("org:employee_transfer", args=[employee.public_id])
    response = client.post(url, {"agency": org.marseille.pk, "service": org.logistique.pk})
    assert response.status_code == 302
    employee.refresh_from_db()
    assert (employee.agency, employee.service) == (org.marseille, org.logistique)
    entry = Entry.objects.get(action=Action.TRANSFER_EMPLOYEE)
    assert entry.detail["from"] == {"agency": "Nice", "service": "Facturation"}
    assert entry.detail["to"] == {"agency": "Marseille", "service": "Logistique"}


def test_transfer_to_the_same_place_is_refused(client: Client, superadmin: User, org: Org) -> None:
    client.force_login(superadmin)
    employee = org.employees["nice_facturation"]
    url = reverse("org:employee_transfer", args=[employee.public_id])
    response = client.post(url, {"agency": org.nice.pk, "service": org.facturation.pk})
    assert response.status_code == 200
    assert "déjà dans cette agence" in response.content.decode()
    assert not Entry.objects.filter(action=Action.TRANSFER_EMPLOYEE).exists()


def test_transfer_needs_the_csrf_token(superadmin: User, org: Org) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(superadmin)
    employee = org.employees["nice_facturation"]
    url = reverse("org:employee_transfer", args=[employee.public_id])
    assert client.post(url, {"agency": org.marseille.pk}).status_code == 403
    employee.refresh_from_db()
    assert employee.agency == org.nice


def test_delete_asks_then_removes_all_data_and_keeps_the_audit(
    client: Client, superadmin: User, org: Org, activity: Activity
) -> None:
    client.force_login(superadmin)
    employee = org.employees["nice_facturation"]
    url = reverse("org:employee_delete", args=[employee.public_id])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Supprimer définitivement" in confirm.content.decode()
    assert Employee.objects.filter(pk=employee.pk).exists()
    response = client.post(url)
    assert response.status_code == 302
    assert not Employee.objects.filter(pk=employee.pk).exists()
    for model in (Span, DailyUsage, DailyTotal):
        assert not model.objects.filter(employee_id=employee.pk).exists()
    assert not Device.objects.filter(employee_id=employee.pk).exists()
    entry = Entry.objects.get(action=Action.DELETE_EMPLOYEE)
    assert entry.target_id == str(employee.public_id)
    assert entry.detail["spans"] == 10


def test_create_an_admin_with_scopes(client: Client, superadmin: User, org: Org) -> None:
    client.force_login(superadmin)
    response = client.post(
        reverse("accounts:admin_create"),
        {
            "email": "Dora@Example.com",
            "role": Role.ADMIN,
            "scopes": [f"{org.nice.pk}:{org.facturation.pk}", f"{org.marseille.pk}:*"],
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    dora = User.objects.get(email="dora@example.com")
    assert dora.check_password(PASSWORD)
    assert {(s.agency.name, s.service_id) for s in Scope.objects.filter(user=dora)} == {
        ("Nice", org.facturation.pk),
        ("Marseille", None),
    }
    assert Entry.objects.filter(
        action=Action.CREATE_ADMIN, target_label="dora@example.com"
    ).exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email": "alice@example.com"}, "existe déjà"),
        ({"password1": "password", "password2": "password"}, "trop courant"),
        ({"password2": "Another-Horse-42"}, "ne correspondent pas"),
        ({"role": Role.SUPERADMIN}, "qu&#x27;un super-administrateur"),
        ({"scopes": []}, "au moins un périmètre"),
    ],
)
def test_create_admin_refuses_bad_input(
    client: Client, superadmin: User, alice: User, org: Org, change: dict[str, object], message: str
) -> None:
    client.force_login(superadmin)
    data = {
        "email": "eve@example.com",
        "role": Role.ADMIN,
        "scopes": [f"{org.nice.pk}:*"],
        "password1": PASSWORD,
        "password2": PASSWORD,
        **change,
    }
    count = User.objects.count()
    response = client.post(reverse("accounts:admin_create"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == count


def test_delete_an_admin_but_never_the_superadmin(
    client: Client, superadmin: User, alice: User
) -> None:
    client.force_login(superadmin)
    assert (
        client.post(reverse("accounts:admin_delete", args=[superadmin.public_id])).status_code
        == 403
    )
    assert client.get(reverse("accounts:admin_delete", args=[alice.public_id])).status_code == 200
    assert client.post(reverse("accounts:admin_delete", args=[alice.public_id])).status_code == 302
    assert not User.objects.filter(pk=alice.pk).exists()
    assert Entry.objects.filter(
        action=Action.DELETE_ADMIN, target_label="alice@example.com"
    ).exists()


def test_admins_list_refuses_post(client: Client, superadmin: User) -> None:
    client.force_login(superadmin)
    assert client.post(reverse("accounts:admins")).status_code == 405


def test_rotate_the_enrollment_key(client: Client, superadmin: User) -> None:
    client.force_login(superadmin)
    before = get_enrollment_key()
    assert before in client.get(reverse("org:enrollment_key")).content.decode()
    client.post(reverse("org:enrollment_key"))
    assert get_enrollment_key() != before
    assert Entry.objects.filter(action=Action.ROTATE_KEY, actor=superadmin).exists()


def test_agencies_and_services(client: Client, superadmin: User, org: Org) -> None:
    client.force_login(superadmin)
    url = reverse("org:settings")
    client.post(url, {"agency-name": "Lyon", "agency-time_zone": "Europe/Paris"})
    lyon = Agency.objects.get(name="Lyon")
    bad = client.post(url, {"agency-name": "Brest", "agency-time_zone": "Mars/Olympus"})
    assert "Fuseau horaire inconnu" in bad.content.decode()
    dup = client.post(url, {"service-name": "facturation"})
    assert "existe déjà" in dup.content.decode()
    client.post(reverse("org:agency_delete", args=[org.nice.pk]), follow=True)
    assert Agency.objects.filter(pk=org.nice.pk).exists()  # still has employees
    client.post(reverse("org:agency_delete", args=[lyon.pk]))
    assert not Agency.objects.filter(pk=lyon.pk).exists()
    assert Entry.objects.filter(action=Action.CHANGE_ORG).count() == 2


def test_change_the_policy_per_agency(client: Client, superadmin: User, org: Org) -> None:
    client.force_login(superadmin)
    url = reverse("policy:edit_agency", args=[org.nice.pk])
    bad = client.post(url, {"redact": "([unclosed"})
    assert "Expression régulière invalide" in bad.content.decode()
    assert not PolicyOverride.objects.exists()
    response = client.post(
        url, {"idle_threshold_s": "300", "titles": "app_only", "exclude_apps": "KeePass.exe\n"}
    )
    assert response.status_code == 302
    row = PolicyOverride.objects.get(agency=org.nice)
    assert (row.idle_threshold_s, row.titles, row.exclude_apps) == (
        300,
        "app_only",
        ["KeePass.exe"],
    )
    listing = client.get(reverse("policy:list")).content.decode()
    assert "= 300" in listing
    assert "Application seulement" in listing
    entry = Entry.objects.get(action=Action.CHANGE_POLICY)
    assert entry.detail["changes"]["idle_threshold_s"] == {"from": None, "to": 300}


def test_the_audit_log_filters(client: Client, superadmin: User, org: Org) -> None:
    client.force_login(superadmin)
    client.post(reverse("org:enrollment_key"))
    employee = org.employees["nice_facturation"]
    client.get(reverse("dashboard:employee", args=[employee.public_id]))
    body = client.get(reverse("audit:log"), {"action": Action.ROTATE_KEY}).content.decode()
    assert "sur 1 élément" in body
    assert "Renouvellement de la clé" in body
    bad = client.get(reverse("audit:log"), {"start": "2026-05-02", "end": "2026-05-01"})
    assert "antérieure" in bad.content.decode()


def test_login_gives_a_new_session_and_logout_flushes_it(client: Client, alice: User) -> None:
    client.get(reverse("login"))
    session = client.session
    session["probe"] = 1
    session.save()
    before = session.session_key
    response = client.post(
        reverse("login"), {"username": "ALICE@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.session.session_key != before
    client.post(reverse("logout"))
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("dashboard:home")).status_code == 302


def test_an_idle_session_expires(client: Client, alice: User) -> None:
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client.force_login(alice)
    assert client.get(reverse("dashboard:home")).status_code == 200
    # 16 minutes later, as far as the session store knows.
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_404_page_leads_home_or_to_login(client: Client, alice: User) -> None:
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert reverse("login") in response.content.decode()
    client.force_login(alice)
    response = client.get("/no/such/page/")
    assert "Retour à l'accueil" in response.content.decode()


def test_the_500_page_renders(rf: object, db: None) -> None:
    from django.test import RequestFactory

    from oxytrack.web.views import server_error

    request = RequestFactory().get("/")
    response = server_error(request)
    assert response.status_code == 500
    assert "Erreur du serveur" in response.content.decode()
