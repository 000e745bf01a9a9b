"""Changes to the organisation."""

from __future__ import annotations

from django.db import transaction

from oxytrack.accounts.models import User
from oxytrack.activity.models import DailyTotal, DailyUsage, Span
from oxytrack.audit.actions import record
from oxytrack.audit.models import Action
from oxytrack.org.models import Agency, Device, Employee, EnrollmentKey, Service, new_enrollment_key


def get_enrollment_key() -> str:
    """The current enrollment key, created on first use."""
    current = EnrollmentKey.objects.order_by("-created_at").first()
    if current is None:
        current = EnrollmentKey.objects.create()
    return current.key


@transaction.atomic
def do_rotate_enrollment_key(*, actor: User | None, ip: str | None = None) -> str:
    """Replace the enrollment key; installers holding the old one are refused from now on.

    Enrolled devices keep working: they use their own tokens.
    """
    EnrollmentKey.objects.all().delete()
    key = EnrollmentKey.objects.create(key=new_enrollment_key())
    record(Action.ROTATE_KEY, actor=actor, target_label="enrollment key", ip=ip)
    return key.key


# --- Employees, agencies and services (super-admin web pages) -------------------------


def _place(agency: Agency | None, service: Service | None) -> dict[str, str | None]:
    return {
        "agency": agency.name if agency else None,
        "service": service.name if service else None,
    }


@transaction.atomic
def do_create_employee(
    *,
    username: str,
    domain: str,
    display_name: str,
    agency: Agency | None,
    service: Service | None,
    actor: User,
    ip: str | None = None,
) -> Employee:
    """Add an employee by hand (before their agent enrolls, it will match them by login)."""
    employee = Employee.objects.create(
        username=username,
        domain=domain,
        display_name=display_name,
        agency=agency,
        service=service,
    )
    record(
        Action.CREATE_EMPLOYEE,
        actor=actor,
        target=employee,
        target_label=f"{employee} ({employee.login})",
        detail=_place(agency, service),
        ip=ip,
    )
    return employee


@transaction.atomic
def do_transfer_employee(
    employee: Employee,
    agency: Agency | None,
    service: Service | None,
    *,
    actor: User,
    ip: str | None = None,
) -> Employee:
    """Move an employee to another agency and/or service; their history moves with them."""
    before = _place(employee.agency, employee.service)
    employee.agency, employee.service = agency, service
    employee.save(update_fields=["agency", "service"])
    record(
        Action.TRANSFER_EMPLOYEE,
        actor=actor,
        target=employee,
        target_label=f"{employee} ({employee.login})",
        detail={"from": before, "to": _place(agency, service)},
        ip=ip,
    )
    return employee


@transaction.atomic
def do_delete_employee(employee: Employee, *, actor: User, ip: str | None = None) -> None:
    """Delete an employee with their devices, spans and rollups; the audit entry stays.

    Spans and rollups are deleted by queryset first: one DELETE each instead
    of the ORM collecting a large history row by row through the cascade.
    """
    label = f"{employee} ({employee.login})"
    target_id = str(employee.public_id)
    counts = {
        "spans": Span.objects.filter(employee=employee).delete()[0],
        "days": DailyTotal.objects.filter(employee=employee).delete()[0],
    }
    DailyUsage.objects.filter(employee=employee).delete()
    counts["devices"] = Device.objects.filter(employee=employee).count()
    employee.delete()
    entry = record(Action.DELETE_EMPLOYEE, actor=actor, target_label=label, detail=counts, ip=ip)
    entry.target_type, entry.target_id = "employee", target_id
    entry.save(update_fields=["target_type", "target_id"])


@transaction.atomic
def do_create_agency(name: str, time_zone: str, *, actor: User, ip: str | None = None) -> Agency:
    """Add an agency."""
    agency = Agency.objects.create(name=name, time_zone=time_zone)
    record(Action.CHANGE_ORG, actor=actor, target=agency, detail={"created": "agency"}, ip=ip)
    return agency


@transaction.atomic
def do_create_service(name: str, *, actor: User, ip: str | None = None) -> Service:
    """Add a service."""
    service = Service.objects.create(name=name)
    record(Action.CHANGE_ORG, actor=actor, target=service, detail={"created": "service"}, ip=ip)
    return service


class StillInUse(Exception):
    """An agency or service that still has employees cannot be deleted."""


@transaction.atomic
def do_delete_agency(agency: Agency, *, actor: User, ip: str | None = None) -> None:
    """Delete an agency without employees (raises StillInUse otherwise)."""
    if Employee.objects.filter(agency=agency).exists():
        raise StillInUse(agency.name)
    record(Action.CHANGE_ORG, actor=actor, target=agency, detail={"deleted": "agency"}, ip=ip)
    agency.delete()


@transaction.atomic
def do_delete_service(service: Service, *, actor: User, ip: str | None = None) -> None:
    """Delete a service without employees (raises StillInUse otherwise)."""
    if Employee.objects.filter(service=service).exists():
        raise StillInUse(service.name)
    record(Action.CHANGE_ORG, actor=actor, target=service, detail={"deleted": "service"}, ip=ip)
    service.delete()
