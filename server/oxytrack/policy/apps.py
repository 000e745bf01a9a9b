from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "oxytrack.policy"
    label = "policy"
