#!/usr/bin/env bash
# The contract as third-party tools read it, from a live postbase's /api/openapi.json:
#   1. linters: openapi-generator validate, Redocly (recommended rules), Spectral (spectral:oas);
#   2. clients: four generators each make a client that must compile (TypeScript: tsc --strict) and
#      run a whole session against the server: sign up, log in, post, page through a list, a
#      conditional GET answered 304, an edit with If-Match, log out (tests/contract/sessions/).
#      openapi-generator typescript-fetch and python, openapi-typescript + openapi-fetch,
#      openapi-python-client.
# Usage: tests/contract/generators.sh   (a fresh SQLite file; POSTBASE_BIN names the binary)
# Needs: bash tests/contract/setup.sh, Java 17+ (openapi-generator), a built postbase.
# Generated clients land in target/contract-node/clients/, kept for reading after a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=${POSTBASE_BIN:-target/debug/postbase}
VENV=$ROOT/target/contract-venv
NODE_DIR=$ROOT/target/contract-node
NODE_BIN=$NODE_DIR/node_modules/.bin
SESSIONS=$ROOT/tests/contract/sessions
OUT=$NODE_DIR/clients

step() { printf -- '--- %s\n' "$*"; }
java -version >/dev/null 2>&1 || { echo "openapi-generator needs Java 17 or later on PATH" >&2; exit 1; }
[ -x "$NODE_BIN/tsc" ] && [ -x "$VENV/bin/openapi-generator-cli" ] \
  || { echo "run tests/contract/setup.sh first" >&2; exit 1; }

work=$(mktemp -d)
log=$work/server.log
"$BIN" serve --addr 127.0.0.1:0 --database-url "sqlite://$work/clients.db" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  addr=$(grep -o 'listening on [0-9.:]*' "$log" | head -1 | cut -d' ' -f3 || true)
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { echo "postbase did not start"; cat "$log"; exit 1; }
export POSTBASE_URL="http://$addr"
doc=$work/openapi.json
curl -sf "$POSTBASE_URL/api/openapi.json" -o "$doc"

step "openapi-generator validate"
"$VENV/bin/openapi-generator-cli" validate -i "$doc"

step "redocly lint (recommended rules)"
# Exits non-zero on errors only; warnings are judged below from its JSON report.
"$NODE_BIN/redocly" lint "$doc" --format=json >"$work/redocly.json" 2>"$work/redocly.err" || true
"$VENV/bin/python" - "$work/redocly.json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
# The probes answer 200 or 503 and nothing else: they have no client error to document.
accepted = {
    ("operation-4xx-response", "#/paths/~1healthz/get/responses"),
    ("operation-4xx-response", "#/paths/~1readyz/get/responses"),
}
problems = [(p["ruleId"], p["location"][0]["pointer"], p["severity"], p["message"]) for p in report["problems"]]
for rule, where, severity, message in problems:
    print(f"  {severity} {rule} at {where}: {message}")
unexpected = [p for p in problems if p[:2] not in accepted]
print(f"redocly: {report['totals']['errors']} errors, {report['totals']['warnings']} warnings, {len(unexpected)} not accepted")
sys.exit(1 if unexpected else 0)
EOF

step "spectral lint (spectral:oas), failing on any result"
"$NODE_BIN/spectral" lint --ruleset tests/contract/spectral.yaml --fail-severity=hint "$doc"

rm -rf "$OUT"
mkdir -p "$OUT"

step "openapi-generator: typescript-fetch and python"
# One JVM for both (batch), a config file each.
cat >"$work/typescript-fetch.yaml" <<EOF
generatorName: typescript-fetch
inputSpec: $doc
outputDir: $OUT/typescript-fetch/client
additionalProperties: {importFileExtension: .js}
EOF
cat >"$work/python.yaml" <<EOF
generatorName: python
inputSpec: $doc
outputDir: $OUT/openapi-generator-python
additionalProperties: {packageName: postbase_oag}
EOF
"$VENV/bin/openapi-generator-cli" batch --fail-fast "$work/typescript-fetch.yaml" "$work/python.yaml" \
  >"$work/generate.log" 2>&1 || { cat "$work/generate.log"; exit 1; }
grep -E 'Finished generating|Batch generation finished' "$work/generate.log"

step "typescript-fetch: tsc --strict, then the session"
# --skipLibCheck skips only the .d.ts of node_modules: the generated code is .ts and is checked.
tsc_flags=(--strict --target ES2022 --module NodeNext --moduleResolution NodeNext --types node --skipLibCheck)
cp "$SESSIONS/typescript_fetch.ts" "$OUT/typescript-fetch/session.ts"
(cd "$OUT/typescript-fetch" && "$NODE_BIN/tsc" "${tsc_flags[@]}" --outDir out session.ts && node out/session.js)

step "openapi-typescript + openapi-fetch: tsc --strict, then the session"
mkdir -p "$OUT/openapi-typescript"
"$NODE_BIN/openapi-typescript" "$doc" -o "$OUT/openapi-typescript/schema.ts"
cp "$SESSIONS/openapi_fetch.ts" "$OUT/openapi-typescript/session.ts"
(cd "$OUT/openapi-typescript" && "$NODE_BIN/tsc" "${tsc_flags[@]}" --outDir out session.ts && node out/session.js)

step "openapi-generator python: the session"
PYTHONPATH="$OUT/openapi-generator-python" "$VENV/bin/python" "$SESSIONS/openapi_generator_python.py"

step "openapi-python-client: generate (failing on any warning), then the session"
PATH="$VENV/bin:$PATH" "$VENV/bin/openapi-python-client" generate \
  --path "$doc" --output-path "$OUT/openapi-python-client" --overwrite --fail-on-warning
PYTHONPATH="$OUT/openapi-python-client" "$VENV/bin/python" "$SESSIONS/openapi_python_client.py"
echo "generators: every linter clean, every generated client ran its session"
