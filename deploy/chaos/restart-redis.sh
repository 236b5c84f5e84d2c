#!/usr/bin/env bash
# Chaos drill: restart Redis under the core service's market-data feed.
#
#   deploy/chaos/restart-redis.sh            (KEEP_TMP=1 keeps the logs)
#
# Setup (all local, private): a private redis-server (append-only file, fsync always: the
# stream outlives a restart, as a production Redis with persistence does) and `tradepulse serve`
# reading completed bars of SPX.SIM from its stream through a consumer group (sma_cross, the
# in-process simulated venue, SQLite in the temporary directory). 300 bars of data/spx_1d.csv
# are published and consumed; then Redis is shut down, stays down for $OUTAGE seconds (default 5),
# is started again, and the next 300 bars are published.
#
# What must hold, and how it is verified:
# - the feed survives the outage: the bars published after the restart reach the strategy (its
#   bar count, GET /v1/strategies/NAME, reaches 600 within 30 s), each exactly once (not more
#   than 600), and the group has nothing pending (XPENDING: every entry acknowledged);
# - the core stays alive and ready: /healthz and /readyz 200 after the restart;
# - the outage is visible: tradepulse_log_messages_total{level="warn"|"error"} rose;
# - `tradepulse verify --core` passes.
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/chaos/lib.sh

OUTAGE="${OUTAGE:-5}"
tradepulse_bins
LOCAL_DEADLINE=240 local_init chaos-restart-redis
new_token
private_redis
log "private Redis :$REDIS_PORT ($LOCAL_TMP)"
cat >"$LOCAL_TMP/core.yaml" <<YAML
# Written by deploy/chaos/restart-redis.sh.
environment: paper
database_url: sqlite://$LOCAL_TMP/core.db
id_prefix: drill
execution:
  in_process:
    venue:
      sim:
        currency: USD
        opening_cash: "1000000"
        instruments:
          - { symbol: SPX, venue: SIM, quote_currency: USD, tick_size: "0.000001", lot_size: "1", min_notional: "0" }
        execution: { fill_model: close, taker_fee_bps: "10" }
market_data:
  redis: { url: "$REDIS_URL", key_prefix: drill, stream: bars, group: core, consumer: drill }
strategies:
  - name: sma-spx
    instrument: SPX.SIM
    strategy:
      kind: sma_cross
      params: { fast: 10, slow: 50, size: { equity_fraction: 0.95 }, direction: long_only }
risk: { max_position: 100000, max_order_notional: 2000000 }
auth:
  tokens:
    - { name: drill, role: admin, secret: TRADEPULSE_EXEC_TOKEN }
YAML

# publish FIRST LAST: bars FIRST..LAST (1-based data rows) of data/spx_1d.csv onto the stream.
publish() {
  python3 - "$1" "$2" <<'PY' | rcli --pipe >/dev/null
import csv, datetime, json, sys
first, last = int(sys.argv[1]), int(sys.argv[2])
rows = list(csv.DictReader(open("data/spx_1d.csv")))[first - 1:last]
def resp(*args):
    out = f"*{len(args)}\r\n"
    for a in args:
        b = a.encode()
        out += f"${len(b)}\r\n{a}\r\n"
    return out
for r in rows:
    ts = r.get("ts") or r.get("timestamp") or r.get("date")
    t = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    msg = {"instrument": "SPX.SIM", "ts_ns": int(t.timestamp()) * 1_000_000_000,
           "open": r["open"], "high": r["high"], "low": r["low"], "close": r["close"],
           "volume": float(r["volume"])}
    sys.stdout.write(resp("XADD", "drill:stream:bars", "*", "d", json.dumps(msg)))
PY
}

core_get() {
  curl -s --max-time 5 -H "Authorization: Bearer $TRADEPULSE_EXEC_TOKEN" "http://$CORE$1"
}
bars_seen() { core_get /v1/strategies/sma-spx | json_field "d['bars']" 2>/dev/null || echo -1; }
wait_bars() {
  local want="$1" secs="$2" n=-1
  for _ in $(seq 1 $((secs * 10))); do
    n="$(bars_seen)"
    [ "$n" -ge "$want" ] && break
    sleep 0.1
  done
  echo "$n"
}
log_count() {
  curl -s --max-time 5 "http://$CORE/metrics" | awk -v l="$1" '$1 == "tradepulse_log_messages_total{level=\"" l "\"}" { print $2 }'
}

step "chaos: the core on the Redis stream, 300 bars"
spawn core "$ROOT" "$TRADEPULSE_BIN" serve --config "$LOCAL_TMP/core.yaml" --listen 127.0.0.1:0
CORE="$(wait_listen core)"
log "core on $CORE, ready after $(wait_status "http://$CORE/readyz" 200 60) s"
publish 1 300
n="$(wait_bars 300 30)"
[ "$n" = 300 ] || die "the core saw $n of the first 300 bars"
warn_before="$(log_count warn)"; error_before="$(log_count error)"

step "chaos: Redis down for $OUTAGE s, then up again"
rcli shutdown >/dev/null 2>&1 || true
for _ in $(seq 1 100); do alive redis || break; sleep 0.1; done
alive redis && die "redis-server did not stop"
unset "LOCAL_PID[redis]"
sleep "$OUTAGE"
redis_start
restarted_at="$(date +%s.%N)"
len="$(rcli xlen drill:stream:bars)"
[ "$len" = 300 ] && holds "the stream survived the restart (XLEN $len, append-only file)" \
  || fails "the stream has $len entries after the restart, not 300"

step "chaos: 300 more bars after the restart"
publish 301 600
n="$(wait_bars 600 30)"
took="$(awk -v a="$restarted_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
if [ "$n" = 600 ]; then
  holds "the feed recovered: the strategy saw all 600 bars, ${took} s after Redis came back"
else
  fails "the feed did not recover: the strategy saw $n of 600 bars 30 s after Redis came back"
fi
sleep 1
n="$(bars_seen)"
[ "$n" -le 600 ] && holds "no bar twice: $n bars seen for 600 published" || fails "$n bars seen for 600 published"
pending="$(rcli xpending drill:stream:bars core | head -n 1)"
[ "$pending" = 0 ] && holds "every entry acknowledged (XPENDING 0)" || fails "XPENDING $pending"
for path in /healthz /readyz; do
  s="$(http_status "http://$CORE$path")"
  [ "$s" = 200 ] && holds "core $path 200 after the outage" || fails "core $path $s after the outage"
done
warn_after="$(log_count warn)"; error_after="$(log_count error)"
log "log lines during the drill: warn $warn_before → $warn_after, error $error_before → $error_after"
if python3 -c "import sys; f = lambda v: float(v or 0); sys.exit(0 if f('$warn_after') + f('$error_after') > f('$warn_before') + f('$error_before') else 1)"; then
  holds "the outage is visible in tradepulse_log_messages_total (warn $warn_before → $warn_after, error $error_before → $error_after)"
else
  fails "no warning or error was logged for the outage"
fi
if out="$("$TRADEPULSE_BIN" verify --core "http://$CORE" --window-secs 2 2>&1)"; then
  holds "tradepulse verify --core passes"
else
  fails "tradepulse verify --core: $(grep -i fail <<<"$out" | head -n 5 | tr '\n' ';')"
fi
printf '%s\n' "$out" | sed 's/^/         /'
drill_end restart-redis
