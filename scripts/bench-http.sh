#!/usr/bin/env bash
# HTTP figures of t4dm-service (issue 4): requests/s and p50/p99 latency of
#   POST /episodes         one 384-dim item per request (sync per T4DM_WAL_SYNC, default always)
#   POST /episodes/search  k = 10 over a preloaded, fully indexed session
# at 1, 8 and 32 connections, measured with wrk (Debian package `wrk`) on loopback, next to
# the same operations called in-process by t4dx-bench (when it is built), so the HTTP
# overhead is a ratio. Prints a markdown table; with OUT=FILE also writes one JSON line per
# figure.
#
#   scripts/bench-http.sh                     10 s per point, 20000 items preloaded
#   QUICK=1 scripts/bench-http.sh             2 s per point, 2000 items (a smoke run)
#
# Environment: BUILD (default build), DURATION (s), CONNS (default "1 8 32"), PRELOAD, DIM
# (384), SYNC (always | interval | none), OUT. Run it on a quiet machine: the client and
# the server share the cores.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
SERVICE=$BUILD/bin/t4dm-service
BENCH=$BUILD/bin/t4dx-bench
if [[ -n ${QUICK:-} ]]; then DURATION=${DURATION:-2}; PRELOAD=${PRELOAD:-2000}; else
  DURATION=${DURATION:-10}; PRELOAD=${PRELOAD:-20000}; fi
CONNS=${CONNS:-1 8 32}
DIM=${DIM:-384}
SYNC=${SYNC:-always}
OUT=${OUT:-}

