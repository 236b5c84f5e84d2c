#!/usr/bin/env python3
"""The deployment's contract with the services, in one check.

    contract.py ports      Dockerfile EXPOSE/HEALTHCHECK, the local scrape config and the
                           Kubernetes scrape job agree with deploy/ports.toml
    contract.py metrics    every metric name in the alert rules and the Grafana dashboards is
                           in deploy/metrics.toml (and, once docs/metrics.md exists, in it too);
                           writes the dashboards' queries as a rules file for promtool
                           (--promql-out FILE) so their PromQL syntax is checked as well
    contract.py live CORE_URL EXEC_URL
                           against running services: each path of ports.toml answers (health
                           and readiness 200, /metrics in the Prometheus text format) and every
                           name of metrics.toml marked for that service is exported. For the
                           real scrape of issue 14 point 5, once `serve` and `exec` exist.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PORTS = tomllib.loads((ROOT / "deploy/ports.toml").read_text())
METRICS = tomllib.loads((ROOT / "deploy/metrics.toml").read_text())["metric"]

# PromQL words that are not metric names.
PROMQL_WORDS = {
    # aggregations and keywords
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
    "topk", "quantile", "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
    "and", "or", "unless", "offset", "atan2", "limitk", "limit_ratio",
    # functions
    "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min",
    "day_of_month", "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp",
    "floor", "histogram_quantile", "histogram_count", "histogram_sum", "histogram_fraction",
    "holt_winters", "hour", "idelta", "increase", "irate", "label_join", "label_replace", "ln",
    "log2", "log10", "minute", "month", "predict_linear", "rate", "resets", "round", "scalar",
    "sgn", "sort", "sort_desc", "sqrt", "time", "timestamp", "vector", "year",
    "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time",
    "quantile_over_time", "stddev_over_time", "stdvar_over_time", "last_over_time",
    "present_over_time", "label_values", "inf", "nan",
}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (recording-rule names included)."""
    e = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)  # string literals
    e = re.sub(r"\{[^}]*\}", "", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)  # range and subquery durations
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)  # label lists
    e = re.sub(r"\$\{?\w+\}?", " ", e)  # Grafana variables
    e = re.sub(r"\boffset\s+\w+", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])", e):
        word = m.group(1)
        if word.lower() in PROMQL_WORDS:
            continue
        if re.fullmatch(r"\d+[smhdwy]", word):
            continue
        names.add(word)
    return names


def base_name(name: str) -> str:
    for suffix in HISTOGRAM_SUFFIXES:
        stem = name[: -len(suffix)]
        if name.endswith(suffix) and METRICS.get(stem, {}).get("type") == "histogram":
            return stem
    return name


