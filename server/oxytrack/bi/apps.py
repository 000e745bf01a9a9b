from django.apps import AppConfig


class BiConfig(AppConfig):
    name = "oxytrack.bi"
    label = "bi"
