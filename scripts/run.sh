#!/usr/bin/env bash
# `make run`: migrate the embedded SQLite database, load the demo once, serve with gunicorn.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
export DJANGO_SETTINGS_MODULE=oxytrack.settings
bin=.venv/bin

"$bin/oxytrack" migrate --noinput -v0
"$bin/oxytrack" collectstatic --noinput -v0
# Loads the demo organisation when the database has no employee yet, and
# prints the demo logins either way.
"$bin/oxytrack" seed_demo --if-empty
echo
echo "OxyTrack: http://127.0.0.1:${PORT}/  (Ctrl+C to stop)"
echo
exec "$bin/gunicorn" oxytrack.wsgi \
  --bind "127.0.0.1:${PORT}" --workers 2 --threads 4 \
  --access-logfile - --error-logfile - --log-level warning
