from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "oxytrack.reports"
    label = "reports"
