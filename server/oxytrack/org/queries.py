"""Reads of the organisation for the web pages, always through the scoped manager."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Count
from django.http import Http404
from django.utils.translation import gettext as _

from oxytrack.accounts.models import User
from oxytrack.org.models import Agency, Employee, Service


def get_employee_for(user: User, public_id: uuid.UUID | str) -> Employee:
    """The employee `public_id` if `user` may see it, else Http404.

    The one access helper every view taking an employee id calls first:
    out of scope and missing raise the same 404 with the same text, so a URL
    never confirms that an employee exists outside the viewer's scopes.
    """
    employee = (
        Employee.objects.visible_to(user)
        .select_related("agency", "service")
        .filter(public_id=public_id)
        .first()
    )
    if employee is None:
        raise Http404(_("Utilisateur introuvable."))
    return employee


@dataclass(frozen=True)
class OrgChoices:
    """The agencies and services a viewer may pick in a filter."""

    agencies: list[Agency]
    services: list[Service]


def org_choices_for(user: User) -> OrgChoices:
    """Agencies and services limited to `user`'s scopes (all for the super-admin).

    An admin with a whole-agency scope may pick any service; with only
    (agency, service) scopes, only those services.
    """
    if user.is_superadmin:
        return OrgChoices(list(Agency.objects.all()), list(Service.objects.all()))
    scopes = list(user.scopes.select_related("agency", "service"))
    agencies = sorted({s.agency for s in scopes}, key=lambda a: (a.sort_name, a.name))
    if any(s.service is None for s in scopes):
        services = list(Service.objects.all())
    else:
        services = sorted(
            {s.service for s in scopes if s.service}, key=lambda s: (s.sort_name, s.name)
        )
    return OrgChoices(agencies, services)


@dataclass(frozen=True)
class OrgUnit:
    """An agency or a service with how many employees it holds."""

    id: int
    name: str
    employee_count: int
    time_zone: str = ""


def org_units() -> tuple[list[OrgUnit], list[OrgUnit]]:
    """Every agency and service with its number of employees (settings page)."""
    agencies = [
        OrgUnit(a.pk, a.name, a.n, a.time_zone)
        for a in Agency.objects.annotate(n=Count("employees"))
    ]
    services = [OrgUnit(s.pk, s.name, s.n) for s in Service.objects.annotate(n=Count("employees"))]
    return agencies, services
