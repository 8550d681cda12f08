#!/usr/bin/env bash
# Starts every process of the assistant on 127.0.0.1 (ports: README.md) and
# stops all of them on Ctrl-C or SIGTERM. The tests start the stack through
# this same script, on free ports and in a temporary state directory.
#
# One instance of each (the default): the four processes run under supervisord
# (scripts/supervisord.conf.template, rendered into STATE_DIR/supervisord.conf):
# one that dies is restarted (with backoff when it keeps dying at once) and its
# exit status logged in STATE_DIR/logs/supervisord.log, while the others keep
# serving. `.venv/bin/supervisorctl -c STATE_DIR/supervisord.conf status` shows them.
# The scaled set-up still stops everything when one process exits.
#
#   RASA_PORT=5005 ACTIONS_PORT=5055 CPS_API_PORT=8000 WEB_PORT=8080
#   HOST=127.0.0.1 STATE_DIR=.state MODEL=models/cps-assistant.tar.gz
#   RASA_INSTANCES=N ACTION_SERVERS=M   scale out: N Rasa instances and M action servers
#                         behind nginx on RASA_PORT / ACTIONS_PORT, PostgreSQL tracker
#                         store, Redis lock store (scripts/scaled.sh; `make run-scaled`)
#   CPS_API_URL=...       the CPS API the actions call (default: the reference one started here)
#   START_CPS_API=0       do not start the reference CPS API
#   START_ACTIONS=0       do not start the action server (the fault tests run their own)
#   REST_WEBHOOK_TOKEN=... lets the website's backend use the REST webhook through the public
#                         entry point (WEB_PORT) with `Authorization: Bearer ...`; unset: not routed
#
# Secrets: taken from the environment when set, else created once under STATE_DIR
# (mode 0600) and reused. Each process gets only the ones it needs, in its
# environment, never on its command line (SECURITY.md):
#   RASA_AUTH_TOKEN        Rasa's HTTP API (STATE_DIR/rasa-auth.token)
#   CONVERSATION_KEY       signs the conversation ids Rasa issues (conversation.key)
#   ACTION_SERVER_TOKEN    Rasa -> action server (action-server.token)
#   CPS_TOKEN_PRIVATE_KEY  opens sealed CPS tokens: the action server only (cps-token-private.key);
#   CPS_TOKEN_PUBLIC_KEY   seals them: Rasa (derived from the private key unless given)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
umask 077  # everything this script creates (keys, logs, databases) is the owner's alone

HOST=${HOST:-127.0.0.1}
RASA_PORT=${RASA_PORT:-5005}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
CPS_API_PORT=${CPS_API_PORT:-8000}
WEB_PORT=${WEB_PORT:-8080}
RASA_API_PORT=${RASA_API_PORT:-$RASA_PORT}  # scaled: nginx's listener for Rasa's HTTP API
STATE_DIR=${STATE_DIR:-$ROOT/.state}
MODEL=${MODEL:-$ROOT/models/cps-assistant.tar.gz}
PY="$ROOT/.venv/bin/python"

mkdir -p "$STATE_DIR/logs"
# The state directory can be traversed (PostgreSQL's own user reaches its cluster in the
# scaled set-up) but not listed; every file in it is the owner's alone (umask above).
chmod 711 "$STATE_DIR"; chmod 700 "$STATE_DIR/logs"
LOGS="$STATE_DIR/logs"

# secret VAR FILE: the variable's value from the environment, else FILE's, created on first start.
secret() {
  local var=$1 file="$STATE_DIR/$2"
  if [[ -z "${!var:-}" ]]; then
    [[ -s "$file" ]] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(32))' > "$file"
    printf -v "$var" '%s' "$(cat "$file")"
  fi
  export -n "$var"  # not inherited by every process: each start below names what it passes
}
secret RASA_AUTH_TOKEN rasa-auth.token
secret CONVERSATION_KEY conversation.key
secret ACTION_SERVER_TOKEN action-server.token
if [[ -z "${CPS_TOKEN_PRIVATE_KEY:-}" ]]; then
  key_file="$STATE_DIR/cps-token-private.key"
  [[ -s "$key_file" ]] || "$PY" -c 'from bot.token_cipher import new_key_pair; print(new_key_pair()[0])' > "$key_file"
  CPS_TOKEN_PRIVATE_KEY=$(cat "$key_file")
fi
export -n CPS_TOKEN_PRIVATE_KEY
: "${CPS_TOKEN_PUBLIC_KEY:=$("$PY" -c 'import sys; from bot.token_cipher import public_key_of; print(public_key_of(sys.stdin.read().strip()))' <<<"$CPS_TOKEN_PRIVATE_KEY")}"
export -n CPS_TOKEN_PUBLIC_KEY
REST_WEBHOOK_TOKEN=${REST_WEBHOOK_TOKEN:-}
export -n REST_WEBHOOK_TOKEN
INSIGHTS_TOKEN=${INSIGHTS_TOKEN:-}  # /insights on the page server (staff); unset: no such path
export -n INSIGHTS_TOKEN

