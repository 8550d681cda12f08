# Sourced by scripts/run.sh when more than one Rasa instance or action server
# runs: a private PostgreSQL (tracker store), Redis (lock store) and nginx
# (one address in front of the instances), all on loopback, all under
# $STATE_DIR/scaled, installed from Debian's packages when missing.

SCALED_DIR="$STATE_DIR/scaled"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

install_scaled_packages() {
  if [[ -z "$PG_BIN" ]] || ! command -v redis-server >/dev/null || ! command -v nginx >/dev/null; then
    echo "==> installing postgresql, redis-server and nginx (Debian packages)"
    local sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql redis-server nginx >/dev/null
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
}

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
as_postgres() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# PG_DATA: the cluster's directory; the postgres user must be able to reach it.
# The tracker user has a password (STATE_DIR/postgres.password, or POSTGRES_PASSWORD).
start_postgres() {
  local data="${PG_DATA:-$SCALED_DIR/pg}"
  mkdir -p "$SCALED_DIR"; chmod 711 "$SCALED_DIR"
  secret POSTGRES_PASSWORD postgres.password
  if [[ ! -f "$data/PG_VERSION" ]]; then
    mkdir -p "$data"; [[ $(id -u) -eq 0 ]] && chown postgres "$data"
    local pwfile; pwfile=$(mktemp); printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    [[ $(id -u) -eq 0 ]] && chown postgres "$pwfile"
    as_postgres "$PG_BIN/initdb" -D "$data" -U rasa --auth=scram-sha-256 --pwfile="$pwfile" >/dev/null
    rm -f "$pwfile"
  fi
  export TRACKER_DB_PORT=$(free_port)
  local as_owner=(); [[ $(id -u) -eq 0 ]] && as_owner=(runuser -u postgres --)
  start postgres "$LOGS/postgres.log" "${as_owner[@]}" "$PG_BIN/postgres" -D "$data" \
    -h 127.0.0.1 -p "$TRACKER_DB_PORT" -k "$data"
  for _ in $(seq 60); do
    "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$TRACKER_DB_PORT" -q && break; sleep 0.5
  done
  PGPASSWORD="$POSTGRES_PASSWORD" "$PG_BIN/psql" -h 127.0.0.1 -p "$TRACKER_DB_PORT" -U rasa -d postgres -tAc \
    "select 1 from pg_database where datname='rasa'" | grep -q 1 ||
    PGPASSWORD="$POSTGRES_PASSWORD" "$PG_BIN/createdb" -h 127.0.0.1 -p "$TRACKER_DB_PORT" -U rasa rasa
  export TRACKER_DB_HOST=127.0.0.1 TRACKER_DB_NAME=rasa TRACKER_DB_USER=rasa
  TRACKER_DB_PASSWORD="$POSTGRES_PASSWORD"  # the Rasa instances get it (run.sh)
}

# Redis with a password (STATE_DIR/redis.password, or REDIS_PASSWORD), given in a
# config file read from stdin rather than on the command line.
# run.sh watches a keeper shell, not redis-server: a Redis that stops after it has
# run a while is started again, same port and password, instead of the whole stack
# stopping (meanwhile the channels ask visitors to try again; the Rasa instances
# reconnect by themselves: tests/test_scaled.py). One that fails within
# ten seconds (its port taken, say) still stops the stack.
start_redis() {
  secret REDIS_PASSWORD redis.password
  export REDIS_HOST=127.0.0.1 REDIS_PORT=$(free_port)
  printf 'requirepass %s\n' "$REDIS_PASSWORD" > "$SCALED_DIR/redis.conf"
  start redis "$LOGS/redis.log" bash -c '
    while :; do
      started=$SECONDS
      redis-server "$@"; status=$?
      (( SECONDS - started >= 10 )) || exit "$status"
      echo "==> redis-server exited ($status); starting it again"
    done' redis-keeper "$SCALED_DIR/redis.conf" --bind 127.0.0.1 --port "$REDIS_PORT" \
    --save "" --appendonly no --dir "$SCALED_DIR"
}

# nginx in front of the instances, on loopback behind the support page's server:
# only the channels pass (socket.io sticky by client address, the REST webhook
# round-robin; the Redis lock store keeps each conversation in order). Rasa's
# HTTP API has a listener of its own on RASA_API_PORT for local tools (its
# token still applies). Access logs hold no query strings.
start_nginx() {  # start_nginx "RASA_PORTS..." "ACTION_PORTS..."
  local conf="$SCALED_DIR/nginx.conf" p
  {
    echo "worker_processes 1; pid $SCALED_DIR/nginx.pid; error_log $LOGS/nginx-error.log warn; daemon off;"
    echo "events { worker_connections 1024; }"
    echo "http {"
    echo "  log_format noquery '\$remote_addr [\$time_local] \"\$request_method \$uri\" \$status \$body_bytes_sent';"
    echo "  access_log $LOGS/nginx-access.log noquery;"
    # Bodies and answers stay in memory: nginx's workers (nobody) may not write here.
    echo "  client_body_temp_path $SCALED_DIR/nginx-body; proxy_temp_path $SCALED_DIR/nginx-proxy;"
    echo "  client_body_buffer_size 64k; client_max_body_size 64k; proxy_buffering off;"
    echo "  proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;"
    echo "  map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }"
    echo "  log_format upstreams '\$request_method \$uri \$upstream_addr \$status';"
    echo "  upstream rasa { $(for p in $1; do printf 'server 127.0.0.1:%s; ' "$p"; done)}"
    echo "  upstream rasa_sticky { ip_hash; $(for p in $1; do printf 'server 127.0.0.1:%s; ' "$p"; done)}"
    echo "  upstream actions { $(for p in $2; do printf 'server 127.0.0.1:%s; ' "$p"; done)}"
    echo "  server { listen $HOST:$RASA_PORT;"
    echo "    access_log $LOGS/nginx-upstreams.log upstreams;"
    echo "    location /socket.io/ { proxy_pass http://rasa_sticky; proxy_http_version 1.1;"
    echo "      proxy_set_header Upgrade \$http_upgrade; proxy_set_header Connection \$connection_upgrade;"
    echo "      proxy_set_header Host \$host; proxy_read_timeout 3600s; }"
    echo "    location = /webhooks/rest/webhook { proxy_pass http://rasa; proxy_read_timeout 300s; }"
    echo "    location / { return 404; } }"
    echo "  server { listen $HOST:$RASA_API_PORT; access_log $LOGS/nginx-api.log noquery;"
    echo "    location / { proxy_pass http://rasa; proxy_read_timeout 300s; } }"
    echo "  server { listen $HOST:$ACTIONS_PORT; location / { proxy_pass http://actions; proxy_read_timeout 300s; } }"
    echo "}"
  } > "$conf"
  start nginx "$LOGS/nginx.log" nginx -c "$conf" -p "$SCALED_DIR"
}
