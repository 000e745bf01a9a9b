"""How durations and agent-supplied text are written on the pages."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import pgettext


def format_duration(ms: int | None) -> str:
    """`2 h 05 min`, `7 min`, `< 1 min`, `0 min` — minutes are enough for a manager's
    reading, but a few seconds of activity are not nothing: a first upload's 20 s
    read "0 min", as if the agent had sent nothing.

    Written the same in French and English (h and min are international units).
    """
    minutes = round((ms or 0) / 60000)
    if minutes == 0 and (ms or 0) > 0:
        return "< 1 min"
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


# The characters that reorder text (Unicode bidi embeddings, overrides, isolates
# and marks), by the short name a reader is shown in their place. A title with
# U+202E makes "gpj.exe" read "exe.jpg": spoofing, unless the control is seen.
BIDI_CONTROLS = {
    "\u061c": "ALM",
    "\u200e": "LRM",
    "\u200f": "RLM",
    "\u202a": "LRE",
    "\u202b": "RLE",
    "\u202c": "PDF",
    "\u202d": "LRO",
    "\u202e": "RLO",
    "\u2066": "LRI",
    "\u2067": "RLI",
    "\u2068": "FSI",
    "\u2069": "PDI",
}
_BIDI_CONTROL = re.compile("[" + "".join(BIDI_CONTROLS) + "]")


def chart_label(text: object) -> str:
    """`text` with each bidi control replaced by a visible `⟨RLO⟩`-style mark.

    For text drawn where HTML isolation does not reach (plotly's SVG labels,
    legends and hover boxes, the page title): there the control is removed, so
    it can reorder nothing, and its mark tells the reader it was there.
    """
    return _BIDI_CONTROL.sub(lambda m: f"⟨{BIDI_CONTROLS[m.group()]}⟩", str(text))


def agent_html(text: object) -> SafeString:
    """Agent-supplied `text` as escaped HTML in a `<bdi>`, bidi controls flagged.

    The `<bdi>` (with `unicode-bidi: isolate` in app.css) keeps the text from
    reordering what is around it (a login next to a name, a cell's badge). The
    text itself is kept as sent (copy, paste and search find it), but each
    bidi control gets an empty `span.bidi-control` just before it, which the
    stylesheet shows as `⟨RLO⟩` (generated content: not part of the copied text).
    """
    parts: list[str] = []
    last = 0
    value = str(text)
    for match in _BIDI_CONTROL.finditer(value):
        parts.append(escape(value[last : match.start()]))
        parts.append(
            format_html(
                '<span class="bidi-control" data-control="{}" title="{}"></span>{}',
                BIDI_CONTROLS[match.group()],
                f"U+{ord(match.group()):04X}",
                match.group(),
            )
        )
        last = match.end()
    parts.append(escape(value[last:]))
    return format_html("<bdi>{}</bdi>", SafeString("".join(parts)))  # nosec B703  # each part is escape() or format_html() output


# Letters NFKD leaves whole but a French reader files under two letters.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l"})


def fold(text: str) -> str:
    """`text` as search and sort compare it: case and accents ignored.

    Casefolded, NFKD-decomposed with the combining marks removed, ligatures
    spelt out: "Frédéric", "FRÉDÉRIC" and "frederic" all give "frederic", and
    "Cédric" files before "Christophe". Done in Python, stored in a column and
    applied to the user's text alike, so SQLite (whose LOWER is ASCII-only)
    and PostgreSQL (whose `unaccent` is an extension) answer the same.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare.translate(_LIGATURES))


def format_number(value: float | None, decimal_pos: int | None = None) -> str:
    """`value` in the active language, digits grouped: `62 863` / `62,863`, `53,5` / `53.5`."""
    return number_format(value or 0, decimal_pos, use_l10n=True, force_grouping=True)


def format_percent(part: float | None, whole: float | None) -> str:
    """`part` as a share of `whole`, one decimal: `53,5 %` in French, `53.5%` in English."""
    share = 100 * (part or 0) / whole if whole else 0
    # Translators: a percentage; keep the space if your language puts one before the sign.
    template = pgettext("percentage", "%(number)s %%")
    # That space is a no-break one, as Django's French thousands separator: a
    # "%" never starts a line of its own.
    # Rounded here: number_format cuts a float's extra decimals instead.
    return template.replace(" ", "\xa0") % {"number": format_number(round(share, 1), 1)}


def zone_of(name: str | None) -> tzinfo:
    """The time zone called `name`, or the server's (TIME_ZONE) when unknown or empty."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_default_timezone()


def format_local_time(
    value: datetime | None, zone: str | None, fmt: str = "SHORT_DATETIME_FORMAT"
) -> str:
    """`value` on the clock of time zone `zone` (an employee's), named when it is not the reader's.

    A Paris reader sees a Fort-de-France employee's 14:02 as
    `01/12/2026 14:02 (America/Martinique, UTC-04:00)` (with a real minus); their own zone's
    times, and those of a zone on the same clock at that moment, stay bare.
    """
    if value is None:
        return ""
    tz = zone_of(zone)
    local = value.astimezone(tz)
    text = date_format(local, fmt)
    reader = value.astimezone(timezone.get_current_timezone())
    if local.utcoffset() == reader.utcoffset():
        return text
    return _("%(time)s (%(zone)s, UTC%(offset)s)") % {
        "time": text,
        "zone": str(tz),
        "offset": _utc_offset(local),
    }


def _utc_offset(moment: datetime) -> str:
    minutes = round((moment.utcoffset() or timedelta()).total_seconds() / 60)
    sign = "+" if minutes >= 0 else "\u2212"  # a real minus sign, as typeset
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"