command -v wrk >/dev/null || { echo "bench-http: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
command -v node >/dev/null || { echo "bench-http: node is needed to preload the session" >&2; exit 1; }
if [[ ! -x $SERVICE ]]; then
  [[ -f $BUILD/CMakeCache.txt ]] || cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" --target t4dm-service -j "${JOBS:-2}"
fi

WORK=$(mktemp -d /tmp/t4dm-bench-http.XXXXXX)
KEY=bench-$RANDOM$RANDOM
SVC_PID=
cleanup() {
  if [[ -n $SVC_PID ]] && kill -0 "$SVC_PID" 2>/dev/null; then
    kill -TERM "$SVC_PID"; wait "$SVC_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The service on a free port, quiet logs, generous limits for the load.
T4DM_DATA_DIR=$WORK/data T4DM_API_KEY=$KEY T4DM_WAL_SYNC=$SYNC T4DM_ACCESS_LOG=false \
  T4DM_LOG_LEVEL=warn T4DM_HTTP_THREADS=64 "$SERVICE" --port 0 >"$WORK/stdout" 2>"$WORK/stderr" &
SVC_PID=$!
PORT=
for _ in $(seq 1 100); do
  PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$WORK/stdout" | head -1)
  [[ -n $PORT ]] && break
  kill -0 "$SVC_PID" 2>/dev/null || { cat "$WORK/stderr" >&2; exit 1; }
  sleep 0.1
done
[[ -n $PORT ]] || { echo "bench-http: the service did not start" >&2; exit 1; }
URL=http://127.0.0.1:$PORT

# Preload: PRELOAD items in batches of 500 into session "search", flushed, then wait until
# the HNSW index holds every vector (searches measure the index, not a catch-up scan).
node - "$URL" "$KEY" "$PRELOAD" "$DIM" <<'EOF'
const [url, key, n, dim] = [process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
let x = 12345;
const rnd = () => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648 * 2 - 1; };
const post = async (p, body) => {
  const r = await fetch(url + p, { method: 'POST', headers: { 'X-API-Key': key }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`);
  return r.json();
};
for (let i = 0; i < n; i += 500) {
  const items = [];
  for (let j = i; j < Math.min(n, i + 500); j++) {
    const v = Array.from({ length: dim }, rnd);
    items.push({ id: `p${j}`, kind: 'bench', content: `preloaded item ${j}`, embedding: v });
  }
  await post('/episodes/batch', { session_id: 'search', items });
}
await post('/storage/flush', { session_id: 'search' });
for (let t = 0; t < 6000; t++) {
  const r = await fetch(`${url}/storage/hnsw-stats?session_id=search`, { headers: { 'X-API-Key': key } });
  const s = await r.json();
  const lag = s.lag_vectors ?? (s.hnsw && s.hnsw.lag_vectors) ?? 0;
  if (lag === 0 && s.in_sync !== false) break;
  await new Promise((res) => setTimeout(res, 100));
}
EOF

# wrk per point; BENCH lines parsed into "rps p50 p99 non2xx errors".
declare -A HTTP
run_wrk() {  # run_wrk OP SCRIPT SESSION CONNS
  local op=$1 script=$2 session=$3 c=$4 t line
  t=$(( c < 2 ? c : 2 ))
  line=$(BENCH_KEY=$KEY BENCH_SESSION=$session BENCH_DIM=$DIM \
    wrk -t "$t" -c "$c" -d "${DURATION}s" --timeout 10s -s "$script" "$URL" | grep '^BENCH ' || true)
  [[ -n $line ]] || { echo "bench-http: wrk gave no figures for $op at $c connections" >&2; exit 1; }
  HTTP[$op,$c]=$(awk '{for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    print f["rps"], f["p50_ms"], f["p99_ms"], f["non2xx"], f["socket_errors"]}' <<<"$line")
}
for c in $CONNS; do
  echo "== POST /episodes, $c connections" >&2
  run_wrk put bench/wrk/put.lua put "$c"
  echo "== POST /episodes/search, $c connections" >&2
  run_wrk search bench/wrk/search.lua search "$c"
done

# In-process: t4dx-bench on the same kind of data (synthetic, DIM dims) through the public
# API. ingest --batch 1 is one Put per item, acknowledged per the same sync mode, with as
# many threads as connections; ann is single-threaded searches at the service's default ef.
declare -A INPROC
if [[ -x $BENCH ]]; then
  threads=$(tr ' ' ',' <<<"$CONNS")
  echo "== in-process: t4dx-bench ingest / ann" >&2
  "$BENCH" ingest --synthetic "$(( PRELOAD < 5000 ? PRELOAD : 5000 ))" --dim "$DIM" --systems t4dx \
    --sync "$SYNC" --threads "$threads" --batch 1 --json --out "$WORK/ingest.jsonl" >/dev/null
  "$BENCH" ann --synthetic "$PRELOAD" --dim "$DIM" --nq 500 --systems t4dx --ef 64 --k 10 \
    --json --out "$WORK/ann.jsonl" >/dev/null
  while read -r th ips; do INPROC[put,$th]="$ips - -"; done < <(node -e '
    for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n")) {
      if (!l) continue; const r = JSON.parse(l);
      console.log(r.params.threads, r.figures.items_per_s.toFixed(1));
    }' "$WORK/ingest.jsonl")
  read -r qps p50 p99 < <(node -e '
    const l = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse)
      .find((r) => r.params && r.params.ef === 64 && r.figures.qps);
    console.log(l.figures.qps.toFixed(1), l.figures.p50_ms.toFixed(3), l.figures.p99_ms.toFixed(3));' "$WORK/ann.jsonl")
  INPROC[search,1]="$qps $p50 $p99"
else
  echo "bench-http: no $BENCH: in-process figures skipped (cmake --build $BUILD --target t4dx-bench)" >&2
fi

# The table.
echo
echo "t4dm-service over HTTP (wrk, loopback, ${DURATION} s per point, sync $SYNC, ${DIM}-dim, $PRELOAD items preloaded for search) vs in-process (t4dx-bench)"
echo
echo "| operation | connections | HTTP req/s | p50 ms | p99 ms | non-2xx | in-process ops/s | in-process p50 ms | p99 ms | HTTP / in-process |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for op in put search; do
  name=$([[ $op == put ]] && echo 'POST /episodes' || echo 'POST /episodes/search (k=10)')
  for c in $CONNS; do
    read -r rps p50 p99 non2xx errs <<<"${HTTP[$op,$c]}"
    read -r ips ip50 ip99 <<<"${INPROC[$op,$c]:-- - -}"
    ratio=-
    [[ $ips != - ]] && ratio=$(awk -v a="$rps" -v b="$ips" 'BEGIN { printf "%.2f", a / b }')
    echo "| $name | $c | $rps | $p50 | $p99 | $(( non2xx + errs )) | $ips | $ip50 | $ip99 | $ratio |"
    if [[ -n $OUT ]]; then
      printf '{"workload":"http","operation":"%s","connections":%s,"sync":"%s","dim":%s,"figures":{"rps":%s,"p50_ms":%s,"p99_ms":%s,"non2xx":%s,"socket_errors":%s,"inprocess_ops_per_s":%s}}\n' \
        "$name" "$c" "$SYNC" "$DIM" "$rps" "$p50" "$p99" "$non2xx" "$errs" "$([[ $ips == - ]] && echo null || echo "$ips")" >>"$OUT"
    fi
  done
done
echo
echo "In-process: put = t4dx-bench ingest --batch 1 (items/s until durable and searchable, threads = connections);"
echo "search = t4dx-bench ann at ef 64 (the service's default), one thread."
