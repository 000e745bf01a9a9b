"""The team overview: a team's employees-by-days grid, its totals and its category charts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from oxytrack.accounts.decorators import activity_reader_required, current_user
from oxytrack.activity.heatmap import heatmap_chart
from oxytrack.analytics import team as queries
from oxytrack.analytics.tables import TeamGridTable
from oxytrack.audit.actions import do_record_list_export, do_record_team_view
from oxytrack.audit.request import client_ip
from oxytrack.categories.classify import Category
from oxytrack.web.export import export_filename_stem, export_format, table_export
from oxytrack.web.formatting import chart_label, fold
from oxytrack.web.forms import TeamRangeForm, shortcuts
from oxytrack.web.tables import configure, filter_text, wants_table_only


def _range_form(request: HttpRequest, today: date) -> TeamRangeForm:
    """The range from the query string; last 7 days when none is given."""
    data = request.GET.copy()
    if not data.get("start") and not data.get("end"):
        data["start"] = (today - timedelta(days=6)).isoformat()
        data["end"] = today.isoformat()
    return TeamRangeForm(data)


def _category_name(category: Category) -> str:
    # "Non classé" is the app's word, translated; rules' names are the super-admin's.
    return _("Non classé") if category.id is None else category.name


def _chart_data(charts: queries.CategoryCharts) -> dict[str, Any]:
    """What team.js draws: hours per category per day, and each team's shares in %."""
    hours = 3_600_000
    series = [s.category for s in charts.series]
    return {
        "days": [d.isoformat() for d in charts.days],
        "categories": [
            # Plotly draws SVG text, out of reach of HTML's bidi isolation.
            {"name": chart_label(_category_name(c)), "colour": c.colour}
            for c in series
        ],
        "hours": [[round(ms / hours, 3) for ms in s.days] for s in charts.series],
        "teams": [
            {
                "name": chart_label(f"{t.agency} / {t.service}"),
                "shares": [
                    round(100 * t.by_category.get(c, 0) / t.active_ms, 1) if t.active_ms else 0
                    for c in series
                ],
            }
            for t in charts.teams
        ],
        "labels": {
            "hours": _("heures"),
            "share": _("part du temps actif (%)"),
            "empty": _("Aucune activité sur cette période"),
        },
    }


def _export(
    request: HttpRequest,
    table: TeamGridTable,
    team: queries.TeamChoice,
    start: date,
    end: date,
    text: str,
) -> HttpResponseBase:
    """The whole grid (every employee, the page's sort and filter) as CSV or XLSX, audited."""
    table.fill_all()
    user = current_user(request)

    def audit(fmt: str, rows: int) -> None:
        do_record_list_export(
            "vue d'équipe",
            fmt=fmt,
            rows=rows,
            actor=user,
            ip=client_ip(request),
            start=start,
            end=end,
            filters={"team": team.label, "q": text} if text else {"team": team.label},
            employees=[str(pk) for pk in table.data.data.values_list("public_id", flat=True)],
        )

    stem = export_filename_stem("equipe", team.label if not team.whole_scope else "", start, end)
    return table_export(request, table, filename_stem=stem, audit=audit)


@require_GET
@activity_reader_required
def team_overview(request: HttpRequest) -> HttpResponseBase:
    """A team of my scopes (`?team=`: whole scope, an agency or an agency's service) over a
    range: the grid (sorted and paged in SQL), the team's totals, the category charts.

    A team outside my scopes is a 404. Each page shown is one audit entry;
    `?format=csv|xlsx` downloads the whole grid (an audited export).
    """
    user = current_user(request)
    choices = queries.team_choices(user)
    team = queries.find_team(choices, request.GET.get("team", ""))
    if team is None:
        raise Http404(_("Équipe introuvable."))
    today = timezone.localdate()
    form = _range_form(request, today)
    context: dict[str, Any] = {
        "form": form,
        "choices": choices,
        "team": team,
        "max_day_columns": queries.MAX_DAY_COLUMNS,
        "shortcuts": [
            (
                label,
                "?" + urlencode({"team": team.key, "start": s.isoformat(), "end": e.isoformat()}),
            )
            for label, s, e in shortcuts(today)
        ],
    }
    if not form.is_valid():
        return render(request, "analytics/team.html", context, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    periods = queries.grid_columns(start, end)
    summary = queries.team_summary(user, team, periods, start, end)
    employees = queries.grid_employees(queries.team_employees(user, team), start, end)
    text = filter_text(request)
    if text:
        employees = employees.filter(search_name__contains=fold(text))
    table = TeamGridTable(
        employees,
        periods=periods,
        totals=summary.totals,
        show_team=not team.by_service,
    )
    configure(request, table, url=request.path)
    table.hidden = {"team": team.key, "start": start.isoformat(), "end": end.isoformat()}
    table.export_url = request.path
    if export_format(request):
        return _export(request, table, team, start, end, text)
    table.fill()
    do_record_team_view(
        team.label,
        team.key or "*",
        start,
        end,
        employees=[str(e.public_id) for e in table.page_employees],
        actor=user,
        ip=client_ip(request),
    )
    if wants_table_only(request, table):
        return render(request, "oxytrack/table.html", {"table": table})
    context.update(
        table=table,
        start=start,
        end=end,
        weekly=bool(periods) and periods[0].weekly,
        summary=summary,
        chart_data=_chart_data(summary.charts),
        heatmap=heatmap_chart(summary.heatmap),
        several_teams=len(summary.charts.teams) > 1,
    )
    return render(request, "analytics/team.html", context)
