from typing import Any, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from oxytrack.accounts.models import Role, User
from oxytrack.org.models import Agency, Service


class LoginForm(AuthenticationForm):
    """Login by email; the field keeps Django's name `username` (axes reads it)."""

    username = forms.EmailField(
        label=_("Adresse e-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    # Django's own text reads "un adresse e-mail" in French (it puts the field's
    # name after "un") and says both fields are case-sensitive: the address is not.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "Saisissez une adresse e-mail et un mot de passe valides. Le mot de passe "
            "distingue les majuscules des minuscules, l'adresse non."
        ),
    }

    def clean_username(self) -> str:
        # Addresses are stored lower-case (UserManager.create_user): any case logs in.
        return str(self.cleaned_data["username"]).strip().lower()


def _scope_choices() -> list[tuple[str, str]]:
    """Every (agency, all services) and (agency, service) pair, as `agency:service|*`."""
    services = list(Service.objects.all())
    choices: list[tuple[str, str]] = []
    for agency in Agency.objects.all():
        choices.append((f"{agency.pk}:*", f"{agency.name} / {_('tous les services')}"))
        choices += [(f"{agency.pk}:{s.pk}", f"{agency.name} / {s.name}") for s in services]
    return choices


class AdminCreateForm(forms.Form):
    """A new manager: unique email, role, one or more scopes (admins), a strong password.

    The dpo role takes no scope: it reads the audit log, policy and settings only.
    """

    email = forms.EmailField(label=_("Adresse e-mail"), max_length=254)
    display_name = forms.CharField(label=_("Nom"), max_length=150, required=False)
    role = forms.ChoiceField(
        label=_("Rôle"),
        choices=Role.choices,
        initial=Role.ADMIN,
        help_text=_(
            "Le délégué à la protection des données lit le journal d'audit, la politique "
            "et les réglages, jamais l'activité ; il n'a pas de périmètre."
        ),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Périmètres"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("« tous les services » couvre toute l'agence."),
    )
    password1 = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Mot de passe (confirmation)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scopes = cast(forms.MultipleChoiceField, self.fields["scopes"])
        scopes.choices = _scope_choices()

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("Un gestionnaire avec cette adresse e-mail existe déjà."), code="duplicate"
            )
        return email

    def clean_role(self) -> str:
        role = str(self.cleaned_data["role"])
        if role == Role.SUPERADMIN and User.objects.filter(role=Role.SUPERADMIN).exists():
            raise forms.ValidationError(
                _("Il n'y a qu'un super-administrateur."), code="one_superadmin"
            )
        return role

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("role") == Role.ADMIN and not data.get("scopes") and "scopes" in data:
            self.add_error("scopes", _("Choisissez au moins un périmètre."))
        if data.get("role") in (Role.SUPERADMIN, Role.DPO):
            # Scopes say whose activity an admin sees: the others have none to narrow.
            data["scopes"] = []
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("Les deux mots de passe ne correspondent pas."))
        elif p1:
            try:
                validate_password(p1, user=User(email=data.get("email") or ""))
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data

    def scope_pairs(self) -> list[tuple[Agency, Service | None]]:
        """The chosen scopes as (agency, service or None)."""
        agencies = {a.pk: a for a in Agency.objects.all()}
        services = {s.pk: s for s in Service.objects.all()}
        pairs: list[tuple[Agency, Service | None]] = []
        for value in self.cleaned_data.get("scopes") or []:
            agency_id, _sep, service_id = value.partition(":")
            service = None if service_id == "*" else services[int(service_id)]
            pairs.append((agencies[int(agency_id)], service))
        # A whole-agency scope makes that agency's service scopes redundant.
        whole = {a.pk for a, s in pairs if s is None}
        return [(a, s) for a, s in pairs if s is None or a.pk not in whole]


class CodeForm(forms.Form):
    """A code from the authenticator app (6 digits) or, where allowed, a recovery code."""

    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        strip=True,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "spellcheck": "false"}
        ),
    )
