#!/usr/bin/env bash
# RealWorld's own API test suite (its Postman collection, run with newman) against postbase's
# /realworld/api: on a fresh SQLite file, and on PostgreSQL when POSTBASE_REALWORLD_POSTGRES names a
# server (a database of its own is made and dropped). The collection is not ours and is not copied
# here: it is read from REALWORLD_COLLECTION (default ../shared/realworld/, beside this checkout).
# Fails on any failed assertion. Needs a built postbase: POSTBASE_BIN, else target/debug/postbase.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${POSTBASE_BIN:-$PWD/target/debug/postbase}"
COLLECTION="${REALWORLD_COLLECTION:-$PWD/../shared/realworld/Conduit.postman_collection.json}"
if [ ! -f "$COLLECTION" ]; then
  echo "newman: no RealWorld collection at $COLLECTION (set REALWORLD_COLLECTION)" >&2
  exit 1
fi
work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [ -n "${pgdb:-}" ]; then psql "$POSTBASE_REALWORLD_POSTGRES/postgres" -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

run() {
  local url="$1" label="$2"
  "$BIN" serve --addr 127.0.0.1:0 --database-url "$url" --realworld >"$work/server.log" 2>&1 &
  pid=$!
  local addr=""
  for _ in $(seq 1 100); do
    addr=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$work/server.log" | head -1)
    [ -n "$addr" ] && break
    sleep 0.1
  done
  if [ -z "$addr" ]; then cat "$work/server.log" >&2; echo "newman: postbase did not start" >&2; exit 1; fi
  local stamp; stamp="$(date +%s%N | cut -c1-13)"
  echo "newman: RealWorld's collection against http://$addr/realworld/api ($label)"
  npx --yes newman@6 run "$COLLECTION" --bail failure \
    --global-var "APIURL=http://$addr/realworld/api" \
    --global-var "USERNAME=u$stamp" --global-var "EMAIL=u$stamp@mail.com" \
    --global-var "PASSWORD=password" --reporters cli --color off </dev/null
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

run "sqlite://$work/realworld.db" "SQLite"
if [ -n "${POSTBASE_REALWORLD_POSTGRES:-}" ]; then
  pgdb="realworld_newman_$$"
  psql "$POSTBASE_REALWORLD_POSTGRES/postgres" -qc "CREATE DATABASE $pgdb"
  run "$POSTBASE_REALWORLD_POSTGRES/$pgdb" "PostgreSQL"
fi
echo "newman: RealWorld's API test suite passed"
