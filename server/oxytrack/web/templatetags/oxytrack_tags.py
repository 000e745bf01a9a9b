"""Template helpers shared by the web-app pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils.safestring import SafeString

from oxytrack.web.formatting import (
    agent_html,
    chart_label,
    format_duration,
    format_local_time,
    format_number,
    format_percent,
)

register = template.Library()


@register.filter
def duration(ms: int | None) -> str:
    """Milliseconds as `2 h 05 min`."""
    return format_duration(ms)


@register.filter
def percent(part: float | None, whole: float | None) -> str:
    """`part` as a share of `whole`, one decimal: `12,5 %` in French, `12.5%` in English."""
    return format_percent(part, whole)


@register.filter
def number(value: float | None) -> str:
    """A count with its digits grouped in the active language: `1 234`, `1,234`."""
    return format_number(value)


@register.filter
def local_time(value: datetime | None, zone: str | None) -> str:
    """`value` on the clock of time zone `zone`, the zone named when not the reader's."""
    return format_local_time(value, zone)


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
