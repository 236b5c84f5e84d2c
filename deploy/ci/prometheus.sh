#!/usr/bin/env bash
# CI: Prometheus, Grafana and log-pipeline configs.
#
#   deploy/ci/prometheus.sh
#
# - promtool check config on both scrape configs, check rules, and the rule unit tests
#   (Debian's `prometheus` package; its promtool is built without Kubernetes service discovery,
#   so prometheus.yml is checked with its kubernetes_sd_configs swapped for a file_sd_configs
#   of the same job: relabelling, rule files and alerting are still promtool's; the SD block
#   itself is checked by contract.py ports against deploy/k8s/namespaces.yaml)
# - the Grafana dashboards are what generate.py writes, and their PromQL parses (promtool)
# - every metric name in the rules and dashboards is in deploy/metrics.toml (contract.py)
# - the OpenTelemetry collector config: every pipeline component is defined
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/ci/lib.sh

need_cmd promtool prometheus
py="$(deploy_python)"
log "$(promtool --version 2>&1 | head -n 1)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

step "prometheus: scrape configs and rules"
promtool check config deploy/prometheus/prometheus.local.yml
cp -r deploy/prometheus/rules "$tmp/"
"$py" - deploy/prometheus/prometheus.yml "$tmp/prometheus.yml" <<'PY'
import sys, yaml
cfg = yaml.safe_load(open(sys.argv[1]))
for sc in cfg["scrape_configs"]:
    if sc.pop("kubernetes_sd_configs", None) is not None:
        sc["file_sd_configs"] = [{"files": ["targets.json"]}]
yaml.safe_dump(cfg, open(sys.argv[2], "w"), sort_keys=False)
PY
promtool check config "$tmp/prometheus.yml"
promtool check rules deploy/prometheus/rules/*.yml

step "prometheus: rule unit tests"
promtool test rules deploy/prometheus/tests/*.test.yml

step "grafana: dashboards generated, PromQL parses"
python3 deploy/grafana/generate.py --check
"$py" deploy/ci/contract.py metrics --promql-out "$tmp/dashboards.rules.yml"
promtool check rules "$tmp/dashboards.rules.yml"

step "otel collector: pipelines reference defined components"
"$py" - deploy/otel/collector.yaml <<'PY'
import sys, yaml
cfg = yaml.safe_load(open(sys.argv[1]))
bad = []
for name, p in cfg["service"]["pipelines"].items():
    for kind in ("receivers", "processors", "exporters"):
        for c in p.get(kind, []):
            if c not in (cfg.get(kind) or {}):
                bad.append(f"pipeline {name}: {kind[:-1]} {c} is not defined")
for e in cfg["service"].get("extensions", []):
    if e not in (cfg.get("extensions") or {}):
        bad.append(f"extension {e} is not defined")
ops = [o["type"] for o in cfg["receivers"]["filelog"]["operators"]]
if "json_parser" not in ops:
    bad.append("filelog has no json_parser: the JSON logs would stay strings")
for b in bad:
    print("FAIL", b, file=sys.stderr)
sys.exit(1 if bad else print(f"  {len(cfg['service']['pipelines'])} pipelines, components defined, JSON logs parsed"))
PY
log "prometheus: all checks passed"
