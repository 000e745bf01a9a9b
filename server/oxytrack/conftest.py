"""The cast shared by every server test (CONVENTIONS.md).

Agencies Nice, Marseille, Fort-de-France; services Facturation, Logistique.
- superadmin: sees everything
- alice: admin of Nice/Facturation
- bob: admin of Nice, all services
- carol: admin of Fort-de-France/Facturation
- dpo: the data protection officer (audit log, policy, settings; no activity)
- employees: one per (agency, service) pair, plus one with no agency
- device: an enrolled device of nice_facturation with its clear token
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import translation

from oxytrack.accounts.models import Role, Scope, User
from oxytrack.accounts.tests.otp import force_login_verified
from oxytrack.categories import classify
from oxytrack.ingest.actions import window_cache
from oxytrack.org.models import Agency, Device, Employee, Service
from oxytrack.org.tokens import hash_device_token, new_device_token

PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture(autouse=True)
def _forget_process_state() -> Iterator[None]:
    """Window ids and call counts outlive a test's database: each test starts without."""
    window_cache.clear()
    for cache in caches.all():
        cache.clear()
    classify.forget()
    yield
    window_cache.clear()
    for cache in caches.all():
        cache.clear()
    classify.forget()
    # A test that switched language (translation.activate, a request's middleware
    # in this thread) must not leave the next one reading English.
    translation.deactivate()


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    """`client.force_login` skips authentication, so it skips the second factor too:
    the session is marked verified (a super-admin gets an authenticator). The pages
    of the second factor are tested through the real login (accounts/tests)."""
    monkeypatch.setattr(Client, "force_login", force_login_verified(Client.force_login))


@dataclass
class Org:
    nice: Agency
    marseille: Agency
    fdf: Agency
    facturation: Service
    logistique: Service
    employees: dict[str, Employee]


@pytest.fixture
def org(db: None) -> Org:
    nice = Agency.objects.create(name="Nice", time_zone="Europe/Paris")
    marseille = Agency.objects.create(name="Marseille", time_zone="Europe/Paris")
    fdf = Agency.objects.create(name="Fort-de-France", time_zone="America/Martinique")
    facturation = Service.objects.create(name="Facturation")
    logistique = Service.objects.create(name="Logistique")
    employees: dict[str, Employee] = {}
    for agency, akey in ((nice, "nice"), (marseille, "marseille"), (fdf, "fdf")):
        for service, skey in ((facturation, "facturation"), (logistique, "logistique")):
            key = f"{akey}_{skey}"
            employees[key] = Employee.objects.create(
                username=key,
                domain="CORP",
                display_name=key.replace("_", " ").title(),
                agency=agency,
                service=service,
            )
    employees["nowhere"] = Employee.objects.create(username="nowhere", display_name="Nowhere")
    employees["nice_no_service"] = Employee.objects.create(username="nice_no_service", agency=nice)
    return Org(nice, marseille, fdf, facturation, logistique, employees)


def _admin(email: str, scopes: list[tuple[Agency, Service | None]]) -> User:
    user = User.objects.create_user(email, PASSWORD, role=Role.ADMIN)
    for agency, service in scopes:
        Scope.objects.create(user=user, agency=agency, service=service)
    return user


@pytest.fixture
def superadmin(db: None) -> User:
    return User.objects.create_superadmin("super@example.com", PASSWORD)


@pytest.fixture
def alice(org: Org) -> User:
    return _admin("alice@example.com", [(org.nice, org.facturation)])


@pytest.fixture
def bob(org: Org) -> User:
    return _admin("bob@example.com", [(org.nice, None)])


@pytest.fixture
def carol(org: Org) -> User:
    return _admin("carol@example.com", [(org.fdf, org.facturation)])


@pytest.fixture
def dpo(org: Org) -> User:
    return User.objects.create_user("dpo@example.com", PASSWORD, role=Role.DPO)


@dataclass
class EnrolledDevice:
    device: Device
    token: str


@pytest.fixture
def enrolled_device(org: Org) -> EnrolledDevice:
    token = new_device_token()
    device = Device.objects.create(
        employee=org.employees["nice_facturation"],
        hostname="PC-NICE-01",
        os="Windows 11",
        agent_version="0.1.0",
        time_zone="Europe/Paris",
        token_hash=hash_device_token(token),
    )
    return EnrolledDevice(device, token)
