#!/usr/bin/env bash
# Linters and type checks; part of `make test`, alone as `make lint`.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
status=0
echo "== ruff check"; "$bin/ruff" check . || status=1
echo "== ruff format --check"; "$bin/ruff" format --check . || status=1
echo "== mypy (server)"; "$bin/mypy" server/oxytrack || status=1
echo "== mypy (agent, strict)"; "$bin/mypy" agent/oxytrack_agent || status=1
# Off Windows, mypy skips what follows a `sys.platform != "win32"` guard: the
# Windows backend and its Windows-only tests are checked as on Windows too
# (own cache: one shared with the Linux run gets corrupted).
echo "== mypy (agent, as on Windows)"
"$bin/mypy" --platform win32 --cache-dir .mypy_cache/win32 --follow-imports=silent \
  agent/oxytrack_agent/platforms/win*.py agent/tests/windows || status=1
"$bin/mypy" --platform win32 --cache-dir .mypy_cache/win32 --follow-imports=silent \
  agent/oxytrack_agent/{acl,autostart,machine,installer,winconsole}.py || status=1  # the MSI's side
"$bin/mypy" --platform win32 --cache-dir .mypy_cache/win32 --follow-imports=silent \
  agent/tests/{conftest,test_cli,test_enroll_name,test_locale,test_tls,test_tray_menu}.py \
  || status=1  # the Windows branches of the agent's portable tests
# Security lint (settings and exclusions in pyproject.toml's [tool.bandit]): fails on
# a medium or high finding (--severity-level medium); the low ones are only counted
# in its summary, `.venv/bin/bandit -c pyproject.toml -r <the same paths>` lists them.
# scripts/ is scanned for the Python scripts it may hold. Its "nosec encountered (B608),
# but no failed test" warnings are filtered out: bandit runs each check on every node of
# a line and warns for those a justified nosec did not need (PyCQA/bandit#1041).
echo "== bandit"
"$bin/bandit" -q -c pyproject.toml --severity-level medium \
  -r server/oxytrack agent/oxytrack_agent bench scripts \
  2> >(grep -v "WARNING.nosec encountered (B[0-9]*), but no failed test" >&2) || status=1
exit $status
