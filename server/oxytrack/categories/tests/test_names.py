"""Friendly application names."""

from __future__ import annotations

from typing import Any

import pytest

from oxytrack.categories.models import AppName
from oxytrack.categories.names import app_key, friendly_app, friendly_apps

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "friendly"),
    [
        ("WINWORD.EXE", "Word"),
        ("winword.exe", "Word"),
        ("WINWORD", "Word"),
        ("ms-teams.exe", "Microsoft Teams"),
        ("EXCEL.EXE", "Excel"),
        ("chrome.exe", "Google Chrome"),
        ("Google-chrome", "Google Chrome"),
        ("com.microsoft.Word", "Word"),
        ("explorer.exe", "Explorateur de fichiers"),
        ("steam.exe", "steam.exe"),  # unknown: unchanged
        ("<b>x</b>", "<b>x</b>"),
    ],
)
def test_known_apps_read_by_their_friendly_name(raw: str, friendly: str) -> None:
    assert friendly_app(raw) == friendly


def test_an_edited_name_is_used_at_once() -> None:
    AppName.objects.filter(app="winword").update(name="Microsoft Word")
    AppName.objects.create(app="steam", name="Steam")  # the signal gives a new token
    assert friendly_app("WINWORD.EXE") == "Microsoft Word"
    assert friendly_app("steam.exe") == "Steam"


def test_friendly_apps_matches_case_insensitively() -> None:
    names = friendly_apps()
    assert names["WINWORD.EXE"] == "Word"
    assert "MS-TEAMS.EXE" in names
    assert names.get("nothing") is None
    assert app_key("  Foo.EXE ") == "foo"


def test_a_command_asking_name_by_name_does_not_query_each_time(
    django_assert_max_num_queries: Any,
) -> None:
    friendly_app("WINWORD.EXE")
    with django_assert_max_num_queries(1):
        names = [friendly_app(app) for app in ["WINWORD.EXE", "chrome.exe", "x.exe"] * 100]
    assert names[:3] == ["Word", "Google Chrome", "x.exe"]
