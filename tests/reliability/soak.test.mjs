// Load and soak (issue 9, item 4): 16 concurrent clients on loopback against the real
// t4dm-service, 70% search (k=10, 384-dim), 25% upsert (new ids and overwrites), 5% delete,
// spread over 50 sessions, for T4DX_SOAK_SECONDS; then SIGKILL in the middle of the load, a
// restart and a recovery check of every id any client touched, and `t4dx verify` of every
// session after a clean stop.
//
// The preload (1000 items per session by default: the flush threshold) gives every store its
// first segment and HNSW index before the load, so the run measures the state after a flush
// whatever the machine's speed (at 100 items per session a slow machine never flushed).
//
// Pass: no 5xx (no non-2xx at all), no acknowledged write lost or delete undone, resident
// memory bounded by what the service holds: VmRSS, sampled every second from the empty
// service on, never above the empty service's + 48 MiB + 256 KiB per session + (4 * dim +
// 1024) bytes per item version written (the formula is explained at "memory" below), nor
// above T4DX_SOAK_MAX_RSS_MB. Reported: requests/s, p50/p99 per operation, max RSS.
//
// Knobs: T4DX_SOAK_SECONDS (default 120; `make soak SOAK_SECONDS=3600` for long runs),
// T4DX_SOAK_CLIENTS (16), T4DX_SOAK_SESSIONS (50), T4DX_SOAK_DIM (384),
// T4DX_SOAK_PRELOAD (items per session before the run, 1000), T4DX_SOAK_MAX_RSS_MB (2048),
// T4DX_SOAK_SEED, T4DX_SOAK_REPORT=FILE (writes the figures as JSON).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startService, tempDir, removeDir, rng, unitVector, verifyStore, rssKiB, percentile, sleep } from './lib.mjs';

// Largest value; a loop, not Math.max(...a): a 2-minute run times >10^5 searches, past the
// number of arguments a call can take.
const maxOf = (a) => a.reduce((m, x) => (x > m ? x : m), -Infinity);
import { AckModel, checkIds } from './model.mjs';

const SECONDS = Number(process.env.T4DX_SOAK_SECONDS || 120);
const CLIENTS = Number(process.env.T4DX_SOAK_CLIENTS || 16);
const SESSIONS = Number(process.env.T4DX_SOAK_SESSIONS || 50);
const DIM = Number(process.env.T4DX_SOAK_DIM || 384);
const PRELOAD = Number(process.env.T4DX_SOAK_PRELOAD || 1000);
const MAX_RSS_MB = Number(process.env.T4DX_SOAK_MAX_RSS_MB || 2048);
const SEED = Number(process.env.T4DX_SOAK_SEED || 4242);
const POOL = 2048;  // distinct vectors, serialized once

