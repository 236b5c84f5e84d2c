#!/usr/bin/env bash
# Issue 13 point 10: the core service's read endpoints under load from a second process
# (Debian's `wrk`). Starts `tradepulse serve` on the shipped S&P 500 bars replayed at full speed
# through sma_cross (in-process engine, sim venue, a fresh SQLite store, no rate limit), waits
# until the replay is over (so the store holds the session's orders, fills and equity series),
# then loads each read endpoint for DURATION with CONNECTIONS connections and prints wrk's
# throughput and latency percentiles.
#
#   deploy/bench/core_read.sh [path/to/tradepulse]          # default: target/release/tradepulse
#   DURATION=20s CONNECTIONS=32 THREADS=1 deploy/bench/core_read.sh
#
# Run from the repository root. Needs `wrk` (apt-get install wrk) and `curl`.
set -euo pipefail

BIN="${1:-${CARGO_TARGET_DIR:-target}/release/tradepulse}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-1}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release)" >&2; exit 2; }

work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(( 20000 + RANDOM % 20000 ))
token="bench-read-token-$RANDOM$RANDOM"
cat > "$work/core.yaml" <<YAML
environment: paper
listen: 127.0.0.1:$port
database_url: sqlite://$work/core.db
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
  replay:
    - { instrument: SPX.SIM, path: data/spx_1d.csv, timestamp: auto, speed: max }
strategies:
  - name: sma-spx
    instrument: SPX.SIM
    strategy: { kind: sma_cross, params: { fast: 10, slow: 50, size: { units: 1 } } }
risk: { max_position: 100000 }
auth:
  tokens:
    - { name: bench, role: viewer, secret: BENCH_TOKEN }
equity_interval_ms: 100
YAML
BENCH_TOKEN="$token" TRADEPULSE_LOG=warn "$BIN" serve --config "$work/core.yaml" >"$work/serve.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$port"
auth="Authorization: Bearer $token"
for _ in $(seq 1 600); do
  bars="$(curl -sf -H "$auth" "$base/v1/strategies" | grep -o '"bars":[0-9]*' | cut -d: -f2 || true)"
  [ "${bars:-0}" -ge 5031 ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done
[ "${bars:-0}" -ge 5031 ] || { echo "the replay did not finish" >&2; exit 1; }
sleep 1  # the last fills and equity points are written

echo "tradepulse serve ($("$BIN" --version)), wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores"
printf '%-26s %10s %9s %9s %9s %9s %8s\n' endpoint "req/s" p50 p90 p99 max errors
for path in /v1/status /v1/strategies /v1/positions /v1/balances "/v1/orders?limit=100" \
            "/v1/fills?limit=100" "/v1/equity?limit=100" /v1/kill-switch; do
  out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "$auth" "$base$path")"
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
  p90="$(awk '$1=="90%" {print $2}' <<<"$out")"
  p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
  max="$(awk '$1=="Latency" {print $4}' <<<"$out")"
  errors="$(awk '/Non-2xx or 3xx responses/ {print $5}' <<<"$out")"
  errors="${errors:-0}"
  printf '%-26s %10s %9s %9s %9s %9s %8s\n' "$path" "$rps" "$p50" "$p90" "$p99" "$max" "$errors"
done
