#!/usr/bin/env bash
# Schemathesis against a live postbase, with all of its checks, a real token, and stateful links.
# Usage: tests/contract/schemathesis.sh [extra st options]   (a fresh SQLite file; see POSTBASE_CONTRACT_POSTGRES)
# Needs: target/contract-venv (made by tests/contract/setup.sh), a built postbase (POSTBASE_BIN).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${POSTBASE_BIN:-target/debug/postbase}
VENV=target/contract-venv
work=$(mktemp -d)
db_url=sqlite://$work/contract.db
# POSTBASE_CONTRACT_POSTGRES=postgres://user@host:port runs on a fresh PostgreSQL database instead,
# dropped afterwards.
pg_db=""
if [ -n "${POSTBASE_CONTRACT_POSTGRES:-}" ]; then
  pg_db="pb_contract_$(date +%s)_$$"
  psql "${POSTBASE_CONTRACT_POSTGRES%/}/postgres" -qc "CREATE DATABASE $pg_db"
  db_url="${POSTBASE_CONTRACT_POSTGRES%/}/$pg_db"
fi

log=$work/server.log
RUST_LOG=warn "$BIN" serve --addr 127.0.0.1:0 --database-url "$db_url" --log-format text >"$log" 2>&1 &
pid=$!
cleanup() {
  kill $pid 2>/dev/null; wait $pid 2>/dev/null || true
  rm -rf "$work"
  if [ -n "$pg_db" ]; then
    psql "${POSTBASE_CONTRACT_POSTGRES%/}/postgres" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" || true
  fi
}
trap cleanup EXIT
RUST_LOG=info
for _ in $(seq 100); do
  addr=$(grep -o 'listening on [0-9.:]*' "$log" | head -1 | cut -d' ' -f3 || true)
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { echo "postbase did not start"; cat "$log"; exit 1; }
export POSTBASE_URL="http://$addr"
echo "schemathesis: postbase at $POSTBASE_URL on $db_url"

SCHEMATHESIS_HOOKS=hooks PYTHONPATH=tests/contract "$VENV/bin/st" --config-file tests/contract/schemathesis.toml run "$POSTBASE_URL/api/openapi.json" \
  --checks all \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "${ST_MAX_EXAMPLES:-40}" \
  --workers 1 \
  --request-timeout 10 \
  --suppress-health-check too_slow \
  --exclude-path /api/openapi.json \
  --no-color "$@"
