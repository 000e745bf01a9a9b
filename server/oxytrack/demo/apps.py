from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "oxytrack.demo"
    label = "demo"
