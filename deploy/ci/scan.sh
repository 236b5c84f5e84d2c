#!/usr/bin/env bash
# CI: dependency scan of every image's binary against the vendored RustSec database.
#
#   deploy/ci/scan.sh [BINARY…]   default: the binaries deploy/ci/images.sh copied out of the
#                                 images ($CARGO_TARGET_DIR/image-binaries/*), plus Cargo.lock
#
# The release binary is built with cargo-auditable, so it carries its exact dependency list
# (section .dep-v0); `cargo audit bin` reads that, i.e. what is really linked into the image,
# not the whole lock file. Cargo.lock is scanned too (build scripts, proc-macros, tests).
# The gate fails on a vulnerability and on `unsound`/`unmaintained` warnings, unless
# deploy/scan/ignore.toml has an entry with a reason for that advisory. Offline (--no-fetch).
#
# --self-test: the gate must fail on deploy/scan/fixtures/vulnerable/Cargo.lock (a crate with
# a known vulnerability), and pass on it with an ignore entry that has a reason, and fail again
# with an entry that has none.
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/ci/lib.sh

DB=deploy/scan/advisory-db
cargo_tool cargo-audit cargo-audit "$CARGO_AUDIT_VERSION"

db_date() {
  local snapshot newest
  snapshot="$(tr '\n' ' ' <"$DB/PROVENANCE.md" | grep -oE 'commit +[0-9a-f]{40} of [0-9-]{10}' | head -n 1 | tr -s ' ')" || true
  [ -n "$snapshot" ] || die "$DB/PROVENANCE.md does not name the snapshot's commit and date"
  newest="$(grep -rhoE '^date = "[0-9-]+"' "$DB/crates" | sort | tail -n 1 | grep -oE '[0-9-]{10}')" || true
  echo "RustSec advisory database: $snapshot (newest advisory $newest); $(ls "$DB"/crates/*/*.md | wc -l) advisories"
}

# ignore_args IGNORE_FILE: --ignore ID for each entry, failing on an entry without a reason.
ignore_args() {
  python3 - "$1" <<'PY'
import sys, tomllib
entries = tomllib.load(open(sys.argv[1], "rb")).get("ignore", [])
bad = [e.get("id", "?") for e in entries if not str(e.get("reason", "")).strip() or not e.get("id")]
if bad:
    sys.exit(f"{sys.argv[1]}: ignore entries without an id or a reason: {', '.join(bad)}")
for e in entries:
    print("--ignore", e["id"])
PY
}

# scan IGNORE_FILE KIND PATH: one target; KIND is bin or lock. Prints the findings.
scan() {
  local ignores kind="$2" target="$3" out rc=0
  ignores="$(ignore_args "$1")" || return 2
  # shellcheck disable=SC2086
  if [ "$kind" = bin ]; then
    out="$(cargo audit --no-fetch --db "$DB" --deny unsound --deny unmaintained $ignores --json bin "$target" 2>&1)" || rc=$?
  else
    out="$(cargo audit --no-fetch --db "$DB" --deny unsound --deny unmaintained $ignores --json --file "$target" 2>&1)" || rc=$?
  fi
  python3 - "$target" "$rc" <<PY
import json, sys
target, rc = sys.argv[1], int(sys.argv[2])
raw = r'''$out'''
start = raw.find("{")
try:
    report = json.loads(raw[start:]) if start >= 0 else None
except json.JSONDecodeError:
    report = None
if report is None:
    print(f"  {target}: cargo audit gave no report (exit {rc}):\n{raw}")
    sys.exit(0)
deps = report.get("lockfile", {}).get("dependency-count", "?")
vulns = report.get("vulnerabilities", {}).get("list", [])
warns = [w for ws in report.get("warnings", {}).values() for w in ws]
print(f"  {target}: {deps} crates, {len(vulns)} vulnerabilities, {len(warns)} warnings (after ignores), exit {rc}")
for v in vulns:
    a, p = v["advisory"], v["package"]
    print(f"    VULNERABLE {p['name']} {p['version']}: {a['id']} {a['title']}")
for w in warns:
    a, p = w.get("advisory") or {}, w["package"]
    print(f"    {w['kind'].upper()} {p['name']} {p['version']}: {a.get('id', '')} {a.get('title', '')}")
PY
  return "$rc"
}

if [ "${1:-}" = --self-test ]; then
  fixture=deploy/scan/fixtures/vulnerable/Cargo.lock
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  : >"$tmp/none.toml"
  printf '[[ignore]]\nid = "RUSTSEC-2021-0003"\nreason = "self-test: accepted for the fixture"\n' >"$tmp/with-reason.toml"
  printf '[[ignore]]\nid = "RUSTSEC-2021-0003"\nreason = ""\n' >"$tmp/no-reason.toml"
  if out="$(scan "$tmp/none.toml" lock "$fixture")"; then
    die "self-test: the gate passed a lock file with smallvec 1.6.0 (RUSTSEC-2021-0003)"
  fi
  grep -q 'VULNERABLE smallvec 1.6.0: RUSTSEC-2021-0003' <<<"$out" || die "self-test: finding not reported: $out"
  log "  ok  the gate fails on the vulnerable fixture:"; log "$out"
  scan "$tmp/with-reason.toml" lock "$fixture" >/dev/null || die "self-test: an ignore entry with a reason did not pass the fixture"
  log "  ok  an ignore entry with a reason lets it pass"
  if scan "$tmp/no-reason.toml" lock "$fixture" >/dev/null 2>&1; then
    die "self-test: an ignore entry without a reason was accepted"
  fi
  log "  ok  an ignore entry without a reason fails the scan"
  exit 0
fi

targets=("$@")
if [ "${#targets[@]}" = 0 ]; then
  shopt -s nullglob
  targets=("$CARGO_TARGET_DIR"/image-binaries/*)
  [ "${#targets[@]}" -gt 0 ] || die "no image binaries in $CARGO_TARGET_DIR/image-binaries: run deploy/ci/images.sh first"
fi

db_date
fail=0
for t in "${targets[@]}"; do
  # A binary without cargo-auditable data would be scanned by guesswork: refuse it.
  # readelf's output into a variable: with pipefail, `grep -q` stopping early could fail the
  # pipe with SIGPIPE although the section is there.
  sections="$(readelf -S "$t" 2>/dev/null)" || sections=""
  if ! grep -q '\.dep-v0' <<<"$sections"; then
    log "FAIL $t has no embedded dependency list (build it with cargo auditable)"
    fail=1
    continue
  fi
  scan deploy/scan/ignore.toml bin "$t" || fail=1
done
scan deploy/scan/ignore.toml lock Cargo.lock || fail=1

# Stale ignores: every ignored advisory must still match a scanned crate.
for id in $(ignore_args deploy/scan/ignore.toml | awk '{print $2}'); do
  report="$(cargo audit --no-fetch --db "$DB" --json --file Cargo.lock 2>/dev/null)" || true
  if ! grep -q "\"$id\"" <<<"$report"; then
    log "FAIL deploy/scan/ignore.toml: $id no longer matches any crate: remove the entry"
    fail=1
  fi
done
[ "$fail" = 0 ] || die "dependency scan failed (see above; accept an advisory only with a reason in deploy/scan/ignore.toml)"
log "scan: no unaccepted advisory ($(db_date | cut -d';' -f1))"
