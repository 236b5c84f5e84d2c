# Shared by the chaos drills (deploy/chaos/*.sh): the local processes of deploy/ci/local.sh,
# an exec on the fake Binance with its journal in a private PostgreSQL, and the checks every
# drill ends with. Sourced, never run.
. deploy/ci/lib.sh
. deploy/ci/local.sh

DRILL_FAILED=0
# holds WHAT: a property the drill verified; fails WHAT: one it did not (the drill then exits 1).
holds() { printf '  HOLDS  %s\n' "$*"; }
fails() { printf '  FAILS  %s\n' "$*"; DRILL_FAILED=1; }
drill_end() {
  if [ "$DRILL_FAILED" = 0 ]; then
    printf 'drill %s: passed\n' "$1"
  else
    printf 'drill %s: FAILED\n' "$1"
    exit 1
  fi
}

# drill_exec_start: `tradepulse exec` on the fake Binance and $PG_URL at 127.0.0.1:$EXEC_PORT
# (fixed across restarts); EXEC is its address, EXEC_READY_AFTER how long readiness took (s).
# Call it directly, not in $(…) (the process must be the script's child).
drill_exec_start() {
  spawn exec "$LOCAL_TMP" "$TRADEPULSE_BIN" exec --config "$LOCAL_TMP/exec.yaml" --listen "127.0.0.1:$EXEC_PORT"
  EXEC="127.0.0.1:$EXEC_PORT"
  EXEC_READY_AFTER="$(wait_status "http://$EXEC/readyz" 200 60)"
}

# drill_setup NAME: binaries, temp dir, token, the fake Binance, a private PostgreSQL, the
# exec config, the exec started and ready.
drill_setup() {
  tradepulse_bins
  LOCAL_DEADLINE="${LOCAL_DEADLINE:-300}" local_init "chaos-$1"
  new_token
  fake_credentials
  start_fake
  private_postgres
  EXEC_PORT="$(free_port)"
  exec_config_binance "$LOCAL_TMP/exec.yaml" "$PG_URL"
  log "fake Binance :$FAKE_PORT, private PostgreSQL :$PG_PORT, exec :$EXEC_PORT ($LOCAL_TMP)"
  drill_exec_start
  log "exec ready after $EXEC_READY_AFTER s"
}

# submit ID SIDE QTY: a marketable limit order on BTCUSDT.BINANCE (a buy at 50,010 crosses the
# fake's asks from 50,000, a sell at 49,980 its bids from 49,990: it fills at once; the exec
# prices market orders from the market streams, which the fake only sends when told to);
# prints the HTTP status.
submit() {
  local status _body price=50010
  [ "$2" = sell ] && price=49980
  read -r status _body <<<"$(api POST "$EXEC" /v1/orders "$(printf '{"client_order_id":"%s","instrument":"BTCUSDT.BINANCE","side":"%s","type":"limit","price":"%s","quantity":"%s"}' "$1" "$2" "$price" "$3")")"
  echo "$status"
}

# fill_orders PREFIX N: N marketable buys PREFIX-1…PREFIX-N that must fill (HTTP 201), their
# ids appended to the array `ids`.
fill_orders() {
  local i
  for i in $(seq 1 "$2"); do
    ids+=("$1-$i")
    [ "$(submit "$1-$i" buy 0.001)" = 201 ] || die "order $1-$i was not filled"
  done
}

# json_field PY-EXPR: evaluates PY-EXPR over the JSON on stdin (as `d`).
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# exec_balance ASSET: the exec's total of ASSET (/v1/balances).
exec_balance() {
  local status body
  read -r status body <<<"$(api GET "$EXEC" /v1/balances)"
  [ "$status" = 200 ] || { echo "HTTP-$status"; return 0; }
  json_field "next((b['total'] for b in (d if isinstance(d, list) else d.get('balances', [])) if b['asset'] == '$1'), '0')" <<<"$body"
}

# venue_balance ASSET: free + locked at the fake Binance.
venue_balance() {
  local free locked
  read -r free locked <<<"$(fake balance "$1")"
  python3 -c "from decimal import Decimal as D; print(D('$free') + D('$locked'))"
}

# check_no_duplicates ID…: every client order id exists at most once at the venue.
check_no_duplicates() {
  local id n status worst=0 missing=0 count=0
  for id in "$@"; do
    read -r n status <<<"$(fake orders "$id")"
    count=$((count + 1))
    [ "$n" -gt "$worst" ] && worst="$n"
    [ "$n" = 0 ] && missing=$((missing + 1))
  done
  if [ "$worst" -le 1 ]; then
    holds "no duplicate order: each of the $count client order ids is at the venue at most once ($missing never reached it)"
  else
    fails "duplicate order: a client order id is at the venue $worst times"
  fi
}

# check_books_agree SECONDS: the exec's BTC and USDT equal the venue's (every venue trade booked
# once: no lost and no doubled fill), waiting up to SECONDS for reconciliation.
check_books_agree() {
  local secs="$1" e_btc v_btc e_usdt v_usdt trades
  for _ in $(seq 1 $((secs * 2))); do
    e_btc="$(exec_balance BTC)"; v_btc="$(venue_balance BTC)"
    e_usdt="$(exec_balance USDT)"; v_usdt="$(venue_balance USDT)"
    if python3 -c "from decimal import Decimal as D; import sys; sys.exit(0 if D('$e_btc') == D('$v_btc') and D('$e_usdt') == D('$v_usdt') else 1)" 2>/dev/null; then
      read -r trades _ <<<"$(fake trades BTCUSDT)"
      holds "no lost fill: exec books BTC $e_btc and USDT $e_usdt = the venue's after $trades venue trades"
      return 0
    fi
    sleep 0.5
  done
  fails "books differ after $secs s: exec BTC $e_btc USDT $e_usdt, venue BTC $v_btc USDT $v_usdt"
}

# check_verify: `tradepulse verify --exec` passes (health, readiness, metrics, SLO, rejects,
# errors, kill switch, reconciliation).
check_verify() {
  local out
  if out="$("$TRADEPULSE_BIN" verify --exec "http://$EXEC" --window-secs 2 --slo-p99-ms 250 2>&1)"; then
    holds "tradepulse verify --exec passes"
  else
    fails "tradepulse verify --exec: $(grep -i fail <<<"$out" | head -n 5 | tr '\n' ';')"
  fi
  printf '%s\n' "$out" | sed 's/^/         /'
}
