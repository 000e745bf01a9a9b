"""What idle means, said next to every idle figure (issue 11, words and stance)."""

from __future__ import annotations

from django import template
from django.utils.translation import ngettext

from oxytrack.compliance.queries import idle_minutes
from oxytrack.compliance.views import DocumentLink, document_links
from oxytrack.org.models import Employee
from oxytrack.policy.queries import effective_policy

register = template.Library()


@register.simple_tag
def idle_explanation(employee: Employee) -> str:
    """What idle means, at this employee's threshold, said where idle figures are shown."""
    seconds = int(effective_policy(employee.agency_id, employee.service_id)["idle_threshold_s"])
    return ngettext(
        "Inactif : aucune saisie clavier ou souris depuis %(minutes)s minute ; "
        "ce n'est pas du temps non travaillé (lecture, téléphone, réunion).",
        "Inactif : aucune saisie clavier ou souris depuis %(minutes)s minutes ; "
        "ce n'est pas du temps non travaillé (lecture, téléphone, réunion).",
        1 if seconds == 60 else 2,
    ) % {"minutes": idle_minutes(seconds)}


@register.inclusion_tag("compliance/_links.html")
def compliance_links() -> dict[str, list[DocumentLink]]:
    """The kit's documents, French and English, for the settings page."""
    return {"documents": document_links()}


@register.filter
def fr_pluralize(count: int, forms: str = "s") -> str:
    """Like `pluralize`, by the French rule: 0 and 1 are singular ("0 agence", "2 agences")."""
    singular, _sep, plural = forms.rpartition(",") if "," in forms else ("", "", forms)
    return plural if count > 1 else singular
