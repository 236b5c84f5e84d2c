#!/usr/bin/env bash
# Issue 15 point 3, the API side: how long the chart of a 1,000,000-bar backtest run takes
# to answer. Generates the 1M-bar synthetic file (seed 42), stores a run of sma_cross 10/50 on
# it with `tradepulse backtest --database-url` (so the service has to re-run it on the first
# request: the worst case; a run launched over the API is kept in memory already), starts
# `tradepulse serve` on that store, and times with curl: the first whole-run chart (re-run +
# payload), the same again (from memory), and a zoom into a month with `panels=range`.
#
#   deploy/bench/backtest_chart.sh [path/to/tradepulse]     # default: target/release/tradepulse
#
# Run from the repository root. Needs `curl`.
set -euo pipefail

BIN="${1:-${CARGO_TARGET_DIR:-target}/release/tradepulse}"
POINTS="${POINTS:-1500}"
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release)" >&2; exit 2; }
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(( 20000 + RANDOM % 20000 ))

"$BIN" data generate --bars 1000000 --seed 42 --output "$work/rw_1m.csv" >/dev/null 2>&1
sed -e "s|bench-data/rw_1m.csv|$work/rw_1m.csv|" -e "s|reports/bench-sma-1m|$work/report|" \
  configs/bench/sma_1m.yaml > "$work/sma_1m.yaml"
"$BIN" backtest "$work/sma_1m.yaml" --database-url "sqlite://$work/core.db" --quiet
token="$("$BIN" token create --name bench --role viewer --database-url "sqlite://$work/core.db" 2>/dev/null | head -n 1)"
sed -e "s|sqlite://tradepulse-paper.db|sqlite://$work/core.db|" -e "s|127.0.0.1:8080|127.0.0.1:$port|" \
  configs/environments/paper.yaml > "$work/paper.yaml"
"$BIN" serve --config "$work/paper.yaml" > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
chart() {
  curl -s -o "$work/chart.json" -H "Authorization: Bearer $token" \
    -w "$1: HTTP %{http_code}, %{time_total} s, %{size_download} bytes\n" \
    "http://127.0.0.1:$port/v1/backtests/1/chart?$2"
}
chart "first chart, whole run (re-run)" "points=$POINTS"
chart "again (in memory)" "points=$POINTS"
chart "zoom: one month, range panels" "points=$POINTS&panels=range&from=1704067200&to=1706745600"
