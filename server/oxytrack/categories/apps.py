from django.apps import AppConfig


class CategoriesConfig(AppConfig):
    name = "oxytrack.categories"
    label = "categories"

    def ready(self) -> None:
        from oxytrack.categories import revision

        revision.connect()
