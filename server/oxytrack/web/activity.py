"""What every page showing one employee's activity shares (the managers' detail page and
the employee portal): the titles table.

The ground floor: it imports no domain app, so its callers pass the rows in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import django_tables2 as tables
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
