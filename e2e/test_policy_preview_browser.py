"""The policy page's redaction preview in a real Chromium, under the strict CSP:
typing rules or pasting a title updates the preview (htmx, computed on the
server); nothing runs as script, nothing is saved."""

# The fixtures come from a module shared with no conftest (see its docstring).
# ruff: noqa: F811

from __future__ import annotations

import pytest

from oxytrack.accounts.models import User
from oxytrack.conftest import PASSWORD
from oxytrack.dashboard.tests.browser import (  # noqa: F401 (fixtures)
    Browser,
    chromium,
    web,
    web_server,
)
from oxytrack.policy.models import PolicyOverride

# `once`: what this checks happens in the agent (or the browser); the server's database
# plays no part, so the PostgreSQL pass would only repeat it (docs/testing.md).
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]


def test_typing_rules_and_pasting_a_title_update_the_preview(web: Browser) -> None:
    User.objects.create_superadmin("root@example.fr", PASSWORD)
    web.login("root@example.fr", PASSWORD)
    web.go("/settings/policy/global/")
    page = web.page
    table = "document.querySelector('#preview-table').innerText"
    # Server-rendered at first: the built-in rules at work on the samples.
    assert "intranet.example.fr - Google Chrome" in page.inner_text("#preview-table")
    # Paste a title: the preview shows what the PC would store.
    page.fill("#id_bench_app", "EXCEL.EXE")
    page.fill("#id_bench_title", "Relevé <img src=x onerror=alert(1)> Crédit Agricole")
    web.until(f"{table}.includes('Relevé <img')")
    row = page.locator("#preview-table tbody tr").first.inner_text()
    assert "Banque" in row
    # Replace the rules with one of one's own: the pasted title is no longer a bank's.
    page.fill("#id_redact_rules", "[Relevés]\ntitre = relev[ée]\ncatégorie = Relevé masqué\n")
    web.until(f"{table}.includes('Relevé masqué')")
    assert "Relevés" in page.locator("#preview-table tbody tr").first.inner_text()
    # A broken rule: a readable error in the preview, the inherited rules still shown.
    page.fill("#id_redact_rules", "[Cassée]\ntitre = (\n")
    web.until("document.querySelector('#redaction-preview .error') !== null")
    assert "expression régulière invalide" in page.inner_text("#redaction-preview .error")
    assert not PolicyOverride.objects.exists()
