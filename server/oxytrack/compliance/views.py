"""The compliance kit's pages: four documents in French and English, printable."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from oxytrack.accounts.decorators import superadmin_or_dpo_reads
from oxytrack.compliance.queries import compliance_facts

# The documents, by slug: their title in the kit's list (the documents carry their own).
DOCUMENTS = {
    "notice": gettext_lazy("Notice d'information des salariés"),
    "cse": gettext_lazy("Note pour la consultation du CSE"),
    "register": gettext_lazy("Fiche du registre des traitements (art. 30 RGPD)"),
    "dpia": gettext_lazy("Projet d'analyse d'impact (AIPD)"),
}
LANGUAGES = ("fr", "en")


@dataclass(frozen=True)
class DocumentLink:
    slug: str
    title: str
    urls: tuple[tuple[str, str], ...]


def document_links() -> list[DocumentLink]:
    """Each document with its French and English addresses (the settings page lists them)."""
    return [
        DocumentLink(
            slug,
            str(title),
            tuple((lang, reverse(f"compliance:{slug}_{lang}")) for lang in LANGUAGES),
        )
        for slug, title in DOCUMENTS.items()
    ]


@require_GET
@superadmin_or_dpo_reads
def kit(request: HttpRequest) -> HttpResponse:
    """The list of the kit's documents."""
    return render(request, "compliance/kit.html", {"documents": document_links()})


@require_GET
@superadmin_or_dpo_reads
def document(request: HttpRequest, slug: str, lang: str) -> HttpResponse:
    """One document in one language, filled from the live configuration."""
    # The whole page in the document's language: a French UI can print the English notice.
    with translation.override(lang):
        facts = compliance_facts()
        other = next(code for code in LANGUAGES if code != lang)
        return render(
            request,
            "compliance/document.html",
            {
                "facts": facts,
                "slug": slug,
                "doc_lang": lang,
                "body": f"compliance/{lang}/{slug}.html",
                "title": DOCUMENTS[slug],
                "other_url": reverse(f"compliance:{slug}_{other}"),
                "other_lang": other,
                "kit_url": reverse("compliance:kit"),
            },
        )
