#!/usr/bin/env bash
# `make run`: migrate the embedded SQLite database, load the demo once, then
# start exactly as production does (`oxytrack serve`: checks the migrations,
# collects the static files, execs gunicorn), so the two cannot diverge.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
export DJANGO_SETTINGS_MODULE=oxytrack.settings
bin=.venv/bin

"$bin/oxytrack" migrate --noinput -v0
# Loads the demo organisation when the database has no employee yet, and
# prints the demo logins either way.
"$bin/oxytrack" seed_demo --if-empty
echo
echo "OxyTrack: http://127.0.0.1:${PORT}/  (Ctrl+C to stop)"
echo
exec "$bin/oxytrack" serve --bind "127.0.0.1:${PORT}" --workers 2 --threads 4
