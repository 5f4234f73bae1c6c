#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz/ (ASan + UBSan, clang), one after the other.
#
#   scripts/fuzz.sh [target ...]        every target (or the ones named) for FUZZ_SECONDS each
#   scripts/fuzz.sh --make-corpus       regenerates tests/fuzz/corpus/ from a store the engine
#                                       writes (then review and commit it)
#
# Knobs (environment):
#   FUZZ_SECONDS=60      seconds per target (make test uses 5)
#   BUILD_FUZZ=build-fuzz  build directory (clang, -DT4DX_FUZZ=ON)
#   JOBS=2               build parallelism
#   FUZZ_ARGS=...        extra libFuzzer flags (e.g. -max_len=65536 -jobs=2)
#
# Inputs found are kept in $BUILD_FUZZ/corpus/<target>/ (so long runs build on each other);
# the committed seeds in tests/fuzz/corpus/<target>/ are only read. A crash or a failed
# property stops that target, is saved as $BUILD_FUZZ/crashes/<target>/crash-<sha1> and
# makes the script exit 1: copy the file to tests/fuzz/regressions/<target>/ (replayed by
# test_fuzz_regressions in every build) before fixing it. Prints executions and CPU seconds
# per target and in total.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
BUILD_FUZZ=${BUILD_FUZZ:-build-fuzz}
JOBS=${JOBS:-2}
FUZZ_ARGS=${FUZZ_ARGS:-}
ALL_TARGETS=(wal_line wal_file segment manifest hnsw_container service_json)

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found (Debian package clang; make deps)" >&2
  exit 1
fi

configure() {
  if [[ ! -f $BUILD_FUZZ/CMakeCache.txt ]]; then
    cmake -S . -B "$BUILD_FUZZ" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DT4DX_SANITIZE=address,undefined -DT4DX_FUZZ=ON -DT4DX_BUILD_TESTS=OFF \
      -DT4DX_BUILD_TOOLS=OFF >/dev/null || exit 1
  fi
}

if [[ ${1:-} == --make-corpus ]]; then
  configure
  cmake --build "$BUILD_FUZZ" --target fuzz_make_corpus -j "$JOBS" || exit 1
  out=$BUILD_FUZZ/corpus.new
  rm -rf "$out"
  ASAN_OPTIONS=detect_leaks=1 "$BUILD_FUZZ/bin/fuzz_make_corpus" "$out" || exit 1
  for t in "${ALL_TARGETS[@]}"; do
    rm -rf "tests/fuzz/corpus/$t"
    mkdir -p "tests/fuzz/corpus/$t"
    cp "$out/$t"/* "tests/fuzz/corpus/$t/"
  done
  du -sh tests/fuzz/corpus
  exit 0
fi

targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${ALL_TARGETS[@]}")
configure
build_targets=()
for t in "${targets[@]}"; do build_targets+=("${t}_fuzzer"); done
cmake --build "$BUILD_FUZZ" --target "${build_targets[@]}" -j "$JOBS" || exit 1

# Leaks are findings too; a failed UBSan check aborts (the build sets -fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
total_cpu=0
total_runs=0
summary=()
for t in "${targets[@]}"; do
  bin=$BUILD_FUZZ/bin/${t}_fuzzer
  work=$BUILD_FUZZ/corpus/$t
  crashes=$BUILD_FUZZ/crashes/$t
  log=$BUILD_FUZZ/logs/$t.log
  mkdir -p "$work" "$crashes" "$(dirname "$log")"
  seeds=()
  [[ -d tests/fuzz/corpus/$t ]] && seeds+=("tests/fuzz/corpus/$t")
  [[ -d tests/fuzz/regressions/$t ]] && seeds+=("tests/fuzz/regressions/$t")
  start_cpu=$(awk '{print $14+$15+$16+$17}' /proc/$$/stat)
  # shellcheck disable=SC2086
  ( "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=30 -rss_limit_mb=2560 \
      -malloc_limit_mb=2048 -print_final_stats=1 -dict=tests/fuzz/t4dx.dict \
      -artifact_prefix="$crashes/" $FUZZ_ARGS "$work" "${seeds[@]}" ) >"$log" 2>&1
  rc=$?
  # CPU time of the fuzzer: children's user+sys ticks of this shell, before and after.
  end_cpu=$(awk '{print $14+$15+$16+$17}' /proc/$$/stat)
  ticks=$(getconf CLK_TCK)
  cpu=$(awk -v a="$start_cpu" -v b="$end_cpu" -v t="$ticks" 'BEGIN{printf "%.1f", (b-a)/t}')
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  units=$(ls "$work" | wc -l)
  runs=${runs:-0}
  total_runs=$((total_runs + runs))
  total_cpu=$(awk -v a="$total_cpu" -v b="$cpu" 'BEGIN{printf "%.1f", a+b}')
  if [[ $rc -ne 0 ]]; then
    status=1
    summary+=("$(printf '%-16s FAILED (exit %d) after %s runs, %s CPU s; log %s' "$t" "$rc" "$runs" "$cpu" "$log")")
    echo "fuzz: $t failed; the input is in $crashes/ — last lines of $log:" >&2
    grep -E 'ERROR|SUMMARY|fuzz property failed|Test unit written|==[0-9]+==' "$log" | tail -8 >&2
  else
    summary+=("$(printf '%-16s ok: %9s runs, %6s CPU s, coverage %5s edges, corpus %5s inputs' \
      "$t" "$runs" "$cpu" "${cov:-?}" "$units")")
  fi
done

echo "fuzz: FUZZ_SECONDS=$FUZZ_SECONDS per target"
printf '  %s\n' "${summary[@]}"
echo "fuzz: total $total_runs runs, $total_cpu CPU seconds"
exit $status
