"""The hash-pinned lock files (requirements/*.lock, `make lock`) hold what the pyprojects ask.

`make venv` installs runtime.lock with `pip install --require-hashes`, and
`make venv-dev` dev.lock: a dependency added to a pyproject without `make lock`,
a range the pin no longer meets, or a line without its hashes would break the
install or leave a package unpinned. These tests say which, and how to fix it.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.once

ROOT = Path(__file__).resolve().parents[3]
OWN = {"oxytrack", "oxytrack-agent"}


def _pins(name: str) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of one lock file."""
    text = (ROOT / "requirements" / name).read_text(encoding="utf-8")
    entries: dict[str, tuple[str, list[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 1)[1] if text else ""):
        logical = re.sub(r"\\\n\s*", " ", block.split("\n    #")[0]).strip()
        if not logical or logical.startswith("#"):
            continue
        match = re.fullmatch(
            r"([A-Za-z0-9._-]+)==([^\s;]+)(?:\s*;[^-]+)?((?:\s+--hash=sha256:[0-9a-f]{64})*)",
            logical,
        )
        assert match, f"{name}: not a hash-pinned line: {logical[:120]}"
        hashes = re.findall(r"sha256:([0-9a-f]{64})", match.group(3))
        entries[canonicalize_name(match.group(1))] = (match.group(2), hashes)
    return entries


def _wanted(extra: str | None) -> list[Requirement]:
    wanted = []
    for package in ("server", "agent"):
        project = tomllib.loads((ROOT / package / "pyproject.toml").read_text("utf-8"))["project"]
        listed = (
            project["dependencies"] if extra is None else project["optional-dependencies"][extra]
        )
        for line in listed:
            requirement = Requirement(line)
            # The locks are for this platform (Linux): a Windows or macOS marker drops out.
            if canonicalize_name(requirement.name) not in OWN and (
                requirement.marker is None or requirement.marker.evaluate()
            ):
                wanted.append(requirement)
    return wanted


@pytest.mark.parametrize("lock", ["runtime.lock", "dev.lock"])
def test_every_line_is_pinned_with_hashes(lock: str) -> None:
    pins = _pins(lock)
    assert len(pins) > 20
    unhashed = [name for name, (_, hashes) in pins.items() if not hashes]
    assert not unhashed, f"{lock}: no hash for {unhashed}: run `make lock`"
    # The install tools are pinned as well: nothing `make venv` runs comes unchecked.
    assert {"pip", "setuptools"} <= pins.keys()
    text = (ROOT / "requirements" / lock).read_text(encoding="utf-8")
    assert not re.search(r"(/tmp/|/work/|/home/|/root/|file://)", text), "a machine's path"


@pytest.mark.parametrize(("lock", "extra"), [("runtime.lock", None), ("dev.lock", "dev")])
def test_the_locks_meet_every_pyproject_requirement(lock: str, extra: str | None) -> None:
    pins = _pins(lock)
    problems = []
    for requirement in _wanted(None) + (_wanted(extra) if extra else []):
        name = canonicalize_name(requirement.name)
        if name not in pins:
            problems.append(f"{requirement} is missing")
        elif not requirement.specifier.contains(pins[name][0], prereleases=True):
            problems.append(f"{requirement} is pinned at {pins[name][0]}")
    assert not problems, f"{lock}: {'; '.join(problems)}: run `make lock`"


def test_the_dev_lock_keeps_the_runtime_pins() -> None:
    runtime, dev = _pins("runtime.lock"), _pins("dev.lock")
    moved = {n: (v, dev[n][0]) for n, (v, _) in runtime.items() if dev.get(n, (v,))[0] != v}
    assert not moved, f"the tests would run other versions than production: {moved}"
    assert runtime.keys() <= dev.keys()


def test_this_environment_is_the_dev_lock() -> None:
    """The venv the suite runs in was installed from dev.lock, version for version."""
    pins = _pins("dev.lock")
    installed: dict[str, str] = {
        canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions()
    }
    differing = {
        name: (version, installed[name])
        for name, (version, _) in pins.items()
        if name in installed and installed[name] != version
    }
    absent = sorted(pins.keys() - installed.keys())
    assert not differing, f"installed versions differ from dev.lock: {differing}"
    assert not absent, f"in dev.lock but not installed: {absent}"
