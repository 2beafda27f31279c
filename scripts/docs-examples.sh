#!/usr/bin/env bash
# docs-examples.sh - keep the command examples pasted into the docs true.
#
# The mechanism: in any Markdown file, an HTML comment naming a shell command
# marks the fenced block right after it as that command's real output:
#
#   <!-- example: rig trace --stable tests/trace/simple.scn --step 7 2>/dev/null -->
#   ```
#   $ rig trace --stable tests/trace/simple.scn --step 7 2>/dev/null
#   ...the command's stdout, exactly...
#   ```
#
# The block holds "$ COMMAND" and then the command's stdout (redirect stderr
# in the command if it must not show). Commands run with bash from the
# repository root, so paths in them are relative to the repository; `rig`
# in a command is the rig under test ($RIG, default ./build/rig). A command
# that exits non-zero (for a pipeline: its last command) is an error. The
# comment is invisible when the Markdown is rendered; the "$ " line shows
# the command to the reader.
#
# Usage: scripts/docs-examples.sh [--check] [FILE.md...]
#   FILE.md...  the files to process (default: README.md and docs/*.md;
#               files without a marker are left alone)
#   (no flag)   regenerate: rewrite each marked block with the real output,
#               then review the diff (`git diff docs/`) before committing
#   --check     change nothing; print a unified diff for every block that
#               differs from the real output and exit 1 (the CTest docs test)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
check=0
if [ "${1:-}" = --check ]; then
  check=1
  shift
fi
rig=${RIG:-./build/rig}
case $rig in /*) ;; *) rig="$top/$rig" ;; esac
[ -x "$rig" ] || { echo "docs-examples.sh: no rig at $rig (build first, or set RIG)" >&2; exit 2; }
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
ln -s "$rig" "$bin/rig"
marker='^<!-- example: (.*) -->$'
fence='^```'

# Run one example command; its stdout (ending in a newline) on stdout.
run_example() {
  local out="$bin/out"
  if ! PATH="$bin:$PATH" bash -c "$1" > "$out" < /dev/null; then
    echo "docs-examples.sh: example command failed: $1" >&2
    return 1
  fi
  cat "$out"
  if [ -s "$out" ] && [ "$(tail -c 1 "$out" | od -An -c | tr -d ' ')" != '\n' ]; then
    echo
  fi
}

# FILE with every marked block replaced by its command's real output, on stdout.
render() {
  local file=$1 line cmd state=text
  while IFS= read -r line || [ -n "$line" ]; do
    if [ $state = old ]; then		# the block's previous contents: dropped
      if [[ $line =~ $fence ]]; then
        run_example "$cmd" || return 1
        printf '%s\n' "$line"
        state=text
      fi
      continue
    fi
    printf '%s\n' "$line"
    if [ $state = open ]; then
      [[ $line =~ $fence ]] || { echo "$file: a fenced block must follow <!-- example: $cmd -->" >&2; return 1; }
      printf '$ %s\n' "$cmd"
      state=old
    elif [[ $line =~ $marker ]]; then
      cmd=${BASH_REMATCH[1]}
      state=open
    fi
  done < "$file"
  [ $state = text ] || { echo "$file: unterminated example block ($cmd)" >&2; return 1; }
}

files=("$@")
[ ${#files[@]} -gt 0 ] || files=(README.md docs/*.md)
status=0
for f in "${files[@]}"; do
  grep -Eq "$marker" "$f" || continue
  render "$f" > "$bin/new" || { status=2; continue; }
  if cmp -s "$f" "$bin/new"; then
    continue
  fi
  if [ $check = 1 ]; then
    diff -u --label "$f (in the docs)" --label "$f (real output)" "$f" "$bin/new" || true
    echo "docs-examples.sh: $f: an example differs from what the rig prints now. If the" \
      "behaviour change is intended, regenerate with scripts/docs-examples.sh $f and make" \
      "sure the prose around the example still says what the new output shows." >&2
    status=1
  else
    cp "$bin/new" "$f"
    echo "rewrote the examples of $f"
  fi
done
exit $status
