# pmaprig: `make run` and `make test` set up everything they need
# (scripts/provision.sh), build with CMake and run. `make run` exits 0, or 2
# whenever rig exits non-zero (make's status for any failed recipe; its line
# "make: *** [Makefile:N: run] Error C" names rig's code C). For rig's own
# exit code run `make build && ./build/rig run fixtures/` (README, Exit codes).
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_RUNS  ?= 4000
FUZZ_TIME  ?= 600
FUZZ_GUEST ?= ptelist
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all provision build build-asan build-fuzz run test fuzz-smoke fuzz fuzz-pmap fuzz-report fuzz-speed cflite-check bench clean

all: build

# PROVISION_FLAGS: `make test` adds --old-unicorn (Debian 12's Unicorn 2.0.1, for the
# negative paging-probe test); run and build do not fetch it.
provision:
	@bash scripts/provision.sh $(PROVISION_FLAGS)

build: provision
	@cmake -S . -B $(BUILD) $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: provision
	@cmake -S . -B $(ASAN_BUILD) $(CMAKE_ARGS) -DRIG_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# The libFuzzer targets (docs/fuzzing.md): clang, the host library instrumented.
build-fuzz: provision
	@cmake -S . -B $(FUZZ_BUILD) $(CMAKE_ARGS) -DCMAKE_C_COMPILER=clang -DRIG_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)

# Each fuzz target for a bounded, seeded number of inputs from the fixtures (part of
# `make test`; the corpus starts empty, so the run is the same every time).
fuzz-smoke: build build-fuzz
	@echo "== fuzz targets: $(FUZZ_RUNS) inputs each, seed 1"
	@rm -rf $(FUZZ_BUILD)/corpus-parse && mkdir -p $(FUZZ_BUILD)/corpus-parse
	@RIG_GUEST_DIR=$(BUILD)/guest $(FUZZ_BUILD)/fuzz_parse -seed=1 -runs=$(FUZZ_RUNS) -dict=fuzz/scenario.dict \
	  $(FUZZ_BUILD)/corpus-parse fixtures tests/trace > $(FUZZ_BUILD)/fuzz_parse.log 2>&1; rc=$$?; \
	  if [ $$rc -ne 0 ]; then tail -40 $(FUZZ_BUILD)/fuzz_parse.log; else grep "^Done" $(FUZZ_BUILD)/fuzz_parse.log; fi; \
	  exit $$rc
	@echo "== rig fuzz: 2000 seeded inputs on ptelist find nothing; buggy-forget-invlpg's bug is found and shrunk"
	@rm -rf $(FUZZ_BUILD)/corpus-pmap-ptelist $(FUZZ_BUILD)/corpus-pmap-buggy-forget-invlpg $(FUZZ_BUILD)/findings-*
	@./$(BUILD)/rig fuzz --guest ptelist --runs 2000 > $(FUZZ_BUILD)/fuzz_pmap.log 2>&1 || \
	  { tail -40 $(FUZZ_BUILD)/fuzz_pmap.log; exit 1; }
	@./$(BUILD)/rig fuzz --guest buggy-forget-invlpg --runs 5000 > $(FUZZ_BUILD)/fuzz_pmap.log 2>&1; rc=$$?; \
	  if [ $$rc -ne 1 ] || ! grep -q "^# Shrunk by rig shrink from .*: violation TLB-STALE" $(FUZZ_BUILD)/fuzz_pmap.log; \
	  then tail -40 $(FUZZ_BUILD)/fuzz_pmap.log; exit 1; fi; grep "^# Shrunk" $(FUZZ_BUILD)/fuzz_pmap.log

# A longer campaign: FUZZ_TIME seconds per target, keeping the corpus.
fuzz: build build-fuzz
	@mkdir -p $(FUZZ_BUILD)/corpus-parse
	@RIG_GUEST_DIR=$(BUILD)/guest $(FUZZ_BUILD)/fuzz_parse -max_total_time=$(FUZZ_TIME) -dict=fuzz/scenario.dict \
	  $(FUZZ_BUILD)/corpus-parse fixtures tests/trace

# rig fuzz on FUZZ_GUEST for FUZZ_TIME seconds (docs/fuzzing.md): a finding is written
# as a scenario beside its crash-* input in $(FUZZ_BUILD)/findings-NAME/, shrunk and printed.
fuzz-pmap: build build-fuzz
	@./$(BUILD)/rig fuzz --guest $(FUZZ_GUEST) --time $(FUZZ_TIME)

# Inputs per second of the pmap target, a boot per input against the snapshot (docs/fuzzing.md).
fuzz-speed: build build-fuzz
	@bash scripts/fuzz-speed.sh 1000

# How fast rig fuzz finds each planted bug, as a Markdown table (docs/fuzzing.md).
fuzz-report: build build-fuzz
	@bash scripts/fuzz-report.sh $(FUZZ_TIME)

run: build
	@$(BUILD)/rig run fixtures/

# CTEST_FLAGS: more ctest options for both runs (.ci/run adds --output-junit).
test: PROVISION_FLAGS = --old-unicorn
test: build build-asan build-fuzz
	@echo "== test suite ($(BUILD))"
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) $(CTEST_FLAGS)
	@echo "== test suite under AddressSanitizer + UndefinedBehaviorSanitizer ($(ASAN_BUILD))"
	@ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) $(CTEST_FLAGS)
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory cflite-check

# The ClusterFuzzLite set-up (.clusterfuzzlite/, docs/fuzzing.md), built by its build.sh
# as OSS-Fuzz's compile step runs it, and each shipped target run briefly, seeded.
cflite-check: provision
	@echo "== .clusterfuzzlite/build.sh as the engine runs it; each shipped target, seeded"
	@bash scripts/cflite-check.sh build-cflite

# The benchmark (docs/performance.md): steps per second per workload and mode;
# writes build/bench.json and build/bench.svg. Not part of `make test`.
bench: build
	@./$(BUILD)/rig bench --dir bench --out $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-cflite
