#!/usr/bin/env bash
# update-goldens.sh - regenerate golden files after an intended change of
# behaviour: the stable JSON and text traces of tests/trace/*.scn (`rig trace
# --stable`: no instruction addresses, disassembly or symbol offsets, so they
# change only when what the guest writes changes) and the error output of
# fixtures/errors/*.bad. Read the diff it leaves before committing: every
# changed line is a change in what the guest does.
set -euo pipefail
cd "$(dirname "$0")/.."
rig=${RIG:-./build/rig}
for scn in tests/trace/*.scn; do
  "$rig" trace "$scn" --stable --format json > "${scn%.scn}.trace.json" 2>/dev/null || true
  "$rig" trace "$scn" --stable > "${scn%.scn}.trace.txt" 2>/dev/null || true
done
for bad in fixtures/errors/*.bad; do
  [ -e "$bad" ] || continue
  "$rig" check-syntax "$bad" 2> "${bad%.bad}.golden" || true
done
git status --short tests/trace fixtures/errors
