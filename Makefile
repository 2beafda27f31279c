# pmaprig: `make run` and `make test` set up everything they need
# (scripts/provision.sh), build with CMake and run.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all provision build build-asan run test bench clean

all: build

provision:
	@bash scripts/provision.sh

build: provision
	@cmake -S . -B $(BUILD) $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: provision
	@cmake -S . -B $(ASAN_BUILD) $(CMAKE_ARGS) -DRIG_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

run: build
	@./$(BUILD)/rig run fixtures/

test: build build-asan
	@echo "== test suite ($(BUILD))"
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	@echo "== test suite under AddressSanitizer + UndefinedBehaviorSanitizer ($(ASAN_BUILD))"
	@ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# The benchmark (docs/performance.md): steps per second per workload and mode;
# writes build/bench.json and build/bench.svg. Not part of `make test`.
bench: build
	@./$(BUILD)/rig bench --dir bench --out $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
