"""Strict parsing of deployment variables: a typo stops the server with its name."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from oxytrack.env import env_bool, env_int, env_list, env_str, env_time_zone


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "On"])
def test_true_spellings(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off", ""])
def test_false_spellings(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", True) is False


def test_unset_gives_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("X_FLAG", raising=False)
    assert env_bool("X_FLAG", True) is True
    assert env_int("X_FLAG", 7) == 7
    assert env_list("X_FLAG", ["a"]) == ["a"]
    assert env_str("X_FLAG", "d") == "d"


@pytest.mark.parametrize("raw", ["maybe", "tru", "2"])
def test_a_non_boolean_is_refused_with_the_variable_name(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("DEBUG_X", raw)
    with pytest.raises(ImproperlyConfigured, match="DEBUG_X"):
        env_bool("DEBUG_X", False)


def test_integers_are_whole_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_DAYS", " 30 ")
    assert env_int("X_DAYS", 1, minimum=1) == 30
    monkeypatch.setenv("X_DAYS", "3.5")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("X_DAYS", 1)
    monkeypatch.setenv("X_DAYS", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("X_DAYS", 1, minimum=1)


def test_lists_split_on_commas_and_refuse_empty_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_HOSTS", "a.example.com, b.example.com")
    assert env_list("X_HOSTS", []) == ["a.example.com", "b.example.com"]
    monkeypatch.setenv("X_HOSTS", "a.example.com,,b")
    with pytest.raises(ImproperlyConfigured, match="empty item"):
        env_list("X_HOSTS", [])


def test_time_zones_must_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_TZ", "America/Martinique")
    assert env_time_zone("X_TZ", "UTC") == "America/Martinique"
    monkeypatch.setenv("X_TZ", "Europe/Nice")
    with pytest.raises(ImproperlyConfigured, match="not a known time zone"):
        env_time_zone("X_TZ", "UTC")
