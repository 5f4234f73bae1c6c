# T4DX — one command per job. See README.md.
#   make deps      install every Debian and npm package the project needs (pinned, idempotent)
#   make build     native binaries in build/bin/, the WASM package in npm/dist/, the inspector in web/dist/
#   make test      deps, build, every test suite (native, sanitizers, fuzz replay + brief fuzzing,
#                  service/CLI/reliability over real HTTP and real processes, Node/WASM, Chromium)
#   make run       deps, build, start t4dm-service on 127.0.0.1:8000 with data in ./data
#   make bench     the standard benchmark set -> bench/results/ and BENCHMARKS.md
#   make fuzz      every fuzz target for FUZZ_SECONDS (default 60) each
#   make crash     long service crash-cycle run (CYCLES=N)
#   make soak      long load run (SOAK_SECONDS=N)
#   make tsan      concurrency tests under ThreadSanitizer
#   make coverage  gcov/lcov line and branch coverage of core/
SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build
NODE_TEST := node --test --test-concurrency=1

.PHONY: all deps build build-native build-wasm build-web build-asan test test-native test-asan \
        test-tools test-reliability test-npm test-web test-fuzz-brief run bench fuzz crash soak tsan coverage clean

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build-native: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

build-wasm:
	JOBS=$(JOBS) bash scripts/build-wasm.sh

build-web: build-wasm
	bash scripts/build-web.sh

build: deps build-native build-web

build-asan:
	@test -f build-asan/CMakeCache.txt || cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug \
	  -DT4DX_SANITIZE=address,undefined -DT4DX_BUILD_TOOLS=OFF >/dev/null
	cmake --build build-asan -j $(JOBS)

test-native: build-native
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 T4DX_CRASH_CYCLES=20 ctest --output-on-failure -j $(JOBS)

test-tools: build-native
	T4DM_SERVICE_BIN=$(CURDIR)/$(BUILD)/bin/t4dm-service T4DX_BIN=$(CURDIR)/$(BUILD)/bin/t4dx \
	  $(NODE_TEST) tests/service/ tests/cli/

test-reliability: build-native
	T4DM_SERVICE_BIN=$(CURDIR)/$(BUILD)/bin/t4dm-service T4DX_BIN=$(CURDIR)/$(BUILD)/bin/t4dx \
	  $(NODE_TEST) tests/reliability/

# Test files listed by name: `node --test test/` would also run test/helpers.mjs and the
# crash test's writer (test/fixtures/writer.mjs) as test files. Each file is killed
# after 5 minutes (a hang fails with "timed out" instead of blocking), and the runner does
# not wait for handles a failed test left open. The cross-host tests use $(BUILD)/bin/t4dx.
test-npm: build-native build-wasm
	cd npm && T4DX_CLI=$(CURDIR)/$(BUILD)/bin/t4dx $(NODE_TEST) --test-timeout=300000 --test-force-exit test/*.test.mjs

# The inspector in headless Chromium on fixtures made by $(BUILD)/bin/t4dx (web/README.md).
test-web: build-native build-web
	cd web && T4DX_BIN=$(CURDIR)/$(BUILD)/bin/t4dx $(NODE_TEST) --test-timeout=600000 --test-force-exit test/*.test.mjs

test-fuzz-brief:
	FUZZ_SECONDS=5 JOBS=$(JOBS) bash scripts/fuzz.sh

# test-reliability: 100 service crash cycles, disk full on a tmpfs, a 2-minute soak,
# hostile input (~5 min); test-fuzz-brief: each fuzz target for 5 s after building
# build-fuzz (~6 min from clean). Long runs: make fuzz / crash / soak (README "Testing").
test: deps build
	$(MAKE) test-native
	$(MAKE) test-asan
	$(MAKE) test-tools
	$(MAKE) test-npm
	$(MAKE) test-web
	$(MAKE) test-reliability
	$(MAKE) test-fuzz-brief

run: deps build-native
	bash scripts/run-service.sh

bench: deps build-native
	bash scripts/bench.sh

fuzz:
	JOBS=$(JOBS) bash scripts/fuzz.sh

crash: build-native
	BUILD=$(BUILD) bash scripts/crash.sh $(or $(CYCLES),1000) $(SEED)

soak: build-native
	BUILD=$(BUILD) bash scripts/soak.sh $(or $(SOAK_SECONDS),3600)

tsan:
	bash scripts/tsan.sh

coverage:
	bash scripts/coverage.sh

clean:
	rm -rf build build-asan build-wasm build-fuzz build-tsan build-cov npm/dist web/dist
