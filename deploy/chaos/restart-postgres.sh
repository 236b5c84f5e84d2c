#!/usr/bin/env bash
# Chaos drill: restart PostgreSQL under the execution engine.
#
#   deploy/chaos/restart-postgres.sh            (KEEP_TMP=1 keeps the logs, OUTAGE=S)
#
# Setup (all local, private): the fake Binance, a private PostgreSQL (initdb in the temporary
# directory, its own port: never the shared server) holding the exec's journal, `tradepulse
# exec` on both. Orders fill; PostgreSQL is stopped (fast shutdown: every connection closed),
# orders are sent during the $OUTAGE s (default 5) outage, PostgreSQL is started again, orders
# are sent after it.
#
# What must hold, and how it is verified:
# - nothing leaves without the journal: an order the exec could not journal is refused
#   (STORE_UNAVAILABLE), and no refused order reached the venue (asked of the fake Binance);
# - readiness shows the outage and recovers: /readyz is not 200 while PostgreSQL is down, and
#   200 again after it is back (the time is printed); the process does not exit;
# - orders after the restart fill (HTTP 201);
# - no duplicate order at the venue, no lost fill (the exec's BTC and USDT equal the venue's);
# - `tradepulse verify --exec` passes.
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/chaos/lib.sh

OUTAGE="${OUTAGE:-5}"
drill_setup restart-postgres
ids=()
fill_orders p 5

step "chaos: PostgreSQL down for $OUTAGE s"
pg_stop fast
down_at="$(date +%s.%N)"
refused=(); accepted=()
ready_during=""
for i in $(seq 6 10); do
  ids+=("p-$i")
  s="$(submit "p-$i" buy 0.001)"
  case "$s" in 200|201) accepted+=("p-$i") ;; *) refused+=("p-$i") ;; esac
  ready_during="$ready_during $(http_status "http://$EXEC/readyz")"
done
log "during the outage: ${#refused[@]} orders refused, ${#accepted[@]} accepted; /readyz:$ready_during"
remaining="$(awk -v a="$down_at" -v b="$(date +%s.%N)" -v o="$OUTAGE" 'BEGIN { r = o - (b - a); print (r > 0 ? r : 0) }')"
sleep "$remaining"
alive exec && holds "the exec process stayed up through the outage" || fails "the exec exited during the outage"
case "$ready_during" in
  *200*) fails "/readyz answered 200 while PostgreSQL was down:$ready_during" ;;
  *) holds "/readyz shows the outage (answers:$ready_during)" ;;
esac
leaked=0
for id in "${refused[@]}"; do
  read -r n _ <<<"$(fake orders "$id")"
  [ "$n" = 0 ] || leaked=$((leaked + 1))
done
[ "$leaked" = 0 ] && holds "nothing left without the journal: none of the ${#refused[@]} refused orders reached the venue" \
  || fails "$leaked orders refused by the exec are at the venue"

step "chaos: PostgreSQL up again"
pg_start
up_at="$(date +%s.%N)"
wait_status "http://$EXEC/readyz" 200 60 >/dev/null
took="$(awk -v a="$up_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
holds "readiness recovers: /readyz 200 ${took} s after PostgreSQL came back"
bad=0
for i in $(seq 11 15); do
  ids+=("p-$i")
  [ "$(submit "p-$i" buy 0.001)" = 201 ] || bad=$((bad + 1))
done
[ "$bad" = 0 ] && holds "the 5 orders after the restart filled (HTTP 201)" || fails "$bad orders after the restart were not filled"
check_no_duplicates "${ids[@]}"
check_books_agree 20
check_verify
drill_end restart-postgres