def rule_exprs() -> tuple[list[tuple[str, str]], set[str]]:
    exprs, recorded = [], set()
    for path in sorted((ROOT / "deploy/prometheus/rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                where = f"{path.relative_to(ROOT)}: {rule.get('alert') or rule.get('record')}"
                exprs.append((where, rule["expr"]))
                if "record" in rule:
                    recorded.add(rule["record"])
    return exprs, recorded


def dashboard_exprs() -> list[tuple[str, str]]:
    out = []
    for path in sorted((ROOT / "deploy/grafana/dashboards").glob("*.json")):
        d = json.loads(path.read_text())
        for p in d["panels"]:
            if p.get("datasource", {}).get("uid") != "tradepulse-prometheus":
                out.append((f"{path.name}: {p['title']}", "__unknown_datasource__"))
            for t in p.get("targets", []):
                out.append((f"{path.name}: {p['title']}", t["expr"]))
        for v in d["templating"]["list"]:
            q = v["query"]["query"]
            m = re.fullmatch(r"label_values\((.*),\s*\w+\)", q)
            out.append((f"{path.name}: variable {v['name']}", m.group(1) if m else q))
    return out


def documented_metrics() -> set[str] | None:
    doc = ROOT / "docs/metrics.md"
    if not doc.exists():
        return None
    return set(re.findall(r"`(tradepulse_[a-z0-9_]+|process_[a-z0-9_]+)`", doc.read_text()))


def grafana_to_promql(expr: str) -> str:
    e = expr.replace("$__rate_interval", "5m").replace("$__range", "1h").replace("$__interval", "1m")
    return re.sub(r"\$\{?(\w+)\}?", ".*", e)


def cmd_metrics(args: list[str]) -> int:
    problems = []
    rules, recorded = rule_exprs()
    dash = dashboard_exprs()
    documented = documented_metrics()
    used: set[str] = set()
    for where, expr in rules + dash:
        for name in metric_names(expr):
            b = base_name(name)
            if b in recorded:
                continue
            used.add(b)
            if b not in METRICS:
                problems.append(f"{where}: metric {name} is not in deploy/metrics.toml")
            elif documented is not None and METRICS[b]["service"] in ("core", "exec", "both") and b not in documented:
                problems.append(f"{where}: metric {name} is not in docs/metrics.md")
            elif name != b and METRICS[b]["type"] != "histogram":
                problems.append(f"{where}: {name} used as a histogram series but {b} is a {METRICS[b]['type']}")
    # The SLO threshold must be a bucket bound of the histogram.
    for where, expr in rules:
        for hist, le in re.findall(r'(\w+)_bucket\{[^}]*le="([^"]+)"', expr):
            if float(le) not in [float(b) for b in METRICS.get(hist, {}).get("buckets", [])]:
                problems.append(f"{where}: le=\"{le}\" is not a declared bucket of {hist}")
    unused = sorted(set(METRICS) - used)
    if "--promql-out" in args:
        out = Path(args[args.index("--promql-out") + 1])
        rules_doc = {"groups": [{"name": "dashboards", "rules": [
            {"record": f"dashboard:query_{i}", "expr": grafana_to_promql(e)} for i, (_, e) in enumerate(dash)
        ]}]}
        out.write_text(yaml.safe_dump(rules_doc, sort_keys=False))
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    print(f"  {len(rules)} rule and {len(dash)} dashboard queries use {len(used)} metric names, all in deploy/metrics.toml"
          if not problems else f"{len(problems)} problem(s)")
    if unused:
        print(f"  declared but unused (exported for people, not alerts): {', '.join(unused)}")
    if documented is None:
        print("  docs/metrics.md does not exist yet: names checked against deploy/metrics.toml only")
    return 1 if problems else 0


def cmd_ports(_args: list[str]) -> int:
    problems = []
    docker = (ROOT / "deploy/docker/Dockerfile").read_text()
    stages = re.split(r"^FROM ", docker, flags=re.M)
    for svc, decl in PORTS.items():
        stage = next((s for s in stages if re.match(rf"\S+ AS {svc}[ \t]*\n", s)), None)
        if stage is None:
            problems.append(f"Dockerfile: no stage `{svc}`")
            continue
        if not re.search(rf"^EXPOSE {decl['port']}$", stage, re.M):
            problems.append(f"Dockerfile stage {svc}: EXPOSE is not {decl['port']}")
        hc = re.search(r"HEALTHCHECK.*?CMD (\[.*?\])", stage, re.S)
        if not hc or f"http://127.0.0.1:{decl['port']}{decl['health']}" not in hc.group(1):
            problems.append(f"Dockerfile stage {svc}: HEALTHCHECK does not probe :{decl['port']}{decl['health']}")
        if "command" in decl and not re.search(rf'^CMD \["{decl["command"]}"', stage, re.M):
            problems.append(f"Dockerfile stage {svc}: CMD does not start `{decl['command']}`")
    local = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.local.yml").read_text())
    jobs = {j["job_name"]: j for j in local["scrape_configs"]}
    for svc in ("core", "exec"):
        decl = PORTS[svc]
        job = jobs.get(decl["image"])
        if job is None:
            problems.append(f"prometheus.local.yml: no job {decl['image']}")
            continue
        targets = [t for sc in job["static_configs"] for t in sc["targets"]]
        if targets != [f"127.0.0.1:{decl['port']}"] or job.get("metrics_path", "/metrics") != decl["metrics"]:
            problems.append(f"prometheus.local.yml job {decl['image']}: {targets} {job.get('metrics_path')} is not 127.0.0.1:{decl['port']}{decl['metrics']}")
    k8s = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    ns = {n for sc in k8s["scrape_configs"] for sd in sc.get("kubernetes_sd_configs", []) for n in sd["namespaces"]["names"]}
    namespaces = {d["metadata"]["name"] for d in yaml.safe_load_all((ROOT / "deploy/k8s/namespaces.yaml").read_text()) if d}
    if ns != namespaces:
        problems.append(f"prometheus.yml scrapes namespaces {sorted(ns)}, deploy/k8s/namespaces.yaml has {sorted(namespaces)}")
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    if not problems:
        print(f"  ports and paths of {', '.join(PORTS)} agree across ports.toml, the Dockerfile and the scrape configs")
    return 1 if problems else 0


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, ""
    except OSError as e:
        return 0, str(e)


def cmd_live(args: list[str]) -> int:
    problems = []
    for svc, base in (("core", args[0]), ("exec", args[1])):
        decl = PORTS[svc]
        for key in ("health", "ready"):
            status, _ = fetch(base + decl[key])
            if status != 200:
                problems.append(f"{svc} {decl[key]}: HTTP {status}")
        status, body = fetch(base + decl["metrics"])
        exported = set(re.findall(r"^# TYPE (\S+) ", body, re.M))
        if status != 200 or not exported:
            problems.append(f"{svc} {decl['metrics']}: HTTP {status}, {len(exported)} metric families")
        for name, m in METRICS.items():
            if m["service"] in (svc, "both") and name not in exported:
                problems.append(f"{svc} does not export {name} ({m['type']})")
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    return 1 if problems else 0


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("ports", "metrics", "live"):
        print(__doc__, file=sys.stderr)
        return 2
    return {"ports": cmd_ports, "metrics": cmd_metrics, "live": cmd_live}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
