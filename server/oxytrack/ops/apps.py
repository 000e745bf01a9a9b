from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "oxytrack.ops"
    label = "ops"

    def ready(self) -> None:
        # Registers the system checks (`oxytrack check --deploy`).
        from oxytrack.ops import checks  # noqa: F401
