"""Reads for the dashboard pages."""

from __future__ import annotations

from dataclasses import dataclass

from oxytrack.accounts.models import User
from oxytrack.org.models import Employee


@dataclass(frozen=True)
class HomeSummary:
    employee_count: int
    device_count: int


def home_summary(user: User) -> HomeSummary:
    """How many employees and devices `user` may see."""
    employees = Employee.objects.visible_to(user)
    return HomeSummary(
        employee_count=employees.count(),
        device_count=employees.filter(devices__isnull=False).values("devices").count(),
    )
