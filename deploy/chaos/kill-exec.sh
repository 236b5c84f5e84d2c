#!/usr/bin/env bash
# Chaos drill: kill -9 the execution engine in the middle of an order stream.
#
#   deploy/chaos/kill-exec.sh            (KEEP_TMP=1 keeps the logs)
#
# Setup (all local, private): the fake Binance, a private PostgreSQL holding the exec's journal,
# `tradepulse exec` on both. A client sends market orders one after the other; after a few the
# exec is killed with SIGKILL (no shutdown, whatever was in flight), restarted, and the client
# re-sends every order it sent, with the same client order ids (what a client does when it
# cannot tell whether its request arrived).
#
# What must hold, and how it is verified:
# - readiness recovers: /readyz answers 200 again (journal restored, venue reconciled); the time
#   is printed;
# - no duplicate order: every client order id is at the venue at most once (asked of the fake
#   Binance itself), although some were sent twice;
# - every re-sent order is answered with its order (HTTP 200 or 201), none refused;
# - no lost fill: the exec's BTC and USDT equal the venue's balances (every venue trade booked
#   once);
# - `tradepulse verify --exec` passes.
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/chaos/lib.sh

drill_setup kill-exec
ids=()
fill_orders k 5

step "chaos: orders in flight, then kill -9 the exec"
(
  for i in $(seq 6 40); do
    echo "k-$i $(submit "k-$i" buy 0.001)"
  done
) >"$LOCAL_TMP/stream.txt" 2>&1 &
stream=$!
for _ in $(seq 1 100); do
  [ "$(wc -l <"$LOCAL_TMP/stream.txt")" -ge 8 ] && break
  sleep 0.05
done
kill9 exec
killed_at="$(date +%s.%N)"
wait "$stream" || true
sent="$(wc -l <"$LOCAL_TMP/stream.txt")"
answered="$(grep -c ' 20[01]$' "$LOCAL_TMP/stream.txt" || true)"
log "killed after $answered of $sent streamed orders were answered (the rest hit a dead port)"
for i in $(seq 6 40); do ids+=("k-$i"); done

step "chaos: restart the exec"
drill_exec_start
ready_after="$(awk -v a="$killed_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
holds "readiness recovers: /readyz 200 ${ready_after} s after the kill (restart included)"

step "chaos: the client re-sends every order with the same id"
bad=0
for id in "${ids[@]}"; do
  s="$(submit "$id" buy 0.001)"
  case "$s" in 200|201) ;; *) bad=$((bad + 1)); log "re-send $id: HTTP $s" ;; esac
done
[ "$bad" = 0 ] && holds "all ${#ids[@]} re-sent orders answered 200/201 (the known ones are not sent again)" \
  || fails "$bad re-sent orders were refused"
check_no_duplicates "${ids[@]}"
check_books_agree 20
check_verify
drill_end kill-exec
