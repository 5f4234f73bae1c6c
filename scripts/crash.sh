#!/usr/bin/env bash
# Long service crash-cycle runs: tests/reliability/crash_cycles.test.mjs with more cycles.
# The real t4dm-service (sync always) under two writers plus forced maintenance, SIGKILLed at
# seeded random moments, restarted and checked (every acknowledged write, searches, t4dx
# verify). make test runs 100 cycles; this is for long runs:
#
#   make crash CYCLES=2000 SEED=7          (or: scripts/crash.sh 2000)
#
# Environment: BUILD (default build), CYCLES (default 1000), SEED (T4DX_CRASH_SEED; printed
# by the suite), T4DX_CRASH_DIM, T4DX_CRASH_KEEP=1 (keep the data directory on failure).
set -euo pipefail
cd "$(dirname "$0")/.."
CYCLES_ARG="${1:-${CYCLES:-1000}}"
BUILD="${BUILD:-build}"
export T4DM_SERVICE_BIN="${T4DM_SERVICE_BIN:-$PWD/$BUILD/bin/t4dm-service}"
export T4DX_BIN="${T4DX_BIN:-$PWD/$BUILD/bin/t4dx}"
export T4DX_SERVICE_CRASH_CYCLES="$CYCLES_ARG"
if [[ -n "${SEED:-}" ]]; then export T4DX_CRASH_SEED="$SEED"; fi
echo "crash: $CYCLES_ARG cycles${SEED:+, seed $SEED}" >&2
exec node --test --test-reporter=spec tests/reliability/crash_cycles.test.mjs
