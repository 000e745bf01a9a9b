#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster: private port, socket
# dir under var/, trust auth, no fsync. The cluster is stopped and removed
# when the command ends, also on failure or Ctrl+C.
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]   (DATABASE_URL is set for it)
set -uo pipefail
cd "$(dirname "$0")/.."

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  echo "PostgreSQL server binaries not found (Debian package: postgresql)" >&2
  exit 1
fi

mkdir -p var
root=$(mktemp -d "$PWD/var/pg.XXXXXX")
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root: the cluster belongs to `postgres`,
  # which must be able to reach it; a checkout under a private home is not.
  chown postgres: "$root"
  if ! runuser -u postgres -- test -w "$root"; then
    rm -rf "$root"
    root=$(mktemp -d /tmp/oxytrack-pg.XXXXXX)
    chown postgres: "$root"
  fi
  as_pg=(runuser -u postgres --)
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stop() {
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$root/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$root"
}
trap stop EXIT
trap 'exit 130' INT TERM

"${as_pg[@]}" "$pgbin/initdb" -D "$root/data" -A trust -U postgres -E UTF8 --no-sync >"$root/initdb.log" 2>&1 \
  || { cat "$root/initdb.log" >&2; exit 1; }
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$root/data" -l "$root/server.log" -w start \
  -o "-p $port -k $root -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200" >/dev/null \
  || { cat "$root/server.log" >&2; exit 1; }
"${as_pg[@]}" "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U postgres oxytrack || exit 1

export DATABASE_URL="postgres://postgres@127.0.0.1:${port}/oxytrack"
# Production mode needs an explicit key; a throwaway one for this run.
export SECRET_KEY="${SECRET_KEY:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(64))')}"
echo "(PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:${port})"
"$@"
