#!/usr/bin/env bash
# The Python tools of the contract tests, in a venv under target/ (nothing installed system-wide).
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=target/contract-venv
if [ ! -x "$VENV/bin/st" ] || [ ! -x "$VENV/bin/openapi-python-client" ] || [ ! -x "$VENV/bin/ruff" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/contract/requirements.txt
fi
