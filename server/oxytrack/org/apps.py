from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "oxytrack.org"
    label = "org"
