from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "oxytrack.activity"
    label = "activity"
