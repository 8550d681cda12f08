#!/usr/bin/env bash
# Starts every process of the assistant on 127.0.0.1 (ports: README.md) and
# stops all of them on Ctrl-C or SIGTERM. The tests start the stack through
# this same script, on free ports and in a temporary state directory.
#
# Every process runs under supervisord (scripts/supervisord.conf.template, rendered
# into STATE_DIR/supervisord.conf), in the single-instance and the scaled set-up
# alike: one that dies is restarted (with backoff when it keeps dying at once) and
# its exit status logged in STATE_DIR/logs/supervisord.log, while the others keep
# serving. `.venv/bin/supervisorctl -c STATE_DIR/supervisord.conf status` shows them.
# They start and stop in groups, in this order (stopping in the reverse one): the
# stores and the CPS API, the action servers, the Rasa servers, the page. So on
# SIGTERM the page stops taking visitors first, Rasa finishes the turns in flight
# (Sanic drains them; supervisord's stopwaitsecs bounds it) while the actions and
# the stores they need still run, and the stores stop last.
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
SUPERVISOR_CONF="$STATE_DIR/supervisord.conf"

SUPERVISORD_PID=""
stop_all() {
  trap - INT TERM EXIT
  # supervisord stops the groups one after another, each process within its stopwaitsecs;
  # whatever is left after a minute is killed with its process group.
  if [[ -n "$SUPERVISORD_PID" ]]; then
    kill -TERM -- "-$SUPERVISORD_PID" 2>/dev/null || true
    for _ in $(seq 600); do kill -0 -- "-$SUPERVISORD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$SUPERVISORD_PID" 2>/dev/null || true
  fi
  echo "==> stopped"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The secrets a process may be given (run below names the ones each one gets).
SECRETS=(RASA_AUTH_TOKEN CONVERSATION_KEY ACTION_SERVER_TOKEN CPS_TOKEN_PRIVATE_KEY CPS_TOKEN_PUBLIC_KEY
         REST_WEBHOOK_TOKEN INSIGHTS_TOKEN TRACKER_DB_PASSWORD REDIS_PASSWORD POSTGRES_PASSWORD)
PROGRAMS=()  # "group<TAB>name<TAB>log<TAB>stop signal<TAB>command", one per program of supervisord.conf

# quote ARG...: one command line as supervisord reads it (shlex, with % doubled).
quote() {
  local arg out=()
  for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./:=,@+-]+$ ]]; then out+=("$arg"); else out+=("'${arg//\'/\'\"\'\"\'}'"); fi
  done
  local line="${out[*]}"; printf '%s' "${line//%/%%}"
}

# run GROUP NAME LOG "SECRET ..." COMMAND...: one program of supervisord, in the
# environment of this script plus the secrets named (and no other secret).
# STOP_SIGNAL=INT run ...: stopped with another signal than TERM.
run() {
  local group=$1 name=$2 log=$3 given=" $4 " v drop=(); shift 4
  for v in "${SECRETS[@]}"; do [[ "$given" == *" $v "* ]] || drop+=(-u "$v"); done
  : >"$log"
  PROGRAMS+=("$group"$'\t'"$name"$'\t'"$log"$'\t'"${STOP_SIGNAL:-TERM}"$'\t'"$(quote env "${drop[@]}" "$@")")
}

# Renders the template (scripts/render_supervisord.py) and starts supervisord, which gets every
# secret some program needs (each program's command drops the others). Groups start in this order:
PROGRAM_GROUPS=(stores actions rasa web)  # (not GROUPS: bash keeps that name for the user's group ids)
start_supervisord() {
  printf '%s\n' "${PROGRAMS[@]}" | "$PY" "$ROOT/scripts/render_supervisord.py" \
    "$ROOT/scripts/supervisord.conf.template" "$SUPERVISOR_CONF" "$ROOT" "$STATE_DIR" "$LOGS" "${PROGRAM_GROUPS[@]}"
  : >"$LOGS/supervisord.log"
  ( for v in "${SECRETS[@]}"; do export "$v"; done
    exec setsid "$ROOT/.venv/bin/supervisord" -c "$SUPERVISOR_CONF" ) >"$LOGS/supervisord.out" 2>&1 &
  SUPERVISORD_PID=$!
}

wait_http() {  # wait_http NAME URL SECONDS
  local name=$1 url=$2 limit=$3 t0=$SECONDS
  until "$PY" -c "import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$url" >/dev/null 2>&1; do
    kill -0 "$SUPERVISORD_PID" 2>/dev/null || { echo "error: supervisord died while starting $name; see $LOGS/" >&2; exit 1; }
    # A process that exits before everything is up (its port taken, say) stops the start.
    if grep -E '(exited|gave up): ' "$LOGS/supervisord.log" >&2; then
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
  run stores cps-api "$LOGS/cps_api.log" "" env CPS_API_HOST="$HOST" CPS_API_PORT="$CPS_API_PORT" \
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
    run actions "actions-$port" "$LOGS/actions-$port.log" "CPS_TOKEN_PRIVATE_KEY ACTION_SERVER_TOKEN" \
      env SANIC_HOST="$HOST" "$PY" -m actions.server --port "$port"
  done
fi

for port in "${rasa_ports[@]}"; do
  run rasa "rasa-$port" "$LOGS/rasa-$port.log" \
    "RASA_AUTH_TOKEN CONVERSATION_KEY ACTION_SERVER_TOKEN CPS_TOKEN_PUBLIC_KEY TRACKER_DB_PASSWORD REDIS_PASSWORD" \
    "$PY" -m bot.server \
    run --enable-api --model "$MODEL" --interface "$HOST" --port "$port" \
    --credentials credentials.yml --endpoints "${ENDPOINTS:-$endpoints}" --cors ${CORS_ORIGINS//,/ }
done

# The one public entry point: the page, /socket.io and (with REST_WEBHOOK_TOKEN) the REST webhook.
if [[ -d web ]]; then
  run web web "$LOGS/web.log" "REST_WEBHOOK_TOKEN INSIGHTS_TOKEN${INSIGHTS_TOKEN:+ TRACKER_DB_PASSWORD}" \
    "$PY" -m web --host "$HOST" --port "$WEB_PORT" --rasa-url "http://$HOST:$RASA_PORT"
fi

start_supervisord

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

echo "    supervisor      .venv/bin/supervisorctl -c $SUPERVISOR_CONF status   (restarts: $LOGS/supervisord.log)"
wait "$SUPERVISORD_PID" || true  # it returns only if supervisord stopped by itself
echo "error: supervisord exited; see $LOGS/supervisord.log" >&2
exit 1
