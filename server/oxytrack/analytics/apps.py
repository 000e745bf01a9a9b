from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "oxytrack.analytics"
    label = "analytics"
