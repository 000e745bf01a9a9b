"""docs/reliability.md stays true: the tests it names exist, and its "Last run"
section (scripts/reliability_report.py) lists exactly the table's tests."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.once


def _report() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "reliability_report", ROOT / "scripts" / "reliability_report.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


report = _report()
DOC = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")


def test_every_test_the_report_names_exists() -> None:
    ids = report.named_tests(DOC)
    assert len(ids) >= 20
    assert report.missing_tests(ids) == []


def test_a_test_that_does_not_exist_is_reported(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_here():\n    pass\n")
    ids = ["test_x.py::test_here[a]", "test_x.py::test_gone", "nowhere.py::test_here"]
    assert report.missing_tests(ids, tmp_path) == ["test_x.py::test_gone", "nowhere.py::test_here"]


def test_the_last_run_section_lists_exactly_the_tables_tests() -> None:
    assert report.START in DOC and report.END in DOC, "run `make reliability-report`"
    generated = DOC.split(report.START, 1)[1].split(report.END, 1)[0]
    listed = re.findall(r"^\| `([^`]+)` \|", generated, flags=re.MULTILINE)
    assert listed == report.named_tests(DOC), "run `make reliability-report`"


def test_the_section_is_written_from_each_passs_junit_results(tmp_path: Path) -> None:
    (tmp_path / "sqlite.xml").write_text(
        '<testsuites><testsuite name="pytest" timestamp="2026-12-02T21:00:00.1">'
        '<testcase classname="e2e.test_a" name="test_ok[x]" time="2.34"/>'
        '<testcase classname="e2e.test_a" name="test_bad" time="1"><failure message="no"/>'
        "</testcase>"
        '<testcase classname="server.oxytrack.t.test_b" name="test_known" time="3">'
        '<skipped type="pytest.xfail" message="defect"/></testcase>'
        "</testsuite></testsuites>"
    )
    (tmp_path / "postgresql.xml").write_text(
        '<testsuites><testsuite name="pytest" timestamp="2026-12-02T21:30:00">'
        '<testcase classname="e2e.test_a" name="test_bad" time="1.5"/>'
        '<testcase classname="e2e.test_m" name="test_many[1]" time="1"/>'
        '<testcase classname="e2e.test_m" name="test_many[2]" time="1.25"/>'
        '<testcase classname="e2e.test_m" name="test_many[3]" time="1"><failure/></testcase>'
        "</testsuite></testsuites>"
    )
    doc = (
        "| fault | how | result |\n|---|---|---|\n"
        "| a | `e2e/test_a.py::test_ok[x]`, `…::test_bad` | fine |\n"
        "| b | `server/oxytrack/t/test_b.py::test_known` | a defect |\n"
        "| c | `e2e/test_m.py::test_many` (every parameter) | each |\n"
    )
    written = report.rewrite(doc, tmp_path)
    assert "| `e2e/test_a.py::test_ok[x]` | passed, 2.3 s | not in this pass |" in written
    assert "| `e2e/test_a.py::test_bad` | failed, 1.0 s | passed, 1.5 s |" in written
    assert "| `server/oxytrack/t/test_b.py::test_known` | xfailed, 3.0 s | not in this pass |" in (
        written
    )
    assert (
        "| `e2e/test_m.py::test_many` | not in this pass | 1 failed, 2 passed, 3.2 s |" in written
    )
    assert "SQLite 2026-12-02 21:00:00, PostgreSQL 2026-12-02 21:30:00" in written
    # Written again from the same results: the same document.
    assert report.rewrite(written, tmp_path) == written
    assert report.rewrite(doc, tmp_path / "none").count("no results") == 8
