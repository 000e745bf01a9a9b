"""The second factor's pages: the login's code step, set-up, recovery codes, the
"Sécurité" settings page. Thin: the decisions are in accounts/second_factor.py."""

from __future__ import annotations

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oxytrack.accounts import second_factor
from oxytrack.accounts.decorators import current_user
from oxytrack.accounts.forms import CodeForm
from oxytrack.audit.request import client_ip

# The recovery codes just made, kept in the session only until the page shows them.
_NEW_CODES = "oxytrack_new_recovery_codes"


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _verified(request: HttpRequest, device: object) -> None:
    """The session passed the second factor: a new session id, then django-otp's mark."""
    request.session.cycle_key()
    django_otp.login(request, device)


@require_http_methods(["GET", "POST"])
@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The login's second step: a code from the app, or a recovery code."""
    user = current_user(request)
    if user.is_verified() or not second_factor.is_enabled(user):  # type: ignore[attr-defined]
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = second_factor.do_verify_second_factor(
            user, form.cleaned_data["code"], ip=client_ip(request)
        )
        if result.ok:
            _verified(request, result.device)
            if result.used_recovery_code:
                left = second_factor.remaining_recovery_codes(user)
                messages.warning(
                    request,
                    ngettext(
                        "Code de secours utilisé : il vous en reste %(n)d. "
                        "Vous pouvez en générer de nouveaux dans « Sécurité ».",
                        "Code de secours utilisé : il vous en reste %(n)d. "
                        "Vous pouvez en générer de nouveaux dans « Sécurité ».",
                        left,
                    )
                    % {"n": left},
                )
            return redirect(_next_url(request))
        form.add_error(None, result.error)
    return render(
        request,
        "accounts/otp_verify.html",
        {"form": form, "next": _next_url(request)},
    )


@require_http_methods(["GET", "POST"])
@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator: QR code and secret, confirmed by a first code."""
    user = current_user(request)
    if second_factor.is_enabled(user):
        return redirect("accounts:security")
    device = second_factor.pending_totp(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result, codes = second_factor.do_enable_second_factor(
            user, device, form.cleaned_data["code"], ip=client_ip(request)
        )
        if result.ok:
            _verified(request, device)
            request.session[_NEW_CODES] = codes
            request.session["oxytrack_after_codes"] = _next_url(request)
            return redirect("accounts:recovery_codes")
        form.add_error(None, result.error)
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "form": form,
            "provisioning": second_factor.provisioning(device),
            "required": second_factor.is_required(user),
            "next": _next_url(request),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """GET: the recovery codes just made, shown once. POST: new ones, after a code."""
    user = current_user(request)
    if request.method == "POST":
        form = CodeForm(request.POST, auto_id="regenerate_%s")
        if form.is_valid():
            result, codes = second_factor.do_regenerate_recovery_codes(
                user, form.cleaned_data["code"], ip=client_ip(request)
            )
            if result.ok:
                request.session[_NEW_CODES] = codes
                return redirect("accounts:recovery_codes")
            form.add_error(None, result.error)
        return _security_page(request, regenerate_form=form)
    codes = request.session.pop(_NEW_CODES, None)
    if not codes:
        return redirect("accounts:security")
    after = request.session.pop("oxytrack_after_codes", "") or resolve_url("accounts:security")
    text = "\n".join(
        [_("OxyTrack : codes de secours de %(email)s") % {"email": user.email}, "", *codes, ""]
    )
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "codes_text": text, "after": after},
    )


def _security_page(
    request: HttpRequest,
    *,
    regenerate_form: CodeForm | None = None,
    disable_form: CodeForm | None = None,
) -> HttpResponse:
    user = current_user(request)
    return render(
        request,
        "accounts/security.html",
        {
            "enabled": second_factor.is_enabled(user),
            "required": second_factor.is_required(user),
            "remaining": second_factor.remaining_recovery_codes(user),
            "regenerate_form": regenerate_form or CodeForm(auto_id="regenerate_%s"),
            "disable_form": disable_form or CodeForm(auto_id="disable_%s"),
        },
    )


@require_GET
@login_required
def security(request: HttpRequest) -> HttpResponse:
    """The "Sécurité" page: the second factor's state, set it up, turn it off, new codes."""
    return _security_page(request)


@require_POST
@login_required
def otp_disable(request: HttpRequest) -> HttpResponse:
    """Turn the second factor off after a current code; never for the super-administrator."""
    user = current_user(request)
    if second_factor.is_required(user):
        raise PermissionDenied
    form = CodeForm(request.POST, auto_id="disable_%s")
    if form.is_valid():
        result = second_factor.do_disable_second_factor(
            user, form.cleaned_data["code"], ip=client_ip(request)
        )
        if result.ok:
            messages.success(request, _("La double authentification est désactivée."))
            return redirect("accounts:security")
        form.add_error(None, result.error)
    return _security_page(request, disable_form=form)
