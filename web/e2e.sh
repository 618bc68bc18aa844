#!/usr/bin/env bash
# Browser tests of the web client against a real postbase: installs what they need (npm packages,
# Debian's Chromium), builds the client, runs web/e2e/*.test.mjs. Non-interactive; exits non-zero
# on any failure. Needs a built postbase: POSTBASE_BIN, else the newer of target/release/postbase
# and target/debug/postbase. Screenshots and logs land in target/e2e-screenshots/.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ]; then
  echo "e2e: installing Debian's chromium"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q chromium chromium-driver
fi

echo "e2e: npm ci"
npm ci --no-audit --no-fund --loglevel=error
echo "e2e: npm run build"
npm run build

echo "e2e: running browser tests ($(/usr/bin/chromium --version 2>/dev/null || echo chromium))"
node --test --test-concurrency=1 --test-reporter=spec e2e/
