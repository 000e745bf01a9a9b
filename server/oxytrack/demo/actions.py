"""Loading the demo organisation into the database (`oxytrack seed_demo`).

Generation is pure Python (`simulator`); this module writes it in chunks of
employees, one transaction per chunk: `bulk_create` for the small tables, a
plain `executemany` for spans and DailyUsage (see `_insert`), and rollups
summed in Python by `sum_spans` rather than upserted: every employee is
wholly inside one chunk, so the chunk's sums are their days' final values.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.contrib.auth.password_validation import validate_password
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from oxytrack.accounts.models import Role, Scope, User
from oxytrack.activity.hours import hourly_sums
from oxytrack.activity.models import DailyTotal, DailyUsage, HourlyTotal, Span, Window
from oxytrack.activity.rollups import db_adapters, sum_spans
from oxytrack.activity.windows import intern_windows
from oxytrack.demo import simulator
from oxytrack.demo.simulator import DEFAULT_DAYS, DEFAULT_EMPLOYEES, DEFAULT_SEED
from oxytrack.org.actions import get_enrollment_key
from oxytrack.org.models import Agency, Device, Employee, Service

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_EMPLOYEES",
    "DEFAULT_SEED",
    "DEMO_ACCOUNTS",
    "DemoAccount",
    "Progress",
    "SeedResult",
    "database_is_empty",
    "do_seed_demo",
    "existing_demo_accounts",
]


@dataclass(frozen=True)
class DemoAccount:
    """A manager login of the demo; the passwords are public on purpose (docs, README)."""

    email: str
    password: str
    role: Role
    # (agency, service or None for all its services)
    scopes: tuple[tuple[str, str | None], ...] = ()

    @property
    def description(self) -> str:
        if self.role == Role.SUPERADMIN:
            return "super-administrateur"
        parts = [f"{agency}/{service or 'tous services'}" for agency, service in self.scopes]
        return "administrateur " + ", ".join(parts)


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("superadmin@oxytrack.demo", "Demo-Super-2026!", Role.SUPERADMIN),
    DemoAccount("admin.nice@oxytrack.demo", "Demo-Admin-2026!", Role.ADMIN, (("Nice", None),)),
    DemoAccount(
        "admin.facturation@oxytrack.demo",
        "Demo-Admin-2026!",
        Role.ADMIN,
        (("Marseille", "Facturation"), ("Fort-de-France", "Facturation")),
    ),
)


@dataclass(frozen=True)
class Progress:
    employees_done: int
    employees_total: int
    spans: int
    elapsed_s: float

    @property
    def eta_s(self) -> float:
        if not self.employees_done:
            return 0.0
        rate = self.elapsed_s / self.employees_done
        return rate * (self.employees_total - self.employees_done)


@dataclass(frozen=True)
class SeedResult:
    agencies: int
    services: int
    employees: int
    devices: int
    spans: int
    daily_usage: int
    daily_totals: int
    windows: int
    seconds: float
    # Emails of demo accounts created; an existing super-admin is kept, not replaced.
    accounts: tuple[str, ...]
    kept_superadmin: str | None

    @property
    def spans_per_s(self) -> float:
        return self.spans / self.seconds if self.seconds else 0.0


def database_is_empty() -> bool:
    """True when no employee exists: the demo may be loaded."""
    return not Employee.objects.exists()


def existing_demo_accounts() -> list[DemoAccount]:
    """The demo accounts present in the database (to print their logins)."""
    present = set(
        User.objects.filter(email__in=[a.email for a in DEMO_ACCOUNTS]).values_list(
            "email", flat=True
        )
    )
    return [account for account in DEMO_ACCOUNTS if account.email in present]


# Rows per INSERT statement asked of bulk_create; each backend lowers it to its
# bound-parameter limit (SQLite: 999 parameters, so ~110 spans a statement).
_BATCH = 2000


def do_seed_demo(
    *,
    seed: int = DEFAULT_SEED,
    employees: int = DEFAULT_EMPLOYEES,
    days: int = DEFAULT_DAYS,
    now: datetime | None = None,
    progress: Callable[[Progress], None] | None = None,
    chunk_size: int | None = None,
) -> SeedResult:
    """Load the demo organisation and `days` days of activity ending today.

    Meant for an empty database (see `database_is_empty`); the caller checks.
    `now` (default: the current time) fixes "today" (server time zone) and
    the end of the data, so a test or a benchmark can reproduce a run exactly.
    One transaction for the organisation, then one per chunk of employees:
    an interrupted run leaves whole employees, never half a day's rollups.
    """
    if employees < 1 or days < 1:
        raise ValueError("employees and days must be at least 1")
    started = time.perf_counter()
    now = now or timezone.now()
    last_day = timezone.localdate(now)
    first_day = last_day - timedelta(days=days - 1)
    org = simulator.plan_organisation(seed, employees, first_day, last_day)

    with transaction.atomic():
        agencies = _ensure_agencies(org.agencies)
        services = _ensure_services(org.services)
        accounts, kept_superadmin = _create_accounts(agencies, services)
        get_enrollment_key()

    if chunk_size is None:
        # About 20 chunks (progress every ~5%), each of at most ~100,000
        # spans (~70 per person and day) so memory stays bounded: 1,700
        # people over a year is ~30 million spans.
        chunk_size = max(1, min(50, -(-employees // 20), 100_000 // (70 * days)))
    totals = {"spans": 0, "usage": 0, "days": 0, "devices": 0}
    for begin in range(0, employees, chunk_size):
        people = org.employees[begin : begin + chunk_size]
        activities = [
            simulator.simulate_employee(seed, person, first_day, last_day, now) for person in people
        ]
        with transaction.atomic():
            _write_chunk(people, activities, agencies, services, totals)
        if progress is not None:
            progress(
                Progress(
                    employees_done=begin + len(people),
                    employees_total=employees,
                    spans=totals["spans"],
                    elapsed_s=time.perf_counter() - started,
                )
            )
    return SeedResult(
        agencies=len(org.agencies),
        services=len(org.services),
        employees=employees,
        devices=totals["devices"],
        spans=totals["spans"],
        daily_usage=totals["usage"],
        daily_totals=totals["days"],
        windows=Window.objects.count(),
        seconds=time.perf_counter() - started,
        accounts=accounts,
        kept_superadmin=kept_superadmin,
    )


def _ensure_agencies(plans: list[simulator.AgencyPlan]) -> dict[str, Agency]:
    """Agencies by name, creating the missing ones (a super-admin may have made some)."""
    existing = {a.name: a for a in Agency.objects.filter(name__in=[p.name for p in plans])}
    missing = [Agency(name=p.name, time_zone=p.time_zone) for p in plans if p.name not in existing]
    Agency.objects.bulk_create(missing)
    return {a.name: a for a in Agency.objects.filter(name__in=[p.name for p in plans])}


def _ensure_services(names: list[str]) -> dict[str, Service]:
    existing = set(Service.objects.filter(name__in=names).values_list("name", flat=True))
    Service.objects.bulk_create([Service(name=n) for n in names if n not in existing])
    return {s.name: s for s in Service.objects.filter(name__in=names)}


def _create_accounts(
    agencies: dict[str, Agency], services: dict[str, Service]
) -> tuple[tuple[str, ...], str | None]:
    """The demo managers; an existing super-admin is kept (there is only one)."""
    created: list[str] = []
    kept: str | None = None
    for account in DEMO_ACCOUNTS:
        if User.objects.filter(email=account.email).exists():
            continue
        if account.role == Role.SUPERADMIN:
            other = User.objects.filter(role=Role.SUPERADMIN).first()
            if other is not None:
                kept = other.email
                continue
        # The documented demo passwords must satisfy the configured validators.
        validate_password(account.password, user=User(email=account.email))
        user = User.objects.create_user(account.email, account.password, role=account.role)
        for agency, service in account.scopes:
            Scope.objects.create(
                user=user,
                agency=agencies[agency],
                service=services[service] if service else None,
            )
        created.append(account.email)
    return tuple(created), kept


class _SpanRow(NamedTuple):
    """A span ready to store: lighter than a `Span` instance, enough for `sum_spans`."""

    employee_id: int
    device_id: int
    start: datetime
    duration_ms: int
    day: date
    window_id: int
    active: bool
    keys: int
    clicks: int


_USAGE_COLUMNS = (
    "employee_id",
    "day",
    "window_id",
    "active_ms",
    "idle_ms",
    "keys",
    "clicks",
    "first_start",
    "last_end",
)


def _insert(model: type[Model], columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """A plain multi-row INSERT of already adapted values, for the two big tables.

    Measured: building the SQL of `bulk_create` (one prepare_value per field
    per row) cost ~8 of every 10 seconds of a seed; `executemany` with values
    adapted once by the backend's own `adapt_*` functions writes the same rows
    several times faster, on SQLite and PostgreSQL alike.
    """
    if not rows:
        return
    unknown = set(columns) - {f.column for f in model._meta.concrete_fields}
    if unknown:  # the names are ours, never input: a typo is a bug
        raise ValueError(f"no such columns in {model.__name__}: {sorted(unknown)}")
    q = connection.ops.quote_name
    sql = (
        f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(c) for c in columns)}) "  # noqa: S608  # nosec B608  # our models' table and column names, quoted; the values bound as %s
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with connection.cursor() as cursor:
        for begin in range(0, len(rows), _ROWS_PER_EXECUTE):
            cursor.executemany(sql, rows[begin : begin + _ROWS_PER_EXECUTE])


_ROWS_PER_EXECUTE = 20_000


def _bound(moment: datetime | None) -> datetime:
    """A first_start or last_end of `Sums`: set by its first span, so never None here."""
    if moment is None:
        raise ValueError("empty Sums")
    return moment


def _write_chunk(
    people: list[simulator.EmployeePlan],
    activities: list[simulator.Activity],
    agencies: dict[str, Agency],
    services: dict[str, Service],
    totals: dict[str, int],
) -> None:
    employees = Employee.objects.bulk_create(
        [
            Employee(
                public_id=person.public_id,
                username=person.username,
                domain=simulator.DOMAIN,
                display_name=person.display_name,
                agency=agencies[person.agency.name],
                service=services[person.service],
            )
            for person in people
        ],
        batch_size=_BATCH,
    )
    devices: list[Device] = []
    for person, employee, activity in zip(people, employees, activities, strict=True):
        for number, plan in enumerate(person.devices):
            ends = [
                s.start + timedelta(milliseconds=s.duration_ms)
                for s in activity.spans
                if s.device == number
            ]
            devices.append(
                Device(
                    public_id=plan.public_id,
                    employee=employee,
                    hostname=plan.hostname,
                    os=plan.os,
                    agent_version=plan.agent_version,
                    time_zone=plan.time_zone,
                    last_ip=plan.last_ip,
                    local_ips=plan.local_ips,
                    last_seen_at=max(ends) if ends else None,
                )
            )
    Device.objects.bulk_create(devices, batch_size=_BATCH)
    device_ids: list[list[int]] = []
    cursor = 0
    for person in people:
        device_ids.append([d.pk for d in devices[cursor : cursor + len(person.devices)]])
        cursor += len(person.devices)

    window_ids = intern_windows(pair for activity in activities for pair in activity.windows)
    rows: list[_SpanRow] = []
    for employee, own_devices, activity in zip(employees, device_ids, activities, strict=True):
        windows = [window_ids[pair] for pair in activity.windows]
        employee_id = employee.pk
        rows.extend(
            _SpanRow(
                employee_id,
                own_devices[s.device],
                s.start,
                s.duration_ms,
                s.day,
                windows[s.window],
                s.active,
                s.keys,
                s.clicks,
            )
            for s in activity.spans
        )
    adapt_dt, adapt_day = db_adapters()
    _insert(
        Span,
        _SpanRow._fields,
        [
            (e, d, adapt_dt(start), ms, adapt_day(day), w, a, k, c)
            for e, d, start, ms, day, w, a, k, c in rows
        ],
    )
    usage, day_totals = sum_spans(rows)
    _insert(
        DailyUsage,
        _USAGE_COLUMNS,
        [
            (
                employee_id,
                adapt_day(day),
                window_id,
                s.active_ms,
                s.idle_ms,
                s.keys,
                s.clicks,
                adapt_dt(_bound(s.first_start)),
                adapt_dt(_bound(s.last_end)),
            )
            for (employee_id, day, window_id), s in usage.items()
        ],
    )
    DailyTotal.objects.bulk_create(
        [
            DailyTotal(
                employee_id=employee_id,
                day=day,
                active_ms=s.active_ms,
                idle_ms=s.idle_ms,
                keys=s.keys,
                clicks=s.clicks,
                first_start=_bound(s.first_start),
                last_end=_bound(s.last_end),
            )
            for (employee_id, day), s in day_totals.items()
        ],
        batch_size=_BATCH,
    )
    # Each device's days were cut in its zone (the agency's): its hours too.
    zones = {device.pk: ZoneInfo(device.time_zone) for device in devices}
    _insert(
        HourlyTotal,
        ("employee_id", "day", "hour", "active_ms", "idle_ms"),
        [
            (employee_id, adapt_day(day), hour, active, idle)
            for (employee_id, day, hour), (active, idle) in hourly_sums(
                rows, zones.__getitem__
            ).items()
        ],
    )
    totals["spans"] += len(rows)
    totals["usage"] += len(usage)
    totals["days"] += len(day_totals)
    totals["devices"] += len(devices)
