"""The weekly report's chart: active hours per team, stacked by category, as a PNG.

matplotlib is imported inside `draw_chart` only: the web workers, which never
draw it, never load it (nor its tens of megabytes).
"""

from __future__ import annotations

import io

from django.utils.translation import gettext as _

from oxytrack.reports.weekly import TeamSummary, WeeklyReport
from oxytrack.web.formatting import chart_label, format_number

#: Teams drawn at most; the e-mail's table and CSV carry them all.
MAX_TEAMS = 25
_LABEL_CHARS = 48
_FALLBACK_COLOUR = "#9e9e9e"


def team_label(team: TeamSummary) -> str:
    """`Nice / Facturation`, with the words for a missing agency or service."""
    return "{} / {}".format(team.agency or _("Sans agence"), team.service or _("Sans service"))


def category_label(name: str, category_id: int | None) -> str:
    """A category's name as shown; "Non classé" is a word of the app, so translated."""
    return _("Non classé") if category_id is None else name


def _short(text: str) -> str:
    text = chart_label(text)
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


def draw_chart(report: WeeklyReport) -> bytes:
    """A PNG of `report`'s first MAX_TEAMS teams: one bar each, hours per category."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import colors, ticker
    from matplotlib import pyplot as plt

    teams = report.teams[:MAX_TEAMS]
    # Text as given, never TeX or mathtext: a "$" in a name stays a dollar sign.
    with matplotlib.rc_context({"text.usetex": False, "text.parse_math": False, "font.size": 9}):
        fig, ax = plt.subplots(figsize=(8, 1.2 + 0.4 * max(len(teams), 1)), dpi=100)
        try:
            rows = list(range(len(teams)))[::-1]  # the first team on top
            left = [0.0] * len(teams)
            for category in report.categories:
                hours = [
                    next((s.active_ms for s in team.categories if s.category == category), 0)
                    / 3_600_000
                    for team in teams
                ]
                if not any(hours):
                    continue
                colour = category.colour if colors.is_color_like(category.colour) else None
                ax.barh(
                    rows,
                    hours,
                    left=left,
                    color=colour or _FALLBACK_COLOUR,
                    label=_short(category_label(category.name, category.id)),
                )
                left = [a + b for a, b in zip(left, hours, strict=True)]
            ax.set_yticks(rows, [_short(team_label(t)) for t in teams])
            ax.set_xlabel(_("Heures actives"))
            # The language's decimal mark on the axis too (2,5 in French).
            ax.xaxis.set_major_formatter(
                ticker.FuncFormatter(
                    lambda value, _pos: format_number(value, 1 if value % 1 else 0)
                )
            )
            ax.set_title(
                _("Temps actif par catégorie, semaine %(week)s") % {"week": report.week.label}
            )
            if any(left):
                ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
            ax.spines[["top", "right"]].set_visible(False)
            out = io.BytesIO()
            fig.savefig(out, format="png", bbox_inches="tight")
            return out.getvalue()
        finally:
            plt.close(fig)