export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export ACTION_ENDPOINT_URL="http://$HOST:$ACTIONS_PORT/webhook"
export TRACKER_DB="${TRACKER_DB:-$STATE_DIR/tracker.sqlite3}"
export CORS_ORIGINS="${CORS_ORIGINS:-http://$HOST:$WEB_PORT,http://localhost:$WEB_PORT}"
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONWARNINGS=ignore

RASA_INSTANCES=${RASA_INSTANCES:-1}
ACTION_SERVERS=${ACTION_SERVERS:-1}
SUPERVISED=1; (( RASA_INSTANCES > 1 || ACTION_SERVERS > 1 )) && SUPERVISED=0
SUPERVISOR_CONF="$STATE_DIR/supervisord.conf"

PIDS=()
stop_all() {
  trap - INT TERM EXIT
  # supervisord stops its processes in parallel, each within its stopwaitsecs (10 s)
  local tenths=50; (( SUPERVISED )) && tenths=250
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq "$tenths"); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  echo "==> stopped"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME LOGFILE COMMAND...: each process in its own process group, so
# that stopping it stops whatever it spawned too.
start() {
  local name=$1 log=$2; shift 2
  setsid "$@" >"$log" 2>&1 &
  PIDS+=($!)
}

# The secrets a process may be given (run below names the ones each one gets).
SECRETS=(RASA_AUTH_TOKEN CONVERSATION_KEY ACTION_SERVER_TOKEN CPS_TOKEN_PRIVATE_KEY CPS_TOKEN_PUBLIC_KEY
         REST_WEBHOOK_TOKEN INSIGHTS_TOKEN TRACKER_DB_PASSWORD REDIS_PASSWORD POSTGRES_PASSWORD)
PROGRAMS=()  # supervised: "name<TAB>log<TAB>command" for supervisord.conf

# quote ARG...: one command line as supervisord reads it (shlex, with % doubled).
quote() {
  local arg out=()
  for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./:=,@+-]+$ ]]; then out+=("$arg"); else out+=("'${arg//\'/\'\"\'\"\'}'"); fi
  done
  local line="${out[*]}"; printf '%s' "${line//%/%%}"
}

# run NAME LOG "SECRET ..." COMMAND...: one process of the stack, in the environment
# of this script plus the secrets named (and no other secret). Supervised: a program
# of supervisord; else started at once in a process group of its own.
run() {
  local name=$1 log=$2 given=" $3 " v; shift 3
  if (( SUPERVISED )); then
    local drop=()
    for v in "${SECRETS[@]}"; do [[ "$given" == *" $v "* ]] || drop+=(-u "$v"); done
    : >"$log"
    PROGRAMS+=("$name"$'\t'"$log"$'\t'"$(quote env "${drop[@]}" "$@")")
  else
    ( for v in $given; do export "$v"; done; exec setsid "$@" ) >"$log" 2>&1 &
    PIDS+=($!)
  fi
}

# Renders the template and starts supervisord, which gets every secret some program needs
# (each program's command drops the others).
start_supervisord() {
  printf '%s\n' "${PROGRAMS[@]}" | "$PY" -c '
import string, sys
template, out, root, state_dir, logs = sys.argv[1:]
head, block = open(template).read().split(";;; program:", 1)
block = block.split("\n", 1)[1]
programs = [line.rstrip("\n").split("\t") for line in sys.stdin if line.strip()]
common = {"root": root, "state_dir": state_dir, "logs": logs}
text = string.Template(head).substitute(common, programs=",".join(p[0] for p in programs))
for name, log, command in programs:
    text += string.Template(block).substitute(common, name=name, log=log, command=command) + "\n"
open(out, "w").write(text)
' "$ROOT/scripts/supervisord.conf.template" "$SUPERVISOR_CONF" "$ROOT" "$STATE_DIR" "$LOGS"
  : >"$LOGS/supervisord.log"
  ( for v in "${SECRETS[@]}"; do export "$v"; done
    exec setsid "$ROOT/.venv/bin/supervisord" -c "$SUPERVISOR_CONF" ) >"$LOGS/supervisord.out" 2>&1 &
  PIDS+=($!)
}

wait_http() {  # wait_http NAME URL SECONDS
  local name=$1 url=$2 limit=$3 t0=$SECONDS
  until "$PY" -c "import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$url" >/dev/null 2>&1; do
    for pid in "${PIDS[@]}"; do
      kill -0 "$pid" 2>/dev/null || { echo "error: a process died while starting $name; see $LOGS/" >&2; exit 1; }
    done
    # Supervised: a process that exits before everything is up (its port taken, say) stops the start.
    if (( SUPERVISED )) && grep -E '(exited|gave up): ' "$LOGS/supervisord.log" >&2; then
      echo "error: a process died while the stack was starting (waiting for $name); see $LOGS/" >&2; exit 1
    fi
    (( SECONDS - t0 < limit )) || { echo "error: $name not up after ${limit}s; see $LOGS/" >&2; exit 1; }
    sleep 0.5
  done
}

[[ -f "$MODEL" ]] || { echo "error: no model at $MODEL; run 'make train'" >&2; exit 1; }

