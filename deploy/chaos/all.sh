#!/usr/bin/env bash
# Runs every chaos drill of deploy/chaos/ once, one after the other; fails if one fails.
#   deploy/chaos/all.sh          (make chaos)
set -uo pipefail
cd "$(dirname "$0")/../.."
failed=()
for drill in kill-exec restart-postgres restart-redis venue-disconnect; do
  printf '\n==== drill %s (%s)\n' "$drill" "$(date -u +%H:%M:%S)"
  start=$(date +%s)
  deploy/chaos/$drill.sh || failed+=("$drill")
  printf '==== %s: %s s\n' "$drill" "$(( $(date +%s) - start ))"
done
[ "${#failed[@]}" = 0 ] || { echo "failed drills: ${failed[*]}" >&2; exit 1; }
echo "all drills passed"
