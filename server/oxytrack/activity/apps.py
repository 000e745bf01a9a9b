from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ActivityConfig(AppConfig):
    name = "oxytrack.activity"
    label = "activity"

    def ready(self) -> None:
        from oxytrack.activity import past_totals

        # After every migrate, not in a migration: SQLite drops a table's triggers
        # when a later migration rebuilds the table.
        post_migrate.connect(past_totals.install_triggers, sender=self)
