"""The dashboard's tables: employees (home, search), team overview.

Their base and paging come from the ground floor (`oxytrack.web.tables`); the
titles table, which the employee portal shows too, is `oxytrack.web.activity.TitleTable`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import django_tables2 as tables
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oxytrack.analytics.team import team_key
from oxytrack.web.formatting import (
    agent_html,
    format_duration,
    format_local_time,
    zone_of,
)
from oxytrack.web.tables import BaseTable, DurationColumn


class EmployeeTable(BaseTable):
    """Home and search: one row per employee."""

    dom_id = "employees"
    one_pass_rows = True

    name = tables.Column(
        verbose_name=gettext_lazy("Nom"),
        accessor="display_name",
        # French order on what the cell shows (display name, else login), in SQL.
        order_by=("sort_name", "display_name", "username"),
        # An enrolled employee has no display name yet: render_name must still
        # run (django-tables2 would show its default for an empty value).
        empty_values=(),
    )
    machines = tables.Column(
        verbose_name=gettext_lazy("Machine(s)"),
        accessor="first_hostname",
        order_by=("first_hostname",),
    )
    last_ip = tables.Column(verbose_name=gettext_lazy("Dernière IP"), accessor="last_ip")
    agency = tables.Column(verbose_name=gettext_lazy("Agence"), accessor="agency__name")
    service = tables.Column(verbose_name=gettext_lazy("Service"), accessor="service__name")
    last_seen = tables.Column(
        verbose_name=gettext_lazy("Vu pour la dernière fois"), accessor="last_seen"
    )
    today_active = DurationColumn(
        verbose_name=gettext_lazy("Actif aujourd'hui"), accessor="today_active"
    )
    today_screen = DurationColumn(
        verbose_name=gettext_lazy("Écran aujourd'hui"), accessor="today_screen"
    )
    # In exports only: the page shows the login under the name and names the zone
    # beside a time that is not on the reader's clock.
    login = tables.Column(
        verbose_name=gettext_lazy("Identifiant"), empty_values=(), visible=False, orderable=False
    )
    local_zone = tables.Column(
        verbose_name=gettext_lazy("Fuseau horaire"), visible=False, orderable=False
    )

    class Meta(BaseTable.Meta):
        pass

    def __init__(self, *args: Any, silent_before: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.silent_before = silent_before

    # Exports (web/export.table_export): the text the cells show, without HTML.
    def value_name(self, record: Any) -> str:
        return str(record.display_name or record.login)

    def value_login(self, record: Any) -> str:
        return str(record.login)

    def value_machines(self, record: Any) -> str:
        return ", ".join(d.hostname for d in record.devices.all())

    def value_last_seen(self, value: datetime | None, record: Any) -> datetime | None:
        # On the employee's clock, as the page shows it (the zone is its own column).
        if value is None:
            return None
        return value.astimezone(zone_of(getattr(record, "local_zone", None))).replace(tzinfo=None)

    def render_name(self, record: Any) -> SafeString:
        url = reverse("dashboard:employee", args=[record.public_id])
        if not record.display_name:
            return format_html('<a href="{}">{}</a>', url, agent_html(record.login))
        return format_html(
            '<a href="{}">{}</a><br><small class="muted">{}</small>',
            url,
            agent_html(record.display_name),
            agent_html(record.login),
        )

    def render_machines(self, record: Any) -> SafeString:
        return format_html_join(
            ", ", "{}", ((agent_html(d.hostname),) for d in record.devices.all())
        ) or SafeString("—")

    def render_last_ip(self, value: str) -> SafeString:
        return agent_html(value)

    def render_agency(self, value: str) -> SafeString:
        return agent_html(value)

    def render_service(self, value: str) -> SafeString:
        return agent_html(value)

    def render_last_seen(self, value: datetime | None, record: Any) -> SafeString:
        if value is None:
            return format_html('<span class="badge warn">{}</span>', _("jamais"))
        # On the employee's clock, the zone named when it is not the reader's.
        when = format_local_time(value, getattr(record, "local_zone", None))
        if value < self.silent_before:
            return format_html(
                '{}<br><span class="badge warn" title="{}">{}</span>',
                when,
                _("Agent silencieux depuis plus de %(hours)d heures")
                % {"hours": settings.OXYTRACK_SILENT_AFTER_HOURS},
                _("silencieux > %(hours)d h") % {"hours": settings.OXYTRACK_SILENT_AFTER_HOURS},
            )
        return format_html("{}", when)


class TeamTable(BaseTable):
    """Team overview: one row per (agency, service) group over the chosen range.

    Fed a short list (one row per group), so django-tables2 sorts it in Python.
    """

    dom_id = "team"
    one_pass_rows = True

    agency = tables.Column(verbose_name=gettext_lazy("Agence"), order_by=("agency", "service"))
    service = tables.Column(verbose_name=gettext_lazy("Service"), order_by=("service", "agency"))
    employees = tables.Column(verbose_name=gettext_lazy("Utilisateurs"))
    active_employees = tables.Column(verbose_name=gettext_lazy("Actifs sur la période"))
    active_ms = DurationColumn(verbose_name=gettext_lazy("Temps actif"))
    screen_ms = DurationColumn(verbose_name=gettext_lazy("Temps d'écran"))
    average_ms = DurationColumn(verbose_name=gettext_lazy("Actif moyen par personne et par jour"))
    last_seen = tables.Column(verbose_name=gettext_lazy("Vu pour la dernière fois"))
    overview = tables.Column(
        verbose_name=gettext_lazy("Vue d'équipe"),
        accessor="agency",
        orderable=False,
        exclude_from_export=True,
    )

    class Meta(BaseTable.Meta):
        pass

    def render_overview(self, record: Any) -> SafeString:
        # The group's grid and charts over the same range.
        query = {"team": team_key(record.agency_id, record.service_id), **self.hidden}
        return format_html(
            '<a href="{}?{}">{}</a>',
            reverse("analytics:team_overview"),
            urlencode(query),
            _("Voir le détail"),
        )

    @staticmethod
    def _search_link(value: str, record: Any) -> SafeString:
        # Search filters on a real agency and service; "—" cannot be asked for there.
        if record.agency_id is None or record.service_id is None:
            return agent_html(value)
        query = urlencode({"agency": record.agency_id, "service": record.service_id})
        return format_html(
            '<a href="{}?{}">{}</a>', reverse("dashboard:search"), query, agent_html(value)
        )

    def render_agency(self, value: str, record: Any) -> SafeString:
        return self._search_link(value, record)

    def render_service(self, value: str, record: Any) -> SafeString:
        return self._search_link(value, record)

    def render_active_ms(self, value: int) -> str:
        return format_duration(value)

    def render_screen_ms(self, value: int) -> str:
        return format_duration(value)

    def render_average_ms(self, value: int) -> str:
        return format_duration(value)

    def render_last_seen(self, value: datetime) -> str:
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
