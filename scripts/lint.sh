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
exit $status
