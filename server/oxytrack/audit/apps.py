from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "oxytrack.audit"
    label = "audit"
