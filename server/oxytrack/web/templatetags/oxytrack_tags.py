"""Template helpers shared by the web-app pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from oxytrack.web.formatting import agent_html, chart_label, format_duration

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


@register.filter
def agent_text(value: object) -> SafeString:
    """Agent-supplied text isolated in a `<bdi>`, its bidi controls flagged."""
    return agent_html(value)


@register.filter
def plain_label(value: object) -> str:
    """Agent-supplied text for plain-text places (the page title): bidi controls shown."""
    return chart_label(value)
