"""The style sources admitted for plotly.js: exactly its injected styles, by hash."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from django.conf import settings

from oxytrack.plotly_csp import plotly_style_sources

EMPTY = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"


def test_style_src_admits_plotlys_styles_by_hash_only() -> None:
    style_src = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"]
    assert style_src[0] == "'self'"
    assert "'unsafe-inline'" not in style_src
    assert "'unsafe-hashes'" in style_src
    assert EMPTY in style_src
    # The bundled stylesheet was found in the installed plotly.js (else a console error).
    assert len(style_src) == 4
    assert all(source.startswith("'sha256-") for source in style_src[2:])


def test_the_stylesheet_hash_is_that_of_the_bundles_text(tmp_path: Path) -> None:
    css = ".maplibregl-map{font:12px/20px Helvetica Neue,Arial,sans-serif}"
    bundle = tmp_path / "plotly.min.js"
    bundle.write_text(
        'x=1;(function(){if(!document.getElementById("' + "ab" * 32 + '")){var e=document'
        '.createElement("style");e.id="' + "ab" * 32 + f"\",e.textContent='{css}',"
        "document.head.appendChild(e)}})();"
    )
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert plotly_style_sources(bundle) == ["'unsafe-hashes'", EMPTY, f"'sha256-{digest}'"]


def test_a_bundle_without_that_stylesheet_gets_the_empty_hash_only(tmp_path: Path) -> None:
    bundle = tmp_path / "plotly.min.js"
    bundle.write_text("var Plotly = {};")
    assert plotly_style_sources(bundle) == ["'unsafe-hashes'", EMPTY]
