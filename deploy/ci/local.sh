# Local processes for the real scrape (deploy/ci/scrape.sh) and the chaos drills
# (deploy/chaos/*.sh): start, wait for, kill and always clean up `tradepulse serve`/`exec`,
# the fake Binance, Prometheus and a private PostgreSQL and Redis, in one temporary directory.
# Sourced after deploy/ci/lib.sh, never run.
#
# Every process is started by `spawn` and stopped by the EXIT trap (SIGTERM, then SIGKILL after
# 10 s); the private PostgreSQL is stopped with pg_ctl. A watchdog ends the whole script after
# $LOCAL_DEADLINE seconds (default 300), so nothing waits forever. Set KEEP_TMP=1 to keep the
# directory (logs of every process) for a look after a failure; on a failure the tails of the
# logs are printed anyway.

LOCAL_TMP=""
LOCAL_PG_DIR=""
LOCAL_WATCHDOG=""
declare -A LOCAL_PID=()
ROOT="$(pwd)"

# local_init NAME: the temporary directory and the cleanup trap.
local_init() {
  LOCAL_TMP="$(mktemp -d "${TMPDIR:-/tmp}/tradepulse-$1.XXXXXX")"
  # PostgreSQL runs as the postgres user and must reach its data directory below this one.
  chmod 711 "$LOCAL_TMP"
  trap local_cleanup EXIT
  trap 'exit 130' INT
  trap 'log "error: $0 took longer than ${LOCAL_DEADLINE:-300} s (watchdog)"; exit 124' TERM
  local me=$$
  # Polls once a second, so it also ends soon after the script does.
  (
    for _ in $(seq 1 "${LOCAL_DEADLINE:-300}"); do
      sleep 1
      kill -0 "$me" 2>/dev/null || exit 0
    done
    kill -TERM "$me" 2>/dev/null
  ) &
  LOCAL_WATCHDOG=$!
}

