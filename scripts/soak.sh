#!/usr/bin/env bash
# Load and soak runs of the real t4dm-service: tests/reliability/soak.test.mjs for longer.
# 16 clients on loopback, 70% search (k=10, 384-dim) / 25% upsert / 5% delete over 50
# sessions; then SIGKILL, restart, every acknowledged write checked, `t4dx verify` of every
# session. Prints requests/s, p50/p99 per operation and max RSS, and fails when RSS exceeds
# what the items written may hold (formula in the test); writes the figures as JSON to
# $REPORT (default soak-report.json). Long runs: every store flushes and merges many times.
#
#   make soak SOAK_SECONDS=3600                 (or: scripts/soak.sh 3600)
#
# Environment: BUILD (default build), T4DX_SOAK_CLIENTS (16), T4DX_SOAK_SESSIONS (50),
# T4DX_SOAK_DIM (384), T4DX_SOAK_PRELOAD (1000 items per session), T4DX_SOAK_MAX_RSS_MB
# (2048), T4DX_SOAK_SEED.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_ARG="${1:-${SOAK_SECONDS:-3600}}"
BUILD="${BUILD:-build}"
export T4DM_SERVICE_BIN="${T4DM_SERVICE_BIN:-$PWD/$BUILD/bin/t4dm-service}"
export T4DX_BIN="${T4DX_BIN:-$PWD/$BUILD/bin/t4dx}"
export T4DX_SOAK_SECONDS="$SECONDS_ARG" T4DX_SOAK_REPORT="${REPORT:-$PWD/soak-report.json}"
echo "soak: $SECONDS_ARG s, report $T4DX_SOAK_REPORT" >&2
exec node --test --test-reporter=spec tests/reliability/soak.test.mjs
