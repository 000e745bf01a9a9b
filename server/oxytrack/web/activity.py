"""What every page showing one employee's activity shares (the managers' detail page and
the employee portal): the titles table, or the same time by application or by category.

The ground floor: it imports no domain app, so its callers pass the rows in.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy

from oxytrack.web.export import duration_hours
from oxytrack.web.formatting import (
    agent_html,
    format_duration,
    format_local_time,
    format_percent,
    zone_of,
)
from oxytrack.web.tables import BaseTable


class _Exported:
    """The plain values web/export.table_export writes for the time columns: hours,
    a percentage, first openings on the employee's clock (the page's reading)."""

    export_units = {"active": "h", "idle": "h", "share": "%"}
    total_active_ms: int
    time_zone: str | None

    def value_first_opened(self, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(zone_of(self.time_zone)).replace(tzinfo=None, microsecond=0)

    def value_active(self, value: int) -> float | None:
        return duration_hours(value)

    def value_idle(self, value: int) -> float | None:
        return duration_hours(value)

    def value_share(self, value: int) -> float:
        return round(100 * (value or 0) / self.total_active_ms, 1) if self.total_active_ms else 0.0


class TitleTable(_Exported, BaseTable):
    """Detail page: one row per (app, title) over the chosen range."""

    dom_id = "titles"
    one_pass_rows = True

    # Agent text may be one endless word: only these cells may break anywhere.
    app = tables.Column(
        verbose_name=gettext_lazy("Application"),
        accessor="window__app",
        attrs={"td": {"class": "agent-text"}},
    )
    title = tables.Column(
        verbose_name=gettext_lazy("Titre"),
        accessor="window__title",
        attrs={"td": {"class": "agent-text"}},
    )
    first_opened = tables.Column(
        verbose_name=gettext_lazy("Première ouverture"), accessor="first_opened"
    )
    active = tables.Column(verbose_name=gettext_lazy("Temps actif"), accessor="active")
    idle = tables.Column(verbose_name=gettext_lazy("Inactif"), accessor="idle")
    share = tables.Column(
        verbose_name=gettext_lazy("Part"), accessor="active", order_by=("active",)
    )

    class Meta(BaseTable.Meta):
        pass

    def __init__(
        self, *args: Any, total_active_ms: int, time_zone: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.total_active_ms = total_active_ms
        # The employee's: first openings are read on their clock.
        self.time_zone = time_zone

    def render_app(self, value: str) -> SafeString:
        return agent_html(value)

    def render_title(self, value: str) -> SafeString:
        return agent_html(value)

    def render_first_opened(self, value: datetime) -> str:
        return format_local_time(value, self.time_zone)

    def render_active(self, value: int) -> str:
        return format_duration(value)

    def render_idle(self, value: int) -> str:
        return format_duration(value)

    def render_share(self, value: int) -> str:
        return format_percent(value, self.total_active_ms)


# A colour from the categories' rules: drawn as an SVG fill (a presentation attribute, which
# the CSP's style-src does not govern, unlike a style="" attribute).
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def colour_swatch(colour: str) -> SafeString:
    """A small square of `colour` ("#rrggbb"; anything else draws nothing)."""
    if not _COLOUR.fullmatch(colour or ""):
        return SafeString("")
    return format_html(
        '<svg class="swatch" width="12" height="12" viewBox="0 0 12 12" aria-hidden="true">'
        '<rect width="12" height="12" rx="2" fill="{}"/></svg>',
        colour,
    )


class _GroupTable(_Exported, BaseTable):
    """Rows of `activity.queries.GroupRow` (a list, sorted and paged in Python)."""

    dom_id = "titles"

    first_opened = tables.Column(
        verbose_name=gettext_lazy("Première ouverture"), accessor="first_opened"
    )
    active = tables.Column(verbose_name=gettext_lazy("Temps actif"), accessor="active")
    idle = tables.Column(verbose_name=gettext_lazy("Inactif"), accessor="idle")
    share = tables.Column(
        verbose_name=gettext_lazy("Part"), accessor="active", order_by=("active",)
    )

    class Meta(BaseTable.Meta):
        pass

    def __init__(
        self, *args: Any, total_active_ms: int, time_zone: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.total_active_ms = total_active_ms
        self.time_zone = time_zone

    def render_first_opened(self, value: datetime) -> str:
        return format_local_time(value, self.time_zone)

    def render_active(self, value: int) -> str:
        return format_duration(value)

    def render_idle(self, value: int) -> str:
        return format_duration(value)

    def render_share(self, value: int) -> str:
        return format_percent(value, self.total_active_ms)


class AppTable(_GroupTable):
    """Detail page grouped by application: one row per friendly name, raw names on hover."""

    app = tables.Column(
        verbose_name=gettext_lazy("Application"),
        accessor="label",
        attrs={"td": {"class": "agent-text"}},
    )
    raw = tables.Column(
        verbose_name=gettext_lazy("Exécutables"),
        accessor="apps",
        orderable=False,
        attrs={"td": {"class": "agent-text muted"}},
    )

    class Meta(_GroupTable.Meta):
        sequence = ("app", "raw", "first_opened", "active", "idle", "share")

    def render_app(self, value: str, record: Any) -> SafeString:
        # The raw names on hover too: a friendly name may hide a look-alike executable.
        return format_html('<span title="{}">{}</span>', ", ".join(record.apps), agent_html(value))

    def render_raw(self, value: tuple[str, ...]) -> SafeString:
        return agent_html(", ".join(value))

    def value_raw(self, value: tuple[str, ...]) -> str:
        return ", ".join(value)


class CategoryTable(_GroupTable):
    """Detail page grouped by category (the super-admin's rules, applied at read time)."""

    category = tables.Column(verbose_name=gettext_lazy("Catégorie"), accessor="label")

    class Meta(_GroupTable.Meta):
        sequence = ("category", "first_opened", "active", "idle", "share")

    def render_category(self, value: str, record: Any) -> SafeString:
        # Category names are typed by the super-admin: still escaped, never trusted.
        return format_html("{}{}", colour_swatch(record.colour), agent_html(value))
