"""The managers' page of personal access tokens for the BI API (create, list, revoke)."""

from __future__ import annotations

import uuid

import django_tables2 as tables
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from oxytrack.accounts.decorators import activity_reader_required, current_user
from oxytrack.audit.request import client_ip
from oxytrack.bi.actions import do_create_token, do_revoke_token
from oxytrack.bi.forms import TokenForm
from oxytrack.bi.models import AccessToken
from oxytrack.web.tables import BaseTable, configure, filter_text, wants_table_only


def _when(value: object) -> str:
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else "—"  # type: ignore[arg-type]


class TokenTable(BaseTable):
    dom_id = "tokens"

    name = tables.Column(verbose_name=gettext_lazy("Nom"))
    prefix = tables.Column(verbose_name=gettext_lazy("Début du jeton"), orderable=False)
    created_at = tables.Column(verbose_name=gettext_lazy("Créé le"))
    last_used_at = tables.Column(verbose_name=gettext_lazy("Dernière utilisation"), empty_values=())
    expires_at = tables.Column(verbose_name=gettext_lazy("Expire le"), empty_values=())
    status = tables.Column(verbose_name=gettext_lazy("État"), empty_values=(), orderable=False)
    actions = tables.Column(verbose_name="", empty_values=(), orderable=False)

    class Meta(BaseTable.Meta):
        pass

    def render_prefix(self, value: str) -> SafeString:
        return format_html("<code>{}…</code>", value)

    def render_created_at(self, value: object) -> str:
        return _when(value)

    def render_last_used_at(self, value: object) -> str:
        return _when(value) if value else _("jamais")

    def render_expires_at(self, value: object) -> str:
        return _when(value) if value else _("jamais")

    def render_status(self, record: AccessToken) -> str:
        if record.revoked_at is not None:
            return _("révoqué le %(when)s") % {"when": _when(record.revoked_at)}
        if not record.is_usable():
            return _("expiré")
        return _("actif")

    def render_actions(self, record: AccessToken) -> SafeString:
        if record.revoked_at is not None:
            return SafeString("")
        return format_html(
            '<form method="post" action="{}" class="inline">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<button type="submit" class="small">{}</button></form>',
            reverse("bi:token_revoke", args=[record.public_id]),
            get_token(self.request),  # type: ignore[attr-defined]  # set by configure()
            _("Révoquer"),
        )


@never_cache  # the page that answers a creation holds the token in clear
@require_http_methods(["GET", "POST"])
@activity_reader_required
def tokens(request: HttpRequest) -> HttpResponse:
    """My tokens; the POST creates one and shows its secret, this once."""
    user = current_user(request)
    form = TokenForm(request.POST if request.method == "POST" else None)
    issued = None
    if request.method == "POST" and form.is_valid():
        issued = do_create_token(
            name=form.cleaned_data["name"],
            expires_at=form.expires_at(),
            actor=user,
            ip=client_ip(request),
        )
        form = TokenForm()
    qs = AccessToken.objects.filter(user=user).order_by("-created_at", "-id")
    text = filter_text(request)
    if text:
        qs = qs.filter(name__icontains=text)
    table = configure(request, TokenTable(qs), url=reverse("bi:tokens"))
    if wants_table_only(request, table):
        return render(request, "oxytrack/table.html", {"table": table})
    context = {
        "form": form,
        "table": table,
        "issued": issued,
        "api_url": request.build_absolute_uri("/api/v1/"),
    }
    return render(request, "bi/tokens.html", context)


# The role first: to the dpo this URL does not exist, whatever the method.
@activity_reader_required
@require_POST
def token_revoke(request: HttpRequest, token_id: uuid.UUID) -> HttpResponse:
    """Revoke one of my tokens: it stops working at once."""
    token = do_revoke_token(token_id, actor=current_user(request), ip=client_ip(request))
    messages.success(request, _("Jeton « %(name)s » révoqué.") % {"name": token.name})
    return redirect("bi:tokens")
