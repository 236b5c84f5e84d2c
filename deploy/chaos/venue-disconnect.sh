#!/usr/bin/env bash
# Chaos drill: drop the venue connection (every WebSocket to Binance, reconnects refused).
#
#   deploy/chaos/venue-disconnect.sh            (KEEP_TMP=1 keeps the logs, OUTAGE=S)
#
# Setup (all local, private): the fake Binance, a private PostgreSQL with the exec's journal,
# `tradepulse exec` on both. Market orders fill, a limit buy rests below the market. Then the
# fake Binance closes every WebSocket (the user-data stream that brings execution reports, the
# market streams) and refuses new ones for $OUTAGE s (default 5). During the outage another
# participant sells into the resting buy — its execution report has no connection to travel on —
# and the client sends market orders (REST still works). Then WebSockets are accepted again.
#
# What must hold, and how it is verified:
# - no lost fill: the fill made while disconnected is booked after the reconnect (the order
#   is `filled` in GET /v1/orders/ID) and the exec's BTC and USDT equal the venue's;
# - the user-data stream comes back (the fake counts an active subscription again);
# - orders sent during the outage are answered (filled through REST, or refused with a reason:
#   never lost), and none is at the venue twice;
# - the venue's published request-weight limit is exported
#   (tradepulse_venue_request_weight_limit, from exchangeInfo);
# - `tradepulse verify --exec` passes.
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/chaos/lib.sh

OUTAGE="${OUTAGE:-5}"
drill_setup venue-disconnect
ids=()
fill_orders v 3
read -r s body <<<"$(api POST "$EXEC" /v1/orders '{"client_order_id":"v-rest","instrument":"BTCUSDT.BINANCE","side":"buy","type":"limit","quantity":"0.002","price":"49000"}')"
case "$s" in 200|201) ;; *) die "resting limit order: HTTP $s $body" ;; esac
ids+=(v-rest)
read -r subs _ <<<"$(fake subscriptions)"
log "resting buy 0.002 @ 49000 placed; user-data subscriptions: $subs"

step "chaos: drop every WebSocket, refuse reconnects for $OUTAGE s"
fake refuse on >/dev/null
fake drop >/dev/null
filled="$(fake take BTCUSDT sell 49000 0.002)"
log "during the outage another participant sold $filled into the resting buy"
during=()
for i in 4 5; do
  ids+=("v-$i")
  during+=("v-$i $(submit "v-$i" buy 0.001)")
done
log "orders during the outage: ${during[*]}"
ready_during="$(http_status "http://$EXEC/readyz")"
sleep "$OUTAGE"
read -r subs _ <<<"$(fake subscriptions)"
log "after $OUTAGE s: /readyz $ready_during during the outage, user-data subscriptions now $subs"

step "chaos: WebSockets accepted again"
fake refuse off >/dev/null
back_at="$(date +%s.%N)"
state=""
for _ in $(seq 1 200); do
  read -r s body <<<"$(api GET "$EXEC" /v1/orders/v-rest)"
  state="$(json_field "d['status'] + ' ' + d['filled_quantity']" <<<"$body" 2>/dev/null || echo "?")"
  case "$state" in filled*) break ;; esac
  sleep 0.1
done
took="$(awk -v a="$back_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
case "$state" in
  filled*) holds "no lost fill: the fill made while disconnected is booked (v-rest: $state, ${took} s after reconnects were allowed)" ;;
  *) fails "the fill made while disconnected is not booked 20 s later (v-rest: $state)" ;;
esac
subs=0
for _ in $(seq 1 100); do
  read -r subs _ <<<"$(fake subscriptions)"
  [ "$subs" -ge 1 ] && break
  sleep 0.1
done
[ "$subs" -ge 1 ] && holds "the user-data stream is subscribed again ($subs subscription)" || fails "no user-data subscription 10 s after reconnects were allowed"
lost=0
for entry in "${during[@]}"; do
  read -r id s <<<"$entry"
  case "$s" in 2??|4??|503) ;; *) lost=$((lost + 1)) ;; esac
done
[ "$lost" = 0 ] && holds "every order sent during the outage was answered (${during[*]})" || fails "orders during the outage without an answer: ${during[*]}"
check_no_duplicates "${ids[@]}"
check_books_agree 20
limit="$(curl -s --max-time 5 "http://$EXEC/metrics" | grep '^tradepulse_venue_request_weight_limit{' || true)"
[ -n "$limit" ] && holds "request-weight limit exported: $limit" || fails "no tradepulse_venue_request_weight_limit series"
check_verify
drill_end venue-disconnect
