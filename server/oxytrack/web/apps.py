from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "oxytrack.web"
    label = "web"
