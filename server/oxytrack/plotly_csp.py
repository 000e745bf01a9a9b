"""The style sources the installed plotly.js needs under `style-src 'self'`.

plotly.js has no CSS file to link any more (its `plotly.css` stopped being built,
plotly/plotly.js#7543) and injects its styles itself, each of which the CSP blocks
(a red console and charts without plotly's CSS: the hover layer's SVG is no longer laid
over the plot):

- its own rules (`.main-svg` positioning, hover labels, cursors, mode bar): an EMPTY
  `<style id="plotly.js-style-global">` that it then fills through the CSSOM
  (`insertRule`), which the CSP does not govern;
- the colour bar of a heatmap, reset with `style=""` (an empty attribute);
- the bundled maplibre's stylesheet, a fixed `<style>` text (map traces).

So two hashes: the empty string's (with 'unsafe-hashes', so that it also covers the
empty attribute), and that stylesheet's text, read from the installed bundle so that
an upgrade of plotly brings its own. Neither lets injected markup style anything: a
hash only admits exactly that text. No 'unsafe-inline', no nonce in every page.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from csp.constants import UNSAFE_HASHES

# `if(!document.getElementById("<id>")){var e=document.createElement("style");
# e.id="<id>",e.textContent='<css>'`: the bundle's one fixed stylesheet (maplibre's).
_BUNDLED_STYLESHEET = re.compile(
    r'getElementById\("(?P<id>[0-9a-f]{64})"\)\)\{var (?P<v>\w+)=document\.createElement'
    r'\("style"\);(?P=v)\.id="(?P=id)",(?P=v)\.textContent=\'(?P<css>[^\'\\]*)\''
)


def _source(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def plotly_style_sources(bundle: Path) -> list[str]:
    """The CSP style-src sources, besides 'self', that the plotly.js at `bundle` needs.

    If a later plotly.js no longer carries the fixed stylesheet (or spells it otherwise),
    its hash is left out and the browser tests of the chart pages see the console error.
    """
    sources = [UNSAFE_HASHES, _source("")]
    match = _BUNDLED_STYLESHEET.search(bundle.read_text(encoding="utf-8"))
    if match is not None:
        sources.append(_source(match["css"]))
    return sources
