#!/usr/bin/env python3
"""Writes the provisioned Grafana dashboards (deploy/grafana/dashboards/*.json).

    python3 deploy/grafana/generate.py           rewrite the JSON files
    python3 deploy/grafana/generate.py --check   fail if a committed file differs (CI)

The dashboards are data; this file is where they are edited, so the four share one style,
one datasource, one set of variables (environment, and the label each one filters on), and
every query is a plain string deploy/ci/contract.py can read back. Metric names:
deploy/metrics.toml.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "dashboards"
DS = {"type": "prometheus", "uid": "tradepulse-prometheus"}
ENV = 'environment=~"$environment"'


def panel(pid: int, title: str, exprs: list[tuple[str, str]], x: int, y: int, w: int = 12, h: int = 8,
          unit: str = "short", kind: str = "timeseries", description: str = "") -> dict:
    p = {
        "id": pid,
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}} if kind == "timeseries" else {},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DS, "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(exprs)
        ],
    }
    return p


def variable(name: str, query: str, label: str) -> dict:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        "query": {"query": query, "refId": "var"},
        "definition": query,
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "current": {"text": "All", "value": "$__all"},
        "refresh": 2,
        "sort": 1,
    }


def dashboard(uid: str, title: str, panels: list[dict], extra_vars: list[dict], tags: list[str]) -> dict:
    return {
        "uid": uid,
        "title": title,
        "tags": ["tradepulse", *tags],
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "timezone": "utc",
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [variable("environment", "label_values(up{job=~\"tradepulse-.*\"}, environment)", "Environment"), *extra_vars]
        },
        "annotations": {"list": []},
        "panels": panels,
    }


def q(metric_sum: str) -> str:
    return metric_sum


def execution_latency() -> dict:
    h = lambda m, p: (  # noqa: E731
        f'histogram_quantile({p}, sum by (le, venue) (rate({m}_bucket{{{ENV},venue=~"$venue"}}[$__rate_interval])))'
    )
    ack, fill = "tradepulse_order_decision_to_ack_seconds", "tradepulse_order_decision_to_fill_seconds"
    ratio = (
        f'1 - (sum(rate({ack}_bucket{{{ENV},venue=~"$venue",le="0.25"}}[$__rate_interval]))'
        f' / sum(rate({ack}_count{{{ENV},venue=~"$venue"}}[$__rate_interval])))'
    )
    panels = [
        panel(1, "Decision → ack latency (p50 / p99 / p99.9)", [(h(ack, 0.5), "p50 {{venue}}"), (h(ack, 0.99), "p99 {{venue}}"), (h(ack, 0.999), "p99.9 {{venue}}")], 0, 0, unit="s"),
        panel(2, "Decision → fill latency (p50 / p99)", [(h(fill, 0.5), "p50 {{venue}}"), (h(fill, 0.99), "p99 {{venue}}")], 12, 0, unit="s"),
        panel(3, "Orders slower than the SLO (250 ms; budget 1 %)", [(ratio, "slow fraction")], 0, 8, unit="percentunit",
              description="The quantity the burn-rate alerts watch."),
        panel(4, "Fast burn (1 h) — pages above 14.4", [(f'tradepulse:order_ack_slo_errors:ratio_rate1h{{{ENV}}} / 0.01', "{{environment}}")], 12, 8, unit="short"),
        panel(5, "Orders and fills per second", [
            (f'sum by (venue) (rate(tradepulse_orders_submitted_total{{{ENV},venue=~"$venue"}}[$__rate_interval]))', "orders {{venue}}"),
            (f'sum by (venue) (rate(tradepulse_fills_total{{{ENV},venue=~"$venue"}}[$__rate_interval]))', "fills {{venue}}"),
        ], 0, 16, unit="reqps"),
        panel(6, "Rejects by reason", [(f'sum by (reason) (rate(tradepulse_order_rejects_total{{{ENV},venue=~"$venue"}}[$__rate_interval]))', "{{reason}}")], 12, 16, unit="reqps"),
        panel(7, "Venue request weight used / limit", [
            (f'max by (venue) (tradepulse_venue_request_weight_used{{{ENV},venue=~"$venue"}}) / max by (venue) (tradepulse_venue_request_weight_limit{{{ENV},venue=~"$venue"}})', "{{venue}}"),
        ], 0, 24, unit="percentunit"),
        panel(8, "Working orders at the venue", [(f'sum by (venue) (tradepulse_open_orders{{{ENV},venue=~"$venue"}})', "{{venue}}")], 12, 24),
    ]
    venue = variable("venue", f'label_values(tradepulse_orders_submitted_total{{{ENV}}}, venue)', "Venue")
    return dashboard("tradepulse-execution-latency", "TradePulse / Execution latency", panels, [venue], ["execution", "slo"])


def pnl_exposure() -> dict:
    s = 'strategy=~"$strategy"'
    panels = [
        panel(1, "Equity by strategy", [(f'sum by (strategy) (tradepulse_strategy_equity{{{ENV},{s}}})', "{{strategy}}")], 0, 0, unit="currencyUSD"),
        panel(2, "PnL by strategy", [(f'sum by (strategy) (tradepulse_strategy_pnl{{{ENV},{s}}})', "{{strategy}}")], 12, 0, unit="currencyUSD"),
        panel(3, "Exposure by instrument", [(f'sum by (instrument) (tradepulse_strategy_exposure{{{ENV},{s}}})', "{{instrument}}")], 0, 8, unit="currencyUSD"),
        panel(4, "Gross exposure", [(f'sum (abs(tradepulse_strategy_exposure{{{ENV},{s}}}))', "gross")], 12, 8, unit="currencyUSD", kind="stat"),
        panel(5, "PnL change over the range", [(f'sum by (strategy) (delta(tradepulse_strategy_pnl{{{ENV},{s}}}[$__range]))', "{{strategy}}")], 0, 16, w=24, unit="currencyUSD", kind="bargauge"),
    ]
    strategy = variable("strategy", f'label_values(tradepulse_strategy_equity{{{ENV}}}, strategy)', "Strategy")
    return dashboard("tradepulse-pnl-exposure", "TradePulse / PnL and exposure", panels, [strategy], ["pnl"])


def risk() -> dict:
    panels = [
        panel(1, "Kill switch", [(f'max (tradepulse_kill_switch_active{{{ENV}}})', "engaged")], 0, 0, w=6, kind="stat",
              description="1 = engaged: no new orders leave."),
        panel(2, "Reconciliation OK", [(f'min by (venue) (tradepulse_reconciliation_ok{{{ENV}}})', "{{venue}}")], 6, 0, w=6, kind="stat"),
        panel(3, "Since last reconciliation", [(f'time() - max by (venue) (tradepulse_reconciliation_last_success_timestamp_seconds{{{ENV}}})', "{{venue}}")], 12, 0, w=6, unit="s", kind="stat"),
        panel(4, "Canary limit breaches (range)", [(f'sum by (strategy) (increase(tradepulse_canary_limit_breaches_total{{{ENV}}}[$__range]))', "{{strategy}}")], 18, 0, w=6, kind="stat"),
        panel(5, "Risk check outcomes", [(f'sum by (outcome) (rate(tradepulse_risk_checks_total{{{ENV}}}[$__rate_interval]))', "{{outcome}}")], 0, 6, unit="reqps"),
        panel(6, "Drawdown by strategy", [(f'max by (strategy) (tradepulse_strategy_drawdown_ratio{{{ENV}}})', "{{strategy}}")], 12, 6, unit="percentunit"),
        panel(7, "Reject ratio", [(
            f'sum (rate(tradepulse_order_rejects_total{{{ENV}}}[$__rate_interval])) / (sum (rate(tradepulse_orders_submitted_total{{{ENV}}}[$__rate_interval])) + sum (rate(tradepulse_order_rejects_total{{{ENV}}}[$__rate_interval])))',
            "rejected fraction")], 0, 14, unit="percentunit"),
        panel(8, "Reconciliation failures", [(f'sum by (venue) (increase(tradepulse_reconciliation_failures_total{{{ENV}}}[$__rate_interval]))', "{{venue}}")], 12, 14),
        panel(9, "Orders by state (core)", [(f'sum by (state) (tradepulse_orders_by_state{{{ENV}}})', "{{state}}")], 0, 22, w=24),
    ]
    return dashboard("tradepulse-risk", "TradePulse / Risk", panels, [], ["risk"])


def system() -> dict:
    j = 'job=~"tradepulse-(core|exec)"'
    panels = [
        panel(1, "Targets up", [(f'up{{{ENV},{j}}}', "{{job}} {{instance}}")], 0, 0, w=8, kind="stat"),
        panel(2, "Build", [(f'max by (job, version, revision) (tradepulse_build_info{{{ENV}}})', "{{job}} {{version}}")], 8, 0, w=8, kind="table"),
        panel(3, "Error and warning logs per second", [(f'sum by (job, level) (rate(tradepulse_log_messages_total{{{ENV},level=~"error|warn"}}[$__rate_interval]))', "{{job}} {{level}}")], 16, 0, w=8, unit="reqps"),
        panel(4, "HTTP requests by status", [(f'sum by (job, status) (rate(tradepulse_http_requests_total{{{ENV}}}[$__rate_interval]))', "{{job}} {{status}}")], 0, 6, unit="reqps"),
        panel(5, "HTTP p99 by route", [(f'histogram_quantile(0.99, sum by (le, job, route) (rate(tradepulse_http_request_duration_seconds_bucket{{{ENV}}}[$__rate_interval])))', "{{job}} {{route}}")], 12, 6, unit="s"),
        panel(6, "Market-data lag", [(f'max by (source, instrument) (tradepulse_market_data_lag_seconds{{{ENV}}})', "{{source}} {{instrument}}")], 0, 14, unit="s"),
        panel(7, "Event-loop lag (core)", [(f'max (tradepulse_event_loop_lag_seconds{{{ENV}}})', "lag")], 12, 14, unit="s"),
        panel(8, "Resident memory", [(f'process_resident_memory_bytes{{{ENV},{j}}}', "{{job}}")], 0, 22, w=8, unit="bytes"),
        panel(9, "CPU", [(f'rate(process_cpu_seconds_total{{{ENV},{j}}}[$__rate_interval])', "{{job}}")], 8, 22, w=8, unit="percentunit"),
        panel(10, "Open file descriptors", [(f'process_open_fds{{{ENV},{j}}}', "{{job}}")], 16, 22, w=8),
        panel(11, "Market-data gaps (range)", [(f'sum by (source, instrument) (increase(tradepulse_market_data_gaps_total{{{ENV}}}[$__range]))', "{{source}} {{instrument}}")], 0, 30, w=24, kind="bargauge"),
    ]
    return dashboard("tradepulse-system", "TradePulse / System", panels, [], ["system"])


DASHBOARDS = {
    "execution-latency.json": execution_latency,
    "pnl-exposure.json": pnl_exposure,
    "risk.json": risk,
    "system.json": system,
}


def main() -> int:
    check = "--check" in sys.argv[1:]
    OUT.mkdir(exist_ok=True)
    stale = []
    for name, build in DASHBOARDS.items():
        text = json.dumps(build(), indent=2, sort_keys=True) + "\n"
        path = OUT / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print(f"stale dashboards (run python3 deploy/grafana/generate.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
