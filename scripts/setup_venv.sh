#!/usr/bin/env bash
# Builds .venv from the pinned requirements with a Python 3.10 interpreter found on
# this machine. Rasa 3.6 supports Python 3.8-3.10 only; the machines default to 3.11.
# .venv is the dev venv: every process's set and the test and bench tools, as
# requirements/dev.txt pins them (the images install requirements/<process>.txt).
# Re-running is cheap: the venv is rebuilt only when requirements/dev.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.requirements.sha256"
REQUIREMENTS=requirements/dev.txt
want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)

if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  exit 0
fi

# A candidate counts only if it really runs as 3.10: a pyenv shim named
# python3.10 exists even when 3.10 is not the selected version, and then fails.
find_python310() {
  local candidates=()
  command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
  if command -v pyenv >/dev/null 2>&1; then
    local root; root=$(pyenv root)
    for d in "$root"/versions/3.10*/bin/python3.10; do candidates+=("$d"); done
  fi
  for d in "$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
    candidates+=("$d")
  done
  local c
  for c in "${candidates[@]}"; do
    if [[ -x "$c" ]] && "$c" -c 'import sys, venv; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
      echo "$c"; return 0
    fi
  done
  return 1
}

if ! PY=$(find_python310); then
  echo "error: no working Python 3.10 found (Rasa 3.6 needs Python 3.8-3.10)." >&2
  echo "Install one, e.g. 'pyenv install 3.10' or 'apt-get install python3.10 python3.10-venv'." >&2
  exit 1
fi

echo "==> building $VENV with $PY ($("$PY" --version))"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.0"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --progress-bar off -r "$REQUIREMENTS"
echo "$want" > "$STAMP"
echo "==> $VENV ready"
