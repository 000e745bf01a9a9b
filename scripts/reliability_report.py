"""Write the "Last run" section of docs/reliability.md from the suite's last results.

`make test` leaves each pass's results as JUnit XML under var/test-results/
(sqlite.xml, postgresql.xml). This reads the test ids that the table of
docs/reliability.md names, looks each one up in those results, and rewrites the
section between the two markers: per test, its outcome and duration on each
pass, and when the run was. The table's prose (what was measured) is written by
hand; the section says whether it still holds. `make reliability-report`.

server/oxytrack/tests/test_reliability_doc.py checks that every named test
exists and that the section lists exactly the table's tests.
"""

from __future__ import annotations

import ast
import re
import sys
import xml.etree.ElementTree as ET  # nosec B405  # our own pytest's output, not untrusted XML
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
RESULTS = ROOT / "var" / "test-results"
PASSES = (("SQLite", "sqlite.xml"), ("PostgreSQL", "postgresql.xml"))
START = "<!-- last-run:start (make reliability-report writes this section) -->"
END = "<!-- last-run:end -->"

# `path/to/test_x.py::test_name[param]`, or `…::test_name[param]` for the last path named.
_TEST_ID = re.compile(r"`((?:[\w./-]+\.py|…)::[A-Za-z_]\w*(?:\[[^\]`]*\])?)`")


def named_tests(doc: str) -> list[str]:
    """The full test ids the table names, in order, each once."""
    table = doc.split(START, 1)[0]
    ids: list[str] = []
    path = ""
    for ref in _TEST_ID.findall(table):
        head, _, rest = ref.partition("::")
        if head != "…":
            path = head
        full = f"{path}::{rest}"
        if path and full not in ids:
            ids.append(full)
    return ids


def missing_tests(ids: list[str], root: Path = ROOT) -> list[str]:
    """The ids whose file or test function does not exist (parameters are not checked)."""
    missing = []
    for test_id in ids:
        path, _, name = test_id.partition("::")
        function = name.split("[", 1)[0]
        source = root / path
        if not source.is_file():
            missing.append(test_id)
            continue
        tree = ast.parse(source.read_text(encoding="utf-8"))
        defined = {
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        if function not in defined:
            missing.append(test_id)
    return missing


@dataclass(frozen=True)
class Result:
    """One test's outcome in one pass."""

    outcome: str  # "passed", "failed", "xfailed", "skipped"
    seconds: float


def read_results(xml_path: Path) -> tuple[dict[str, Result], str]:
    """Outcome per test id in a JUnit XML file, and the run's timestamp ('' if absent)."""
    if not xml_path.is_file():
        return {}, ""
    root = ET.parse(xml_path).getroot()  # noqa: S314  # nosec B314  # our own pytest output
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    stamp = suite.get("timestamp", "") if suite is not None else ""
    results: dict[str, Result] = {}
    for case in root.iter("testcase"):
        module = case.get("classname", "")
        # pytest's classname: the test file's path, dotted (plus a class, if any).
        path = module.replace(".", "/") + ".py"
        test_id = f"{path}::{case.get('name', '')}"
        outcome = "passed"
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        else:
            skipped = case.find("skipped")
            if skipped is not None:
                outcome = "xfailed" if skipped.get("type") == "pytest.xfail" else "skipped"
        results[test_id] = Result(outcome, float(case.get("time", "0") or 0))
    return results, stamp


def _matching(results: dict[str, Result], test_id: str) -> list[Result]:
    """The results of `test_id`: itself, or all its parameters when it names none."""
    if test_id in results:
        return [results[test_id]]
    return [r for key, r in results.items() if key.startswith(test_id + "[")]


def _cell(found: list[Result], ran: bool) -> str:
    if not ran:
        return "no results"
    if not found:
        return "not in this pass"  # `once` tests run in the SQLite pass only
    seconds = sum(r.seconds for r in found)
    if len(found) == 1:
        return f"{found[0].outcome}, {seconds:.1f} s"
    counts: dict[str, int] = {}
    for r in found:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    said = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    return f"{said}, {seconds:.1f} s"


def section(ids: list[str], results_dir: Path = RESULTS) -> str:
    """The generated section: one row per test id, one column per pass."""
    passes = [(name, *read_results(results_dir / file)) for name, file in PASSES]
    stamps = ", ".join(
        f"{name} {stamp[:19].replace('T', ' ')}" for name, _, stamp in passes if stamp
    )
    lines = [
        START,
        "",
        "## Last run",
        "",
        f"Results of the last `make test` ({stamps or 'none recorded'}), on the machine "
        "that ran it. A failure here means the table above no longer holds.",
        "",
        "| test | " + " | ".join(name for name, _, _ in passes) + " |",
        "|---|" + "---|" * len(passes),
    ]
    for test_id in ids:
        cells = [_cell(_matching(results, test_id), bool(results)) for _, results, _ in passes]
        lines.append(f"| `{test_id}` | " + " | ".join(cells) + " |")
    lines += ["", END]
    return "\n".join(lines)


def rewrite(doc: str, results_dir: Path = RESULTS) -> str:
    """The document with its section (re)generated from `results_dir`."""
    generated = section(named_tests(doc), results_dir)
    if START in doc:
        before = doc.split(START, 1)[0]
        after = doc.split(END, 1)[1] if END in doc else ""
        return before + generated + after
    return doc.rstrip("\n") + "\n\n" + generated + "\n"


def main() -> int:
    """Rewrite docs/reliability.md; exit 1 if the table names a test that does not exist."""
    doc = DOC.read_text(encoding="utf-8")
    missing = missing_tests(named_tests(doc))
    if missing:
        print("docs/reliability.md names tests that do not exist:", *missing, sep="\n  ")
        return 1
    DOC.write_text(rewrite(doc), encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)} from {RESULTS.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
