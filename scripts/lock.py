"""Refresh the hash-pinned lock files from the pyprojects: `make lock`.

Writes two files with pip-compile (pip-tools), every distribution pinned to one
version and the hashes of all its files on the index:

- requirements/runtime.lock: what `make run` installs (`make venv`), the
  dependencies of server/pyproject.toml and agent/pyproject.toml, plus pip and
  setuptools, so that nothing the install runs is unpinned (the two editable
  packages are then built without build isolation);
- requirements/dev.lock: the same pins (runtime.lock as a constraint) plus both
  packages' `dev` extras, for `make test`, `make lint` and `make bench`.

Both are resolved for the server's platform, Linux with this Python (3.11):
markers for Windows or macOS drop out. The Windows agent's build has its own
requirements (packaging/windows/).

`oxytrack-agent`, which the server depends on, is not on any index: it is this
repository's agent/ (installed from there, editable), so it is left out of the
input. Options: `--upgrade` (newest releases the specifiers allow; default:
keep the current pins where they still fit), `--check` (exit 1 if the lock
files do not match the pyprojects, without writing).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "requirements"
PROJECTS = {name: ROOT / name / "pyproject.toml" for name in ("server", "agent")}
# Built here, not downloaded: never on an index.
OWN_PACKAGES = {"oxytrack", "oxytrack-agent"}
# What the install itself runs: pip (Makefile: pip>=25.3) and the build backend
# both pyprojects name.
TOOLS = ["pip>=25.3", "setuptools>=68"]


def _name(requirement: str) -> str:
    return canonicalize_name(Requirement(requirement).name)


def project_requirements(extra: str | None = None) -> dict[str, list[str]]:
    """Each package's requirements (its `[project].dependencies`, or one extra's)."""
    found: dict[str, list[str]] = {}
    for package, path in PROJECTS.items():
        project = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
        listed = (
            project["dependencies"]
            if extra is None
            else project.get("optional-dependencies", {}).get(extra, [])
        )
        found[package] = [r for r in listed if _name(r) not in OWN_PACKAGES]
    return found


def _input_file(folder: Path, name: str, lines: list[str]) -> Path:
    path = folder / f"{name}.in"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _compile(source: Path, output: Path, upgrade: bool) -> None:
    command = [
        sys.executable,
        "-m",
        "piptools",
        "compile",
        "--quiet",
        "--generate-hashes",
        "--allow-unsafe",  # pin pip and setuptools too
        "--strip-extras",
        "--no-emit-index-url",
        "--no-emit-find-links",
        "--no-emit-trusted-host",
        "--output-file",
        str(output),
        str(source),
    ]
    if upgrade:
        command.insert(5, "--upgrade")
    # The header's "to update, run" line.
    env = {**os.environ, "CUSTOM_COMPILE_COMMAND": "make lock"}
    subprocess.run(command, check=True, cwd=ROOT, env=env)  # noqa: S603  # our own argv


def _tidy(text: str, folder: Path) -> str:
    # Annotations name the temporary input; say where the requirement really is.
    text = text.replace(f"-r {folder}/runtime.in", "runtime (pyprojects)")
    text = text.replace(f"-r {folder}/dev.in", "dev extras (pyprojects)")
    text = text.replace(f"-c {folder}/runtime.lock", "runtime.lock")
    return text.replace(str(folder) + "/", "")


def write_locks(target: Path, upgrade: bool) -> None:
    """Compile runtime.lock and dev.lock into `target` (a folder)."""
    runtime = [r for reqs in project_requirements().values() for r in reqs] + TOOLS
    dev = [r for reqs in project_requirements("dev").values() for r in reqs]
    with tempfile.TemporaryDirectory(prefix="oxytrack-lock-") as tmp:
        folder = Path(tmp)
        for name in ("runtime", "dev"):
            current = target / f"{name}.lock"
            if current.exists() and not upgrade:
                # pip-compile keeps the pins of its output file where they still fit.
                (folder / f"{name}.lock").write_bytes(current.read_bytes())
        runtime_lock = folder / "runtime.lock"
        _compile(_input_file(folder, "runtime", runtime), runtime_lock, upgrade)
        dev_lock = folder / "dev.lock"
        _compile(
            _input_file(folder, "dev", [f"-c {runtime_lock}", "-r runtime.in", *dev]),
            dev_lock,
            upgrade,
        )
        target.mkdir(exist_ok=True)
        for path in (runtime_lock, dev_lock):
            text = _tidy(path.read_text(encoding="utf-8"), folder)
            (target / path.name).write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upgrade", action="store_true", help="newest allowed releases")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    if not args.check:
        write_locks(LOCKS, args.upgrade)
        print(f"wrote {LOCKS.relative_to(ROOT)}/runtime.lock and dev.lock")
        return 0
    with tempfile.TemporaryDirectory(prefix="oxytrack-lock-check-") as tmp:
        fresh = Path(tmp)
        for name in ("runtime", "dev"):
            (fresh / f"{name}.lock").write_bytes((LOCKS / f"{name}.lock").read_bytes())
        write_locks(fresh, upgrade=False)
        stale = [
            name
            for name in ("runtime.lock", "dev.lock")
            if (fresh / name).read_bytes() != (LOCKS / name).read_bytes()
        ]
    if stale:
        print(f"out of date: {', '.join(stale)}; run `make lock`", file=sys.stderr)
        return 1
    print("lock files match the pyprojects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
