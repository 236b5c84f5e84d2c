#!/usr/bin/env python3
"""Validate rendered Kubernetes manifests offline and check the deployment's own rules on them.

    k8s_check.py --ports deploy/ports.toml --k8s-version 1.32.0 [--namespace NS] NAME=FILE...

Each FILE is one rendered kustomization (`kubectl kustomize DIR`) or a plain manifest file.
Two kinds of check:

1. Schema: every object against the Kubernetes OpenAPI JSON schemas bundled by PyPI's
   kubernetes-validate, in strict mode (unknown fields are errors). Custom resources (External
   Secrets, Prometheus Operator) have no bundled schema: only the kinds in CRD_KINDS may appear,
   and they get a structural check of the fields these manifests use.
2. Rules of issue 14 (point 3): RollingUpdate maxSurge 1 / maxUnavailable 0; readiness and
   liveness probes on the paths and ports of deploy/ports.toml; resources; a non-root,
   read-only, unprivileged, capability-free securityContext on every pod; a Service, a
   PodDisruptionBudget and a NetworkPolicy per Deployment; exec reachable only from core (and
   the smoke test and Prometheus); scrape annotations matching ports.toml; every ConfigMap and
   Secret a pod references exists in the same render (or is produced by an ExternalSecret).

Exits 1 with one line per problem, naming the render, the object and the field.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import kubernetes_validate
import yaml

# Custom resources allowed without a bundled schema, with the fields they must have.
CRD_KINDS = {
    ("external-secrets.io/v1", "ExternalSecret"): [
        ("spec", "secretStoreRef", "name"),
        ("spec", "target", "name"),
        ("spec", "data"),
    ],
    ("external-secrets.io/v1", "SecretStore"): [("spec", "provider")],
    ("monitoring.coreos.com/v1", "ServiceMonitor"): [
        ("spec", "selector", "matchLabels"),
        ("spec", "endpoints"),
    ],
}

# Secrets that come from outside these manifests, with the reason.
EXTERNAL_SECRETS = {
    "tradepulse-tls",  # the Ingress certificate: cert-manager or the operator
    "tradepulse-db",  # the sweep Job's database URL (k8s/sweep-job.yaml says how to create it)
}

# Who may reach exec (issue 14: exec only from core). The smoke test runs the core image's
# `tradepulse verify`; Prometheus scrapes /metrics on the same port.
EXEC_PEERS = {
    ("pod", "tradepulse-core"),
    ("pod", "tradepulse-smoke-test"),
    ("monitoring", "prometheus"),
}

POD_KINDS = {"Deployment", "Job", "StatefulSet", "DaemonSet"}


class Report:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def error(self, where: str, msg: str) -> None:
        self.problems.append(f"{where}: {msg}")


def dig(obj, *path, default=None):
    for key in path:
        if isinstance(obj, dict) and key in obj:
            obj = obj[key]
        elif isinstance(obj, list) and isinstance(key, int) and key < len(obj):
            obj = obj[key]
        else:
            return default
    return obj


def ident(doc: dict) -> str:
    return f"{doc.get('kind')}/{dig(doc, 'metadata', 'name')}"


def load(path: Path) -> list[dict]:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if d]


def service_of(name: str, ports: dict) -> str | None:
    """`tradepulse-core` → `core` if ports.toml declares it."""
    for svc, decl in ports.items():
        if decl.get("image") == name:
            return svc
    return None


def check_schema(render: str, docs: list[dict], version: str, rep: Report) -> None:
    for doc in docs:
        key = (doc.get("apiVersion"), doc.get("kind"))
        where = f"{render}: {ident(doc)}"
        if key in CRD_KINDS:
            for path in CRD_KINDS[key]:
                if dig(doc, *path) in (None, "", [], {}):
                    rep.error(where, f"custom resource lacks {'.'.join(path)}")
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            rep.error(where, f"no schema for {key[0]} {key[1]} in Kubernetes {version}, and not a known CRD")
        except kubernetes_validate.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            rep.error(where, f"schema: {path}: {e.message}")


def pod_spec(doc: dict) -> dict | None:
    if doc.get("kind") in POD_KINDS:
        return dig(doc, "spec", "template", "spec")
    return None


def check_pod_security(where: str, spec: dict, rep: Report) -> None:
    psc = spec.get("securityContext") or {}
    if psc.get("runAsNonRoot") is not True:
        rep.error(where, "pod securityContext.runAsNonRoot is not true")
    if psc.get("runAsUser") in (None, 0):
        rep.error(where, "pod securityContext.runAsUser is unset or 0 (root)")
    if dig(psc, "seccompProfile", "type") != "RuntimeDefault":
        rep.error(where, "pod securityContext.seccompProfile.type is not RuntimeDefault")
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        cw = f"{where}: container {c.get('name')}"
        sc = c.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            rep.error(cw, "securityContext.allowPrivilegeEscalation is not false")
        if sc.get("readOnlyRootFilesystem") is not True:
            rep.error(cw, "securityContext.readOnlyRootFilesystem is not true")
        if sc.get("privileged"):
            rep.error(cw, "securityContext.privileged is true")
        if "ALL" not in (dig(sc, "capabilities", "drop") or []):
            rep.error(cw, "securityContext.capabilities.drop lacks ALL")
        if sc.get("runAsUser") == 0:
            rep.error(cw, "securityContext.runAsUser is 0 (root)")
        res = c.get("resources") or {}
        for field in (("requests", "cpu"), ("requests", "memory"), ("limits", "memory")):
            if dig(res, *field) is None:
                rep.error(cw, f"resources.{'.'.join(field)} is not set")
        image = c.get("image", "")
        if image.endswith(":latest") or (":" not in image.rsplit("/", 1)[-1] and "@" not in image):
            rep.error(cw, f"image {image!r} has no fixed tag (set by the overlay's images:)")


def resolve_port(container: dict, port) -> int | None:
    if isinstance(port, int):
        return port
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def check_deployment(render: str, doc: dict, ports: dict, rep: Report) -> str | None:
    name = dig(doc, "metadata", "name")
    where = f"{render}: {ident(doc)}"
    svc = service_of(name, ports)
    if svc is None:
        rep.error(where, "Deployment of a service that deploy/ports.toml does not declare")
        return None
    decl = ports[svc]
    strategy = dig(doc, "spec", "strategy") or {}
    if strategy.get("type") != "RollingUpdate":
        rep.error(where, "spec.strategy.type is not RollingUpdate")
    if dig(strategy, "rollingUpdate", "maxSurge") != 1:
        rep.error(where, "spec.strategy.rollingUpdate.maxSurge is not 1")
    if dig(strategy, "rollingUpdate", "maxUnavailable") != 0:
        rep.error(where, "spec.strategy.rollingUpdate.maxUnavailable is not 0")
    containers = dig(doc, "spec", "template", "spec", "containers") or []
    main = containers[0] if containers else {}
    if decl["port"] not in [p.get("containerPort") for p in main.get("ports") or []]:
        rep.error(where, f"container does not expose port {decl['port']} (deploy/ports.toml [{svc}])")
    for probe, key in (("readinessProbe", "ready"), ("livenessProbe", "health")):
        get = dig(main, probe, "httpGet")
        if not get:
            rep.error(where, f"{probe} is not an httpGet probe")
            continue
        if get.get("path") != decl[key]:
            rep.error(where, f"{probe}.httpGet.path is {get.get('path')!r}, ports.toml [{svc}] {key} = {decl[key]!r}")
        if resolve_port(main, get.get("port")) != decl["port"]:
            rep.error(where, f"{probe} port {get.get('port')!r} is not {decl['port']}")
    ann = dig(doc, "spec", "template", "metadata", "annotations") or {}
    if "metrics" in decl:
        if ann.get("prometheus.io/scrape") != "true":
            rep.error(where, "pod template lacks prometheus.io/scrape: \"true\"")
        if ann.get("prometheus.io/port") != str(decl["port"]):
            rep.error(where, f"prometheus.io/port is {ann.get('prometheus.io/port')!r}, not \"{decl['port']}\"")
        if ann.get("prometheus.io/path") != decl["metrics"]:
            rep.error(where, f"prometheus.io/path is {ann.get('prometheus.io/path')!r}, not {decl['metrics']!r}")
    return name


def selects(selector: dict | None, labels: dict) -> bool:
    match = (selector or {}).get("matchLabels") or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def produced(docs: list[dict]) -> tuple[set, set]:
    """The ConfigMaps and Secrets a render creates (ExternalSecrets create their target)."""
    configmaps = {dig(d, "metadata", "name") for d in docs if d.get("kind") == "ConfigMap"}
    secrets = {dig(d, "metadata", "name") for d in docs if d.get("kind") == "Secret"}
    secrets |= {dig(d, "spec", "target", "name") for d in docs if d.get("kind") == "ExternalSecret"}
    return configmaps, secrets


def check_render(render: str, docs: list[dict], ports: dict, namespace: str | None, rep: Report,
                 siblings: tuple[set, set] = (set(), set())) -> None:
    """`siblings`: what the other renders of the same namespace create (the smoke-test Job's
    Secret comes from the environment's main render)."""
    by_kind: dict[str, list[dict]] = {}
    for d in docs:
        by_kind.setdefault(d.get("kind"), []).append(d)
        if namespace and d.get("kind") != "Namespace":
            ns = dig(d, "metadata", "namespace")
            if ns != namespace:
                rep.error(f"{render}: {ident(d)}", f"namespace is {ns!r}, expected {namespace!r}")

    configmaps, secrets = produced(docs)
    configmaps |= siblings[0]
    secrets |= siblings[1] | EXTERNAL_SECRETS

    for d in docs:
        spec = pod_spec(d)
        if spec is None:
            continue
        where = f"{render}: {ident(d)}"
        check_pod_security(where, spec, rep)
        # Every referenced ConfigMap and Secret must exist in this render. This is what catches
        # a reference to a generated ConfigMap whose name kustomize suffixed with a hash.
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            for ef in c.get("envFrom") or []:
                if "configMapRef" in ef and ef["configMapRef"]["name"] not in configmaps:
                    rep.error(where, f"envFrom ConfigMap {ef['configMapRef']['name']!r} is not in the render")
                if "secretRef" in ef and ef["secretRef"]["name"] not in secrets:
                    rep.error(where, f"envFrom Secret {ef['secretRef']['name']!r} is not in the render")
            for e in c.get("env") or []:
                ref = dig(e, "valueFrom", "configMapKeyRef", "name")
                if ref and ref not in configmaps:
                    rep.error(where, f"env {e['name']}: ConfigMap {ref!r} is not in the render")
                ref = dig(e, "valueFrom", "secretKeyRef", "name")
                if ref and ref not in secrets:
                    rep.error(where, f"env {e['name']}: Secret {ref!r} is not in the render")
                if any(w in e["name"] for w in ("SECRET", "TOKEN", "PASSWORD", "KEY")) and "value" in e:
                    if not e["name"].endswith("_FILE"):
                        rep.error(where, f"env {e['name']} carries a secret value in the pod spec")
        for v in spec.get("volumes") or []:
            if "secret" in v and v["secret"]["secretName"] not in secrets:
                rep.error(where, f"volume {v['name']}: Secret {v['secret']['secretName']!r} is not in the render")
            if "configMap" in v and v["configMap"]["name"] not in configmaps:
                rep.error(where, f"volume {v['name']}: ConfigMap {v['configMap']['name']!r} is not in the render")

    deployments = by_kind.get("Deployment", [])
    for d in deployments:
        name = check_deployment(render, d, ports, rep)
        if name is None:
            continue
        labels = dig(d, "spec", "template", "metadata", "labels") or {}
        where = f"{render}: {ident(d)}"
        decl = ports[service_of(name, ports)]
        svcs = [s for s in by_kind.get("Service", []) if selects({"matchLabels": dig(s, "spec", "selector")}, labels)]
        if not svcs:
            rep.error(where, "no Service selects it")
        for s in svcs:
            if decl["port"] not in [p.get("port") for p in dig(s, "spec", "ports") or []]:
                rep.error(f"{render}: {ident(s)}", f"does not serve port {decl['port']}")
        if not any(selects(dig(p, "spec", "selector"), labels) for p in by_kind.get("PodDisruptionBudget", [])):
            rep.error(where, "no PodDisruptionBudget selects it")
        if not any(selects(dig(n, "spec", "podSelector"), labels) for n in by_kind.get("NetworkPolicy", [])):
            rep.error(where, "no NetworkPolicy selects it")

    if deployments:
        if not any(dig(n, "spec", "podSelector") == {} and "Ingress" in (dig(n, "spec", "policyTypes") or [])
                   for n in by_kind.get("NetworkPolicy", [])):
            rep.error(render, "no default-deny ingress NetworkPolicy (podSelector: {})")
        exec_labels = {"app.kubernetes.io/name": ports["exec"]["image"]}
        for n in by_kind.get("NetworkPolicy", []):
            if not selects(dig(n, "spec", "podSelector"), exec_labels):
                continue
            where = f"{render}: {ident(n)}"
            for rule in dig(n, "spec", "ingress") or []:
                rule_ports = {p.get("port") for p in rule.get("ports") or []}
                if rule_ports != {ports["exec"]["port"]}:
                    rep.error(where, f"ingress rule ports {sorted(rule_ports)} are not exactly [{ports['exec']['port']}]")
                peers = rule.get("from")
                if not peers:
                    rep.error(where, "ingress rule without `from`: exec reachable from anywhere")
                    continue
                for peer in peers:
                    pod = dig(peer, "podSelector", "matchLabels", "app.kubernetes.io/name")
                    ns = dig(peer, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name")
                    if "ipBlock" in peer:
                        key = ("ipBlock", str(peer["ipBlock"]))
                    elif ns is not None:
                        key = (ns, pod)
                    elif "namespaceSelector" in peer:
                        key = ("any-namespace", pod)
                    else:
                        key = ("pod", pod)
                    if key not in EXEC_PEERS:
                        rep.error(where, f"exec reachable from {key}: only core, the smoke test and Prometheus may reach it")

    for ing in by_kind.get("Ingress", []):
        for rule in dig(ing, "spec", "rules") or []:
            for p in dig(rule, "http", "paths") or []:
                if p.get("path") == "/v1" and dig(p, "backend", "service", "name") != ports["core"]["image"]:
                    rep.error(f"{render}: {ident(ing)}", "/v1 is not routed to core")
                if dig(p, "backend", "service", "name") == ports["exec"]["image"]:
                    rep.error(f"{render}: {ident(ing)}", "exec must not be behind the Ingress")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ports", required=True, type=Path)
    ap.add_argument("--k8s-version", required=True)
    ap.add_argument("renders", nargs="+", help="NAME=FILE[:NAMESPACE]")
    args = ap.parse_args()
    ports = tomllib.loads(args.ports.read_text())
    rep = Report()
    total = 0
    renders = []
    for spec in args.renders:
        name, _, rest = spec.partition("=")
        path, _, namespace = rest.partition(":")
        renders.append((name, load(Path(path)), namespace or None))
    for name, docs, namespace in renders:
        total += len(docs)
        if not docs:
            rep.error(name, "renders no object")
        siblings: tuple[set, set] = (set(), set())
        if namespace:
            for other, odocs, ons in renders:
                if other != name and ons == namespace:
                    c, s = produced(odocs)
                    siblings = (siblings[0] | c, siblings[1] | s)
        check_schema(name, docs, args.k8s_version, rep)
        check_render(name, docs, ports, namespace, rep, siblings)
        kinds = sorted({d["kind"] for d in docs})
        print(f"  {name}: {len(docs)} objects ({', '.join(kinds)})")
    for p in rep.problems:
        print(f"FAIL {p}", file=sys.stderr)
    if rep.problems:
        print(f"{len(rep.problems)} problem(s) in {total} objects", file=sys.stderr)
        return 1
    print(f"  {total} objects valid against Kubernetes {args.k8s_version} (strict) and the deployment rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
