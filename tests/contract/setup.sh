#!/usr/bin/env bash
# The tools of the contract tests, under target/ (nothing installed system-wide):
#   target/contract-venv   Python: schemathesis, the Python client generators, what their clients import
#   target/contract-node   npm: the linters, openapi-typescript, openapi-fetch, TypeScript
# Each is rebuilt only when its pinned list changes. Java 17+ must be on PATH (openapi-generator).
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=target/contract-venv
# A venv's scripts name its absolute path: one copied from another checkout would run that
# checkout's tools (and install into it), so it is rebuilt too.
case "$(head -1 "$VENV/bin/pip" 2>/dev/null)" in
  "#!$PWD/$VENV/bin/"*) own_venv=yes ;;
  *) own_venv=no ;;
esac
if [ "$own_venv" = no ] || ! cmp -s tests/contract/requirements.txt "$VENV/requirements.txt"; then
  echo "setup: Python tools into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/contract/requirements.txt
  cp tests/contract/requirements.txt "$VENV/requirements.txt"
fi

NODE_DIR=target/contract-node
if ! cmp -s tests/contract/package-lock.json "$NODE_DIR/package-lock.json" \
  || [ ! -d "$NODE_DIR/node_modules" ]; then
  echo "setup: npm ci into $NODE_DIR"
  rm -rf "$NODE_DIR"
  mkdir -p "$NODE_DIR"
  cp tests/contract/package.json tests/contract/package-lock.json "$NODE_DIR/"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
