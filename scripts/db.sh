#!/usr/bin/env bash
# Finds or starts a PostgreSQL for Portaria and prints its DATABASE_URL on standard output
# (messages go to standard error). In order:
#   1. DATABASE_URL, when it is set;
#   2. a server on 127.0.0.1:5432 (the `portaria` database is created when missing);
#   3. a project-local cluster under .data/pg, initialised from this machine's PostgreSQL binaries;
#   4. otherwise one message with the three ways to get a database.
# DB_BOOTSTRAP=local skips 1 and 2 (used to test the local cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DB_NAME=${PORTARIA_DB_NAME:-portaria}
LOCAL_PORT=${PORTARIA_LOCAL_PG_PORT:-54329}
say() { echo "db: $*" >&2; }

can_query() { # url
  command -v psql >/dev/null 2>&1 || return 0 # no client to check with: trust the caller
  psql "$1" -Atqc 'select 1' >/dev/null 2>&1
}

ensure_database() { # host port user
  local admin="postgres://$3@$1:$2/postgres"
  if ! psql "$admin" -Atqc "select 1 from pg_database where datname = '$DB_NAME'" | grep -q 1; then
    psql "$admin" -qc "CREATE DATABASE $DB_NAME" >/dev/null
    say "created database $DB_NAME on $1:$2"
  fi
  echo "postgres://$3@$1:$2/$DB_NAME"
}

if [ "${DB_BOOTSTRAP:-}" != local ]; then
  if [ -n "${DATABASE_URL:-}" ]; then
    if can_query "$DATABASE_URL"; then
      echo "$DATABASE_URL"; exit 0
    fi
    say "DATABASE_URL is set but the database does not answer; fix it or unset it"; exit 1
  fi
  if command -v psql >/dev/null 2>&1; then
    for user in "${PGUSER:-}" "$(id -un)" postgres root; do
      [ -n "$user" ] || continue
      if psql "postgres://$user@127.0.0.1:5432/postgres" -Atqc 'select 1' >/dev/null 2>&1; then
        ensure_database 127.0.0.1 5432 "$user"; exit 0
      fi
    done
  fi
fi

# 3. A project-local cluster.
PGBIN=""
for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) /usr/local/pgsql/bin; do
  if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then PGBIN=$dir; break; fi
done
if [ -z "$PGBIN" ] && command -v initdb >/dev/null 2>&1; then PGBIN=$(dirname "$(command -v initdb)"); fi
if [ -z "$PGBIN" ]; then
  cat >&2 <<'MSG'
db: no PostgreSQL found. Get one of these three ways, then run the command again:
  1. install PostgreSQL (Debian/Ubuntu: sudo apt-get install postgresql postgresql-contrib);
  2. docker compose up -d db   (then DATABASE_URL=postgres://portaria:portaria@127.0.0.1:5432/portaria);
  3. set DATABASE_URL to a PostgreSQL 13+ database you can use.
MSG
  exit 1
fi

DATA="$ROOT/.data/pg"
RUNDIR="$DATA/run"
as_owner() { # run a command as the cluster owner (initdb refuses root)
  if [ "$(id -u)" = 0 ]; then
    local owner=postgres
    id -u "$owner" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$owner"
    runuser -u "$owner" -- "$@"
  else
    "$@"
  fi
}
mkdir -p "$ROOT/.data"
if [ ! -f "$DATA/PG_VERSION" ]; then
  say "initialising a project-local PostgreSQL cluster in .data/pg ($PGBIN)"
  mkdir -p "$DATA"
  [ "$(id -u)" = 0 ] && { id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres; chown postgres "$DATA"; chmod 700 "$DATA"; }
  as_owner "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$ROOT/.data/initdb.log" 2>&1 ||
    as_owner "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --no-locale >>"$ROOT/.data/initdb.log" 2>&1 ||
    { say "initdb failed: see .data/initdb.log"; exit 1; }
fi
if ! "$PGBIN/pg_isready" -h 127.0.0.1 -p "$LOCAL_PORT" -q 2>/dev/null; then
  as_owner mkdir -p "$RUNDIR"
  say "starting the project-local PostgreSQL on 127.0.0.1:$LOCAL_PORT"
  as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 \
    -o "-p $LOCAL_PORT -c listen_addresses=127.0.0.1 -k $RUNDIR" start >&2 ||
    { say "the local cluster did not start: see .data/pg/server.log"; exit 1; }
fi
ensure_database 127.0.0.1 "$LOCAL_PORT" postgres
