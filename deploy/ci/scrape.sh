#!/usr/bin/env bash
# CI: the real scrape (issue 14, point 5).
#
#   deploy/ci/scrape.sh            (TRADEPULSE_BIN=… to use a built binary, KEEP_TMP=1 to keep logs)
#
# Starts `tradepulse serve --config configs/environments/paper.yaml` and `tradepulse exec
# --config configs/exec/sim.yaml` (free ports, fresh SQLite files in a temporary directory, the
# exec token from the environment) and a real Prometheus (Debian's `prometheus`) with the
# shipped deploy/prometheus/prometheus.local.yml and its rules, only the two targets rewritten
# to the services' ports. Submits orders to the exec (market orders that fill, one refused by
# risk), waits until Prometheus has scraped them, then asserts:
# - `contract.py live`: health and readiness answer 200, and each service exports every name of
#   deploy/metrics.toml meant for it with exactly the declared labels;
# - `contract.py scrape`, through Prometheus's HTTP API: every target up (`up == 1`), the key
#   series with the values these orders give, a series for every exported name, every rule
#   evaluating without error.
# Everything started is stopped on exit (trap), and a watchdog ends the script after 240 s.
# The debug binary is the one the test step built (a no-op build here); a cold run compiles it.
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/ci/lib.sh
. deploy/ci/local.sh

need_cmd prometheus prometheus
need_cmd curl curl
py="$(deploy_python)"
ORDERS="${SCRAPE_ORDERS:-20}"

step "scrape: binaries"
tradepulse_bins
log "$("$TRADEPULSE_BIN" --version), $(prometheus --version 2>&1 | head -n 1)"
LOCAL_DEADLINE=240 local_init scrape
new_token

step "scrape: start tradepulse serve (paper) and tradepulse exec (sim)"
mkdir -p "$LOCAL_TMP/exec"
# The core reads data/spx_1d.csv relative to the working directory: the repository root; its
# SQLite file goes to the temporary directory. The exec's config names only a relative SQLite
# file, so it runs in its own directory.
spawn core "$ROOT" "$TRADEPULSE_BIN" serve --config configs/environments/paper.yaml \
  --listen 127.0.0.1:0 --database-url "sqlite://$LOCAL_TMP/core.db"
spawn exec "$LOCAL_TMP/exec" "$TRADEPULSE_BIN" exec --config "$ROOT/configs/exec/sim.yaml" --listen 127.0.0.1:0
core="$(wait_listen core)"
exec_addr="$(wait_listen exec)"
log "core on $core, exec on $exec_addr"
log "core ready after $(wait_status "http://$core/readyz" 200 60) s, exec ready after $(wait_status "http://$exec_addr/readyz" 200 60) s"

step "scrape: Prometheus with the shipped local config, targets rewritten"
prom_port="$(free_port)"
mkdir -p "$LOCAL_TMP/prometheus"
cp -r deploy/prometheus/rules "$LOCAL_TMP/prometheus/"
"$py" - deploy/prometheus/prometheus.local.yml "$LOCAL_TMP/prometheus/prometheus.yml" "$core" "$exec_addr" <<'PY'
import sys, yaml
src, dst, core, exec_ = sys.argv[1:]
cfg = yaml.safe_load(open(src))
targets = {"tradepulse-core": core, "tradepulse-exec": exec_}
jobs = {sc["job_name"] for sc in cfg["scrape_configs"]}
assert jobs == set(targets), f"prometheus.local.yml has jobs {sorted(jobs)}, expected {sorted(targets)}"
for sc in cfg["scrape_configs"]:
    for static in sc["static_configs"]:
        static["targets"] = [targets[sc["job_name"]]]
yaml.safe_dump(cfg, open(dst, "w"), sort_keys=False)
PY
promtool check config "$LOCAL_TMP/prometheus/prometheus.yml" >/dev/null
spawn prometheus "$LOCAL_TMP/prometheus" prometheus --config.file=prometheus.yml \
  --storage.tsdb.path=data --web.listen-address="127.0.0.1:$prom_port" --log.level=warn
log "prometheus ready after $(wait_status "http://127.0.0.1:$prom_port/-/ready" 200 60) s"

step "scrape: $ORDERS orders to the exec, one refused by risk"
for i in $(seq 1 "$ORDERS"); do
  side=buy; [ $((i % 2)) = 0 ] && side=sell
  read -r status _ <<<"$(api POST "$exec_addr" /v1/orders "$(market_order "scrape-$i" "$side" 0.01 BTCUSD.SIM)")"
  [ "$status" = 201 ] || die "order scrape-$i: HTTP $status (expected 201)"
done
# 10 BTC at ~50,000 is above risk.max_order_notional (250,000): MAX_ORDER_NOTIONAL.
read -r status body <<<"$(api POST "$exec_addr" /v1/orders "$(market_order scrape-big buy 10 BTCUSD.SIM)")"
case "$body" in
  *MAX_ORDER_NOTIONAL*) log "oversized order refused: HTTP $status" ;;
  *) die "oversized order: HTTP $status $body (expected a MAX_ORDER_NOTIONAL refusal)" ;;
esac

step "scrape: wait for a scrape after the orders (and a trade of the core's strategy)"
query() { curl -s --max-time 5 "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1"; }
seen=""
for _ in $(seq 1 120); do
  seen="$(query "sum(tradepulse_orders_submitted_total{job=\"tradepulse-exec\"}) >= $ORDERS and on() sum(tradepulse_orders_submitted_total{job=\"tradepulse-core\"}) > 0" \
    | "$py" -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["result"]))' 2>/dev/null || echo 0)"
  [ "$seen" = 1 ] && break
  sleep 0.5
done
[ "$seen" = 1 ] || die "Prometheus did not see $ORDERS exec orders and a core order within 60 s"
# One more scrape interval (5 s), so the rules have evaluated on these samples too.
sleep 6

step "scrape: the services against metrics.toml (contract.py live)"
"$py" deploy/ci/contract.py live "http://$core" "http://$exec_addr"

step "scrape: Prometheus's view (contract.py scrape)"
# The simulated venue publishes no rate limits and sends no usage headers.
"$py" deploy/ci/contract.py scrape "http://127.0.0.1:$prom_port" --min-orders "$ORDERS" \
  --no-series tradepulse_venue_request_weight_used,tradepulse_venue_request_weight_limit,tradepulse_canary_limit_breaches_total

step "scrape: graceful stop"
for svc in exec core; do
  stop "$svc"
  [ "$STOP_RC" = 0 ] || die "$svc exited with $STOP_RC on SIGTERM"
done
log "scrape: all checks passed"
