"""The analytics pages: each view module adds its routes here."""

from django.urls import URLPattern, path

from oxytrack.analytics.views import team, trends

app_name = "analytics"
urlpatterns: list[URLPattern] = [
    path("analytics/team/", team.team_overview, name="team_overview"),
    path("analytics/trends/team/", trends.team_trends, name="team_trends"),
    path(
        "analytics/trends/employees/<uuid:public_id>/",
        trends.employee_trends,
        name="employee_trends",
    ),
]
