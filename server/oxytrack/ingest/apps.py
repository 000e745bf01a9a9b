from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "oxytrack.ingest"
    label = "ingest"
