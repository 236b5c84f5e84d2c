#!/usr/bin/env python3
"""k8s_selftest.py RENDER: each mutation of a good render must make k8s_check.py report it.

Proves the rules in k8s_check.py are live: a check that cannot fail checks nothing.
"""
import copy
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
docs = [d for d in yaml.safe_load_all(Path(sys.argv[1]).read_text()) if d]


def find(kind, name):
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def container(ds, name):
    return next(d for d in ds if d["kind"] == "Deployment" and d["metadata"]["name"] == name)["spec"]["template"]["spec"]["containers"][0]


def mutate(fn):
    ds = copy.deepcopy(docs)
    fn(ds)
    return ds


def dep(ds, name):
    return next(d for d in ds if d["kind"] == "Deployment" and d["metadata"]["name"] == name)


def netpol(ds, name):
    return next(d for d in ds if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == name)


CASES = {
    "maxUnavailable 1": (lambda ds: dep(ds, "tradepulse-core")["spec"]["strategy"]["rollingUpdate"].update(maxUnavailable=1), "maxUnavailable is not 0"),
    "readiness on /healthz": (lambda ds: container(ds, "tradepulse-exec")["readinessProbe"]["httpGet"].update(path="/healthz"), "readinessProbe.httpGet.path"),
    "liveness on another port": (lambda ds: container(ds, "tradepulse-core")["livenessProbe"]["httpGet"].update(port=9090), "livenessProbe port"),
    "root filesystem writable": (lambda ds: container(ds, "tradepulse-web")["securityContext"].update(readOnlyRootFilesystem=False), "readOnlyRootFilesystem"),
    "capabilities kept": (lambda ds: container(ds, "tradepulse-exec")["securityContext"].update(capabilities={}), "capabilities.drop lacks ALL"),
    "runs as root": (lambda ds: dep(ds, "tradepulse-core")["spec"]["template"]["spec"]["securityContext"].update(runAsUser=0), "runAsUser is unset or 0"),
    "no memory limit": (lambda ds: container(ds, "tradepulse-exec")["resources"].pop("limits"), "resources.limits.memory"),
    "exec open to web": (lambda ds: netpol(ds, "tradepulse-exec")["spec"]["ingress"][0]["from"].append({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "tradepulse-web"}}}), "exec reachable from"),
    "exec open to all": (lambda ds: netpol(ds, "tradepulse-exec")["spec"]["ingress"][0].pop("from"), "exec reachable from anywhere"),
    "no PDB": (lambda ds: ds.remove(next(d for d in ds if d["kind"] == "PodDisruptionBudget" and d["metadata"]["name"] == "tradepulse-exec")), "no PodDisruptionBudget"),
    "scrape port wrong": (lambda ds: dep(ds, "tradepulse-exec")["spec"]["template"]["metadata"]["annotations"].update({"prometheus.io/port": "8080"}), "prometheus.io/port"),
    "unknown field": (lambda ds: container(ds, "tradepulse-core").update(readinesProbe={}), "schema"),
    "missing ConfigMap": (lambda ds: ds.remove(next(d for d in ds if d["kind"] == "ConfigMap")), "is not in the render"),
    "secret in env": (lambda ds: container(ds, "tradepulse-exec")["env"].append({"name": "BINANCE_API_SECRET", "value": "x"}), "carries a secret value"),
}

failed = 0
with tempfile.TemporaryDirectory() as tmp:
    for name, (fn, expect) in CASES.items():
        path = Path(tmp) / "render.yaml"
        path.write_text(yaml.safe_dump_all(mutate(fn)))
        r = subprocess.run([sys.executable, str(HERE / "k8s_check.py"), "--ports", str(HERE.parent / "ports.toml"),
                            "--k8s-version", "1.32.0", f"mutated={path}:tradepulse-staging"], capture_output=True, text=True)
        if r.returncode == 0 or expect not in r.stderr:
            print(f"FAIL mutation '{name}' not caught (exit {r.returncode}), expected '{expect}':\n{r.stderr}", file=sys.stderr)
            failed += 1
        else:
            print(f"  ok  {name}: {next(l for l in r.stderr.splitlines() if expect in l)[5:]}")
sys.exit(1 if failed else 0)
