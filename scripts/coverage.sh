#!/usr/bin/env bash
# Line and branch coverage of core/ by the native unit suites (GCC --coverage, lcov).
#
#   scripts/coverage.sh      builds $BUILD_COV, runs every test_* binary (ctest), writes
#                            $BUILD_COV/coverage/core.info and the HTML report
#                            $BUILD_COV/coverage/html/index.html, and prints line and
#                            branch coverage for core/ and for WAL, segments, manifest and
#                            recovery.
#
# Knobs: BUILD_COV=build-cov, JOBS=2, T4DX_CRASH_CYCLES (default 50 here).
# Branches exclude those GCC adds for exception unwinding (geninfo_no_exception_branch):
# the core does not throw, so they only measure the C++ runtime.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_COV=${BUILD_COV:-build-cov}
JOBS=${JOBS:-2}
OUT=$BUILD_COV/coverage

for tool in lcov genhtml gcov; do
  if ! command -v $tool >/dev/null; then
    echo "coverage: $tool not found (Debian package lcov; make deps)" >&2
    exit 1
  fi
done

if [[ ! -f $BUILD_COV/CMakeCache.txt ]]; then
  cmake -S . -B "$BUILD_COV" -DCMAKE_BUILD_TYPE=Debug -DT4DX_BUILD_TOOLS=OFF \
    -DCMAKE_CXX_FLAGS="--coverage -O0 -fprofile-update=atomic" \
    -DCMAKE_EXE_LINKER_FLAGS="--coverage" >/dev/null || exit 1
fi
# Keep going past a target that does not build (a module half-way through a change): the
# figures of the rest are still produced, and the run exits 1.
status=0
if ! cmake --build "$BUILD_COV" -j "$JOBS" -- -k; then
  echo "coverage: some targets did not build (figures from the rest; exit 1)" >&2
  status=1
fi

RC=(--rc lcov_branch_coverage=1 --rc geninfo_no_exception_branch=1)
lcov -q --zerocounters --directory "$BUILD_COV" >/dev/null
export T4DX_CRASH_CYCLES=${T4DX_CRASH_CYCLES:-50}
if ! (cd "$BUILD_COV" && ctest -j "$JOBS" --output-on-failure); then
  echo "coverage: some tests failed (figures still produced; exit 1)" >&2
  status=1
fi

mkdir -p "$OUT"
lcov -q "${RC[@]}" --capture --directory "$BUILD_COV" --base-directory "$ROOT" \
  --output-file "$OUT/all.info" 2>/dev/null || exit 1
lcov -q "${RC[@]}" --extract "$OUT/all.info" "$ROOT/core/src/*" "$ROOT/core/include/*" \
  --output-file "$OUT/core.info" || exit 1
genhtml -q "${RC[@]}" --legend --title "T4DX core" --output-directory "$OUT/html" \
  "$OUT/core.info" >/dev/null || exit 1

# One line per area: lines and branches hit / found.
figures() {
  local name=$1
  shift
  lcov -q "${RC[@]}" --extract "$OUT/core.info" "$@" --output-file "$OUT/$name.info" >/dev/null 2>&1
  lcov "${RC[@]}" --summary "$OUT/$name.info" 2>&1 | awk -v n="$name" '
    /lines\.*:/    { l = $2 " (" substr($3, 2) "/" $5 ")" }
    /branches\.*:/ { b = $2 " (" substr($3, 2) "/" $5 ")" }
    END { printf "  %-10s lines %-22s branches %s\n", n, l, b }'
}
echo "coverage: $OUT/html/index.html"
figures core "$ROOT/core/*"
figures wal "$ROOT/core/src/wal/*"
figures segment "$ROOT/core/src/segment/*"
figures manifest "$ROOT/core/src/manifest/*"
figures recovery "$ROOT/core/src/engine/recovery.cc"
figures engine "$ROOT/core/src/engine/*"
figures env "$ROOT/core/src/env/*"
figures vector "$ROOT/core/src/vector/*"
exit $status
