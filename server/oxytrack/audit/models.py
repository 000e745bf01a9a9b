"""The audit log: who did what to whom, when, from where. Entries outlive their targets."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    VIEW_EMPLOYEE = "view_employee", _("Consultation d'un utilisateur")
    EXPORT = "export", _("Export")
    CREATE_EMPLOYEE = "create_employee", _("Création d'un utilisateur")
    TRANSFER_EMPLOYEE = "transfer_employee", _("Transfert d'un utilisateur")
    RENAME_EMPLOYEE = "rename_employee", _("Changement du nom d'un utilisateur")
    DELETE_EMPLOYEE = "delete_employee", _("Suppression d'un utilisateur")
    CREATE_ADMIN = "create_admin", _("Création d'un administrateur")
    DELETE_ADMIN = "delete_admin", _("Suppression d'un administrateur")
    ROTATE_KEY = "rotate_key", _("Renouvellement de la clé d'enrôlement")
    CHANGE_POLICY = "change_policy", _("Modification de la politique")
    CHANGE_ORG = "change_org", _("Modification des agences et services")
    PURGE = "purge", _("Purge des données anciennes")
    LOGIN = "login", _("Connexion")
    LOGIN_FAILED = "login_failed", _("Échec de connexion")
    LOCKOUT = "lockout", _("Connexion bloquée après trop d'échecs")
    LOGOUT = "logout", _("Déconnexion")


class Entry(models.Model):
    # SET_NULL plus a copy of the actor's email: deleting an admin keeps their trail.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("auteur"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(_("cible"), max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("entrée du journal")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["action", "at"]), models.Index(fields=["target_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_label}"
