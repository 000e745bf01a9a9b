"""The Windows workflow's server-side steps, in Python rather than in quoted PowerShell.

    python ci_server.py prepare          agents upload every 10 s (a global policy row)
    python ci_server.py agent USERNAME   exit 0 once USERNAME's one device has sent spans
    python ci_server.py devices N        exit 0 when exactly N devices are enrolled
    python ci_server.py users A B ...    exit 0 when each user has one device of their own

Run with the server's Python, in the environment of `oxytrack` (OXYTRACK_VAR_DIR).
"""

from __future__ import annotations

import os
import sys

import django


def prepare() -> int:
    """A global policy override: uploads every 10 s instead of 10 min."""
    from oxytrack.policy.models import PolicyOverride

    PolicyOverride.objects.update_or_create(
        agency=None, service=None, defaults={"upload_interval_s": 10}
    )
    return 0


def agent(username: str) -> int:
    """0 when one device of `username`, in Nice/Facturation, has spans on the server."""
    from oxytrack.activity.models import Span
    from oxytrack.org.models import Device

    devices = list(Device.objects.select_related("employee__agency", "employee__service"))
    spans = Span.objects.filter(device__in=devices).count()
    for device in devices:
        employee = device.employee
        print(
            f"{employee.username} ({employee.display_name!r}) {employee.agency} / "
            f"{employee.service}, {device.hostname}, {device.os}, agent {device.agent_version}, "
            f"seen {device.last_seen_at}; spans: {spans}"
        )
    ok = (
        len(devices) == 1
        and spans > 0
        and devices[0].employee.username.lower() == username.lower()
        and str(devices[0].employee.agency) == "Nice"
        and str(devices[0].employee.service) == "Facturation"
    )
    return 0 if ok else 1


def devices(count: int) -> int:
    """0 when exactly `count` devices are enrolled."""
    from oxytrack.org.models import Device

    found = Device.objects.count()
    print(f"devices: {found}")
    return 0 if found == count else 1


def users(usernames: list[str]) -> int:
    """0 when each of `usernames` is a distinct employee with exactly one device."""
    from oxytrack.org.models import Device

    owners = [d.employee for d in Device.objects.select_related("employee")]
    for employee in owners:
        print(f"{employee.username} ({employee.display_name!r}), employee {employee.public_id}")
    names = sorted(e.username.lower() for e in owners)
    distinct = len({e.pk for e in owners}) == len(owners)
    return 0 if distinct and names == sorted(u.lower() for u in usernames) else 1


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oxytrack.settings")
    django.setup()
    command, *rest = sys.argv[1:]
    if command == "prepare":
        sys.exit(prepare())
    if command == "agent":
        sys.exit(agent(rest[0]))
    if command == "devices":
        sys.exit(devices(int(rest[0])))
    if command == "users":
        sys.exit(users(rest))
    sys.exit(f"unknown command {command}")
