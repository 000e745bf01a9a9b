from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "oxytrack.accounts"
    label = "accounts"
    verbose_name = "Comptes"
