from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "oxytrack.portal"
    verbose_name = "Portail des utilisateurs"
