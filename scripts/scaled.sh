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
# A new cluster is made and its database created once, with a server started here
# for the purpose and stopped again; supervisord runs the server itself (group stores),
# stopped with SIGINT (PostgreSQL's fast shutdown: SIGTERM would wait for every
# client to leave, and the Rasa servers keep their pools open).
start_postgres() {
  local data="${PG_DATA:-$SCALED_DIR/pg}"
  mkdir -p "$SCALED_DIR"; chmod 711 "$SCALED_DIR"
  secret POSTGRES_PASSWORD postgres.password
  export TRACKER_DB_PORT=$(free_port)
  if [[ ! -f "$data/.rasa-database" ]]; then
    if [[ ! -f "$data/PG_VERSION" ]]; then
      mkdir -p "$data"; [[ $(id -u) -eq 0 ]] && chown postgres "$data"
      local pwfile; pwfile=$(mktemp); printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
      [[ $(id -u) -eq 0 ]] && chown postgres "$pwfile"
      as_postgres "$PG_BIN/initdb" -D "$data" -U rasa --auth=scram-sha-256 --pwfile="$pwfile" >/dev/null
      rm -f "$pwfile"
    fi
    as_postgres "$PG_BIN/pg_ctl" -D "$data" -w -s -l "$data/setup.log" \
      -o "-h 127.0.0.1 -p $TRACKER_DB_PORT -k $data" start
    PGPASSWORD="$POSTGRES_PASSWORD" "$PG_BIN/psql" -h 127.0.0.1 -p "$TRACKER_DB_PORT" -U rasa -d postgres -tAc \
      "select 1 from pg_database where datname='rasa'" | grep -q 1 ||
      PGPASSWORD="$POSTGRES_PASSWORD" "$PG_BIN/createdb" -h 127.0.0.1 -p "$TRACKER_DB_PORT" -U rasa rasa
    as_postgres "$PG_BIN/pg_ctl" -D "$data" -w -s -m fast stop
    as_postgres touch "$data/.rasa-database"
  fi
  local server=("$PG_BIN/postgres" -D "$data" -h 127.0.0.1 -p "$TRACKER_DB_PORT" -k "$data")
  # As the cluster's owner, in the same process (setpriv execs; runuser would fork and
  # leave postgres running if it were killed).
  [[ $(id -u) -eq 0 ]] && server=(setpriv --reuid=postgres --regid=postgres --init-groups -- "${server[@]}")
  STOP_SIGNAL=INT run stores postgres "$LOGS/postgres.log" "" "${server[@]}"
  export TRACKER_DB_HOST=127.0.0.1 TRACKER_DB_NAME=rasa TRACKER_DB_USER=rasa
  TRACKER_DB_PASSWORD="$POSTGRES_PASSWORD"  # the Rasa instances get it (run.sh)
}

# Redis with a password (STATE_DIR/redis.password, or REDIS_PASSWORD), given in a
# config file rather than on the command line. While it is down (supervisord starts
# it again) the channels ask visitors to try again; the Rasa instances reconnect by
# themselves (tests/test_scaled.py).
start_redis() {
  secret REDIS_PASSWORD redis.password
  export REDIS_HOST=127.0.0.1 REDIS_PORT=$(free_port)
  printf 'requirepass %s\n' "$REDIS_PASSWORD" > "$SCALED_DIR/redis.conf"
  run stores redis "$LOGS/redis.log" "" redis-server "$SCALED_DIR/redis.conf" --bind 127.0.0.1 \
    --port "$REDIS_PORT" --save "" --appendonly no --dir "$SCALED_DIR"
}

# nginx in front of the instances, on loopback behind the support page's server
# (supervised, group stores):
# only the channels pass (socket.io sticky by client address, the REST webhook
# round-robin; the Redis lock store keeps each conversation in order). Rasa's
# HTTP API has a listener of its own on RASA_API_PORT for local tools (its
# token still applies). Access logs hold no query strings.
# Passive health checks: an instance that refused a connection is left out for 5 s
# (a killed one while supervisord starts it again), then tried again.
servers() { local p; for p in "$@"; do printf 'server 127.0.0.1:%s max_fails=1 fail_timeout=5s; ' "$p"; done; }

start_nginx() {  # start_nginx "RASA_PORTS..." "ACTION_PORTS..."
  local conf="$SCALED_DIR/nginx.conf" p
  {
    # One process, no master: a master killed with SIGKILL would leave its worker behind holding
    # the ports, and supervisord could not start nginx again (bench/soak.py found it).
    echo "master_process off; pid $SCALED_DIR/nginx.pid; error_log $LOGS/nginx-error.log warn; daemon off;"
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
    echo "  upstream rasa { $(servers $1)}"
    echo "  upstream rasa_sticky { ip_hash; $(servers $1)}"
    echo "  upstream actions { $(servers $2)}"
    # A request that cannot reach an instance (refused, or no connection within 2 s) goes to the
    # next one; an answer cut off mid-way does not (a turn must not run twice).
    echo "  proxy_connect_timeout 2s; proxy_next_upstream error timeout;"
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
  run stores nginx "$LOGS/nginx.log" "" nginx -c "$conf" -p "$SCALED_DIR"
}
