#!/usr/bin/env bash
# The same workload on SQLite and on PostgreSQL, one postbase instance and two (not a test).
#
#   bench/pg_compare.sh                      # release binary, 10 s per run, 64 connections
#   DURATION=5s CONNECTIONS=32 bench/pg_compare.sh
#
# Workloads: `read` = GET /api/posts/{id} (a point read), `write` = POST /api/posts with a bearer
# token (a token lookup, then an INSERT). Two wrk processes of one thread each, half the
# connections each, rates summed: with two instances each drives one instance directly (no load
# balancer in the path; see "Scaling out" in README.md for nginx), with one instance both drive it. Everything runs on 127.0.0.1: postbase, PostgreSQL and
# wrk share the machine's cores, which says more about per-request CPU cost than about scaling.
# Needs: wrk, psql, curl, python3, a PostgreSQL server (PG_SERVER) that accepts CREATE DATABASE.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-target/release/postbase}
PG_SERVER=${PG_SERVER:-postgres://postgres@127.0.0.1:5432/postgres}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
POOL=${POOL:-16}
# The figures in README.md were measured in plain text, before postbase spoke TLS; its default is now
# libpq's `prefer`, which encrypts whenever the server offers TLS. PG_SSLMODE=prefer measures that.
PG_SSLMODE=${PG_SSLMODE:-disable}

[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
command -v wrk >/dev/null || { echo "needs wrk (apt-get install -y wrk)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
pg_dbs=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for db in "${pg_dbs[@]}"; do
    psql "$PG_SERVER" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/write.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"title":"a benchmark post","body":"some text"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
LUA

# start_instance URL: starts one more instance; appends its base URL to `bases`. (Not called in
# a subshell, so that `pids` keeps the process id for the cleanup.)
start_instance() {
  local log
  log=$(mktemp "$work/instance.XXXX.log")
  "$BIN" serve --addr 127.0.0.1:0 --database-url "$1" --db-pool-size "$POOL" \
    --log-format text >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    if grep -q "listening on" "$log"; then
      bases+=("$(grep -o "listening on [0-9.:]*" "$log" | head -1 | sed 's/listening on /http:\/\//')")
      return
    fi
    sleep 0.1
  done
  echo "postbase did not start: $(cat "$log")" >&2
  exit 1
}

# run_wrk LABEL SCRIPT_OR_EMPTY URL... : one wrk per URL in parallel, summed
run_wrk() {
  local label=$1 script=$2
  shift 2
  local n=$#
  # Always two wrk processes (one thread each), so the load generator is the same for one
  # instance as for two: with one instance, both drive it.
  [ $# -eq 1 ] && set -- "$1" "$1"
  local per=$((CONNECTIONS / $#)) i=0 outs=() wrks=()
  for url in "$@"; do
    local out="$work/wrk.$i"
    if [ -n "$script" ]; then
      wrk -t1 -c"$per" -d"$DURATION" --latency -s "$script" "$url" >"$out" 2>&1 &
    else
      wrk -t1 -c"$per" -d"$DURATION" --latency "$url" >"$out" 2>&1 &
    fi
    wrks+=($!)
    outs+=("$out")
    i=$((i + 1))
  done
  wait "${wrks[@]}"
  python3 - "$label" "$n" "${outs[@]}" <<'PY'
import re, sys
label, n, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rps = 0.0; p50 = []; p99 = []; errors = 0
for f in files:
    t = open(f).read()
    rps += float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    def ms(p):
        m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)" % p, t)
        v = float(m.group(1)); return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    p50.append(ms(50)); p99.append(ms(99))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    errors += int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: .*", t)
    if m: errors += sum(int(x) for x in re.findall(r"\d+", m.group(0)))
print(f"| {label} | {n} | {rps:,.0f} | {max(p50):.2f} | {max(p99):.2f} | {errors} |")
PY
}

# setup BASE -> token, post id
setup() {
  local base=$1
  curl -sf -XPOST "$base/api/users" -H 'content-type: application/json' \
    -d '{"username":"bench","password":"bench password"}' >/dev/null
  token=$(curl -sf -XPOST "$base/api/tokens" -H 'content-type: application/json' \
    -d '{"username":"bench","password":"bench password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  post=$(curl -sf -XPOST "$base/api/posts" -H 'content-type: application/json' \
    -H "authorization: Bearer $token" -d '{"title":"read me","body":"hello"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
}

echo "postbase $($BIN --version | cut -d' ' -f2), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "wrk: $CONNECTIONS connections in total, $DURATION per run; PostgreSQL pool $POOL per instance"
echo
echo "| backend, workload | instances | requests/s | p50 ms (worst wrk) | p99 ms (worst wrk) | errors |"
echo "|---|---|---|---|---|---|"
for backend in sqlite postgres; do
  for instances in 1 2; do
    if [ "$backend" = sqlite ]; then
      url="sqlite://$work/bench-$instances.db"
    else
      db="pb_bench_${instances}_$RANDOM"
      psql "$PG_SERVER" -qc "CREATE DATABASE $db" >/dev/null
      pg_dbs+=("$db")
      url="${PG_SERVER%/*}/$db?sslmode=$PG_SSLMODE"
    fi
    bases=()
    for _ in $(seq 1 "$instances"); do start_instance "$url"; done
    setup "${bases[0]}"
    reads=(); for b in "${bases[@]}"; do reads+=("$b/api/posts/$post"); done
    writes=(); for b in "${bases[@]}"; do writes+=("$b/api/posts"); done
    run_wrk "$backend, read" "" "${reads[@]}"
    TOKEN=$token run_wrk "$backend, write" "$work/write.lua" "${writes[@]}"
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=()
  done
done
