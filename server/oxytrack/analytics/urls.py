"""The analytics pages: each view module adds its routes here."""

from django.urls import URLPattern, path

from oxytrack.analytics.views import team

app_name = "analytics"
urlpatterns: list[URLPattern] = [
    path("analytics/team/", team.team_overview, name="team_overview"),
]
