#!/usr/bin/env bash
# fuzz-report.sh - how fast `rig fuzz` finds each planted bug: for every
# guest build buggy-NAME, rig fuzz from an empty corpus for at most LIMIT
# seconds, then the seconds it took (search and shrinking together), the
# violation it reported and the size of the shrunk scenario. Prints a
# Markdown table (docs/fuzzing.md). Timings depend on the machine: run it
# on an idle one, one guest at a time.
#
# Usage: scripts/fuzz-report.sh [LIMIT [NAME...]]   (default 300 s, every
#        buggy- build; make fuzz-report)
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${1:-300}
shift || true
rig=${RIG:-./build/rig}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| guest | finding | seconds | shrunk to |"
echo "|---|---|---|---|"
if [ $# -eq 0 ]; then
  set -- $(ls build/guest/guest-buggy-*.elf | sed 's|.*/guest-||; s|\.elf$||')
fi
for name in "$@"; do
  start=$(date +%s.%N)
  set +e
  "$rig" fuzz --guest "$name" --time "$limit" --corpus "$work/$name" > "$work/$name.out" 2>/dev/null
  rc=$?
  set -e
  secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }')
  if [ "$rc" -eq 1 ]; then
    what=$(sed -n 's/^# Shrunk by rig shrink from [^:]*: \([^,]*\), \([0-9]*\) statements\{0,1\} (from \([0-9]*\)).*/\1|\2 statements (from \3)/p' "$work/$name.out")
    echo "| $name | ${what%%|*} | $secs | ${what#*|} |"
  else
    echo "| $name | not found | >$limit | |"
  fi
done
