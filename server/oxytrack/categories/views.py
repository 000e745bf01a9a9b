"""The super-admin's pages: category rules (with a live preview) and friendly app names."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oxytrack.accounts.decorators import current_user, superadmin_required
from oxytrack.audit.request import client_ip
from oxytrack.categories import actions, queries
from oxytrack.categories.forms import AppNameForm, CategoryForm, PreviewForm
from oxytrack.categories.models import AppName, Category
from oxytrack.categories.patterns import Pattern, check_speed, compile_pattern
from oxytrack.categories.starter import BUILTIN_APP_NAMES


@require_GET
@superadmin_required
def category_list(request: HttpRequest) -> HttpResponse:
    """The rules in matching order, each with move, edit and delete."""
    return render(request, "categories/list.html", {"rules": list(Category.objects.all())})


@require_http_methods(["GET", "POST"])
@superadmin_required
def category_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create (no pk) or edit one rule; the preview shows what it would match."""
    row = get_object_or_404(Category, pk=pk) if pk is not None else None
    form = CategoryForm(request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        actions.do_save_category(
            row, form.cleaned_data, actor=current_user(request), ip=client_ip(request)
        )
        messages.success(request, _("Catégorie enregistrée."))
        return redirect("categories:list")
    initial = row or Category()
    return render(
        request,
        "categories/edit.html",
        {
            "form": form,
            "row": row,
            **_preview(initial.app_pattern, initial.title_pattern, initial.case_sensitive),
        },
    )


def _preview(app: str, title: str, case_sensitive: bool) -> dict[str, object]:
    """The preview's context for these (unsaved) patterns; errors instead of matches."""
    errors: list[str] = []
    compiled: list[Pattern | None] = []
    for pattern in (app, title):
        if not pattern:
            compiled.append(None)
            continue
        try:
            one = compile_pattern(pattern, case_sensitive=case_sensitive)
        except Exception:  # regex.error: the form says why; the preview only stops
            errors.append(_("Expression invalide : l'aperçu attend qu'elle soit corrigée."))
            return {"errors": errors, "preview": None}
        if not check_speed(one):
            errors.append(_("Expression trop lente : l'aperçu n'est pas calculé."))
            return {"errors": errors, "preview": None}
        compiled.append(one)
    app_re, title_re = compiled
    if app_re is None and title_re is None:
        return {"errors": [], "preview": None}
    return {"errors": errors, "preview": queries.preview(app_re, title_re, queries.top_windows())}


@require_POST
@superadmin_required
def category_preview(request: HttpRequest) -> HttpResponse:
    """The rule form's patterns against the last 7 days' top titles (htmx; nothing saved)."""
    form = PreviewForm(request.POST)
    if not form.is_valid():
        context: dict[str, object] = {
            "errors": [e for errors in form.errors.values() for e in errors],
            "preview": None,
        }
    else:
        data = form.cleaned_data
        context = _preview(data["app_pattern"], data["title_pattern"], data["case_sensitive"])
    return render(request, "categories/_preview.html", context)


@require_POST
@superadmin_required
def category_delete(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(Category, pk=pk)
    actions.do_delete_category(row, actor=current_user(request), ip=client_ip(request))
    messages.success(request, _("Catégorie supprimée."))
    return redirect("categories:list")


@require_POST
@superadmin_required
def category_move(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(Category, pk=pk)
    up = request.POST.get("direction") == "up"
    actions.do_move_category(row, up, actor=current_user(request), ip=client_ip(request))
    return redirect("categories:list")


@require_http_methods(["GET", "POST"])
@superadmin_required
def app_names(request: HttpRequest) -> HttpResponse:
    """Every friendly name, and a form to add one."""
    form = AppNameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.do_save_app_name(
            None, form.cleaned_data, actor=current_user(request), ip=client_ip(request)
        )
        messages.success(request, _("Nom d'application enregistré."))
        return redirect("categories:app_names")
    rows = list(AppName.objects.all())
    return render(
        request,
        "categories/app_names.html",
        {
            "form": form,
            "rows": rows,
            "builtin": BUILTIN_APP_NAMES,
        },
    )


@require_http_methods(["GET", "POST"])
@superadmin_required
def app_name_edit(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(AppName, pk=pk)
    form = AppNameForm(request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        actions.do_save_app_name(
            row, form.cleaned_data, actor=current_user(request), ip=client_ip(request)
        )
        messages.success(request, _("Nom d'application enregistré."))
        return redirect("categories:app_names")
    return render(request, "categories/app_name_edit.html", {"form": form, "row": row})


@require_POST
@superadmin_required
def app_name_delete(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(AppName, pk=pk)
    actions.do_delete_app_name(row, actor=current_user(request), ip=client_ip(request))
    messages.success(request, _("Nom d'application supprimé."))
    return redirect("categories:app_names")


@require_POST
@superadmin_required
def app_names_reset(request: HttpRequest) -> HttpResponse:
    count = actions.do_reset_app_names(actor=current_user(request), ip=client_ip(request))
    messages.success(request, _("Noms d'origine rétablis : %(count)s.") % {"count": count})
    return redirect("categories:app_names")
