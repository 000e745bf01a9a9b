"""Managers who log into the web app, and the scopes an admin may see."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrateur")
    SUPERADMIN = "superadmin", _("Super-administrateur")
    # Reads the audit log, the policy and the settings; never any activity.
    DPO = "dpo", _("Délégué à la protection des données")


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        """A manager with a normalised (lower-case) email; no password: unusable."""
        if not email:
            raise ValueError("an email is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        """The manager with this email, whatever its case (emails are stored lower-case)."""
        return self.get(email=(username or "").strip().lower())

    def create_superadmin(self, email: str, password: str | None = None, **fields: Any) -> User:
        """The super-administrator: sees and manages everything."""
        return self.create_user(email, password, role=Role.SUPERADMIN, **fields)


class User(AbstractBaseUser):
    """A manager: logs in by email; role admin (scoped) or superadmin."""

    # In URLs instead of the row number (DESIGN.md: URLs carry UUIDs).
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("adresse e-mail"), unique=True)
    display_name = models.CharField(_("nom"), max_length=150, blank=True)
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices, default=Role.ADMIN)
    is_active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("gestionnaire")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.display_name or self.email

    @property
    def is_superadmin(self) -> bool:
        return self.is_active and self.role == Role.SUPERADMIN

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.role == Role.ADMIN

    @property
    def is_dpo(self) -> bool:
        return self.is_active and self.role == Role.DPO

    @property
    def sees_activity(self) -> bool:
        """Whether any employee's activity may be shown (the dpo's never is)."""
        return self.is_superadmin or self.is_admin


class Scope(models.Model):
    """An (agency, service) pair an admin may see; no service: the whole agency."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="scopes")
    agency = models.ForeignKey("org.Agency", on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(
        "org.Service", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            # Two partial indexes because NULLs are distinct in a plain
            # unique index on both SQLite and PostgreSQL.
            models.UniqueConstraint(
                fields=["user", "agency"],
                condition=Q(service__isnull=True),
                name="scope_unique_whole_agency",
            ),
            models.UniqueConstraint(
                fields=["user", "agency", "service"],
                condition=Q(service__isnull=False),
                name="scope_unique_agency_service",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency} / {self.service or _('tous les services')}"
