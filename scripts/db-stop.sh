#!/usr/bin/env bash
# Stops the project-local PostgreSQL cluster (.data/pg), if it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="$(pwd)/.data/pg"
[ -f "$DATA/postmaster.pid" ] || { echo "db: no project-local cluster running"; exit 0; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r | head -1)
if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DATA" stop -m fast; else "$PGBIN/pg_ctl" -D "$DATA" stop -m fast; fi
