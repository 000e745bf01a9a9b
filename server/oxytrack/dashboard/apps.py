from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DashboardConfig(AppConfig):
    name = "oxytrack.dashboard"
    label = "dashboard"

    def ready(self) -> None:
        from oxytrack.dashboard import past_totals

        # After every migrate, not in a migration: SQLite drops a table's triggers
        # when a later migration rebuilds the table.
        post_migrate.connect(past_totals.install_triggers, sender=self)
