#!/usr/bin/env bash
# Generates a Python client from the live /api/openapi.json with openapi-python-client (PyPI) and
# runs tests/contract/client_session.py through it against a real postbase.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${POSTBASE_BIN:-target/debug/postbase}
VENV=target/contract-venv
work=$(mktemp -d)
log=$work/server.log
"$BIN" serve --addr 127.0.0.1:0 --database-url "sqlite://$work/client.db" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  addr=$(grep -o 'listening on [0-9.:]*' "$log" | head -1 | cut -d' ' -f3 || true)
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { echo "postbase did not start"; cat "$log"; exit 1; }
export POSTBASE_URL="http://$addr"

curl -sf "$POSTBASE_URL/api/openapi.json" -o "$work/openapi.json"
out=target/generated-client
rm -rf "$out"
PATH="$PWD/$VENV/bin:$PATH" "$VENV/bin/openapi-python-client" generate \
  --path "$work/openapi.json" --output-path "$out" --overwrite --fail-on-warning
PYTHONPATH="$out" "$VENV/bin/python" tests/contract/client_session.py
