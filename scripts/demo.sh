#!/usr/bin/env bash
# `make demo`: a populated Portaria to look at. Drops and recreates the `portaria_demo` database, starts
# a stand-in course platform (`portaria fake-platform`) and the server, creates a demo admin, sends a
# few hundred webhooks of every source and scenario with `portaria simulate`, prints the URL and the
# credentials, then keeps serving in the foreground until Ctrl-C (which stops both processes). The
# server's output goes to .data/demo.log.
# DEMO_PORT (default 8080) and DEMO_PLATFORM_PORT (default 8089) move them.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PORTARIA_BIN:-$(pwd)/target/debug/portaria}
PORT=${DEMO_PORT:-8080}
PLATFORM_PORT=${DEMO_PLATFORM_PORT:-8089}
URL="http://127.0.0.1:$PORT"
ADMIN_EMAIL=demo@escola-exemplo.com.br
ADMIN_PASSWORD=portaria-demo-2026
say() { echo "demo: $*" >&2; }

for tool in curl psql; do
  command -v "$tool" >/dev/null 2>&1 || { say "$tool is needed: install it (Debian/Ubuntu: sudo apt-get install $tool)"; exit 1; }
done
[ -x "$BIN" ] || { say "$BIN is missing: run make build"; exit 1; }
for port in "$PORT" "$PLATFORM_PORT"; do
  if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
    say "127.0.0.1:$port is in use: stop what listens there, or set DEMO_PORT / DEMO_PLATFORM_PORT"; exit 1
  fi
done

# A fresh database, whatever DATABASE_URL says (the demo never touches another database).
url=$(env -u DATABASE_URL PORTARIA_DB_NAME=portaria_demo scripts/db.sh)
admin_url=${url%/portaria_demo}/postgres
psql "$admin_url" -qc "DROP DATABASE IF EXISTS portaria_demo WITH (FORCE)" >/dev/null
url=$(env -u DATABASE_URL PORTARIA_DB_NAME=portaria_demo scripts/db.sh)
say "fresh database: $url"

pids=()
stop() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT
trap 'exit 130' INT TERM

mkdir -p .data
LOG=.data/demo.log
: >"$LOG"
"$BIN" fake-platform --bind "127.0.0.1:$PLATFORM_PORT" >>"$LOG" 2>&1 &
pids+=($!)

# The server: dev secrets (the simulator reads the same), the access webhooks to the fake platform,
# three attempts at most so that the dead ones show up within a minute, no webhook rate limit.
export PORTARIA_ENV=dev
DATABASE_URL="$url" PORTARIA_BIND="127.0.0.1:$PORT" PUBLIC_URL="$URL" FRONTEND_DIR=${FRONTEND_DIR:-frontend/dist} \
  ACCESS_WEBHOOK_URL="http://127.0.0.1:$PLATFORM_PORT/access" \
  ACCESS_WEBHOOK_SECRET=whsec_ZGVtby1hY2Nlc3Mtd2ViaG9vay1zZWNyZXQ= \
  WORKER_MAX_ATTEMPTS=3 WEBHOOK_RATE_LIMIT=0 RUST_LOG=${RUST_LOG:-warn} "$BIN" serve >>"$LOG" 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 1 120); do
  curl -fsS -o /dev/null "$URL/readyz" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { say "the server exited:"; tail -n 20 "$LOG" >&2; exit 1; }
  sleep 0.5
done
curl -fsS -o /dev/null "$URL/readyz" || { say "the server did not become ready at $URL"; exit 1; }

# The first account of a database is its admin.
curl -fsS -o /dev/null -X POST "$URL/api/auth/signup" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\",\"name\":\"Administradora Demo\",\"invite_token\":\"${SIGNUP_TOKEN:-uhdfaAADF123}\"}"

# Every scenario of every source the simulator can play (the list comes from the binary).
sources=$("$BIN" simulate --help | sed -n 's/^  --source SOURCE *//p' | tr -d ',')
scenarios=$("$BIN" simulate --help | sed -n 's/^  --scenario NAME *\([^(]*\).*/\1/p' | tr -d ',')
sent=0
for source in $sources; do
  for scenario in $scenarios; do
    case $scenario in random) count=25 ;; hostile) count=1 ;; *) count=5 ;; esac
    if out=$("$BIN" simulate --url "$URL" --source "$source" --scenario "$scenario" --count "$count" --seed 2026 2>&1); then
      n=$(sed -n 's/^sent \([0-9]*\) .*/\1/p' <<<"$out")
      sent=$((sent + ${n:-0}))
      say "$source $scenario: ${n:-0} webhooks"
    elif grep -q "cannot play" <<<"$out"; then
      : # this platform has no such events
    else
      say "$source $scenario failed:"; echo "$out" >&2; exit 1
    fi
  done
done

cat <<EOF

Portaria demo: $sent webhooks sent.
  open      $URL
  sign in   $ADMIN_EMAIL / $ADMIN_PASSWORD
The worker is running the treatments: access webhooks go to a stand-in course platform that refuses
some (dead at once), fails others once (retried, then done) and keeps failing a few (dead after
3 attempts, within a minute). The server's output goes to $LOG (tail -f it to watch the worker).
Ctrl-C stops the demo; \`make demo\` again starts from scratch.

EOF
wait "$server"
