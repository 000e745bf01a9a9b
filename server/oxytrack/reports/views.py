"""A manager's page about the weekly e-mail: receive it or not, in which language."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from oxytrack.accounts.decorators import activity_reader_required, current_user
from oxytrack.reports.actions import do_set_report_preference, preference_of
from oxytrack.reports.forms import ReportPreferenceForm
from oxytrack.reports.models import SentReport


@require_http_methods(["GET", "POST"])
@activity_reader_required
def preferences(request: HttpRequest) -> HttpResponse:
    """GET: the choice and the last reports sent. POST: save it. The dpo gets none: 404."""
    user = current_user(request)
    preference = preference_of(user)
    form = ReportPreferenceForm(
        request.POST or None,
        initial={"weekly": preference.weekly, "language": preference.language},
    )
    if request.method == "POST" and form.is_valid():
        do_set_report_preference(
            user, weekly=form.cleaned_data["weekly"], language=form.cleaned_data["language"]
        )
        messages.success(
            request,
            _("Vous recevrez l'e-mail hebdomadaire.")
            if form.cleaned_data["weekly"]
            else _("Vous ne recevrez plus l'e-mail hebdomadaire."),
        )
        return redirect("reports:preferences")
    sent = SentReport.objects.filter(user=user).order_by("-week")[:5]
    return render(request, "reports/preferences.html", {"form": form, "sent": sent})
