from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "oxytrack.compliance"
    label = "compliance"
    verbose_name = "Conformité"
