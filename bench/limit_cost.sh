#!/usr/bin/env bash
# What a deployment-wide request budget costs: GET /api/posts/{id} on PostgreSQL, one instance
# with `--rate-limit` set too high ever to refuse and one without, alternating wrk runs.
# usage: bench/limit_cost.sh [rounds] [seconds]   (needs target/release/postbase, wrk, PostgreSQL
# on 127.0.0.1:5432 with trust auth; makes and drops a database of its own)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/target/release/postbase"
rounds="${1:-3}" seconds="${2:-8}"
server="${POSTBASE_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
db="pb_limit_cost_$$"
psql "$server/postgres" -qc "CREATE DATABASE $db"
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  rm -rf "$work"
}
trap cleanup EXIT
url="$server/$db?sslmode=disable"

start() { # name, extra args...: starts an instance, prints its address
  local name="$1"; shift
  RUST_LOG=warn "$bin" serve --addr 127.0.0.1:0 --database-url "$url" "$@" > "$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    addr=$(grep -o 'listening on [0-9.:]*' "$work/$name.log" | head -1 | cut -d' ' -f3 || true)
    [ -n "$addr" ] && { echo "$addr"; return; }
    sleep 0.1
  done
  echo "postbase did not start: $(cat "$work/$name.log")" >&2; exit 1
}

plain=$(start plain)
limited=$(start limited --rate-limit 100000000/s)
# 100 posts to read.
curl -sf "http://$plain/api/users" -H 'Content-Type: application/json' \
  -d '{"username":"bench","password":"benchmark-password"}' > /dev/null
token=$(curl -sf "http://$plain/api/tokens" -H 'Content-Type: application/json' \
  -d '{"username":"bench","password":"benchmark-password"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
for i in $(seq 100); do
  curl -sf "http://$plain/api/posts" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "{\"title\":\"post $i\"}" > /dev/null
done
cat > "$work/get.lua" <<'LUA'
request = function() return wrk.format("GET", "/api/posts/" .. math.random(1, 100)) end
LUA
echo "| round | without --rate-limit req/s | with --rate-limit req/s |"
echo "|---|---:|---:|"
for r in $(seq "$rounds"); do
  a=$(wrk -t2 -c64 -d"${seconds}s" -s "$work/get.lua" "http://$plain" | awk '/Requests\/sec/ {print $2}')
  b=$(wrk -t2 -c64 -d"${seconds}s" -s "$work/get.lua" "http://$limited" | awk '/Requests\/sec/ {print $2}')
  echo "| $r | $a | $b |"
done
grep -h 'postbase_rate_leases_total' <(curl -s "http://$limited/metrics") || true
