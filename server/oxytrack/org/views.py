"""Super-admin pages of the organisation: employees, agencies and services, the
enrollment key."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from oxytrack.accounts.decorators import (
    current_user,
    require_superadmin,
    superadmin_or_dpo_reads,
    superadmin_required,
)
from oxytrack.activity.retention import purge_preview, retention, retention_cutoffs
from oxytrack.audit.request import client_ip
from oxytrack.org import actions
from oxytrack.org.forms import (
    AgencyForm,
    EmployeeCreateForm,
    RenameForm,
    ServiceForm,
    TransferForm,
)
from oxytrack.org.models import Agency, Service
from oxytrack.org.queries import get_employee_for, org_units


@require_http_methods(["GET", "POST"])
@superadmin_required
def employee_create(request: HttpRequest) -> HttpResponse:
    """Add an employee by hand."""
    form = EmployeeCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        employee = actions.do_create_employee(
            username=data["username"],
            domain=data["domain"],
            display_name=data["display_name"],
            agency=data["agency"],
            service=data["service"],
            actor=current_user(request),
            ip=client_ip(request),
        )
        messages.success(request, _("Utilisateur « %(name)s » ajouté.") % {"name": employee})
        return redirect("dashboard:employee", public_id=employee.public_id)
    return render(request, "org/employee_create.html", {"form": form})


@require_http_methods(["GET", "POST"])
@login_required
def employee_transfer(request: HttpRequest, public_id: str) -> HttpResponse:
    """Move an employee to another agency/service (404 out of scope, then 403 for an admin)."""
    employee = get_employee_for(current_user(request), public_id)
    require_superadmin(request.user)
    form = TransferForm(
        request.POST or None,
        employee=employee,
        initial={"agency": employee.agency, "service": employee.service},
    )
    if request.method == "POST" and form.is_valid():
        actions.do_transfer_employee(
            employee,
            form.cleaned_data["agency"],
            form.cleaned_data["service"],
            actor=current_user(request),
            ip=client_ip(request),
        )
        messages.success(request, _("Utilisateur « %(name)s » transféré.") % {"name": employee})
        return redirect("dashboard:employee", public_id=employee.public_id)
    return render(request, "org/employee_transfer.html", {"form": form, "employee": employee})


@require_http_methods(["GET", "POST"])
@login_required
def employee_rename(request: HttpRequest, public_id: str) -> HttpResponse:
    """Edit the name pages show (404 out of scope, then 403 for an admin)."""
    employee = get_employee_for(current_user(request), public_id)
    require_superadmin(request.user)
    form = RenameForm(request.POST or None, initial={"display_name": employee.display_name})
    if request.method == "POST" and form.is_valid():
        actions.do_rename_employee(
            employee,
            form.cleaned_data["display_name"],
            actor=current_user(request),
            ip=client_ip(request),
        )
        messages.success(request, _("Nom de « %(login)s » enregistré.") % {"login": employee.login})
        return redirect("dashboard:employee", public_id=employee.public_id)
    return render(request, "org/employee_rename.html", {"form": form, "employee": employee})


@require_http_methods(["GET", "POST"])
@login_required
def employee_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    """GET: the confirmation step. POST: delete the employee and all their data."""
    employee = get_employee_for(current_user(request), public_id)
    require_superadmin(request.user)
    if request.method == "POST":
        name = str(employee)
        actions.do_delete_employee(employee, actor=current_user(request), ip=client_ip(request))
        messages.success(request, _("Utilisateur « %(name)s » supprimé.") % {"name": name})
        return redirect("dashboard:home")
    return render(request, "org/employee_delete.html", {"employee": employee})


@require_http_methods(["GET", "POST"])
@superadmin_or_dpo_reads
def org_settings(request: HttpRequest) -> HttpResponse:
    """Agencies and services: lists with their head counts, and forms to add one."""
    agency_form = AgencyForm(prefix="agency")
    service_form = ServiceForm(prefix="service")
    if request.method == "POST":
        if "agency-name" in request.POST:
            agency_form = AgencyForm(request.POST, prefix="agency")
            if agency_form.is_valid():
                agency = actions.do_create_agency(
                    agency_form.cleaned_data["name"],
                    agency_form.cleaned_data["time_zone"],
                    actor=current_user(request),
                    ip=client_ip(request),
                )
                messages.success(request, _("Agence « %(name)s » ajoutée.") % {"name": agency})
                return redirect("org:settings")
        else:
            service_form = ServiceForm(request.POST, prefix="service")
            if service_form.is_valid():
                service = actions.do_create_service(
                    service_form.cleaned_data["name"],
                    actor=current_user(request),
                    ip=client_ip(request),
                )
                messages.success(request, _("Service « %(name)s » ajouté.") % {"name": service})
                return redirect("org:settings")
    agencies, services = org_units()
    return render(
        request,
        "org/settings.html",
        {
            "agencies": agencies,
            "services": services,
            "agency_form": agency_form,
            "service_form": service_form,
        },
    )


@require_http_methods(["GET"])
@superadmin_or_dpo_reads
def retention_settings(request: HttpRequest) -> HttpResponse:
    """The retention settings and what the next purge would delete (counts per kind)."""
    cutoffs = retention_cutoffs()
    return render(
        request,
        "org/retention.html",
        {"retention": retention(), "cutoffs": cutoffs, "counts": purge_preview(cutoffs)},
    )


def _delete_unit(request: HttpRequest, unit: Agency | Service) -> HttpResponseRedirect:
    try:
        if isinstance(unit, Agency):
            actions.do_delete_agency(unit, actor=current_user(request), ip=client_ip(request))
        else:
            actions.do_delete_service(unit, actor=current_user(request), ip=client_ip(request))
    except actions.StillInUse:
        messages.error(
            request,
            _("« %(name)s » a encore des utilisateurs : transférez-les d'abord.") % {"name": unit},
        )
    else:
        messages.success(request, _("« %(name)s » supprimé.") % {"name": unit})
    return redirect("org:settings")


@require_POST
@superadmin_required
def agency_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete an agency that has no employee."""
    return _delete_unit(request, get_object_or_404(Agency, pk=pk))


@require_POST
@superadmin_required
def service_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a service that has no employee."""
    return _delete_unit(request, get_object_or_404(Service, pk=pk))


@require_http_methods(["GET", "POST"])
@superadmin_required
def enrollment_key(request: HttpRequest) -> HttpResponse:
    """GET: show the key installers need. POST: rotate it."""
    if request.method == "POST":
        actions.do_rotate_enrollment_key(actor=current_user(request), ip=client_ip(request))
        messages.success(
            request, _("Nouvelle clé d'enrôlement créée ; l'ancienne est refusée désormais.")
        )
        return redirect(reverse("org:enrollment_key"))
    return render(request, "org/enrollment_key.html", {"key": actions.get_enrollment_key()})
