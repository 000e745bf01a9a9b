"""Privacy rules applied on the PC before anything is stored."""

from __future__ import annotations

from oxytrack_agent.platforms import Window
from oxytrack_agent.policy import PRIVATE_MARKER, Policy

WIN = Window("firefox", "Relevé de compte — Ma Banque", 42)


def test_an_excluded_app_keeps_its_time_but_not_its_name() -> None:
    policy = Policy.from_json({"exclude_apps": ["Firefox.exe"]})
    assert policy.apply(WIN) == Window(PRIVATE_MARKER, PRIVATE_MARKER, None)


def test_a_redact_rule_replaces_the_title_by_the_app_name() -> None:
    # Without the built-in deny-list (which also knows banks): the admin's regexes alone.
    policy = Policy.from_json({"redact": [r"(?i)banque", "["], "redact_rules": []})
    assert policy.apply(WIN) == Window("firefox", "firefox", None)
    assert policy.apply(Window("firefox", "Wikipédia")).title == "Wikipédia"


def test_app_only_drops_every_title() -> None:
    assert Policy.from_json({"titles": "app_only"}).apply(WIN) == Window("firefox", "", None)


def test_titles_are_cleaned_and_cut_to_the_server_limits() -> None:
    window = Window("x" * 300, "a\x00b\x1b" + "é" * 2000)
    cleaned = Policy().apply(window)
    assert len(cleaned.app) == 255
    assert cleaned.title.startswith("ab")
    assert len(cleaned.title) == 1024


def test_defaults_match_the_design() -> None:
    policy = Policy.from_json({})
    assert (policy.upload_interval_s, policy.idle_threshold_s, policy.input_counts) == (
        600.0,
        180.0,
        True,
    )
    assert Policy.from_json(policy.to_json()) == policy
