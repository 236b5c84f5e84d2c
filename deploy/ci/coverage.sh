#!/usr/bin/env bash
# The release gate's line coverage (issue 14, point 7): cargo-tarpaulin with its LLVM engine
# (source-based coverage, `-C instrument-coverage`; tarpaulin reads the profiles itself, so no
# llvm-tools matching rustc are needed), the whole workspace and its tests as `make test` runs
# them (PostgreSQL and Redis as for the tests), then the figure per crate.
#
#   deploy/ci/coverage.sh [--min PERCENT]      fails below PERCENT (the Makefile's COVERAGE_MIN)
#   deploy/ci/coverage.sh --report FILE.json   only the per-crate table of an earlier run
#
# Not in .ci/run (an instrumented build and test run takes tens of minutes here); run by
# `make release-check` and `make coverage`. Counted: the crates' src/ (tests, benches, build
# scripts, the fuzz targets and the examples are not the code under test). Output and the
# instrumented build: $CARGO_TARGET_DIR/coverage (kept apart from the normal build).
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/ci/lib.sh

min=0
report=""
while [ $# -gt 0 ]; do
  case "$1" in
    --min) min="$2"; shift 2 ;;
    --report) report="$2"; shift 2 ;;
    *) die "usage: $0 [--min PERCENT] [--report FILE.json]" ;;
  esac
done

out="$CARGO_TARGET_DIR/coverage"
if [ -z "$report" ]; then
  cargo_tool cargo-tarpaulin cargo-tarpaulin "$CARGO_TARPAULIN_VERSION"
  mkdir -p "$out"
  step "coverage: cargo tarpaulin --engine llvm (workspace, all features)"
  # --no-dead-code: no -Clink-dead-code (it slows the build and counts unreachable code).
  rc=0
  cargo tarpaulin --engine llvm --workspace --all-features --locked --skip-clean --no-dead-code \
    --target-dir "$out/target" --out Json --output-dir "$out" --timeout 900 \
    --exclude-files 'crates/*/tests/*' 'crates/*/benches/*' 'crates/*/build.rs' 'crates/*/examples/*' 'fuzz/*' \
    >"$out/tarpaulin.log" 2>&1 || rc=$?
  # The profiles of instrumented build scripts land in the working directory.
  rm -f ./*.profraw
  grep -E '^(test result: FAILED|[0-9.]+% coverage)' "$out/tarpaulin.log" || true
  [ "$rc" = 0 ] || die "cargo tarpaulin failed (tests or build), exit $rc: see $out/tarpaulin.log"
  report="$out/tarpaulin-report.json"
fi
[ -s "$report" ] || die "no coverage report at $report"

python3 - "$report" "$min" <<'PY'
import json, re, sys
from collections import defaultdict
report, minimum = sys.argv[1], float(sys.argv[2])
files = json.load(open(report))["files"]
by_crate = defaultdict(lambda: [0, 0])
for f in files:
    path = "/".join(f["path"])
    m = re.search(r"/crates/(.+?)/src/", path)
    if not m:
        continue
    crate = m.group(1)
    by_crate[crate][0] += f["covered"]
    by_crate[crate][1] += f["coverable"]
covered = sum(c for c, _ in by_crate.values())
coverable = sum(t for _, t in by_crate.values())
print(f"| crate | lines covered | coverable | line coverage |")
print(f"|---|---:|---:|---:|")
for crate, (c, t) in sorted(by_crate.items(), key=lambda kv: kv[1][0] / max(kv[1][1], 1)):
    print(f"| `{crate}` | {c} | {t} | {100 * c / max(t, 1):.1f} % |")
total = 100 * covered / max(coverable, 1)
print(f"| **workspace** | {covered} | {coverable} | **{total:.2f} %** |")
if total + 1e-9 < minimum:
    print(f"FAIL line coverage {total:.2f} % is below COVERAGE_MIN={minimum}", file=sys.stderr)
    sys.exit(1)
print(f"coverage gate: {total:.2f} % >= COVERAGE_MIN={minimum}")
PY
