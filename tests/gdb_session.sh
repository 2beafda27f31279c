#!/usr/bin/env bash
# gdb_session.sh - drive the real gdb (Debian's package) in batch mode
# against `rig debug`, one case per invocation, and check what gdb prints.
#
# Usage: tests/gdb_session.sh RIG CASE   (from the repository root; CTest)
#   bt           a breakpoint on pmap_protect; bt shows source lines through
#                the guest's DWARF; registers with CR3; x/wx of the PTE
#                through its VA in the recursive map equals monitor pte;
#                detach lets the run finish
#   monitor      monitor where, regs, pte, pv, chunk, tlb, check, help, and
#                next-step and break-pte stops
#   at-violation a planted-bug guest: gdb opens on the exact instruction the
#                checker blames (the one `rig run` names); reverse-stepi goes
#                one instruction back, stepi returns to it
#   exit         gdb hears the file's exit code; a lost connection lets the
#                run finish cleanly
set -uo pipefail
rig=$1
case_=$2
work=$(mktemp -d)
trap 'kill $rigpid 2>/dev/null; rm -rf "$work"' EXIT
command -v gdb >/dev/null || { echo "FAIL: no gdb (scripts/provision.sh installs it)"; exit 1; }

fail() { echo "FAIL ($case_): $*"; echo "--- gdb:"; cat "$work/gdb.out"; echo "--- rig:"; cat "$work/rig.err"; exit 1; }
# expect PATTERN (an extended regex, one line of gdb's output must match it)
expect() { grep -Eq -- "$1" "$work/gdb.out" || fail "gdb's output has no line matching: $1"; }

# start rig debug on a free port; $port and $rigpid
start() {
  "$rig" debug --gdb 127.0.0.1:0 "$@" 2> "$work/rig.err" &
  rigpid=$!
  for _ in $(seq 100); do
    port=$(sed -n 's/.*waiting for gdb on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/rig.err")
    [ -n "$port" ] && return
    kill -0 $rigpid 2>/dev/null || fail "rig debug exited before listening"
    sleep 0.1
  done
  fail "rig debug did not listen"
}
# run gdb on guest build $1 with the remaining arguments as -ex commands
gdbrun() {
  local elf=build/guest/guest-$1.elf; shift
  local args=(-batch -nx -ex "set confirm off" -ex "target remote 127.0.0.1:$port")
  for c in "$@"; do args+=(-ex "$c"); done
  timeout 120 gdb "${args[@]}" "$elf" > "$work/gdb.out" 2>&1
}
finish() {	# rig's exit code must be $1
  wait $rigpid; rc=$?
  [ "$rc" = "$1" ] || fail "rig debug exited $rc, not $1"
}

case $case_ in
bt)
  start tests/gdb/session.scn
  gdbrun ptelist "break pmap_protect" "continue" "bt" "info registers eip cr3" \
    "x/wx 0xffc20120" "monitor pte 0x08048000 A" "detach"
  expect '^Breakpoint 1, pmap_protect \(.*\) at .*guest/pmap\.c:[0-9]+$'
  expect '^#0  pmap_protect \(.*\) at .*guest/pmap\.c:[0-9]+$'
  # its caller, whatever the guest calls it from, with its source line too
  expect '^#1  0x[0-9a-f]+ in [a-z_0-9]+ \(.*\) at guest/[a-z_0-9/]+\.[cS]:[0-9]+$'
  expect '^eip +0x[0-9a-f]+ +0x[0-9a-f]+ <pmap_protect(\+[0-9]+)?>$'
  # A is current (the touch loaded it): its PTE of 0x08048000 is at PTmap + (0x08048000 >> 12) * 4
  pte=$(sed -n 's/^0xffc20120:[[:space:]]*\(0x[0-9a-f]*\)$/\1/p' "$work/gdb.out")
  [ -n "$pte" ] || fail "x/wx printed no word at 0xffc20120"
  expect "^  PTE\[72\] at pa 0x[0-9a-f]{8} = $(printf '0x%08x' "$pte") \+P \+RW \+US \+A \+D"
  cr3=$(sed -n 's/^cr3 *\(0x[0-9a-f]*\) .*/\1/p' "$work/gdb.out")
  expect "^va 0x08048000 in the directory at $(printf '0x%08x' "$cr3") \(A\)$"
  # detach: the run goes on to its end without gdb
  expect '^\[Inferior 1 \(Remote target\) detached\]$'
  finish 0
  grep -q '^PASS tests/gdb/session\.scn' "$work/rig.err" || fail "the run did not finish after the detach"
  ;;
