"""The super-admin's pages about managers: list, create, delete."""

from __future__ import annotations

import uuid
from typing import Any

import django_tables2 as tables
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from oxytrack.accounts.actions import CannotDelete, do_create_admin, do_delete_admin
from oxytrack.accounts.decorators import current_user, superadmin_required
from oxytrack.accounts.forms import AdminCreateForm
from oxytrack.accounts.models import Role, User
from oxytrack.audit.request import client_ip
from oxytrack.web.formatting import agent_html
from oxytrack.web.tables import BaseTable, configure, filter_text, wants_table_only


class AdminTable(BaseTable):
    dom_id = "admins"

    email = tables.Column(verbose_name=gettext_lazy("Adresse e-mail"))
    display_name = tables.Column(verbose_name=gettext_lazy("Nom"))
    role = tables.Column(verbose_name=gettext_lazy("Rôle"))
    scopes = tables.Column(
        verbose_name=gettext_lazy("Périmètres"), empty_values=(), orderable=False
    )
    actions = tables.Column(verbose_name="", empty_values=(), orderable=False)

    class Meta(BaseTable.Meta):
        pass

    def render_display_name(self, value: str) -> SafeString:
        return agent_html(value)

    def render_role(self, record: User) -> str:
        return str(record.get_role_display())

    def render_scopes(self, record: User) -> SafeString:
        if record.role == Role.SUPERADMIN:
            return format_html("{}", _("toute l'organisation"))
        if record.role == Role.DPO:
            return format_html("{}", _("journal, politique et réglages ; aucune activité"))
        return format_html_join(
            " ", '<span class="chip">{}</span>', ((str(s),) for s in record.scopes.all())
        ) or SafeString("—")

    def render_actions(self, record: User) -> SafeString:
        if record.role == Role.SUPERADMIN:
            return SafeString("")
        return format_html(
            '<a class="button small" href="{}">{}</a>',
            reverse("accounts:admin_delete", args=[record.public_id]),
            _("Supprimer"),
        )


@require_GET
@superadmin_required
def admins(request: HttpRequest) -> HttpResponse:
    """Every manager with their role and scopes."""
    qs = User.objects.prefetch_related("scopes__agency", "scopes__service").order_by("email")
    text = filter_text(request)
    if text:
        qs = qs.filter(Q(email__icontains=text) | Q(display_name__icontains=text))
    table = configure(request, AdminTable(qs), url=request.path)
    if wants_table_only(request, table):
        return render(request, "oxytrack/table.html", {"table": table})
    return render(request, "accounts/admins.html", {"table": table})


@require_http_methods(["GET", "POST"])
@superadmin_required
def admin_create(request: HttpRequest) -> HttpResponse:
    """Create a manager: unique email, role, scopes, a strong password."""
    form = AdminCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data: dict[str, Any] = form.cleaned_data
        user = do_create_admin(
            email=data["email"],
            display_name=data["display_name"],
            password=data["password1"],
            role=data["role"],
            scopes=form.scope_pairs(),
            actor=current_user(request),
            ip=client_ip(request),
        )
        messages.success(request, _("Gestionnaire « %(email)s » créé.") % {"email": user.email})
        return redirect("accounts:admins")
    return render(request, "accounts/admin_create.html", {"form": form})


@require_http_methods(["GET", "POST"])
@superadmin_required
def admin_delete(request: HttpRequest, admin_id: uuid.UUID) -> HttpResponse:
    """GET: confirmation. POST: delete. The super-administrator and oneself: 403."""
    target = get_object_or_404(User, public_id=admin_id)
    if target.role == Role.SUPERADMIN or target.pk == request.user.pk:
        raise PermissionDenied
    if request.method == "POST":
        try:
            do_delete_admin(target, actor=current_user(request), ip=client_ip(request))
        except CannotDelete:  # the check above makes this a race only
            raise PermissionDenied from None
        messages.success(request, _("Gestionnaire « %(email)s » supprimé.") % {"email": target})
        return redirect("accounts:admins")
    return render(request, "accounts/admin_delete.html", {"target": target})
