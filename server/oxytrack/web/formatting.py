"""How durations and agent-supplied text are written on the pages."""

from __future__ import annotations

import re

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString


def format_duration(ms: int | None) -> str:
    """`2 h 05 min`, `7 min`, `0 min` — minutes are enough for a manager's reading.

    Written the same in French and English (h and min are international units).
    """
    minutes = round((ms or 0) / 60000)
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
    return format_html("<bdi>{}</bdi>", SafeString("".join(parts)))
