#!/usr/bin/env bash
# Benchmarks (`make bench`): customer search on BENCH_CUSTOMERS customers, webhook ingestion over HTTP,
# the outbox worker, the CSV export of BENCH_CSV_TREATMENTS treatments (default 1000000) with the server's
# peak RSS. Runs backend/examples/bench/ (main.rs and a module per phase) against a dedicated database `portaria_bench` on the
# server scripts/db.sh finds (created when missing; the seeded customers are kept for the next run), and
# writes its markdown between `<!-- bench:start -->` and `<!-- bench:end -->` in docs/PERFORMANCE.md.
#
#   BENCH_CUSTOMERS    customers to seed for the search        (default 1000000)
#   BENCH_WEBHOOKS     distinct webhooks for the ingest run     (default 20000)
#   BENCH_CONCURRENCY  HTTP senders of the main run and ceiling clients (default 16)
#   BENCH_TIMEOUT      seconds before the whole run is stopped  (default 3600)
#   BENCH_OUTPUT       file to update                           (default docs/PERFORMANCE.md)
#   BENCH_ALLOW_REMOTE_DB=1  allow a database server that is not on this machine
# Every HTTP request goes to 127.0.0.1 (the app is served inside the benchmark process).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "bench: $*" >&2; }

export BENCH_CUSTOMERS=${BENCH_CUSTOMERS:-1000000}
export BENCH_WEBHOOKS=${BENCH_WEBHOOKS:-20000}
export BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-16}
TIMEOUT=${BENCH_TIMEOUT:-3600}
DOC=${BENCH_OUTPUT:-docs/PERFORMANCE.md}
DB=portaria_bench
CARGO=${CARGO:-cargo}

command -v psql >/dev/null 2>&1 || { say "psql is needed to create the $DB database"; exit 1; }
server_url=$(scripts/db.sh)

# postgres://user@host:port/db?params -> the same server with another database.
with_db() { # url name
  local url=$1 name=$2 params="" rest
  case $url in *\?*) params="?${url#*\?}"; url=${url%%\?*} ;; esac
  rest=${url#*://}
  case $rest in */*) url="${url%%://*}://${rest%%/*}" ;; esac
  echo "$url/$name$params"
}

host=${server_url#*://}; host=${host#*@}; host=${host%%[/?]*}; host=${host%:*}
case $host in
  127.0.0.1 | localhost | \[::1\] | "") ;;
  *) if [ "${BENCH_ALLOW_REMOTE_DB:-}" != 1 ]; then
       say "the database server $host is not on this machine; set BENCH_ALLOW_REMOTE_DB=1 to use it anyway"; exit 1
     fi ;;
esac

admin=$(with_db "$server_url" postgres)
if ! psql "$admin" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  psql "$admin" -qc "CREATE DATABASE $DB" >/dev/null
  say "created database $DB"
fi
export BENCH_DATABASE_URL
BENCH_DATABASE_URL=$(with_db "$server_url" "$DB")

say "building the benchmark and the server (release) ..."
"$CARGO" build --release --quiet --example bench --bin portaria
bin=${CARGO_TARGET_DIR:-target}/release/examples/bench
[ -x "$bin" ] || { say "no benchmark binary at $bin"; exit 1; }

out=$(mktemp)
trap 'rm -f "$out" "$out.doc"' EXIT
say "running (customers=$BENCH_CUSTOMERS webhooks=$BENCH_WEBHOOKS concurrency=$BENCH_CONCURRENCY, at most ${TIMEOUT}s) ..."
timeout -k 30 "$TIMEOUT" "$bin" >"$out"

if [ ! -f "$DOC" ]; then
  mkdir -p "$(dirname "$DOC")"
  printf '# Performance\n\n## Results\n\n<!-- bench:start -->\n<!-- bench:end -->\n' >"$DOC"
elif ! grep -qx '<!-- bench:start -->' "$DOC" || ! grep -qx '<!-- bench:end -->' "$DOC"; then
  printf '\n## Results\n\n<!-- bench:start -->\n<!-- bench:end -->\n' >>"$DOC"
fi
awk -v figures="$out" '
  /^<!-- bench:start -->$/ { print; print ""; while ((getline line < figures) > 0) print line; print ""; skip = 1; next }
  /^<!-- bench:end -->$/ { skip = 0 }
  !skip { print }
' "$DOC" >"$out.doc"
cat "$out.doc" >"$DOC"
say "figures written to $DOC"
