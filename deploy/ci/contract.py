#!/usr/bin/env python3
"""The deployment's contract with the services, in one check.

    contract.py ports      Dockerfile EXPOSE/HEALTHCHECK, the local scrape config and the
                           Kubernetes scrape job agree with deploy/ports.toml
    contract.py metrics    every metric name in the alert rules and the Grafana dashboards is
                           in deploy/metrics.toml and in docs/metrics.md; metrics.toml and
                           docs/metrics.md agree (a `planned` name is in the doc's table "not
                           exported yet", any other name the services export is documented
                           outside it); writes the dashboards' queries as a rules file for
                           promtool (--promql-out FILE) so their PromQL syntax is checked as well
    contract.py live CORE_URL EXEC_URL
                           against running services: each path of ports.toml answers (health
                           and readiness 200, /metrics in the Prometheus text format) and every
                           name of metrics.toml marked for that service and not `planned` is
                           exported, its series with exactly the declared labels, a histogram
                           with the declared bucket bounds. Run by deploy/ci/scrape.sh (the real
                           scrape of issue 14 point 5).
    contract.py scrape PROMETHEUS_URL [--min-orders N] [--no-series NAME,…]
                           through Prometheus's HTTP API, after it scraped the running services
                           (deploy/ci/scrape.sh): every target of the tradepulse-core and
                           tradepulse-exec jobs is up (`up == 1`), the key series have the
                           values a run with N exec orders must give, every name of metrics.toml
                           that is not `planned` has series for its service (except those
                           given with --no-series, e.g. the simulator's rate limits), and every
                           rule evaluates without error.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
import urllib.parse
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


PLANNED_HEADING = "## Named by the deployment, not exported yet"
DOC_NAME = r"`(tradepulse_[a-z0-9_]+|process_[a-z0-9_]+)`"


def documented_metrics() -> set[str] | None:
    doc = ROOT / "docs/metrics.md"
    if not doc.exists():
        return None
    return set(re.findall(DOC_NAME, doc.read_text()))


def doc_sections() -> tuple[set[str], set[str]]:
    """(names docs/metrics.md documents as exported, names in its "not exported yet" table)."""
    text = (ROOT / "docs/metrics.md").read_text()
    start = text.find(PLANNED_HEADING)
    if start < 0:
        return set(re.findall(DOC_NAME, text)), set()
    end = text.find("\n## ", start + len(PLANNED_HEADING))
    end = len(text) if end < 0 else end
    planned = text[start:end]
    return set(re.findall(DOC_NAME, text[:start] + text[end:])), set(re.findall(DOC_NAME, planned))


def agreement_problems() -> list[str]:
    """metrics.toml and docs/metrics.md say the same about every service metric."""
    if not (ROOT / "docs/metrics.md").exists():
        return []
    exported, planned = doc_sections()
    problems = []
    for name, m in METRICS.items():
        if m["service"] not in ("core", "exec", "both"):
            continue
        if "planned" in m:
            if name not in planned:
                problems.append(f"metrics.toml: {name} is planned ({m['planned']}) but not in docs/metrics.md's table \"not exported yet\"")
            if name in exported:
                problems.append(f"docs/metrics.md documents {name} as exported but metrics.toml says planned ({m['planned']})")
        else:
            if name not in exported:
                problems.append(f"metrics.toml: {name} is exported by {m['service']} but not documented in docs/metrics.md")
            if name in planned:
                problems.append(f"docs/metrics.md lists {name} as not exported yet; metrics.toml says {m['service']} exports it (drop the row or mark it planned)")
    for name in sorted(planned - set(METRICS)):
        problems.append(f"docs/metrics.md's table \"not exported yet\" lists {name}, which is not in metrics.toml")
    return problems


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
    problems += agreement_problems()
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
    print(f"  {len(rules)} rule and {len(dash)} dashboard queries use {len(used)} metric names, all in deploy/metrics.toml;"
          " metrics.toml and docs/metrics.md agree" if not problems else f"{len(problems)} problem(s)")
    planned = sorted(n for n, m in METRICS.items() if "planned" in m)
    if planned:
        print(f"  planned, not exported yet: {', '.join(planned)}")
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


SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)"')


def series_of(body: str) -> dict[str, list[dict[str, str]]]:
    """Sample name -> the label sets of its samples, from a text exposition."""
    out: dict[str, list[dict[str, str]]] = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SERIES.match(line)
        if m:
            out.setdefault(m.group(1), []).append(dict(LABEL.findall(m.group(2) or "")))
    return out


def live_problems(svc: str, body: str) -> tuple[list[str], int]:
    """What the /metrics `body` of service `svc` lacks against metrics.toml; (problems, names checked)."""
    problems, checked = [], 0
    exported = set(re.findall(r"^# TYPE (\S+) ", body, re.M))
    samples = series_of(body)
    for name, m in METRICS.items():
        if m["service"] not in (svc, "both") or "planned" in m:
            continue
        checked += 1
        if name not in exported:
            problems.append(f"{svc} does not export {name} ({m['type']})")
            continue
        sample = name + ("_bucket" if m["type"] == "histogram" else "")
        for labels in samples.get(sample, []):
            got = sorted(set(labels) - {"le"})
            if got != sorted(m["labels"]):
                problems.append(f"{svc} {name}: labels {got}, metrics.toml declares {sorted(m['labels'])}")
                break
        if m["type"] == "histogram" and samples.get(sample):
            bounds = {float(l["le"]) for l in samples[sample] if "le" in l}
            missing = [b for b in m.get("buckets", []) if float(b) not in bounds]
            if missing:
                problems.append(f"{svc} {name}: no bucket for le={missing} (declared in metrics.toml)")
    return problems, checked


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
        found, checked = live_problems(svc, body)
        problems += found
        if not found:
            print(f"  {svc} ({base}): health, readiness, {len(exported)} metric families; the {checked} names of metrics.toml for it exported with their labels")
    planned = sorted(n for n, m in METRICS.items() if "planned" in m)
    if planned:
        print(f"  not checked (planned): {', '.join(planned)}")
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    return 1 if problems else 0


JOBS = {"core": PORTS["core"]["image"], "exec": PORTS["exec"]["image"]}


def prom(base: str, path: str, **params: str) -> dict:
    url = f"{base}{path}?{urllib.parse.urlencode(params)}" if params else base + path
    with urllib.request.urlopen(url, timeout=10) as r:
        doc = json.loads(r.read())
    if doc.get("status") != "success":
        raise RuntimeError(f"{path} {params}: {doc}")
    return doc["data"]


def cmd_scrape(args: list[str]) -> int:
    base = args[0].rstrip("/")
    min_orders = int(args[args.index("--min-orders") + 1]) if "--min-orders" in args else 1
    no_series = set(args[args.index("--no-series") + 1].split(",")) if "--no-series" in args else set()
    problems, passed = [], []

    targets = prom(base, "/api/v1/targets")["activeTargets"]
    for svc, job in JOBS.items():
        mine = [t for t in targets if t["labels"].get("job") == job]
        if not mine:
            problems.append(f"no target of job {job}")
        for t in mine:
            if t["health"] != "up":
                problems.append(f"target {job} {t['scrapeUrl']}: {t['health']} ({t.get('lastError')})")
            else:
                passed.append(f"target {job} {t['scrapeUrl']} up")

    def values(expr: str) -> list[float]:
        return [float(r["value"][1]) for r in prom(base, "/api/v1/query", query=expr)["result"]]

    # (PromQL, test, what it means): each must give at least one sample, all passing the test.
    checks: list[tuple[str, str, object]] = []
    for svc, job in JOBS.items():
        j = f'job="{job}"'
        checks += [
            (f"up{{{j}}}", "== 1", lambda v: v == 1),
            (f"tradepulse_build_info{{{j},service=\"{svc}\"}}", "== 1", lambda v: v == 1),
            (f"tradepulse_engine_ready{{{j}}}", "== 1", lambda v: v == 1),
            (f"tradepulse_reconciliation_ok{{{j}}}", "== 1", lambda v: v == 1),
            (f'tradepulse_kill_switch_active{{{j},scope="global"}}', "== 0", lambda v: v == 0),
            (f'tradepulse_log_messages_total{{{j},level="info"}}', "> 0", lambda v: v > 0),
            (f'tradepulse_log_messages_total{{{j},level="error"}}', ">= 0 (exists)", lambda v: v >= 0),
            (f"process_resident_memory_bytes{{{j}}}", "> 1 MB", lambda v: v > 1e6),
            (f"process_cpu_seconds_total{{{j}}}", "> 0", lambda v: v > 0),
            (f"process_open_fds{{{j}}}", ">= 3", lambda v: v >= 3),
            (f"time() - process_start_time_seconds{{{j}}}", "in [0 s, 1 h]", lambda v: -1 <= v < 3600),
            (f"sum(tradepulse_orders_submitted_total{{{j}}})", "> 0", lambda v: v > 0),
            (f"sum(tradepulse_fills_total{{{j}}})", "> 0", lambda v: v > 0),
            (f"sum(tradepulse_order_decision_to_ack_seconds_count{{{j}}})", "> 0", lambda v: v > 0),
            (f"sum(tradepulse_http_requests_total{{{j}}})", "> 0", lambda v: v > 0),
        ]
    e = f'job="{JOBS["exec"]}"'
    checks += [
        (f"sum(tradepulse_orders_submitted_total{{{e}}})", f">= {min_orders} (the orders sent)", lambda v: v >= min_orders),
        (f"sum(tradepulse_fills_total{{{e}}})", f">= {min_orders}", lambda v: v >= min_orders),
        (f'sum(tradepulse_order_rejects_total{{{e},reason="MAX_ORDER_NOTIONAL"}})', ">= 1 (the oversized order)", lambda v: v >= 1),
        (f'sum(tradepulse_http_requests_total{{{e},route="/v1/orders",method="POST"}})', f">= {min_orders}", lambda v: v >= min_orders),
        (f'histogram_quantile(0.99, sum by (le) (tradepulse_order_decision_to_ack_seconds_bucket{{{e}}}))', "< 0.25 s (the SLO bound)", lambda v: v < 0.25),
        (f'tradepulse_equity{{job="{JOBS["core"]}"}}', "> 0", lambda v: v > 0),
        (f'tradepulse_market_data_lag_seconds{{job="{JOBS["core"]}"}}', "< 30 s", lambda v: v < 30),
    ]
    for expr, test, ok in checks:
        got = values(expr)
        if not got:
            problems.append(f"{expr}: no sample")
        elif not all(ok(v) for v in got):
            problems.append(f"{expr}: {got}, expected {test}")
        else:
            passed.append(f"{expr} = {', '.join(f'{v:g}' for v in got)} ({test})")

    have = {(r["metric"].get("__name__"), r["metric"].get("job"))
            for r in prom(base, "/api/v1/query", query='group by (__name__, job) ({__name__=~"tradepulse_.+|process_.+"})')["result"]}
    without = []
    for name, m in METRICS.items():
        if m["service"] not in ("core", "exec", "both") or "planned" in m or name in no_series:
            continue
        sample = name + ("_bucket" if m["type"] == "histogram" else "")
        for svc in ("core", "exec") if m["service"] == "both" else (m["service"],):
            if (sample, JOBS[svc]) not in have:
                without.append(f"{name} ({JOBS[svc]})")
    if without:
        problems.append(f"no series in Prometheus for: {', '.join(without)}")
    else:
        passed.append(f"every name of metrics.toml has series in Prometheus ({len(have)} (name, job) pairs; without series by design: {', '.join(sorted(no_series)) or 'none'})")

    rules = prom(base, "/api/v1/rules")["groups"]
    bad = [f"{g['name']}/{r['name']}: {r.get('lastError')}" for g in rules for r in g["rules"] if r.get("health") != "ok"]
    count = sum(len(g["rules"]) for g in rules)
    if bad or not count:
        problems.append(f"rules not evaluating: {bad or 'no rules loaded'}")
    else:
        states = [f"{r['name']}={r['state']}" for g in rules for r in g["rules"] if r.get("type") == "alerting" and r.get("state") != "inactive"]
        passed.append(f"{count} rules in {len(rules)} groups evaluate without error; alerts not inactive: {', '.join(states) or 'none'}")

    for p in passed:
        print(f"  ok   {p}")
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    return 1 if problems else 0


def main() -> int:
    commands = {"ports": cmd_ports, "metrics": cmd_metrics, "live": cmd_live, "scrape": cmd_scrape}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
