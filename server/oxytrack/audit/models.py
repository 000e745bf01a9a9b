"""The audit log: who did what to whom, when, from where. Entries outlive their targets."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

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
    # The employee portal: the agent asked for a one-time link; the employee opened it.
    PORTAL_LINK = "portal_link", _("Lien du portail demandé par l'agent")
    PORTAL_LOGIN = "portal_login", _("Connexion d'un utilisateur à son portail")
    # The team overview: several employees' figures at once (one entry per page shown).
    VIEW_TEAM = "view_team", _("Consultation d'une équipe")
    # The read API for BI: personal access tokens, and each call that is no
    # single employee's view (those are VIEW_EMPLOYEE, with the token in the detail).
    CREATE_API_TOKEN = "create_api_token", _("Création d'un jeton d'accès API")
    REVOKE_API_TOKEN = "revoke_api_token", _("Révocation d'un jeton d'accès API")
    API_READ = "api_read", _("Lecture par l'API")
    # Category rules and friendly app names (super-admin settings).
    CHANGE_CATEGORIES = "change_categories", _("Modification des catégories")
    CHANGE_APP_NAMES = "change_app_names", _("Modification des noms d'applications")
    # The second factor (accounts/second_factor.py): TOTP and recovery codes.
    OTP_ENABLE = "otp_enable", _("Activation de la double authentification")
    OTP_DISABLE = "otp_disable", _("Désactivation de la double authentification")
    OTP_FAILED = "otp_failed", _("Code de double authentification erroné")
    OTP_RECOVERY_USED = "otp_recovery_used", _("Connexion avec un code de secours")
    OTP_RECOVERY_REGENERATED = "otp_recovery_regenerated", _("Nouveaux codes de secours")
    OTP_RESET = "otp_reset", _("Réinitialisation de la double authentification")


class AppendOnly(Exception):
    """An audit entry was about to be changed or deleted: the log only grows."""


class EntryQuerySet(models.QuerySet["Entry"]):
    """Entries can be created and read; bulk changes and deletes are refused."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("audit entries are never updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit entries are never deleted; see purge_entries_before")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise AppendOnly("audit entries are never updated")

    def _raw_delete(self, using: Any) -> int:
        # Django's collector deletes fast (no signals) through this.
        raise AppendOnly("audit entries are never deleted; see purge_entries_before")


class Entry(models.Model):
    """One line of the audit log; append-only (EntryQuerySet, save, delete)."""

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

    objects: ClassVar[EntryQuerySet] = EntryQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("entrée du journal")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["action", "at"]), models.Index(fields=["target_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: saving a row that is already stored raises AppendOnly."""
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise AppendOnly("audit entries are never updated")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit entries are never deleted; see purge_entries_before")


def purge_entries_before(cutoff: datetime, *, batch_size: int = 1000) -> int:
    """Delete the entries older than `cutoff` (the retention rule); returns how many.

    The one way to remove audit entries, for the retention purge only: it goes
    under the refusals of EntryQuerySet by deleting with a raw DELETE per batch
    of ids, so each batch holds the write lock briefly. Nothing else may call it.
    """
    from django.db import connection, transaction

    table = connection.ops.quote_name(Entry._meta.db_table)
    deleted = 0
    while True:
        ids = list(
            Entry.objects.filter(at__lt=cutoff)
            .order_by("id")
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        with transaction.atomic(), connection.cursor() as cursor:
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(f"DELETE FROM {table} WHERE id IN ({marks})", ids)  # noqa: S608  # nosec B608  # our models' table and column names, quoted; the values bound as %s
            deleted += cursor.rowcount
