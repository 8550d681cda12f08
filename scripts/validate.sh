#!/usr/bin/env bash
# `rasa data validate`, failing on every warning that scripts/check_validation.py
# cannot explain (responses that code sends, the guard's intents, and a short
# list of exact messages with their reasons), and on any error.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(RASA_TELEMETRY_ENABLED=false PYTHONPATH=. TF_CPP_MIN_LOG_LEVEL=2 PYTHONWARNINGS=ignore::DeprecationWarning \
      .venv/bin/rasa data validate --domain domain --max-history 5 2>&1)
status=$?
.venv/bin/python scripts/check_validation.py <<<"$out"
checked=$?
if [[ $status -ne 0 ]]; then
  echo "rasa data validate exited with $status:"; echo "$out" | tail -20
fi
[[ $status -eq 0 && $checked -eq 0 ]]
