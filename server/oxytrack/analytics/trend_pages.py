"""What a page of 12-week trends needs, shared by the managers' pages (views/trends.py)
and the employee's own in the portal: the week form, the chart's data, the context of
`analytics/_trends.html`. Callers check access and write their own audit entries."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oxytrack.analytics import trends
from oxytrack.analytics.trend_tables import TrendTable, trend_rows, week_label
from oxytrack.web.formatting import chart_label
from oxytrack.web.forms import BoundedDateField
from oxytrack.web.tables import configure


class WeekForm(forms.Form):
    """The last of the weeks shown: any day of it (default: this week)."""

    week = BoundedDateField(label=gettext_lazy("Jusqu'à la semaine du"), required=False)

    def last_week(self, today: date) -> date:
        """The chosen day, else `today` (call after is_valid())."""
        return self.cleaned_data.get("week") or today


def chart_data(trend: trends.Trend, *, team: bool) -> dict[str, Any]:
    """The JSON analytics/trends.js draws the weekly bars from."""
    return {
        # Categories on the axis rather than dates: plotly.js would name weeks in English.
        "weeks": [
            [week_label(monday), date_format(monday, "SHORT_DATE_FORMAT")] for monday in trend.weeks
        ],
        "categories": [
            # Plotly draws SVG text, out of reach of HTML's bidi isolation.
            [chart_label(c.label), c.colour, c.weekly_ms]
            for c in trend.categories
        ],
        "average": trend.average_ms if team else [],
        "labels": {
            "hours": _("heures"),
            "week": _("semaine du"),
            "average": _("Moyenne par employé"),
            "empty": _("Aucune activité sur ces semaines"),
        },
    }


def trends_context(
    trend: trends.Trend,
    form: forms.Form,
    *,
    team: bool,
    request: HttpRequest,
    exports: bool = True,
) -> dict[str, Any]:
    """The page's context; `exports`: the table offers its CSV and XLSX downloads at the
    page's own URL (which must then answer `?format=`)."""
    table = TrendTable(trend_rows(trend, team=team), weeks=trend.weeks)
    # A row per category: one page; the export buttons keep the week and the team.
    configure(request, table, url=request.path)
    if exports:
        table.export_url = request.path
    return {
        "form": form,
        "trend": trend,
        "table": table,
        "team": team,
        "first_week": trend.weeks[0],
        "last_week": trend.weeks[-1],
        "compare_weeks": trends.COMPARE_WEEKS,
        "employee_counts": [
            (monday, week_label(monday), count)
            for monday, count in zip(trend.weeks, trend.employees, strict=True)
        ],
        "chart_data": chart_data(trend, team=team),
    }
