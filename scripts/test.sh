#!/usr/bin/env bash
# `make test`: system packages (as root), the venv, linters, then the whole
# suite twice: on SQLite, and on a throwaway PostgreSQL cluster.
set -uo pipefail
cd "$(dirname "$0")/.."

# Debian packages the suite drives for real (see docs/testing.md).
DEB_PACKAGES=(xvfb xauth openbox xdotool x11-utils chromium postgresql sqlmap gettext openssl faketime trayer wixl msitools nginx-light)

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "== installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || exit 1
    # --no-upgrade: never upgrade a PostgreSQL server that is already there.
    apt-get install -y -qq --no-install-recommends --no-upgrade "${missing[@]}" >/dev/null || exit 1
  else
    echo "make test needs these Debian packages: ${missing[*]}" >&2
    echo "install them as root: apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

make -s venv-dev || exit 1

status=0
echo "== lint"
scripts/lint.sh || status=1

report() {
  # pytest's exit 5 (no test collected) is as much a failure as a red test.
  if [ "$2" -ne 0 ]; then echo "== pytest on $1 failed (exit $2)"; status=1; fi
}

# The slowest tests of each pass go in the log: the suite has a 30-minute budget.
echo "== pytest on SQLite"
# Each pass's results feed docs/reliability.md (make reliability-report).
mkdir -p var/test-results
env -u DATABASE_URL .venv/bin/python -m pytest --durations=25 --junitxml=var/test-results/sqlite.xml "$@"
report SQLite $?

echo "== pytest on PostgreSQL"
# Tests marked `once` do not depend on DATABASE_URL (docs/testing.md): the SQLite pass ran them.
scripts/with-postgres.sh .venv/bin/python -m pytest --durations=25 \
  --junitxml=var/test-results/postgresql.xml -m "not once" "$@"
report PostgreSQL $?

exit $status
