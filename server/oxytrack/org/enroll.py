"""Enrollment: an agent's first contact creates or finds its employee and device."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone

from oxytrack.audit.actions import record
from oxytrack.audit.models import Action
from oxytrack.org.models import Agency, Device, Employee, Service
from oxytrack.org.tokens import hash_device_token, new_device_token

_Named = TypeVar("_Named", Agency, Service)


class EnrollmentRefused(Exception):
    """The request names an unknown agency/service, or contradicts the employee's."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Enrollment:
    device: Device
    token: str  # in clear, returned once to the agent and never stored
    created_employee: bool
    created_device: bool


def _none_yet(model: type[_Named], name: str) -> EnrollmentRefused:
    """The refusal when the server has no agency (or service) at all yet."""
    if model is Agency:
        return EnrollmentRefused(
            "unknown_agency",
            f"Agence inconnue « {name} » : le serveur n'a encore aucune agence. Le "
            "super-administrateur les crée sur le serveur avec « oxytrack agencies import "
            "agences.csv » (ou « oxytrack agencies add NOM --time-zone Europe/Paris »), ou dans la "
            "page Organisation de l'application web. / "
            f"Unknown agency {name!r}: the server has no agency yet. The super-administrator "
            "creates them on the server with `oxytrack agencies import agencies.csv` (or "
            "`oxytrack agencies add NAME --time-zone Europe/Paris`), or on the web "
            "app's Organisation page.",
        )
    return EnrollmentRefused(
        "unknown_service",
        f"Service inconnu « {name} » : le serveur n'a encore aucun service. Le "
        "super-administrateur les crée sur le serveur avec « oxytrack services import "
        "services.csv » (ou « oxytrack services add NOM »), ou dans la page Organisation "
        "de l'application web. / "
        f"Unknown service {name!r}: the server has no service yet. The super-administrator "
        "creates them on the server with `oxytrack services import services.csv` (or "
        "`oxytrack services add NAME`), or on the web app's Organisation page.",
    )


def _named(model: type[_Named], name: str | None) -> _Named | None:
    """The agency/service called `name` (any case), or a refusal listing the valid ones."""
    if name is None or name == "":
        return None
    found = model.objects.annotate(lname=Lower("name")).filter(lname=Lower(Value(name))).first()
    if found is None:
        valid = ", ".join(model.objects.order_by("name").values_list("name", flat=True))
        if not valid:
            # A fresh server: the installer cannot fix this, the super-admin can.
            raise _none_yet(model, name)
        if model is Agency:
            raise EnrollmentRefused(
                "unknown_agency",
                f"Agence inconnue « {name} ». Agences possibles : {valid}. / "
                f"Unknown agency {name!r}. Valid agencies: {valid}.",
            )
        raise EnrollmentRefused(
            "unknown_service",
            f"Service inconnu « {name} ». Services possibles : {valid}. / "
            f"Unknown service {name!r}. Valid services: {valid}.",
        )
    return found


def _find_employee(domain: str, username: str) -> Employee | None:
    # Lower() on both sides, in SQL, as in the unique constraint: Python's
    # lower() and SQLite's differ outside ASCII.
    return (
        Employee.objects.annotate(ldomain=Lower("domain"), lusername=Lower("username"))
        .filter(ldomain=Lower(Value(domain)), lusername=Lower(Value(username)))
        .select_related("agency", "service")
        .first()
    )


def _assigned_elsewhere(employee: Employee, agency: Agency | None, service: Service | None) -> str:
    """'' when the request agrees with the employee's agency/service, else the conflict."""
    conflicts = []
    if agency is not None and employee.agency_id is not None and employee.agency_id != agency.pk:
        conflicts.append(f"agence « {employee.agency} »")
    if (
        service is not None
        and employee.service_id is not None
        and employee.service_id != service.pk
    ):
        conflicts.append(f"service « {employee.service} »")
    return " et ".join(conflicts)


def do_enroll_device(
    *,
    username: str,
    domain: str,
    hostname: str,
    os: str,
    agent_version: str,
    time_zone: str,
    local_ips: list[str],
    agency_name: str | None,
    service_name: str | None,
    ip: str | None,
    display_name: str | None = None,
    now: datetime | None = None,
) -> Enrollment:
    """Enroll a device, in one transaction.

    The employee is matched by (domain, username) in any case and created on
    first contact; the device by (employee, hostname) in any case. A known
    device gets a new token, which revokes the old one (its hash is
    replaced). Agency and service are set when the employee has none; asking
    for different ones than the employee has raises `EnrollmentRefused`
    (`already_assigned`): only the super-admin transfers employees.

    `display_name` (the person's name from the OS, already cleaned) names a
    new employee, and renames a known one until the super-admin has edited
    their name (`display_name_locked`); empty or None changes nothing.
    """
    now = now or timezone.now()
    agency = _named(Agency, agency_name)
    service = _named(Service, service_name)
    token = new_device_token()
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _enroll(
                    username=username,
                    domain=domain,
                    hostname=hostname,
                    os=os,
                    agent_version=agent_version,
                    time_zone=time_zone,
                    local_ips=local_ips,
                    agency=agency,
                    service=service,
                    ip=ip,
                    display_name=display_name or "",
                    now=now,
                    token=token,
                )
        except IntegrityError:
            # Two first contacts of the same employee or device at once (on
            # PostgreSQL): the loser retries and finds the winner's rows.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _enroll(
    *,
    username: str,
    domain: str,
    hostname: str,
    os: str,
    agent_version: str,
    time_zone: str,
    local_ips: list[str],
    agency: Agency | None,
    service: Service | None,
    ip: str | None,
    display_name: str,
    now: datetime,
    token: str,
) -> Enrollment:
    employee = _find_employee(domain, username)
    created_employee = employee is None
    if employee is None:
        employee = Employee.objects.create(
            username=username,
            domain=domain,
            display_name=display_name,
            agency=agency,
            service=service,
            created_at=now,
        )
        record(Action.CREATE_EMPLOYEE, actor=None, target=employee, ip=ip)
    else:
        conflict = _assigned_elsewhere(employee, agency, service)
        if conflict:
            raise EnrollmentRefused(
                "already_assigned",
                f"Cet utilisateur est déjà rattaché à : {conflict}. Demandez au "
                "super-administrateur de le transférer. / This employee already belongs "
                "to another agency or service: ask the super-administrator for a transfer.",
            )
        changed = []
        if agency is not None and employee.agency_id is None:
            employee.agency = agency
            changed.append("agency")
        if service is not None and employee.service_id is None:
            employee.service = service
            changed.append("service")
        # The OS name follows the directory (a marriage, a typo fixed) until the
        # super-admin has chosen one: theirs is never overwritten.
        if (
            display_name
            and not employee.display_name_locked
            and employee.display_name != display_name
        ):
            employee.display_name = display_name
            changed.append("display_name")
        if changed:
            employee.save(update_fields=changed)

    found = (
        Device.objects.select_for_update()
        .annotate(lhostname=Lower("hostname"))
        .filter(employee=employee, lhostname=Lower(Value(hostname)))
        .first()
    )
    created_device = found is None
    device: Device = (
        found
        if found is not None
        else Device(employee=employee, hostname=hostname, enrolled_at=now)
    )
    device.employee = employee
    device.os = os
    device.agent_version = agent_version
    device.time_zone = time_zone
    device.local_ips = local_ips
    device.last_ip = ip
    device.last_seen_at = now
    # Replacing the hash is what revokes the previous token of this machine.
    device.token_hash = hash_device_token(token)
    device.revoked_at = None
    device.save()
    return Enrollment(device, token, created_employee, created_device)
