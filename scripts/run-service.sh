#!/usr/bin/env bash
# make run: starts build/bin/t4dm-service in the foreground on 127.0.0.1:8000 with its data in
# ./data. Builds nothing (the Makefile builds first). The service prints the API key to use:
# $T4DM_API_KEY when set, else a key generated on the first run and kept in ./data/.api_key
# (mode 0600). Extra arguments are passed to the service (see build/bin/t4dm-service --help).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${T4DM_SERVICE_BIN:-build/bin/t4dm-service}
if [[ ! -x $BIN ]]; then
  echo "run-service: $BIN is missing: run 'make build' first" >&2
  exit 1
fi
export T4DM_DATA_DIR=${T4DM_DATA_DIR:-./data}
export T4DM_HOST=${T4DM_HOST:-127.0.0.1}
export T4DM_PORT=${T4DM_PORT:-8000}
exec "$BIN" "$@"
