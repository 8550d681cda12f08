#!/usr/bin/env bash
# Installs the page's JavaScript (socket.io-client, from the npm registry) and,
# with --browser, Debian's chromium and chromedriver for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -f web/node_modules/.package-lock.json || web/package-lock.json -nt web/node_modules/.package-lock.json ]]; then
  echo "==> npm ci in web/"
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi

if [[ "${1:-}" == "--browser" ]] && ! { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }; then
  echo "==> installing chromium and chromium-driver (Debian packages)"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
