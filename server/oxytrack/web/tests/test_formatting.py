"""Numbers, percentages, times and folded names as the pages write them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone, translation

from oxytrack.web.formatting import (
    fold,
    format_duration,
    format_local_time,
    format_number,
    format_percent,
)

NBSP = "\xa0"


# Full-width letters (typed on a CJK keyboard) fold to their ASCII selves too.
FULL_WIDTH = "\uff26\uff32\uff25\uff24\uff25\uff32\uff29\uff23"


@pytest.mark.parametrize(
    "text", ["Frédéric", "FRÉDÉRIC", "frederic", "Fre\u0301de\u0301ric", FULL_WIDTH]
)
def test_fold_ignores_case_accents_and_composition(text: str) -> None:
    assert fold(text) == "frederic"


def test_fold_spells_out_ligatures_and_keeps_the_rest() -> None:
    assert fold("Œuvre Lætitia Straße") == "oeuvre laetitia strasse"
    assert fold("CORP\\j.dupont") == "corp\\j.dupont"


def test_folded_names_sort_in_french_order() -> None:
    names = ["Christophe", "élodie", "Cédric", "Eric", "Emile", "zoé", "Zacharie"]
    assert sorted(names, key=fold) == [
        "Cédric",
        "Christophe",
        "élodie",
        "Emile",
        "Eric",
        "Zacharie",
        "zoé",
    ]


def test_numbers_and_percentages_in_french() -> None:
    with translation.override("fr"):
        assert format_number(62863) == f"62{NBSP}863"
        assert format_number(1234567) == f"1{NBSP}234{NBSP}567"
        assert format_percent(535, 1000) == f"53,5{NBSP}%"
        assert format_percent(5, 0) == f"0,0{NBSP}%"


def test_numbers_and_percentages_in_english() -> None:
    with translation.override("en"):
        assert format_number(62863) == "62,863"
        assert format_percent(535, 1000) == "53.5%"
        assert format_percent(1, 3) == "33.3%"
        assert format_percent(2, 3) == "66.7%"  # rounded, not cut


# 1 December 2026 18:02 UTC: 19:02 in Paris (winter), 14:02 in Fort-de-France.
WINTER = datetime(2026, 12, 1, 18, 2, tzinfo=UTC)
# 1 July 2026 12:02 UTC: 14:02 in Paris (summer), 08:02 in Fort-de-France.
SUMMER = datetime(2026, 7, 1, 12, 2, tzinfo=UTC)


def test_an_overseas_time_is_on_their_clock_and_named() -> None:
    with translation.override("fr"), timezone.override("Europe/Paris"):
        assert (
            format_local_time(WINTER, "America/Martinique")
            == "01/12/2026 14:02 (America/Martinique, UTC\u221204:00)"
        )
        assert (
            format_local_time(SUMMER, "America/Martinique")
            == "01/07/2026 08:02 (America/Martinique, UTC\u221204:00)"
        )


def test_the_readers_own_zone_is_not_named_in_winter_or_summer() -> None:
    with translation.override("fr"), timezone.override("Europe/Paris"):
        assert format_local_time(WINTER, "Europe/Paris") == "01/12/2026 19:02"
        assert format_local_time(SUMMER, "Europe/Paris") == "01/07/2026 14:02"
        # Same clock at that moment: nothing to tell the reader.
        assert format_local_time(SUMMER, "Europe/Brussels") == "01/07/2026 14:02"


def test_a_zone_whose_offset_differs_only_part_of_the_year_is_named_then() -> None:
    # London is one hour behind Paris all year, Reunion 3 h ahead in winter, 2 h in summer.
    with translation.override("fr"), timezone.override("Europe/Paris"):
        assert format_local_time(WINTER, "Europe/London") == (
            "01/12/2026 18:02 (Europe/London, UTC+00:00)"
        )
        assert format_local_time(SUMMER, "Indian/Reunion") == (
            "01/07/2026 16:02 (Indian/Reunion, UTC+04:00)"
        )


def test_a_reader_overseas_sees_paris_times_named() -> None:
    with translation.override("en"), timezone.override("America/Martinique"):
        assert format_local_time(WINTER, "Europe/Paris").endswith("(Europe/Paris, UTC+01:00)")
        assert "(" not in format_local_time(WINTER, "America/Martinique")


def test_an_unknown_or_missing_zone_falls_back_to_the_server_zone() -> None:
    with translation.override("fr"), timezone.override("Europe/Paris"):
        assert format_local_time(WINTER, "Mars/Olympus") == "01/12/2026 19:02"
        assert format_local_time(WINTER, None) == "01/12/2026 19:02"
        assert format_local_time(None, "Europe/Paris") == ""


@pytest.mark.parametrize(
    ("ms", "shown"),
    [
        (None, "0 min"),
        (0, "0 min"),
        (1, "< 1 min"),
        (30_000, "< 1 min"),
        (30_001, "1 min"),
        (7 * 60_000, "7 min"),
        (2 * 3_600_000 + 5 * 60_000, "2 h 05 min"),
    ],
)
def test_a_few_seconds_of_activity_do_not_read_as_none(ms: int | None, shown: str) -> None:
    assert format_duration(ms) == shown
