#!/usr/bin/env bash
# `make fuzz-api`: schemathesis against openapi.yaml, every phase and every check, authenticated as a
# staff user, on a fresh database, bounded in time. Exits non-zero on any failure; always stops the
# server and drops the database.
#
#   FUZZ_MAX_EXAMPLES  test cases per operation and phase (default 100)
#   FUZZ_SEED          the random seed (default fixed, so that CI runs are reproducible)
#   FUZZ_TIMEOUT       hard bound on the schemathesis run in seconds (default 300)
#   FUZZ_ARGS          extra schemathesis arguments (e.g. "--include-path /api/customers")
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CARGO=${CARGO:-cargo}
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/debug/portaria
VENV=$ROOT/.venv-fuzz
SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-100}
SEED=${FUZZ_SEED:-20261202}
TIMEOUT=${FUZZ_TIMEOUT:-300}
INVITE=${SIGNUP_TOKEN:-uhdfaAADF123}
say() { echo "fuzz-api: $*" >&2; }
started=$(date +%s)

# 1. schemathesis, in a project-local virtualenv (Python 3 with venv, and curl, installed when missing
#    and possible).
missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3 python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "make fuzz-api needs ${missing[*]}: install them (Debian/Ubuntu: sudo apt-get install ${missing[*]})"
    exit 1
  fi
fi
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
  say "installing schemathesis $SCHEMATHESIS_VERSION into .venv-fuzz"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# 2. The binary.
$CARGO build --quiet --bin portaria

# 3. A fresh database next to the one scripts/db.sh finds (or starts), dropped at the end.
base_url=$(scripts/db.sh)
with_database() { # url name
  local url=$1 query=""
  if [[ $url == *\?* ]]; then query="?${url#*\?}"; url=${url%%\?*}; fi
  echo "${url%/*}/$2$query"
}
DB_NAME=portaria_fuzz_$$
admin_url=$(with_database "$base_url" postgres)
db_url=$(with_database "$base_url" "$DB_NAME")
psql "$admin_url" -qc "CREATE DATABASE $DB_NAME" >/dev/null

WORK=$(mktemp -d)
server_pid=""
cleanup() {
  local status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  psql "$admin_url" -qc "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 || true
  if [ "$status" -ne 0 ] && [ -s "$WORK/server.log" ]; then
    say "last lines of the server log:"
    tail -n 20 "$WORK/server.log" >&2
  fi
  rm -rf "$WORK"
  say "finished in $(( $(date +%s) - started )) s"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 4. The server on a free loopback port.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
DATABASE_URL="$db_url" PORTARIA_BIND="127.0.0.1:$port" PORTARIA_ENV=dev BCRYPT_COST=4 SIGNUP_TOKEN="$INVITE" \
  RUST_LOG=${RUST_LOG:-warn} "$BIN" serve >"$WORK/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  curl -fsS "$url/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { say "the server exited:"; cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.1
done
curl -fsS "$url/readyz" >/dev/null || { say "the server did not become ready at $url"; exit 1; }

# 5. A staff user and its access token.
email="fuzz@example.com" password="fuzz-password-1"
curl -fsS -o /dev/null -X POST "$url/api/auth/signup" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\",\"name\":\"Fuzz\",\"invite_token\":\"$INVITE\"}"
token=$(curl -fsS -X POST "$url/api/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

# 6. Data to find (customers, orders, events of every kind, treatments), so that the operations
#    on one resource answer more than 404: the simulator's webhooks, with the dev token.
webhook() {
  curl -sS -o /dev/null -X POST "$url/webhooks/hashtag?token=${2:-dev-hashtag-token}" \
    -H 'Content-Type: application/json' --data-binary "$1"
}
for i in 1 2 3; do
  webhook "{\"nome\":\"Cliente $i\",\"email\":\"cliente$i@example.com\",\"status\":\"aprovado\",\"valor\":297,\"forma_pagamento\":\"pix\",\"parcelas\":1}"
done
webhook '{"nome":"Cliente 1","email":"cliente1@example.com","status":"aprovado","valor":297,"forma_pagamento":"pix","parcelas":1}'
webhook '{"nome":"Bia","email":"bia@example.com","status":"recusado","valor":97,"forma_pagamento":"cartao","parcelas":3}'
webhook '{"nome":"Cliente 2","email":"cliente2@example.com","status":"reembolsado","valor":297,"forma_pagamento":"pix","parcelas":1}'
webhook '{"nome":"Sem status","email":"x@example.com"}'
webhook 'not json'
webhook '{}' wrong-token

# 7. schemathesis: every phase, every check. One worker: Python 3.11 before 3.11.8 can fail with
#    "AST constructor recursion depth mismatch" when Hypothesis parses in two threads (CPython gh-106905).
#    Nothing carries over from one run to the next (schemathesis' crash cache, Hypothesis' files):
#    the same code and seed give the same run.
#    A 422 is a right answer to some schema-valid requests, whose rules a JSON schema cannot state:
#    which one of days / until / lifetime a manual access gets, what the CSV file of an import holds, a
#    wrong current password, a scenario the chosen source cannot play or an e-mail without a domain in
#    the Simulador. For those operations only, positive_data_acceptance also accepts 422.
cat >"$WORK/schemathesis.toml" <<'TOML'
[cache]
enabled = false

[[operations]]
include-path-regex = "^/api/(customers/\\{id\\}/access|courses/\\{id\\}/enrollments/bulk|imports/access|auth/password|simulator/runs)$"
[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
TOML
export HYPOTHESIS_STORAGE_DIRECTORY="$WORK/hypothesis"
say "schemathesis $SCHEMATHESIS_VERSION against $url (seed $SEED, at most $MAX_EXAMPLES examples per operation)"
# shellcheck disable=SC2086
timeout --signal=INT --kill-after=20 "$TIMEOUT" \
  "$VENV/bin/schemathesis" --config-file "$WORK/schemathesis.toml" run openapi.yaml \
  --url "$url" \
  -H "Authorization: Bearer $token" \
  --phases examples,coverage,fuzzing,stateful \
  --checks all \
  --max-examples "$MAX_EXAMPLES" \
  --seed "$SEED" \
  --generation-database none \
  --workers 1 \
  --request-timeout 10 \
  --no-color \
  ${FUZZ_ARGS:-} || {
  status=$?
  [ "$status" -eq 124 ] && say "schemathesis did not finish within $TIMEOUT s (FUZZ_TIMEOUT)"
  exit "$status"
}
