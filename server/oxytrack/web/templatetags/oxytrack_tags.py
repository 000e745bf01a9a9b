"""Template helpers shared by the web-app pages."""

from __future__ import annotations

from typing import Any

from django import template

from oxytrack.web.formatting import format_duration

register = template.Library()


@register.filter
def duration(ms: int | None) -> str:
    """Milliseconds as `2 h 05 min`."""
    return format_duration(ms)


@register.filter
def percent(part: float | None, whole: float | None) -> str:
    """`part` as a share of `whole`, one decimal: `12.5 %`."""
    if not whole:
        return "0 %"
    return f"{100 * (part or 0) / whole:.1f} %"


@register.simple_tag
def table_link(table: Any, **overrides: object) -> str:
    """The table's URL with all its state, and `overrides` (page=2, sort="-active")."""
    return str(table.link(**overrides))
