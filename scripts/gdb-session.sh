#!/usr/bin/env bash
# gdb-session.sh - a gdb session against `rig debug`, as a transcript: each
# command after "(gdb) ", then what gdb printed, then rig's report (the
# listening line, which names a port, and the wall time left out). The
# checked gdb examples in docs/debugging.md are made with it.
#
# Usage: scripts/gdb-session.sh [RIG-DEBUG-OPTIONS] FILE -- GDB-COMMAND...
#   (from the repository root; RIG: the rig, default ./build/rig)
set -euo pipefail
rig=${RIG:-./build/rig}
opts=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
[ $# -gt 0 ] || { echo "usage: gdb-session.sh [RIG-DEBUG-OPTIONS] FILE -- GDB-COMMAND..." >&2; exit 2; }
shift
file=${opts[-1]}
guest=$(sed -n 's/^guest \([^ ]*\).*/\1/p' "$file" | head -n 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$rig" debug --gdb 127.0.0.1:0 "${opts[@]}" 2> "$work/rig.err" &
pid=$!
port=
for _ in $(seq 100); do
  port=$(sed -n 's/.*waiting for gdb on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/rig.err")
  [ -n "$port" ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/rig.err" >&2; exit 1; }
args=(-batch -nx -ex "set confirm off" -ex "set width 0" -ex "echo (gdb) target remote :PORT\n"
      -ex "target remote 127.0.0.1:$port")
for c in "$@"; do
  args+=(-ex "echo (gdb) ${c//\\/\\\\}\n" -ex "$c")
done
timeout 120 gdb "${args[@]}" "build/guest/guest-${guest:-ptelist}.elf" 2>&1
rc=0
wait $pid || rc=$?
echo "--- rig debug (exit $rc):"
grep -v -e 'waiting for gdb on' -e "target remote 127.0.0.1:" "$work/rig.err" | sed -E 's/, [0-9]+ ms\)/)/'
