#!/usr/bin/env bash
# update-goldens.sh - regenerate golden files after an intended change:
# the JSON and text traces of tests/trace/*.scn (guest code addresses appear in it) and
# the error output of fixtures/errors/*.bad. Review the diff before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
rig=./build/rig
for scn in tests/trace/*.scn; do
  "$rig" trace "$scn" --format json > "${scn%.scn}.trace.json" 2>/dev/null || true
  "$rig" trace "$scn" > "${scn%.scn}.trace.txt" 2>/dev/null || true
done
for bad in fixtures/errors/*.bad; do
  [ -e "$bad" ] || continue
  "$rig" check-syntax "$bad" 2> "${bad%.bad}.golden" || true
done
git status --short tests/trace fixtures/errors