test(`load and soak: ${CLIENTS} clients, ${SESSIONS} sessions, ${SECONDS} s, then SIGKILL and recovery`,
  { timeout: (SECONDS + 900) * 1000 }, async (t) => {
    const random = rng(SEED);
    const root = tempDir('t4dm-soak-');
    const dataDir = path.join(root, 'data');
    const sessions = Array.from({ length: SESSIONS }, (_, i) => `soak-${String(i).padStart(2, '0')}`);
    const pool = Array.from({ length: POOL }, () => unitVector(random, DIM));
    const poolJson = pool.map((v) => JSON.stringify(v));
    const model = new AckModel();  // keys: "<session>/<id>"
    const bad = [];                // non-2xx answers and other failures
    const lat = { search: [], upsert: [], delete: [] };
    const counts = { search: 0, upsert: 0, delete: 0 };
    const rss = [];
    let keep = false;
    let svc = await startService({ dataDir, env: { T4DM_LOG_LEVEL: 'warn' } });
    let sampler = null;
    try {
      // RSS is sampled every second from the empty service on, with the item versions
      // written by then (see "memory" below).
      await sleep(300);
      const emptyKiB = rssKiB(svc.pid);
      let n = 0;        // items preloaded
      let upserts = 0;  // upserts acknowledged under load (new ids and overwrites)
      sampler = setInterval(() => rss.push([Date.now(), rssKiB(svc.pid), n + upserts]), 1000);

      // ---- preload: batches of 100, one session per client at a time ----
      const preloadStart = Date.now();
      let nextSession = 0;
      const preloader = async () => {
        while (nextSession < sessions.length) {
          const s = sessions[nextSession++];
          for (let done = 0; done < PRELOAD;) {
            const size = Math.min(100, PRELOAD - done);
            const entries = [];
            const parts = [];
            for (let i = 0; i < size; i++) {
              const id = `pre-${++n}`;
              const v = random.int(0, POOL - 1);
              const content = `preloaded ${n}`;
              entries.push([`${s}/${id}`, { content, vector: pool[v] }]);
              parts.push(`{"id":"${id}","content":"${content}","embedding":${poolJson[v]}}`);
            }
            const b = model.beginBatch(entries);
            const r = await svc.post('/episodes/batch', `{"session_id":"${s}","items":[${parts.join(',')}]}`);
            assert.equal(r.status, 201, r.text);
            model.endBatch(b, true);
            done += size;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(CLIENTS, 8) }, preloader));
      const loadStartSample = rss.length;
      t.diagnostic(`preloaded ${n} items (${DIM}-dim) in ${SESSIONS} sessions in ` +
        `${((Date.now() - preloadStart) / 1000).toFixed(1)} s; seed ${SEED}`);

      // ---- load ----
      let stop = false;
      const live = Array.from({ length: CLIENTS }, () => []);  // per client: live keys
      // Items stored: the preload plus every client's live keys.
      const stored = () => n + live.reduce((a, l) => a + l.length, 0);
      const startMs = Date.now();
      const client = async (c) => {
        let seq = 0;
        const mine = live[c];
        while (!stop) {
          const p = random();
          if (p < 0.70) {
            const s = random.pick(sessions);
            const v = random.int(0, POOL - 1);
            const r = await svc.post('/episodes/search', `{"session_id":"${s}","query_vector":${poolJson[v]},"k":10}`);
            if (r.status === 0) return;
            counts.search++;
            lat.search.push(r.ms);
            if (r.status !== 200) note(r, 'search');
            else if (!Array.isArray(r.json.hits) || r.json.hits.length > 10) note(r, 'search hits');
          } else if (p < 0.95 || mine.length === 0) {
            let s;
            let id;
            let key;
            if (mine.length > 0 && random() < 0.4) {
              key = random.pick(mine);  // overwrite
              [s, id] = key.split('/');
            } else {
              s = random.pick(sessions);
              id = `c${c}-${++seq}`;
              key = `${s}/${id}`;
            }
            const v = random.int(0, POOL - 1);
            const content = `client ${c} op ${seq} ${random().toString(36).slice(2)}`;
            model.begin(key, { content, vector: pool[v] });
            const r = await svc.post('/episodes',
              `{"session_id":"${s}","id":"${id}","content":"${content}","embedding":${poolJson[v]}}`);
            if (r.status === 0) return;
            counts.upsert++;
            lat.upsert.push(r.ms);
            if (r.status === 201) {
              model.ack(key);
              upserts++;
              if (!mine.includes(key)) mine.push(key);
            } else {
              model.refuse(key);
              note(r, 'upsert');
            }
          } else {
            const i = random.int(0, mine.length - 1);
            const key = mine[i];
            const [s, id] = key.split('/');
            model.begin(key, null);
            const r = await svc.del(`/episodes/${id}?session_id=${s}`);
            if (r.status === 0) return;
            counts.delete++;
            lat.delete.push(r.ms);
            if (r.status === 200) {
              model.ack(key);
              mine.splice(i, 1);
            } else {
              model.refuse(key);
              note(r, 'delete');
            }
          }
        }
      };
      function note(r, what) {
        if (bad.length < 50) bad.push(`${what}: ${r.status} ${(r.text || String(r.error)).slice(0, 300)}`);
        else bad.length++;
      }
      const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
      await sleep(SECONDS * 1000);
      const loadMs = Date.now() - startMs;
      clearInterval(sampler);
      rss.push([Date.now(), rssKiB(svc.pid), n + upserts]);
      const storedEnd = stored();
      await svc.kill('SIGKILL');  // in the middle of the load
      stop = true;
      await Promise.all(clients);

      // ---- figures ----
      const total = counts.search + counts.upsert + counts.delete;
      const fmt = (a) => `p50 ${percentile(a, 50).toFixed(2)} ms, p99 ${percentile(a, 99).toFixed(2)} ms`;
      const rssMB = rss.map(([, k]) => k / 1024);
      const maxRss = maxOf(rssMB);
      const loadMB = rssMB.slice(loadStartSample);
      const versionsEnd = rss[rss.length - 1][2];
      // ---- memory: what the service may hold for what it was given ----
      // Each item version written (preload, and every acknowledged upsert: an overwritten
      // version's vector stays in the HNSW, marked deleted, until a rebuild or a merge) is
      // held once: in a MemTable before its flush (vector, id, content, map entry: ~1.9
      // KiB at 384 dims), in the HNSW after it (the vector + 132 B of level-0 links + label)
      // plus the engine's id/label maps and segment entry header (~0.4 KiB); the flushed
      // MemTable's pages go back to the OS (memory_trimmer.h). So per version: the vector
      // (4 * DIM bytes) + 1 KiB for links, maps, headers and allocator overhead. Per open
      // store: 256 KiB (engine state, WAL buffer, compactor thread, HNSW fixed tables).
      // Fixed: 48 MiB for the allocator arenas of the HTTP and compactor threads, the
      // MemTables, segments and vectors of the stores flushing and indexing at a moment,
      // and up to 2 s of pages not yet trimmed. Measured on 2 busy cores (~1,000-1,400
      // req/s): 129-136 MiB over the empty service after the 50,000-item preload (allowed
      // 183), 149-157 MiB at the end for 82,000-92,000 versions (allowed 260-285). Before
      // the fixes of issue 9 (65,536 hnswlib label mutexes per index; flushed MemTables
      // kept resident by glibc): 321 MiB after the preload. RSS is checked at every 1-s
      // sample against the versions written by then.
      const ITEM_BYTES = 4 * DIM + 1024;
      const allowedKiB = (versions) => 48 * 1024 + SESSIONS * 256 + (versions * ITEM_BYTES) / 1024;
      let worst = { over: -Infinity };
      for (const [ms, kib, versions] of rss) {
        const over = kib - emptyKiB - allowedKiB(versions);
        if (over > worst.over) worst = { over, ms, kib, versions };
      }
      const figures = {
        seconds: loadMs / 1000, clients: CLIENTS, sessions: SESSIONS, dim: DIM,
        requests: total, requests_per_s: total / (loadMs / 1000),
        ops: Object.fromEntries(Object.keys(lat).map((k) => [k, {
          count: counts[k], per_s: counts[k] / (loadMs / 1000),
          p50_ms: percentile(lat[k], 50), p99_ms: percentile(lat[k], 99), max_ms: maxOf(lat[k]),
        }])),
        rss_mb: { empty: emptyKiB / 1024, max: maxRss, load_start: loadMB[0], end: rssMB[rssMB.length - 1],
          allowed_at_end: (emptyKiB + allowedKiB(versionsEnd)) / 1024 },
        stored_items: { preloaded: n, end: storedEnd }, item_versions_written: versionsEnd,
        non_2xx: bad.length,
      };
      t.diagnostic(`${total} requests in ${figures.seconds.toFixed(1)} s = ${figures.requests_per_s.toFixed(0)} req/s ` +
        `(${CLIENTS} clients, ${SESSIONS} sessions, ${DIM}-dim)`);
      for (const k of Object.keys(lat)) {
        t.diagnostic(`  ${k.padEnd(7)} ${String(counts[k]).padStart(7)} (${figures.ops[k].per_s.toFixed(0)}/s)  ${fmt(lat[k])}`);
      }
      t.diagnostic(`  RSS max ${maxRss.toFixed(0)} MiB (empty service ${figures.rss_mb.empty.toFixed(0)}, ` +
        `after the preload ${figures.rss_mb.load_start.toFixed(0)}, end ${figures.rss_mb.end.toFixed(0)}; ` +
        `allowed at the end ${figures.rss_mb.allowed_at_end.toFixed(0)})`);
      t.diagnostic(`  items stored: ${n} preloaded, ${storedEnd} at the end (${versionsEnd} versions written); ` +
        `RSS over the empty service ${(((maxRss * 1024 - emptyKiB)) / Math.max(1, versionsEnd)).toFixed(2)} KiB per version`);

      // ---- recovery ----
      const t1 = Date.now();
      svc = await startService({ dataDir, env: { T4DM_LOG_LEVEL: 'warn' } });
      const pending = model.pendingIds().length;
      const errors = [];
      // checkIds reads "<session>/<id>" keys through a per-key view of the service.
      const bySession = new Map();
      for (const key of model.items.keys()) {
        const [s, id] = key.split('/');
        if (!bySession.has(s)) bySession.set(s, []);
        bySession.get(s).push(id);
      }
      for (const [s, ids] of bySession) {
        const view = new AckModelView(model, s);
        errors.push(...await checkIds(svc, s, view, ids, 16));
      }
      const checked = model.items.size;
      t.diagnostic(`recovery: ${checked} ids checked (${pending} in flight at the kill) in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
      assert.equal((await svc.stop()).code, 0);
      const verifyErrors = [];
      for (const s of sessions) {
        const v = await verifyStore(path.join(dataDir, s));
        if (v.code !== 0) verifyErrors.push(`${s}: exit ${v.code} ${v.stdout.slice(0, 600)}${v.stderr}`);
      }
      figures.recovery_checked_ids = checked;
      if (process.env.T4DX_SOAK_REPORT) fs.writeFileSync(process.env.T4DX_SOAK_REPORT, JSON.stringify(figures, null, 2));

      keep = true;
      assert.deepEqual(bad, [], 'non-2xx answers under load');
      assert.deepEqual(errors.slice(0, 30), [], `acknowledged writes after SIGKILL (${errors.length} problems)`);
      assert.deepEqual(verifyErrors, [], 't4dx verify after the recovery');
      assert.ok(maxRss < MAX_RSS_MB, `max RSS ${maxRss.toFixed(0)} MiB >= ${MAX_RSS_MB} MiB`);
      assert.ok(worst.over <= 0,
        `RSS ${(worst.kib / 1024).toFixed(0)} MiB at ${((worst.ms - startMs) / 1000).toFixed(0)} s of the load ` +
        `for ${worst.versions} item versions written: ${(worst.over / 1024).toFixed(0)} MiB over what they ` +
        `may hold (empty service ${(emptyKiB / 1024).toFixed(0)} MiB + ${(allowedKiB(worst.versions) / 1024).toFixed(0)} MiB)`);
      keep = false;
    } finally {
      clearInterval(sampler);
      await svc.kill('SIGKILL');
      if (keep) t.diagnostic(`kept ${root}`);
      else removeDir(root);
    }
  });

// The AckModel keyed "<session>/<id>", seen as the ids of one session (what checkIds wants).
class AckModelView {
  constructor(model, session) {
    this.model = model;
    this.prefix = `${session}/`;
    this.batches = new Map();
  }

  check(id, observed) { return this.model.check(this.prefix + id, observed); }
  checkBatches() { return []; }
}
