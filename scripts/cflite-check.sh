#!/bin/bash
# cflite-check.sh - checks the ClusterFuzzLite set-up without a container
# (docs/fuzzing.md): runs .clusterfuzzlite/build.sh with the variables and
# flags OSS-Fuzz's compile step gives it for libFuzzer + AddressSanitizer,
# then runs every target it shipped from another directory, with no
# RIG_GUEST_DIR and no library path, seeded, for a bounded number of inputs,
# with the options and seeds shipped beside it. Part of `make test`.
#   usage: scripts/cflite-check.sh [DIR]   (default build-cflite)
set -u
cd "$(dirname "$0")/.."
base=$(pwd)/${1:-build-cflite}
rm -rf "$base" && mkdir -p "$base/out" "$base/work" "$base/run"
export SRC=$base OUT=$base/out WORK=$base/work CC=clang CXX=clang++ \
  CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link" \
  LIB_FUZZING_ENGINE="-fsanitize=fuzzer"
unset RIG_GUEST_DIR RIG_FUZZ_GUEST LD_LIBRARY_PATH

fail() { echo "cflite-check: $*" >&2; exit 1; }

bash .clusterfuzzlite/build.sh > "$base/build.log" 2>&1 || { tail -30 "$base/build.log"; fail "build.sh failed"; }
for f in fuzz_parse fuzz_parse.dict fuzz_parse_seed_corpus.zip fuzz_pmap_ptelist fuzz_pmap_ptelist.options \
         fuzz_pmap_bsd7 fuzz_pmap_bsd7.options guests/guest-ptelist.elf guests/guest-bsd7.elf; do
  [ -s "$OUT/$f" ] || fail "build.sh did not ship $f"
done
# The shipped libraries are the ones the targets load.
ldd "$OUT/fuzz_pmap_ptelist" | grep -q "libunicorn.* => $OUT/lib/" || fail "fuzz_pmap does not load Unicorn from \$OUT/lib"

# The options file's flags, as the engine passes them.
options() { sed -n 's/^\([a-z_]*\) = \(.*\)$/-\1=\2/p' "$1"; }

cd "$base/run" || exit 1
mkdir -p seeds && (cd seeds && cmake -E tar xf "$OUT/fuzz_parse_seed_corpus.zip") || fail "cannot unpack the seed corpus"
"$OUT/fuzz_parse" -seed=1 -runs=2000 -dict="$OUT/fuzz_parse.dict" seeds > parse.log 2>&1 ||
  { tail -30 parse.log; fail "fuzz_parse failed"; }
grep "^Done" parse.log
for g in ptelist bsd7; do
  # shellcheck disable=SC2046
  "$OUT/fuzz_pmap_$g" -seed=1 -runs=100 $(options "$OUT/fuzz_pmap_$g.options") > "pmap-$g.log" 2>&1 ||
    { tail -30 "pmap-$g.log"; fail "fuzz_pmap_$g failed"; }
  grep -q "guest $g\b" "pmap-$g.log" || { tail -30 "pmap-$g.log"; fail "fuzz_pmap_$g did not fuzz guest $g"; }
  echo "fuzz_pmap_$g: $(grep "^Done" "pmap-$g.log")"
done
