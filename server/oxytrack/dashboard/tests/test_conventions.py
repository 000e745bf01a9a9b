"""Code rules the reviews would otherwise have to catch."""

from __future__ import annotations

import re
from pathlib import Path

import oxytrack

PACKAGE = Path(oxytrack.__file__).parent
SCOPED = ("Employee", "Device", "Span", "DailyUsage", "DailyTotal")


def test_no_view_fetches_a_scoped_model_without_the_scope() -> None:
    # Views reach employees through get_employee_for / visible_to only (CONVENTIONS.md).
    pattern = re.compile(r"\b(" + "|".join(SCOPED) + r")\.objects\.get\(")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in PACKAGE.rglob("views.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_no_template_marks_data_safe() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.html")
        if "|safe" in path.read_text() or "autoescape off" in path.read_text()
    ]
    assert offenders == []


def test_no_inline_script_or_style_in_templates() -> None:
    # The CSP forbids them: they would silently not run.
    offenders = []
    for path in PACKAGE.rglob("*.html"):
        text = path.read_text()
        for match in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            if 'type="application/json"' not in match.group(0):
                offenders.append(f"{path.name}: {match.group(0)}")
        if re.search(r"\sstyle=\"", text) or "<style" in text:
            offenders.append(f"{path.name}: inline style")
    assert offenders == []


def _imports(path: Path) -> list[str]:
    return re.findall(r"^\s*(?:from|import) (oxytrack\.[a-z_]+)", path.read_text(), re.MULTILINE)


def test_no_app_reaches_up_into_the_dashboard() -> None:
    # What pages share lives on the ground floor (oxytrack.web), not in a domain app.
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] != "dashboard"
        and "tests" not in path.parts
        and "oxytrack.dashboard" in _imports(path)
    ]
    assert offenders == []


def test_the_ground_floor_imports_no_domain_app() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}: {module}"
        for path in (PACKAGE / "web").rglob("*.py")
        if "tests" not in path.parts
        for module in _imports(path)
        if module != "oxytrack.web"
    ]
    assert offenders == []