monitor)
  start tests/gdb/session.scn
  gdbrun ptelist "monitor help" "monitor where" "monitor pte 0x08048000 kernel" "monitor next-step" "continue" \
    "monitor where" "monitor break-pte 0x08048000 if RW count 3" "continue" "bt 1" "monitor pte 0x08048000 A" \
    "monitor regs" "monitor bogus" "monitor pte 0x08048000 B" "continue"
  expect '^  break-pte VA \[if BITS\] \[count N\]'
  expect '^tests/gdb/session\.scn: before the first step \(after boot\)$'
  expect '^  PDE\[32\] at pa 0x[0-9a-f]{8} = 0x00000000$'
  expect '^  not mapped \(no page table\)$'
  expect '^tests/gdb/session\.scn:4: pmap A \(operation 1\)$'
  # RW changes in the PDE's creation, the PTE's, and the protect: the third stops the guest
  expect '^break-pte 1: stop after the 3rd store into the PTE or PDE of 0x08048000 that changes RW \(then: continue\)$'
  expect '^break-pte: .*pmap_protect\+0x[0-9a-f]+ \(pmap\.c:[0-9]+\) stored PTE va=0x08048000: 0x[0-9a-f]{5}467 -> 0x[0-9a-f]{5}425$'
  expect '^#0  .*pmap_protect(_pte)? \(.*\) at .*guest/pmap\.c:[0-9]+$'
  expect '^  PTE\[72\] at pa 0x[0-9a-f]{8} = 0x[0-9a-f]{5}425 \+P \+US \+A \+MAN$'
  expect '^eip 0x[0-9a-f]{8}  cr0 0x[0-9a-f]{8}  cr2 0x[0-9a-f]{8}  cr3 0x[0-9a-f]{8} \(A\)  cr4 0x[0-9a-f]{8}$'
  expect "^unknown monitor command 'bogus' \(monitor help lists them\)$"
  expect "^no pmap 'B' in tests/gdb/session\.scn \(its pmaps: kernel, A\)$"
  finish 0
  # held where the protect begins (--step): the page's pv list, the TLB after the write, the checker
  start --step 8 tests/gdb/session.scn
  gdbrun ptelist "monitor where" "monitor pv p" "monitor tlb 0x08048000" "monitor check" "continue"
  expect '^tests/gdb/session\.scn:8: protect A 0x08048000 \+1 r \(operation 5\)$'
  expect '^  pv_entry 0x[0-9a-f]{8}: va 0x08048000, pmap 0x[0-9a-f]{8} \(A\)$'
  expect '^  1 entry$'
  expect '^va 0x08048000 -> pa 0x[0-9a-f]{8} RW US D \(PTE 0x[0-9a-f]{8} when cached\)$'
  expect '^every rule holds$'
  entry=$(sed -n 's/^  pv_entry \(0x[0-9a-f]*\): va 0x08048000.*/\1/p' "$work/gdb.out")
  finish 0
  # that entry's chunk: one entry in use, the page's
  start --step 8 tests/gdb/session.scn
  gdbrun ptelist "monitor chunk $entry" "continue"
  expect "^pv_chunk $(printf '0x%08x' $((entry & ~0xfff))): pmap 0x[0-9a-f]{8}, bitmap( [0-9a-f]{8})+ \(a set bit is (free|in use)\)$"
  expect "^  \[[0-9]+\] $entry: va 0x08048000$"
  expect '^  1 of [0-9]+ entries in use$'
  finish 0
  ;;
