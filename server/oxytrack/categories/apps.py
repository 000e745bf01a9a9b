from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class CategoriesConfig(AppConfig):
    name = "oxytrack.categories"
    label = "categories"

    def ready(self) -> None:
        from oxytrack.categories import revision, rollup

        revision.connect()
        # Dropped before migrations of the tables they use, created again after every
        # migrate and flush (rollup.py: SQLite drops a table's triggers when a
        # migration rebuilds it, and refuses to rename one a trigger reads).
        pre_migrate.connect(rollup.before_migrate, sender=self)
        post_migrate.connect(rollup.after_migrate, sender=self)
