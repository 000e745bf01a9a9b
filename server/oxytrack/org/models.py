"""The organisation: agencies, services, employees and their devices."""

from __future__ import annotations

import re
import secrets
import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oxytrack.web.formatting import fold

if TYPE_CHECKING:
    from oxytrack.accounts.models import User


def _default_time_zone() -> str:
    return str(settings.TIME_ZONE)


#: The longest display name kept (the agent API refuses longer ones, the form too).
DISPLAY_NAME_MAX = 200
# C0/C1 controls, bidi controls (they can reorder what follows a name on a
# page) and lone surrogates (no database encoding accepts them).
_UNSHOWN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def clean_display_name(value: str) -> str:
    """`value` without control or bidi characters, trimmed: what a page may show."""
    return _UNSHOWN.sub("", value).strip()


class FoldedField(models.CharField):
    """A column holding `fold(instance.<source>)`, computed on every insert and update.

    Computed in `pre_save`, which Django also calls for `bulk_create`, so no
    way of writing a row leaves it stale (`FoldedModel.save` adds it to any
    `update_fields`). Search and sort then compare folded text in SQL,
    identically on SQLite and PostgreSQL.
    """

    def __init__(self, *args: Any, source: str, **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        source = getattr(model_instance, self.source, None)
        if source is None:
            # A migration's historical model has no properties: it sets the column itself.
            return str(super().pre_save(model_instance, add))
        value = fold(str(source))[: self.max_length]
        setattr(model_instance, self.attname, value)
        return value


class FoldedModel(models.Model):
    """A model with `FoldedField`s: a partial save refreshes them too."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            folded = {f.name for f in self._meta.concrete_fields if isinstance(f, FoldedField)}
            kwargs["update_fields"] = {*update_fields, *folded}
        super().save(*args, **kwargs)


class Agency(FoldedModel):
    name = models.CharField(_("nom"), max_length=100, unique=True)
    # The name folded: lists in French order (Élancourt with the E's).
    sort_name = FoldedField(max_length=100, source="name", default="")
    # Default time zone of its employees until their agent reports one.
    time_zone = models.CharField(_("fuseau horaire"), max_length=64, default=_default_time_zone)

    class Meta:
        verbose_name = _("agence")
        ordering = ["sort_name", "name"]

    def __str__(self) -> str:
        return self.name


class Service(FoldedModel):
    name = models.CharField(_("nom"), max_length=100, unique=True)
    sort_name = FoldedField(max_length=100, source="name", default="")

    class Meta:
        verbose_name = _("service")
        ordering = ["sort_name", "name"]

    def __str__(self) -> str:
        return self.name


class EmployeeQuerySet(models.QuerySet["Employee"]):
    def visible_to(self, user: User) -> EmployeeQuerySet:
        """The employees `user` may see.

        Super-admin: all. Admin: the union of their scopes, a scope without
        a service covering the whole agency. Anyone else, including an
        inactive or anonymous user: nobody. An employee without an agency is
        seen by the super-admin only.
        """
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superadmin:
            return self.all()
        if not user.is_admin:
            return self.none()
        from oxytrack.accounts.models import Scope

        # One correlated subquery rather than a Python loop over scopes, so
        # the page query stays a single statement whatever the scope count.
        in_scope = Scope.objects.filter(user=user, agency=OuterRef("agency")).filter(
            Q(service__isnull=True) | Q(service=OuterRef("service"))
        )
        return self.filter(Exists(in_scope))


class Employee(FoldedModel):
    """A person whose computer runs the agent, matched by (domain, username)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    username = models.CharField(_("identifiant"), max_length=150)
    domain = models.CharField(_("domaine"), max_length=150, blank=True, default="")
    # Empty means "show the login". Set by the agent at enrollment until the
    # super-admin edits it; from then on display_name_locked keeps it theirs.
    display_name = models.CharField(_("nom"), max_length=DISPLAY_NAME_MAX, blank=True, default="")
    display_name_locked = models.BooleanField(
        _("nom fixé par le super-administrateur"), default=False
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="employees"
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="employees"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # What the name column shows (display name, else login), folded: the
    # French order (Cédric before Christophe, é with e), sorted in SQL.
    sort_name = FoldedField(
        max_length=DISPLAY_NAME_MAX, source="shown_name", default="", db_index=True
    )
    # Display name, user name and DOMAIN\user, folded: what a name search looks in.
    search_name = FoldedField(max_length=1000, source="searched_text", default="")

    objects = EmployeeQuerySet.as_manager()

    class Meta:
        verbose_name = _("utilisateur")
        # The raw name breaks ties between names that fold alike (Eve, Ève).
        ordering = ["sort_name", "display_name", "username"]
        constraints = [
            models.UniqueConstraint(
                Lower("domain"), Lower("username"), name="employee_unique_domain_username"
            )
        ]
        indexes = [models.Index(fields=["agency", "service"])]

    def __str__(self) -> str:
        return self.display_name or self.login

    @property
    def login(self) -> str:
        """`DOMAIN\\user` as Windows shows it, or just the user name."""
        return f"{self.domain}\\{self.username}" if self.domain else self.username

    @property
    def shown_name(self) -> str:
        """The name pages show: the display name, else the login."""
        return self.display_name or self.login

    @property
    def searched_text(self) -> str:
        """What a name search matches, one part a line (a match never spans two)."""
        return "\n".join([self.display_name, self.username, self.login])


class Device(models.Model):
    """One machine of an employee, holding (the hash of) its API token."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="devices")
    hostname = models.CharField(_("machine"), max_length=255)
    os = models.CharField(_("système"), max_length=100, blank=True, default="")
    agent_version = models.CharField(max_length=50, blank=True, default="")
    time_zone = models.CharField(_("fuseau horaire"), max_length=64, default=_default_time_zone)
    last_ip = models.GenericIPAddressField(_("dernière IP"), null=True, blank=True)
    local_ips = models.JSONField(_("IP locales"), default=list, blank=True)
    last_seen_at = models.DateTimeField(_("vu pour la dernière fois"), null=True, blank=True)
    enrolled_at = models.DateTimeField(default=timezone.now)
    # HMAC-SHA256 of the token keyed by SECRET_KEY; the token itself is never stored.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("machine")
        ordering = ["hostname"]
        constraints = [
            models.UniqueConstraint(
                "employee", Lower("hostname"), name="device_unique_employee_hostname"
            )
        ]

    def __str__(self) -> str:
        return self.hostname


def new_enrollment_key() -> str:
    return "oxe_" + secrets.token_urlsafe(24)


class EnrollmentKey(models.Model):
    """The shared secret installers give to `oxytrack-agent enroll`.

    Kept in clear: the super-admin must be able to read it again. One row;
    rotating replaces its value.
    """

    key = models.CharField(max_length=100, unique=True, default=new_enrollment_key)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("clé d'enrôlement")

    def __str__(self) -> str:
        return f"{self.key[:8]}…"