local_cleanup() {
  local rc=$?
  [ -n "$LOCAL_WATCHDOG" ] && kill "$LOCAL_WATCHDOG" 2>/dev/null
  local name pid
  for name in "${!LOCAL_PID[@]}"; do
    pid="${LOCAL_PID[$name]}"
    kill -TERM "$pid" 2>/dev/null || true
  done
  for name in "${!LOCAL_PID[@]}"; do
    pid="${LOCAL_PID[$name]}"
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ -n "$LOCAL_PG_DIR" ] && [ -f "$LOCAL_PG_DIR/postmaster.pid" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$LOCAL_PG_DIR" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ "$rc" != 0 ] && [ -n "$LOCAL_TMP" ]; then
    local f
    for f in "$LOCAL_TMP"/*.err "$LOCAL_TMP"/*.log; do
      [ -s "$f" ] || continue
      log "---- tail of $(basename "$f")"
      tail -n 15 "$f" >&2
    done
  fi
  if [ "${KEEP_TMP:-0}" = 1 ]; then
    log "kept $LOCAL_TMP"
  elif [ -n "$LOCAL_TMP" ]; then
    rm -rf "$LOCAL_TMP"
  fi
  exit "$rc"
}

# free_port: a TCP port nobody listens on now (the OS picks it).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# spawn NAME DIR CMD…: runs CMD in DIR in the background, stdout to $LOCAL_TMP/NAME.out and
# stderr to NAME.err (appended: a restarted process keeps one log). Its pid: ${LOCAL_PID[NAME]}.
# STDIN_FD=N spawn …: the process reads fd N as its stdin.
spawn() {
  local name="$1" dir="$2"
  shift 2
  if [ -n "${STDIN_FD:-}" ]; then
    ( cd "$dir" && exec "$@" <&"$STDIN_FD" ) >>"$LOCAL_TMP/$name.out" 2>>"$LOCAL_TMP/$name.err" &
  else
    ( cd "$dir" && exec "$@" </dev/null ) >>"$LOCAL_TMP/$name.out" 2>>"$LOCAL_TMP/$name.err" &
  fi
  LOCAL_PID[$name]=$!
}

# alive NAME: the process runs.
alive() { kill -0 "${LOCAL_PID[$1]}" 2>/dev/null; }

# kill9 NAME: SIGKILL, and wait until it is gone.
kill9() {
  local pid="${LOCAL_PID[$1]}"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "LOCAL_PID[$1]"
}

# stop NAME: SIGTERM (graceful), SIGKILL after 15 s; the exit status in STOP_RC. Call it
# directly, not in $(…): it must wait for its own child.
stop() {
  local pid="${LOCAL_PID[$1]}"
  STOP_RC=0
  kill -TERM "$pid" 2>/dev/null || true
  (
    for _ in $(seq 1 150); do
      sleep 0.1
      kill -0 "$pid" 2>/dev/null || exit 0
    done
    kill -KILL "$pid" 2>/dev/null
  ) &
  local guard=$!
  wait "$pid" 2>/dev/null || STOP_RC=$?
  wait "$guard" 2>/dev/null || true
  unset "LOCAL_PID[$1]"
}

# wait_listen NAME [SECONDS]: the address a tradepulse service prints ("listening on
# http://ADDR"), once it printed it; fails if the process exits first.
wait_listen() {
  local name="$1" secs="${2:-60}" addr=""
  for _ in $(seq 1 $((secs * 10))); do
    addr="$(sed -n 's#.*listening on http://\([0-9.:]*\).*#\1#p' "$LOCAL_TMP/$name.out" | tail -n 1)"
    [ -n "$addr" ] && { echo "$addr"; return 0; }
    alive "$name" || die "$name exited before listening: $(tail -n 5 "$LOCAL_TMP/$name.err")"
    sleep 0.1
  done
  die "$name did not print its address within $secs s"
}

# http_status URL [CURL ARGS…]: the HTTP status (000 if nothing answered), 5 s at most.
http_status() {
  local url="$1"
  shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" || true
}

# wait_status URL WANT SECONDS: polls until URL answers WANT; prints how long it took (s).
wait_status() {
  local url="$1" want="$2" secs="$3" start now
  start="$(date +%s.%N)"
  while :; do
    [ "$(http_status "$url")" = "$want" ] && break
    now="$(date +%s.%N)"
    if awk -v a="$start" -v b="$now" -v s="$secs" 'BEGIN { exit !(b - a > s) }'; then
      die "$url did not answer $want within $secs s (last: $(http_status "$url"))"
    fi
    sleep 0.1
  done
  awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# tradepulse_bins: builds the debug `tradepulse` and `fake-binance` binaries (no-ops when the
# test build made them) unless TRADEPULSE_BIN / FAKE_BINANCE_BIN name binaries. Sets both.
tradepulse_bins() {
  if [ -z "${TRADEPULSE_BIN:-}" ] || [ -z "${FAKE_BINANCE_BIN:-}" ]; then
    cargo build --locked --all-features --quiet -p tradepulse -p tradepulse-fake-binance --bins
  fi
  TRADEPULSE_BIN="${TRADEPULSE_BIN:-$CARGO_TARGET_DIR/debug/tradepulse}"
  FAKE_BINANCE_BIN="${FAKE_BINANCE_BIN:-$CARGO_TARGET_DIR/debug/fake-binance}"
  [ -x "$TRADEPULSE_BIN" ] || die "no tradepulse binary at $TRADEPULSE_BIN"
  [ -x "$FAKE_BINANCE_BIN" ] || die "no fake-binance binary at $FAKE_BINANCE_BIN"
}

# ---- the fake Binance, steered through its stdin ------------------------------------------

FAKE_FD=""
# start_fake: the fake Binance on a free port; sets FAKE_PORT. Commands: fake COMMAND.
start_fake() {
  FAKE_PORT="$(free_port)"
  mkfifo "$LOCAL_TMP/fake.in"
  exec {FAKE_FD}<>"$LOCAL_TMP/fake.in"
  STDIN_FD="$FAKE_FD" spawn fake "$LOCAL_TMP" "$FAKE_BINANCE_BIN" "$FAKE_PORT"
  for _ in $(seq 1 100); do
    grep -q 'stream_url' "$LOCAL_TMP/fake.out" 2>/dev/null && return 0
    alive fake || die "fake-binance exited: $(tail -n 5 "$LOCAL_TMP/fake.err")"
    sleep 0.1
  done
  die "fake-binance did not start within 10 s"
}

# fake COMMAND…: one control command (see crates/venues/binance-fake/src/main.rs); prints the
# answer without its "ok ".
fake() {
  local before after line
  before="$(wc -l <"$LOCAL_TMP/fake.out")"
  echo "$*" >&"$FAKE_FD"
  for _ in $(seq 1 50); do
    after="$(wc -l <"$LOCAL_TMP/fake.out")"
    if [ "$after" -gt "$before" ]; then
      line="$(sed -n "$((before + 1))p" "$LOCAL_TMP/fake.out")"
      case "$line" in
        ok*) echo "${line#ok}" | sed 's/^ //'; return 0 ;;
        *) die "fake-binance: $*: $line" ;;
      esac
    fi
    sleep 0.1
  done
  die "fake-binance did not answer '$*' within 5 s"
}

# exec_config_binance FILE DATABASE_URL [SCHEMA]: an exec config on the fake Binance.
exec_config_binance() {
  local file="$1" db="$2" schema="${3:-}"
  cat >"$file" <<EOF
# Written by deploy/ci/local.sh: tradepulse exec on the fake Binance (127.0.0.1:$FAKE_PORT).
database_url: $db
${schema:+database_schema: $schema}
id_prefix: drill
venue:
  binance:
    connection:
      environment: custom
      rest_url: http://127.0.0.1:$FAKE_PORT
      ws_api_url: ws://127.0.0.1:$FAKE_PORT/ws-api/v3
      stream_url: ws://127.0.0.1:$FAKE_PORT
      recv_window_ms: 5000
      request_timeout_ms: 3000
      ws_timeout_ms: 3000
      reconnect_min_ms: 50
      reconnect_max_ms: 1000
    symbols: [BTCUSDT]
    currency: USDT
    credentials: BINANCE
risk:
  max_order_notional: "100000"
  max_position: "10"
reconciliation:
  interval_ms: 2000
  retry_ms: 200
  lost_after_ms: 1500
auth:
  tokens:
    - { name: drill, role: admin, secret: TRADEPULSE_EXEC_TOKEN }
http: { request_timeout_ms: 5000, submit_wait_ms: 2000 }
shutdown: { grace_ms: 5000, cancel_open_orders: false }
EOF
}

# The fake's key is Binance's documented example HMAC key (not a secret).
fake_credentials() {
  export BINANCE_API_KEY=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A
  export BINANCE_SECRET_KEY=NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j
}

# ---- the exec's API ---------------------------------------------------------------------

# new_token: a random bearer token in TRADEPULSE_EXEC_TOKEN (the configs read it from there).
new_token() {
  TRADEPULSE_EXEC_TOKEN="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  export TRADEPULSE_EXEC_TOKEN
}

# api METHOD BASE PATH [JSON]: the exec API with the token; prints "STATUS BODY".
api() {
  local method="$1" base="$2" path="$3" body="${4:-}" out status
  out="$(mktemp "$LOCAL_TMP/api.XXXXXX")"
  status="$(curl -s -o "$out" -w '%{http_code}' --max-time 10 -X "$method" \
    -H "Authorization: Bearer $TRADEPULSE_EXEC_TOKEN" -H 'Content-Type: application/json' \
    ${body:+-d "$body"} "http://$base$path" || true)"
  echo "$status $(cat "$out")"
  rm -f "$out"
}

# market_order ID SIDE QTY INSTRUMENT: the JSON of a market order.
market_order() {
  printf '{"client_order_id":"%s","instrument":"%s","side":"%s","type":"market","quantity":"%s"}' "$1" "$4" "$2" "$3"
}

# ---- a private PostgreSQL and Redis (never the shared ones on 5432/6379) ----------------

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
# private_postgres: initdb + start on a free port in $LOCAL_TMP/pg (as the postgres user,
# trust auth, fsync off: a drill, not a benchmark); sets PG_PORT and PG_URL (database drill).
private_postgres() {
  [ -x "$PG_BIN/initdb" ] || die "no initdb in $PG_BIN (apt-get install postgresql-15)"
  LOCAL_PG_DIR="$LOCAL_TMP/pg"
  PG_PORT="$(free_port)"
  install -d -o postgres -g postgres -m 700 "$LOCAL_PG_DIR"
  install -o postgres -g postgres -m 644 /dev/null "$LOCAL_TMP/pg.log"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$LOCAL_PG_DIR" -A trust -U postgres -E UTF8 --no-sync >"$LOCAL_TMP/pg-initdb.log" 2>&1 \
    || die "initdb failed: $(tail -n 5 "$LOCAL_TMP/pg-initdb.log")"
  pg_start
  runuser -u postgres -- "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc 'CREATE DATABASE drill' >/dev/null
  PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/drill"
}

pg_start() {
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$LOCAL_PG_DIR" -l "$LOCAL_TMP/pg.log" -w -t 30 \
    -o "-p $PG_PORT -k $LOCAL_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
}

# pg_stop MODE: fast (clean shutdown, connections closed) or immediate (as a crash).
pg_stop() {
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$LOCAL_PG_DIR" -m "$1" -w -t 30 stop >/dev/null
}

# private_redis: redis-server on a free port with an append-only file fsynced every write (the
# stream must survive a restart); sets REDIS_PORT and REDIS_URL.
private_redis() {
  need_cmd redis-server redis-server
  need_cmd redis-cli redis-tools
  REDIS_PORT="$(free_port)"
  mkdir -p "$LOCAL_TMP/redis"
  redis_start
  REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
}

redis_start() {
  spawn redis "$LOCAL_TMP/redis" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
    --dir "$LOCAL_TMP/redis" --appendonly yes --appendfsync always --save ""
  for _ in $(seq 1 100); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "redis-server did not answer on $REDIS_PORT within 10 s"
}

rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