at-violation)
  # what rig run blames: "caused by event #N: FUNCTION+0xOFF (FILE:LINE): INSN: ..."
  "$rig" run fixtures/errors/bug-forget-invlpg.scn --format text > /dev/null 2>&1
  blamed=$(sed 's/^expect violation.*//' fixtures/errors/bug-forget-invlpg.scn | "$rig" run /dev/stdin 2>&1 |
    sed -n 's/.*caused by event #[0-9]*: \([a-z_0-9]*\)+0x\([0-9a-f]*\) .*/\1 \2/p')
  [ -n "$blamed" ] || fail "rig run named no blamed instruction"
  fn=${blamed% *}; off=$((16#${blamed#* }))
  start --at-violation fixtures/errors/bug-forget-invlpg.scn
  gdbrun buggy-forget-invlpg "info symbol \$pc" "p/x \$pc" "bt" "monitor where" "reverse-stepi" "p/x \$pc" \
    "stepi" "p/x \$pc" "monitor where" "break pmap_remove_pte" "reverse-continue" "bt 1" "monitor where" \
    "reverse-continue" "monitor where" "delete" "continue"
  expect "^$fn \+ $off in section \.text$"
  expect "^#0  0x[0-9a-f]+ in $fn \(.*\) at .*guest/pmap\.c:[0-9]+$"
  expect '^held before the store the checker blames: violation TLB-STALE at line 11 \(event #[0-9]+\)$'
  mapfile -t pcs < <(sed -n 's/^\$[0-9]* = \(0x[0-9a-f]*\)$/\1/p' "$work/gdb.out")
  [ "${#pcs[@]}" = 3 ] || fail "expected three p/x \$pc lines, got ${#pcs[@]}"
  [ "${pcs[0]}" != "${pcs[1]}" ] || fail "reverse-stepi did not move back from ${pcs[0]}"
  [ "${pcs[0]}" = "${pcs[2]}" ] || fail "stepi after reverse-stepi is at ${pcs[2]}, not ${pcs[0]}"
  # the instruction before the blamed one, then the blamed one again: two holds, one count apart
  n1=$(sed -n 's/^guest instruction \([0-9]*\) of this run$/\1/p' "$work/gdb.out" | sed -n 1p)
  n2=$(sed -n 's/^guest instruction \([0-9]*\) of this run$/\1/p' "$work/gdb.out" | sed -n 2p)
  [ -n "$n1" ] && [ "$n1" = "$n2" ] || fail "monitor where counted $n1 then $n2 at the same instruction"
  # reverse-continue: back to the call of pmap_remove_pte that led to the store (set after it ran),
  # then, with no earlier one, to the run's first instruction (the start of the history)
  expect '^Breakpoint 1, pmap_remove_pte \(.*\) at .*guest/pmap\.c:[0-9]+$'
  expect '^#0  pmap_remove_pte \('
  expect '^No more reverse-execution history\.$'
  n3=$(sed -n 's/^guest instruction \([0-9]*\) of this run$/\1/p' "$work/gdb.out" | sed -n 3p)
  n4=$(sed -n 's/^guest instruction \([0-9]*\) of this run$/\1/p' "$work/gdb.out" | sed -n 4p)
  [ -n "$n3" ] && [ "$n3" -lt "$n1" ] && [ "$n3" -gt 1 ] || fail "reverse-continue went to instruction $n3 (held at $n1)"
  [ "$n4" = 1 ] || fail "the second reverse-continue went to instruction $n4, not the first"
  grep -q "^rig debug: fixtures/errors/bug-forget-invlpg.scn:11: violation TLB-STALE; gdb gets the guest before the store it blames (event #[0-9]*, guest instruction $n1 of the run)$" "$work/rig.err" ||
    fail "rig debug named another instruction than gdb was held at ($n1)"
  finish 0
  ;;
exit)
  # gdb hears the exit code rig run would give (a failing file: 1) ...
  sed 's/^expect violation.*//' fixtures/errors/bug-forget-invlpg.scn > "$work/fail.scn"
  start "$work/fail.scn"
  gdbrun buggy-forget-invlpg "continue"
  expect '^\[Inferior 1 \(Remote target\) exited with code 01\]$'
  finish 1
  # ... and a connection lost at a breakpoint lets the run go on to its end
  start tests/gdb/session.scn
  gdbrun ptelist "break pmap_enter" "continue" "disconnect"
  expect '^Breakpoint 1, pmap_enter '
  finish 0
  grep -q '^PASS tests/gdb/session\.scn' "$work/rig.err" || fail "the run did not finish after the disconnect"
  ;;
*)
  echo "usage: gdb_session.sh RIG bt|monitor|at-violation|exit" >&2
  exit 2
  ;;
esac
echo "PASS ($case_)"
