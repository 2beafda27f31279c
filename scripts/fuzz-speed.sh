#!/usr/bin/env bash
# fuzz-speed.sh - what the snapshot buys the pmap fuzz target: the same
# inputs (N of them, 60 bytes each, so 20 operations after the prologue,
# the same bytes every time) run once with a boot per input and once on the
# machine restored from its snapshot, side by side for each of our guests
# (bsd7 is left out: FreeBSD 7 livelocks when pv KVA runs out, which the
# fuzzer finds at once and which ends a run). Two sets of inputs: "mixed",
# every operation kind the decoder has, 64-page bursts and whole-span
# unmaps included (what a campaign runs); "single", the same without those
# two kinds, so each operation is one or a few pmap calls.
# Prints a Markdown table (docs/fuzzing.md): inputs per second both ways,
# the speed-up, and what one restore costs. Timings depend on the machine:
# run it on an idle one.
#
# Usage: scripts/fuzz-speed.sh [N]   (default 1000; make fuzz-speed)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
target=${FUZZ_BUILD:-build-fuzz}/fuzz_pmap
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/mixed" "$work/single"
# N inputs of 60 bytes from a fixed seed (awk's generator: the same bytes on every machine with the same
# awk); in the single set, an operation byte (every third, fuzzdec.c) never selects kind 3 or 15
LC_ALL=C awk -v n="$n" -v dir="$work" 'BEGIN {
  srand(1)
  for (i = 0; i < n; i++) {
    f = sprintf("%s/mixed/%05d", dir, i)
    for (k = 0; k < 60; k++) printf "%c", int(rand() * 256) > f
    close(f)
  }
  srand(2)
  for (i = 0; i < n; i++) {
    f = sprintf("%s/single/%05d", dir, i)
    for (k = 0; k < 60; k++) {
      b = int(rand() * 256)
      while (k % 3 == 0 && (b % 16 == 3 || b % 16 == 15)) b = int(rand() * 256)
      printf "%c", b > f
    }
    close(f)
  }
}'
# inputs per second of one run over all N inputs, and the target's own statistics line
run() {
  local start end
  start=$(date +%s%N)
  env RIG_GUEST_DIR=build/guest RIG_FUZZ_GUEST="$1" RIG_FUZZ_STATS=1 ${2:+RIG_FUZZ_FRESH=1} \
    "$target" -detect_leaks=0 "$work/$3"/* > "$work/out" 2>&1 || { tail -20 "$work/out" >&2; exit 1; }
  end=$(date +%s%N)
  awk -v n="$n" -v ns="$((end - start))" 'BEGIN { printf "%.0f", n / (ns / 1e9) }'
}
echo "| guest | inputs | boot per input: inputs/s | snapshot: inputs/s | speed-up | one restore | frames copied |"
echo "|---|---|---|---|---|---|---|"
for set in mixed single; do
  for guest in ptelist nofree dynamic; do
    slow=$(run "$guest" fresh "$set")
    fast=$(run "$guest" "" "$set")
    stats=$(grep "^fuzz_pmap: .* restores" "$work/out")
    us=$(echo "$stats" | sed -n 's/.* restores, \([0-9.]*\) us and \([0-9.]*\) frames.*/\1/p')
    frames=$(echo "$stats" | sed -n 's/.* restores, \([0-9.]*\) us and \([0-9.]*\) frames.*/\2/p')
    echo "| $guest | $n $set | $slow | $fast | $(awk -v a="$slow" -v b="$fast" 'BEGIN { printf "%.1fx", b / a }') | $us µs | $frames |"
  done
done
