"""A digest of everything the demo stores, blind to auto-increment ids.

Rows are named by what identifies them (UUIDs, names, window text), so two
databases seeded alike give the same digest whatever ids they handed out.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from django.utils import timezone

from oxytrack.accounts.models import Scope, User
from oxytrack.activity.models import DailyTotal, DailyUsage, Span
from oxytrack.org.models import Agency, Device, Employee, Service


def _rows(queryset: Any, *fields: str) -> list[list[str]]:
    return [[str(v) for v in row] for row in queryset.order_by(*fields).values_list(*fields)]


def demo_tables() -> dict[str, list[list[str]]]:
    """The demo's rows, table by table, as sorted lists of strings."""
    window = ("window__app", "window__title")
    return {
        "agencies": _rows(Agency.objects, "name", "time_zone"),
        "services": _rows(Service.objects, "name"),
        "employees": _rows(
            Employee.objects,
            "public_id",
            "username",
            "domain",
            "display_name",
            "agency__name",
            "service__name",
        ),
        "devices": _rows(
            Device.objects,
            "public_id",
            "employee__public_id",
            "hostname",
            "os",
            "agent_version",
            "time_zone",
            "last_ip",
            "local_ips",
            "last_seen_at",
        ),
        "users": _rows(User.objects, "email", "role", "is_active"),
        "scopes": _rows(Scope.objects, "user__email", "agency__name", "service__name"),
        "spans": _rows(
            Span.objects,
            "device__public_id",
            "start",
            "employee__public_id",
            "duration_ms",
            "day",
            *window,
            "active",
            "keys",
            "clicks",
        ),
        "daily_usage": _rows(
            DailyUsage.objects,
            "employee__public_id",
            "day",
            *window,
            "active_ms",
            "idle_ms",
            "keys",
            "clicks",
            "first_start",
            "last_end",
        ),
        "daily_totals": _rows(
            DailyTotal.objects,
            "employee__public_id",
            "day",
            "active_ms",
            "idle_ms",
            "keys",
            "clicks",
            "first_start",
            "last_end",
        ),
    }


def demo_fingerprint() -> str:
    """SHA-256 of `demo_tables()`."""
    text = json.dumps(demo_tables(), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def wipe_demo() -> None:
    """Delete what seed_demo creates, leaving an empty organisation."""
    from oxytrack.activity.models import Window
    from oxytrack.audit.models import purge_entries_before
    from oxytrack.org.models import EnrollmentKey

    models: list[Any] = [DailyUsage, DailyTotal, Span, Window, Device, Employee, Scope, User]
    models += [Agency, Service, EnrollmentKey]
    for model in models:  # dependents first: spans PROTECT their windows
        model.objects.all().delete()
    # The audit log is append-only; its one way out is the retention purge.
    purge_entries_before(timezone.now() + timedelta(days=1))
