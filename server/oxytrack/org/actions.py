"""Changes to the organisation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.db import transaction

from oxytrack.accounts.models import User
from oxytrack.activity.models import DailyTotal, DailyUsage, HourlyTotal, Span
from oxytrack.audit.actions import record
from oxytrack.audit.models import Action
from oxytrack.org.importing import AgencyRow, ServiceRow, find_named, name_key
from oxytrack.org.models import (
    Agency,
    Device,
    Employee,
    EnrollmentKey,
    Service,
    clean_display_name,
    new_enrollment_key,
)

_Unit = TypeVar("_Unit", Agency, Service)


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
        # A name typed here is the super-admin's: enrollment will not replace it.
        display_name_locked=bool(display_name),
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
def do_rename_employee(
    employee: Employee, display_name: str, *, actor: User, ip: str | None = None
) -> Employee:
    """Set the name pages show ('' shows the login); agents never change it afterwards."""
    before = employee.display_name
    employee.display_name = clean_display_name(display_name)
    employee.display_name_locked = True
    employee.save(update_fields=["display_name", "display_name_locked"])
    record(
        Action.RENAME_EMPLOYEE,
        actor=actor,
        target=employee,
        target_label=f"{employee} ({employee.login})",
        detail={"from": before, "to": employee.display_name},
        ip=ip,
    )
    return employee


@transaction.atomic
def do_delete_employee(
    employee: Employee,
    *,
    actor: User | None,
    ip: str | None = None,
    reason: str = "",
    already_deleted: Mapping[str, int] | None = None,
) -> dict[str, int | str]:
    """Delete an employee with their devices, spans and rollups; the audit entry stays.

    Returns the counts the audit entry holds (spans, days, devices).

    Spans and rollups are deleted by queryset first: one DELETE each instead
    of the ORM collecting a large history row by row through the cascade.
    `actor` None is the system: the retention purge, which gives its `reason`
    and the `already_deleted` counts of the spans and days it deleted before
    in short batches (activity.actions).
    """
    label = f"{employee} ({employee.login})"
    target_id = str(employee.public_id)
    before = already_deleted or {}
    counts: dict[str, int | str] = {
        "spans": Span.objects.filter(employee=employee).delete()[0] + before.get("spans", 0),
        "days": DailyTotal.objects.filter(employee=employee).delete()[0] + before.get("days", 0),
    }
    if reason:
        counts["reason"] = reason
    DailyUsage.objects.filter(employee=employee).delete()
    HourlyTotal.objects.filter(employee=employee).delete()
    counts["devices"] = Device.objects.filter(employee=employee).count()
    employee.delete()
    record(
        Action.DELETE_EMPLOYEE,
        actor=actor,
        target_label=label,
        target_ref=("employee", target_id),
        detail=counts,
        ip=ip,
    )
    return counts


class NameTaken(Exception):
    """Another agency (or service) already has this name, in any case."""


@transaction.atomic
def do_create_agency(
    name: str, time_zone: str, *, actor: User | None, ip: str | None = None
) -> Agency:
    """Add an agency. `actor` None: the system (a console command).

    Callers check first that no agency has this name in any case (`find_named`).
    """
    agency = Agency.objects.create(name=name, time_zone=time_zone)
    record(
        Action.CHANGE_ORG,
        actor=actor,
        target=agency,
        detail={"created": "agency", "time_zone": time_zone},
        ip=ip,
    )
    return agency


@transaction.atomic
def do_create_service(name: str, *, actor: User | None, ip: str | None = None) -> Service:
    """Add a service (callers check the name is free first, `find_named`)."""
    service = Service.objects.create(name=name)
    record(Action.CHANGE_ORG, actor=actor, target=service, detail={"created": "service"}, ip=ip)
    return service


def _rename(unit: _Unit, name: str, kind: str, actor: User | None, ip: str | None) -> _Unit:
    if unit.name == name:
        return unit
    taken = find_named(type(unit), name, besides=unit)
    if taken is not None:
        raise NameTaken(taken.name)
    before, unit.name = unit.name, name
    unit.save(update_fields=["name"])
    record(
        Action.CHANGE_ORG,
        actor=actor,
        target=unit,
        detail={"renamed": kind, "from": before, "to": name},
        ip=ip,
    )
    return unit


@transaction.atomic
def do_rename_agency(
    agency: Agency, name: str, *, actor: User | None, ip: str | None = None
) -> Agency:
    """Rename an agency; its employees, scopes and history follow (NameTaken if used).

    Installers must use the new name from now on; enrolled agents are not affected.
    """
    return _rename(agency, name, "agency", actor, ip)


@transaction.atomic
def do_rename_service(
    service: Service, name: str, *, actor: User | None, ip: str | None = None
) -> Service:
    """Rename a service; same rules as `do_rename_agency`."""
    return _rename(service, name, "service", actor, ip)


@dataclass(frozen=True)
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@transaction.atomic
def do_import_agencies(
    rows: Sequence[AgencyRow], *, actor: User | None, dry_run: bool = False
) -> ImportCounts:
    """Create the agencies of `rows` that do not exist, set the time zone of those that do.

    A name matches an existing agency in any case (its spelling is kept);
    agencies missing from `rows` are left alone. Importing the same rows
    again changes nothing. `dry_run` counts, then rolls everything back.
    """
    existing = {name_key(agency.name): agency for agency in Agency.objects.all()}
    created = updated = unchanged = 0
    for row in rows:
        agency = existing.get(name_key(row.name))
        if agency is None:
            zone = row.time_zone or str(settings.TIME_ZONE)
            agency = Agency.objects.create(name=row.name, time_zone=zone)
            existing[name_key(row.name)] = agency
            record(
                Action.CHANGE_ORG,
                actor=actor,
                target=agency,
                detail={"created": "agency", "time_zone": zone, "source": "import"},
            )
            created += 1
        elif row.time_zone is not None and row.time_zone != agency.time_zone:
            before, agency.time_zone = agency.time_zone, row.time_zone
            agency.save(update_fields=["time_zone"])
            record(
                Action.CHANGE_ORG,
                actor=actor,
                target=agency,
                detail={
                    "updated": "agency",
                    "time_zone": {"from": before, "to": row.time_zone},
                    "source": "import",
                },
            )
            updated += 1
        else:
            unchanged += 1
    if dry_run:
        transaction.set_rollback(True)
    return ImportCounts(created, updated, unchanged)


@transaction.atomic
def do_import_services(
    rows: Sequence[ServiceRow], *, actor: User | None, dry_run: bool = False
) -> ImportCounts:
    """Create the services of `rows` that do not exist (any case); nothing else changes."""
    existing = {name_key(name) for name in Service.objects.values_list("name", flat=True)}
    created = unchanged = 0
    for row in rows:
        if name_key(row.name) in existing:
            unchanged += 1
            continue
        service = Service.objects.create(name=row.name)
        existing.add(name_key(row.name))
        record(
            Action.CHANGE_ORG,
            actor=actor,
            target=service,
            detail={"created": "service", "source": "import"},
        )
        created += 1
    if dry_run:
        transaction.set_rollback(True)
    return ImportCounts(created=created, unchanged=unchanged)


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
