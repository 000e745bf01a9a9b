"""The machine's time zone, from the /etc/localtime link as the C library reads it."""

from __future__ import annotations

import shutil
import zoneinfo
from pathlib import Path

import pytest

from oxytrack_agent.localzone import linked_zone


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A zoneinfo directory holding Europe/Paris."""
    source = next(Path(base) / "Europe" / "Paris" for base in zoneinfo.TZPATH
                  if (Path(base) / "Europe" / "Paris").is_file())  # fmt: skip
    (tmp_path / "zoneinfo" / "Europe").mkdir(parents=True)
    shutil.copy(source, tmp_path / "zoneinfo" / "Europe" / "Paris")
    return tmp_path


def test_the_zone_is_the_link_target_inside_the_zoneinfo_tree(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TZ", raising=False)
    (tree / "localtime").symlink_to(tree / "zoneinfo" / "Europe" / "Paris")
    assert linked_zone(str(tree / "localtime"), [str(tree / "zoneinfo")]) == "Europe/Paris"


def test_tz_a_copied_file_or_a_link_elsewhere_leave_it_to_tzlocal(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    zones = [str(tree / "zoneinfo")]
    (tree / "localtime").symlink_to(tree / "zoneinfo" / "Europe" / "Paris")
    monkeypatch.setenv("TZ", "America/New_York")
    assert linked_zone(str(tree / "localtime"), zones) is None  # TZ wins
    monkeypatch.delenv("TZ")
    shutil.copy(tree / "zoneinfo" / "Europe" / "Paris", tree / "copied")
    assert linked_zone(str(tree / "copied"), zones) is None  # not a link
    (tree / "elsewhere").write_bytes(b"TZif")
    (tree / "odd").symlink_to(tree / "elsewhere")
    assert linked_zone(str(tree / "odd"), zones) is None  # outside the tree
    (tree / "dangling").symlink_to(tree / "zoneinfo" / "Europe" / "Nowhere")
    assert linked_zone(str(tree / "dangling"), zones) is None
