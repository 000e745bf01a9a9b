from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "oxytrack.dashboard"
    label = "dashboard"
