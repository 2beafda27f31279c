#!/bin/bash -eu
# build.sh - builds pmaprig's libFuzzer targets the way OSS-Fuzz and
# ClusterFuzzLite expect (docs/fuzzing.md): the engine's $CC, $CFLAGS and
# $LIB_FUZZING_ENGINE for the host code, the machine's gcc -m32 for the
# guests, everything a target needs copied into $OUT:
#   fuzz_parse                 the scenario parser, with
#   fuzz_parse_seed_corpus.zip   the fixtures as seeds, and
#   fuzz_parse.dict              the language's keywords
#   fuzz_pmap_NAME             the pmap target over guest NAME (its name
#   fuzz_pmap_NAME.options       picks the guest), with its libFuzzer options
#   guests/guest-NAME.elf      the guests they boot
#   lib/                       the shared libraries they need beyond the C
#                              library (the runner image has none of them)
# scripts/cflite-check.sh runs this script in `make test` as the engine would.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -f "$here/project.yaml" ]; then repo=$(dirname "$here")
else repo=$PWD; fi	# the engine runs a copy, $SRC/build.sh, in WORKDIR: the repository
work=${WORK:-/tmp}/pmaprig
guests="ptelist bsd7"	# the correct guests; the planted bugs are for make fuzz-report
jobs=$(nproc)

# The guests: gcc -m32, never the engine's compiler or flags.
env -u CFLAGS -u CXXFLAGS -u LDFLAGS CC=gcc \
  cmake -S "$repo" -B "$work/guests" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$work/guests" --target guest -j "$jobs" >/dev/null

# The targets: the engine's compiler and flags ($CFLAGS come in through CMake).
cmake -S "$repo" -B "$work/fuzz" -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DRIG_FUZZ=ON -DRIG_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" >/dev/null
cmake --build "$work/fuzz" -j "$jobs" >/dev/null

mkdir -p "$OUT/guests" "$OUT/lib"
cp "$work/fuzz/fuzz_parse" "$OUT/"
cp "$repo/fuzz/scenario.dict" "$OUT/fuzz_parse.dict"
(cd "$repo" && cmake -E tar cf "$OUT/fuzz_parse_seed_corpus.zip" --format=zip fixtures tests/trace)
for g in $guests; do
  cp "$work/guests/guest/guest-$g.elf" "$OUT/guests/"
  cp "$work/fuzz/fuzz_pmap" "$OUT/fuzz_pmap_$g"
  # As rig fuzz runs it (rig/cli_fuzz.c): inputs past 72 bytes decode to nothing more.
  printf '[libfuzzer]\nmax_len = 72\nlen_control = 0\ndetect_leaks = 0\n' > "$OUT/fuzz_pmap_$g.options"
done

# The shared libraries: Unicorn, Capstone, libdw and theirs; not the C runtime.
ldd "$OUT/fuzz_parse" "$OUT/fuzz_pmap_${guests%% *}" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u |
  while read -r lib; do
    case "${lib##*/}" in
      libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libgcc_s.so*|libstdc++.so*) ;;
      *) cp -L "$lib" "$OUT/lib/" ;;
    esac
  done
