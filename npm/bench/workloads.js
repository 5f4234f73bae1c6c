// The WASM benchmark workloads, host-neutral: run by bench.mjs in Node (store = the Node
// entry) and by bench/page.html in Chromium (store = the browser entry, engine in a Worker
// over OPFS). They follow core/tools/bench (workload_ingest.cc, workload_ann.cc): items and
// batches are built before the clock starts; searches get at least 200 untimed warm-up
// queries and one second, then `runs` timed passes over every query one at a time, the
// fastest pass counting (timeSearchBatches: the same, `batch` queries per call).

/** Items (with their own embedding copies) of rows [begin, end). */
export function makeItems(meta, base, dim, begin, end) {
  const out = [];
  for (let i = begin; i < end; i++) {
    out.push({ ...meta[i], embedding: base.slice(i * dim, (i + 1) * dim) });
  }
  return out;
}

function batches(items, size) {
  const out = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function inSync(h) {
  return (h.lag_vectors ?? 0) === 0 && h.in_sync !== false && (h.unindexed_segments ?? 0) === 0 &&
    (h.memtable_vectors ?? 0) === 0;
}

// Flush, which in WebAssembly also indexes everything flushed (the engine has no threads:
// nothing else would), then maintenance steps only if the index is still behind. Merges
// left to do are not waited for, as t4dx-bench's native ingest does not wait for its
// compactor's merges (T4dxWaitSearchable, core/tools/bench/peer_t4dx.cc); here they run
// later, between calls, like any other background step. Merges that ran during the load
// are in the time.
async function waitSearchable(store) {
  await store.flush();
  let h = await store.describe('hnsw_stats');
  if (!inSync(h)) {
    await store.maintain();
    h = await store.describe('hnsw_stats');
  }
  if (!inSync(h)) throw new Error(`index not in sync after maintain(): ${JSON.stringify(h)}`);
}

/**
 * ingest: a fresh store written with sync "always", `batch` items per call (put for 1,
 * putBatch otherwise), until every item is durable (acknowledged) and searchable.
 * @returns {{items, seconds, ack_seconds, items_per_s, stats}}
 */
export async function ingest({ open, path, dim, items, batch, m, efConstruction }) {
  const groups = batch === 1 ? items.map((it) => [it]) : batches(items, batch);
  const store = await open({ path, dim, metric: 'cosine', sync: 'always', hnswM: m, efConstruction });
  try {
    const t0 = performance.now();
    for (const g of groups) {
      if (g.length === 1) await store.put(g[0]);
      else await store.putBatch(g);
    }
    const ack = (performance.now() - t0) / 1000;
    await waitSearchable(store);
    const seconds = (performance.now() - t0) / 1000;
    const st = await store.describe('stats');
    const stats = { flushes: st.compactor.flushes, merges: st.compactor.merges,
      wal_syncs: st.wal?.syncs, write_groups: st.operations.write_groups };
    // Not timed: the maintenance left for later (merges deferred while writes kept coming,
    // see MaintenanceScheduler), run now so that the report shows what it costs.
    const m0 = performance.now();
    await store.maintain();
    stats.later_maintenance_s = (performance.now() - m0) / 1000;
    stats.later_merges = (await store.describe('stats')).compactor.merges - st.compactor.merges;
    return { items: items.length, seconds, ack_seconds: ack, items_per_s: items.length / seconds, stats };
  } finally {
    await store.close();
  }
}

/**
 * Loads an ann store as t4dx-bench does (PutBatch of 1000, Flush, indexed, Compact to one
 * segment, indexed again); sync "none". Returns the open store and the load seconds.
 */
export async function annLoad({ open, path, dim, meta, base, n, m, efConstruction }) {
  const store = await open({ path, dim, metric: 'cosine', sync: 'none', hnswM: m, efConstruction,
    maxBatchItems: 100000 });
  const t0 = performance.now();
  for (let b = 0; b < n; b += 1000) await store.putBatch(makeItems(meta, base, dim, b, Math.min(n, b + 1000)));
  await waitSearchable(store);
  await store.compact();
  await waitSearchable(store);
  return { store, build_s: (performance.now() - t0) / 1000 };
}

function percentile(sorted, p) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

const WARMUP_MS = 1000;

/**
 * Times `search(q, ef)` (→ array of ids or rows, best first) over every query for one ef:
 * timeSearchBatches with one query per call.
 * @returns {{qps, p50_ms, p99_ms, found: Array<Array<string|number>>}}
 */
export function timeSearches({ search, queries, ef, runs }) {
  const searchBatch = async (qs, e) => [await search(qs[0], e)];
  return timeSearchBatches({ searchBatch, queries, ef, runs, batch: 1 });
}

/**
 * Times `searchBatch(qs, ef)` (→ one array of ids or rows per query, best first) over every
 * query for one ef, `batch` queries per call. p50_ms and p99_ms are the latencies of one
 * call (of `batch` queries).
 * Warm-up: 200 queries and at least WARMUP_MS. V8 first runs a module's functions from its
 * baseline compiler and swaps in optimized code compiled in the background, which on a
 * loaded 2-core machine took longer than 200 queries at small ef (ef 10 measured slower
 * than ef 20).
 * @returns {{qps, p50_ms, p99_ms, found: Array<Array<string|number>>}}
 */
export async function timeSearchBatches({ searchBatch, queries, ef, runs, batch }) {
  const nq = queries.length;
  const found = new Array(nq);
  const groups = [];
  for (let b = 0; b < nq; b += batch) groups.push([b, queries.slice(b, Math.min(nq, b + batch))]);
  const w0 = performance.now();
  for (let g = 0; g * batch < 200 || performance.now() - w0 < WARMUP_MS; g++) {
    const [b, qs] = groups[g % groups.length];
    (await searchBatch(qs, ef)).forEach((ids, i) => { found[b + i] = ids; });
  }
  let best = Infinity;
  let lat = [];
  const pass = new Array(groups.length);
  for (let run = 0; run < Math.max(1, runs); run++) {
    const t0 = performance.now();
    for (let g = 0; g < groups.length; g++) {
      const [b, qs] = groups[g];
      const s = performance.now();
      const r = await searchBatch(qs, ef);
      pass[g] = performance.now() - s;
      for (let i = 0; i < r.length; i++) found[b + i] = r[i];
    }
    const elapsed = (performance.now() - t0) / 1000;
    if (elapsed < best) {
      best = elapsed;
      lat = pass.slice();
    }
  }
  lat.sort((a, b) => a - b);
  return { qps: nq / best, p50_ms: percentile(lat, 0.5), p99_ms: percentile(lat, 0.99), found };
}

/** A search function over a t4dx store: ids, best first. */
export function t4dxSearch(store, k) {
  return async (q, ef) => (await store.search(q, { k, ef, includeItems: false })).map((h) => h.id);
}

/** A batched search function over a t4dx store (searchBatch): ids, best first, per query. */
export function t4dxSearchBatch(store, k) {
  return async (qs, ef) => (await store.searchBatch(qs, { k, ef, includeItems: false }))
    .map((hits) => hits.map((h) => h.id));
}
