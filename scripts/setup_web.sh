#!/usr/bin/env bash
# Installs the page's JavaScript (socket.io-client, from the npm registry) and,
# with --test, the Debian packages the tests use (below).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -f web/node_modules/.package-lock.json || web/package-lock.json -nt web/node_modules/.package-lock.json ]]; then
  echo "==> npm ci in web/"
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi

# --test: the system tools the test suite drives for real, from Debian's packages, in one
# apt run: Chromium and its driver (the widget), nginx, PostgreSQL and Redis (the scaled
# set-up and the deployment files' nginx template), docker-compose (`compose config`).
if [[ "${1:-}" == "--test" ]]; then
  wanted=()
  command -v chromium >/dev/null || wanted+=(chromium)
  command -v chromedriver >/dev/null || wanted+=(chromium-driver)
  command -v nginx >/dev/null || wanted+=(nginx)
  command -v redis-server >/dev/null || wanted+=(redis-server)
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || wanted+=(postgresql)
  command -v docker-compose >/dev/null || wanted+=(docker-compose)
  if (( ${#wanted[@]} )); then
    echo "==> installing ${wanted[*]} (Debian packages)"
    SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${wanted[@]}" >/dev/null
  fi
fi
