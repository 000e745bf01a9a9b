"""The weekly report as an e-mail: plain text, HTML with the chart inline, a CSV attached.

The MIME tree is what mail clients expect for an inline image plus an attachment:

    multipart/mixed
      multipart/alternative
        text/plain
        multipart/related
          text/html            (shows the chart by its Content-ID)
          image/png
      text/csv                 (attachment)

Every part is base64 (email.mime's choice for UTF-8): the message is 7-bit clean.
"""

from __future__ import annotations

import csv
import io
import re
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from oxytrack.accounts.models import User
from oxytrack.reports.chart import category_label, draw_chart, team_label
from oxytrack.reports.weekly import TeamSummary, WeeklyReport
from oxytrack.web.export import csv_cell
from oxytrack.web.formatting import chart_label, format_duration, format_number, format_percent

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def format_change(change: float | None) -> str:
    """`+12,5 %`, or with a real minus sign, from the previous week; `—` after an empty week."""
    if change is None:
        return "—"
    sign = "+" if change >= 0 else "\u2212"  # a real minus sign
    return sign + format_percent(abs(change), 1)


def _minutes(ms: int | None) -> int | str:
    return "" if ms is None else round(ms / 60000)


def _plain_number(value: float) -> str:
    # No grouping, the language's decimal mark: what that language's spreadsheet reads.
    return number_format(round(value, 1), 1, use_l10n=True, force_grouping=False)


def weekly_csv(report: WeeklyReport) -> str:
    """One row per team; minutes as whole numbers; `;` and a decimal comma in French.

    Every text cell goes through csv_cell (agency and category names are typed
    by people; a leading `=` must not run in a spreadsheet).
    """
    french = translation.get_language() == "fr"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if french else ",")
    header = [
        _("Agence"),
        _("Service"),
        _("Utilisateurs"),
        _("Utilisateurs actifs"),
        _("Jours travaillés"),
        _("Temps actif (min)"),
        _("Moyenne par jour travaillé (min)"),
        _("Temps actif de la semaine précédente (min)"),
        _("Évolution (%)"),
    ]
    for category in report.categories:
        name = category_label(category.name, category.id)
        header.append(_("%(category)s (min)") % {"category": name})
        header.append(_("%(category)s (%%)") % {"category": name})
    writer.writerow([csv_cell(h) for h in header])
    for team in report.teams:
        row: list[object] = [
            csv_cell(team.agency or _("Sans agence")),
            csv_cell(team.service or _("Sans service")),
            team.employees,
            team.active_employees,
            team.worked_days,
            _minutes(team.active_ms),
            _minutes(team.average_ms_per_worked_day),
            _minutes(team.previous_active_ms),
            "" if team.change is None else _plain_number(100 * team.change),
        ]
        shares = {s.category: s for s in team.categories}
        for category in report.categories:
            share = shares.get(category)
            row.append(_minutes(share.active_ms if share else 0))
            row.append(_plain_number(100 * share.share if share else 0))
        writer.writerow(row)
    return "\ufeff" + out.getvalue()  # the BOM: Excel then reads UTF-8


def _team_rows(report: WeeklyReport) -> list[dict[str, Any]]:
    rows = []
    for team in report.teams:
        rows.append(
            {
                "label": team_label(team),
                "chart_label": chart_label(team_label(team)),
                "employees": format_number(team.employees),
                "active_employees": format_number(team.active_employees),
                "active": format_duration(team.active_ms),
                "average": (
                    format_duration(team.average_ms_per_worked_day)
                    if team.average_ms_per_worked_day is not None
                    else "—"
                ),
                "change": format_change(team.change),
                "previous": format_duration(team.previous_active_ms),
                "categories": _shares(team),
            }
        )
    return rows


def _shares(team: TeamSummary) -> list[dict[str, str]]:
    return [
        {
            "name": category_label(s.category.name, s.category.id),
            "text_name": chart_label(category_label(s.category.name, s.category.id)),
            "colour": s.category.colour if _COLOUR.fullmatch(s.category.colour) else "",
            "share": format_percent(s.share, 1),
            "active": format_duration(s.active_ms),
        }
        for s in team.categories
    ]


def _subject(report: WeeklyReport) -> str:
    return _("OxyTrack : rapport de la semaine %(week)s (du %(start)s au %(end)s)") % {
        "week": report.week.label,
        "start": date_format(report.week.monday, "SHORT_DATE_FORMAT"),
        "end": date_format(report.week.sunday, "SHORT_DATE_FORMAT"),
    }


def build_message(report: WeeklyReport, *, recipient: User, language: str) -> EmailMessage:
    """`recipient`'s weekly e-mail in `language`; nothing is sent here."""
    with translation.override(language):
        cid = make_msgid(idstring="chart", domain="oxytrack")[1:-1]
        base_url = str(settings.OXYTRACK_BASE_URL).rstrip("/")
        context = {
            "report": report,
            "recipient": recipient,
            "teams": _team_rows(report),
            "start": date_format(report.week.monday, "SHORT_DATE_FORMAT"),
            "end": date_format(report.week.sunday, "SHORT_DATE_FORMAT"),
            "chart_cid": cid,
            "preferences_url": (base_url + reverse("reports:preferences") if base_url else ""),
        }
        text = render_to_string("reports/weekly_email.txt", context)
        html = render_to_string("reports/weekly_email.html", context)
        csv_text = weekly_csv(report)
        subject = _subject(report)
        csv_name = _("oxytrack-rapport-%(week)s.csv") % {"week": report.week.label}
        png = draw_chart(report)

    related = MIMEMultipart("related")
    related.attach(MIMEText(html, "html", "utf-8"))
    image = MIMEImage(png, "png")
    image.add_header("Content-ID", f"<{cid}>")
    image.add_header("Content-Disposition", "inline", filename=f"{report.week.label}.png")
    related.attach(image)
    alternative = MIMEMultipart("alternative")
    alternative.attach(MIMEText(text, "plain", "utf-8"))
    alternative.attach(related)
    # base64, as email.mime encodes the other parts: the whole message is then
    # 7-bit on the wire. Django's own text attachment would go as 8bit (the BOM,
    # the accented column names), and its SMTP backend does not declare
    # BODY=8BITMIME: a relay without 8BITMIME may refuse or mangle those bytes.
    attachment = MIMEText(csv_text, "csv", "utf-8")
    attachment.add_header("Content-Disposition", "attachment", filename=csv_name)
    # No body of its own: Django then puts the alternative part first in the
    # multipart/mixed, the CSV after it.
    return EmailMessage(
        subject=subject,
        body="",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        attachments=[alternative, attachment],
    )
