# pmaprig: `make run` and `make test` set up everything they need
# (scripts/provision.sh), build with CMake and run. `make run` exits 0, or 2
# whenever rig exits non-zero (make's status for any failed recipe; its line
# "make: *** [Makefile:N: run] Error C" names rig's code C). For rig's own
# exit code run `make build && ./build/rig run fixtures/` (README, Exit codes).
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all provision build build-asan run test bench clean

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

run: build
	@$(BUILD)/rig run fixtures/

# CTEST_FLAGS: more ctest options for both runs (.ci/run adds --output-junit).
test: PROVISION_FLAGS = --old-unicorn
test: build build-asan
	@echo "== test suite ($(BUILD))"
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) $(CTEST_FLAGS)
	@echo "== test suite under AddressSanitizer + UndefinedBehaviorSanitizer ($(ASAN_BUILD))"
	@ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

# The benchmark (docs/performance.md): steps per second per workload and mode;
# writes build/bench.json and build/bench.svg. Not part of `make test`.
bench: build
	@./$(BUILD)/rig bench --dir bench --out $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