REFERENCE_API="http://$HOST:$CPS_API_PORT"
export CPS_API_URL="${CPS_API_URL:-$REFERENCE_API}"
if [[ "${START_CPS_API:-1}" == 1 && -d cps_api ]]; then
  run cps-api "$LOGS/cps_api.log" "" env CPS_API_HOST="$HOST" CPS_API_PORT="$CPS_API_PORT" \
    CPS_API_DATABASE_URL="${CPS_API_DATABASE_URL:-sqlite:///$STATE_DIR/cps_api.sqlite3}" "$PY" -m cps_api
fi

rasa_ports=("$RASA_PORT"); action_ports=("$ACTIONS_PORT"); endpoints=endpoints.yml
if (( RASA_INSTANCES > 1 || ACTION_SERVERS > 1 )); then
  source scripts/scaled.sh
  install_scaled_packages
  start_postgres
  start_redis
  rasa_ports=(); action_ports=(); endpoints=endpoints.scaled.yml
  [[ "$RASA_API_PORT" == "$RASA_PORT" ]] && RASA_API_PORT=$(free_port)
  for _ in $(seq "$RASA_INSTANCES"); do rasa_ports+=("$(free_port)"); done
  for _ in $(seq "$ACTION_SERVERS"); do action_ports+=("$(free_port)"); done
  start_nginx "${rasa_ports[*]}" "${action_ports[*]}"
fi

if [[ "${START_ACTIONS:-1}" == 1 ]]; then
  for port in "${action_ports[@]}"; do
    run "actions-$port" "$LOGS/actions-$port.log" "CPS_TOKEN_PRIVATE_KEY ACTION_SERVER_TOKEN" \
      env SANIC_HOST="$HOST" "$PY" -m actions.server --port "$port"
  done
fi

for port in "${rasa_ports[@]}"; do
  run "rasa-$port" "$LOGS/rasa-$port.log" \
    "RASA_AUTH_TOKEN CONVERSATION_KEY ACTION_SERVER_TOKEN CPS_TOKEN_PUBLIC_KEY TRACKER_DB_PASSWORD REDIS_PASSWORD" \
    "$PY" -m bot.server \
    run --enable-api --model "$MODEL" --interface "$HOST" --port "$port" \
    --credentials credentials.yml --endpoints "${ENDPOINTS:-$endpoints}" --cors ${CORS_ORIGINS//,/ }
done

# The one public entry point: the page, /socket.io and (with REST_WEBHOOK_TOKEN) the REST webhook.
if [[ -d web ]]; then
  run web "$LOGS/web.log" "REST_WEBHOOK_TOKEN INSIGHTS_TOKEN${INSIGHTS_TOKEN:+ TRACKER_DB_PASSWORD}" \
    "$PY" -m web --host "$HOST" --port "$WEB_PORT" --rasa-url "http://$HOST:$RASA_PORT"
fi

(( SUPERVISED )) && start_supervisord

[[ "${START_CPS_API:-1}" == 1 && -d cps_api ]] && wait_http "CPS API" "$REFERENCE_API/health" 60
if [[ "${START_ACTIONS:-1}" == 1 ]]; then
  for port in "${action_ports[@]}"; do wait_http "action server" "http://$HOST:$port/health" 120; done
fi
for port in "${rasa_ports[@]}"; do wait_http "Rasa" "http://$HOST:$port/" 300; done
[[ -d web ]] && wait_http "web page" "http://$HOST:$WEB_PORT/" 60

cat <<EOF
==> the CPS sign-up assistant is running (Ctrl-C stops everything)
    support page    http://$HOST:$WEB_PORT   the public entry point: the page, /socket.io$([[ -n "$REST_WEBHOOK_TOKEN" ]] && echo ", REST webhook")
    Rasa server     http://$HOST:$RASA_PORT   loopback tools: POST /webhooks/rest/webhook; HTTP API with ?token=\$(cat $STATE_DIR/rasa-auth.token)
    action server   http://$HOST:$ACTIONS_PORT
EOF
(( RASA_INSTANCES > 1 || ACTION_SERVERS > 1 )) && echo "    scaled          nginx -> Rasa ${rasa_ports[*]}, actions ${action_ports[*]}; HTTP API :$RASA_API_PORT; PostgreSQL :$TRACKER_DB_PORT, Redis :$REDIS_PORT"
[[ "${START_CPS_API:-1}" == 1 && -d cps_api ]] && echo "    CPS API         $REFERENCE_API   (/openapi.json)"
[[ "$CPS_API_URL" != "$REFERENCE_API" ]] && echo "    actions call    $CPS_API_URL"
echo "    logs            $LOGS/"

if (( SUPERVISED )); then
  echo "    supervisor      .venv/bin/supervisorctl -c $SUPERVISOR_CONF status   (restarts: $LOGS/supervisord.log)"
  wait "${PIDS[@]}" || true  # supervisord: it returns only if it stopped by itself
  echo "error: supervisord exited; see $LOGS/supervisord.log" >&2
  exit 1
fi
# Scaled: stop everything as soon as any one process exits.
wait -n "${PIDS[@]}" || true
echo "error: a process exited; see $LOGS/" >&2
exit 1
