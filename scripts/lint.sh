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
exit $status
