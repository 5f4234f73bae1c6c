// Service crash cycles (issue 9, item 2). The real t4dm-service with T4DM_WAL_SYNC=always and
// a small flush threshold, two HTTP clients writing one session (puts, overwrites, batches,
// deletes) and a third forcing flushes, compactions, WAL compaction and HNSW rebuilds; the
// service is killed with SIGKILL at a random (seeded) moment, restarted, and checked:
//   - every acknowledged item is there with its content and vector; no acknowledged delete is
//     undone; an operation in flight at the kill shows either its old or its new value; a
//     batch in flight is all there or not at all;
//   - a search for a stored vector finds that item and only live items; a search for a
//     deleted item's vector does not return it;
//   - `t4dx verify` is clean on the crashed store (read-only, before the restart) and on the
//     recovered one; GET /storage/status is healthy after recovery.
//
// Knobs: T4DX_SERVICE_CRASH_CYCLES (default 100), T4DX_CRASH_SEED (default: fixed),
// T4DX_CRASH_DIM (default 16), T4DX_CRASH_KEEP=1 keeps the data directory.
// Long runs: `make crash CYCLES=N` (scripts/crash.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startService, tempDir, removeDir, rng, unitVector, verifyStore, sleep } from './lib.mjs';
import { AckModel, checkIds } from './model.mjs';

const CYCLES = Number(process.env.T4DX_SERVICE_CRASH_CYCLES || 100);
const SEED = Number(process.env.T4DX_CRASH_SEED || 20251126);
const DIM = Number(process.env.T4DX_CRASH_DIM || 16);
const FULL_CHECK_EVERY = 25;
const SAMPLE = 30;
const SESSION = 'crash';
const ENV = { T4DM_WAL_SYNC: 'always', T4DM_FLUSH_THRESHOLD: '50', T4DM_LOG_LEVEL: 'warn' };

test(`service crash cycles: ${CYCLES} SIGKILLs under two writers, nothing acknowledged lost`,
  { timeout: Math.max(600000, CYCLES * 20000) }, async (t) => {
    const random = rng(SEED);
    const root = tempDir('t4dm-crash-');
    const dataDir = path.join(root, 'data');
    const storeDir = path.join(dataDir, SESSION);
    const model = new AckModel();
    const errors = [];
    const fail = (msg) => { if (errors.length < 200) errors.push(msg); };
    // `t4dx verify` of the crashed store is kept apart: it does not stop the cycles.
    const crashedVerify = [];
    const liveVerify = [];  // read-only verify of the recovered store beside the running service
    const stats = { writes: 0, deletes: 0, batches: 0, maint: 0, maintStarted: 0, inFlightAtKill: 0,
      verifyCrashed: 0, verifyRecovered: 0, searches: 0, killedDuring: {} };
    let counter = 0;
    const t0 = Date.now();
    t.diagnostic(`seed ${SEED}, cycles ${CYCLES}, dim ${DIM}, data ${dataDir}`);
    try {
      for (let cycle = 0; cycle <= CYCLES && errors.length === 0; cycle++) {
        const svc = await startService({ dataDir, env: ENV });
        try {
          // ---- check what the previous cycle left ----
          if (cycle > 0) {
            const pending = model.pendingIds();
            stats.inFlightAtKill += pending.length;
            const full = cycle % FULL_CHECK_EVERY === 0 || cycle === CYCLES;
            let ids;
            if (full) {
              ids = [...model.items.keys()];
            } else {
              const all = [...model.items.keys()];
              const sample = new Set(pending);
              for (let i = 0; i < SAMPLE && all.length > 0; i++) sample.add(random.pick(all));
              ids = [...sample];
            }
            for (const e of await checkIds(svc, SESSION, model, ids)) fail(`cycle ${cycle}: ${e}`);
            if (model.pendingIds().length !== 0) fail(`cycle ${cycle}: unresolved in-flight ids`);
            await checkSearches(svc, model, random, cycle, fail, stats);
            if (fs.existsSync(storeDir)) {
              const st = await svc.get(`/storage/status?session_id=${SESSION}`);
              if (st.status !== 200 || !st.json || st.json.healthy !== true) {
                fail(`cycle ${cycle}: status after recovery not healthy: ${st.status} ${st.text}`);
              }
              if (full || cycle % 5 === 2) {
                const v = await verifyStore(storeDir);
                stats.verifyRecovered++;
                if (v.code !== 0 && liveVerify.length < 20) {
                  liveVerify.push(`cycle ${cycle}: t4dx verify (read-only, beside the running service) of the recovered store exit ${v.code}: ${v.stdout}${v.stderr}`);
                }
              }
            }
            if (errors.length) break;
            if (cycle === CYCLES) break;  // the last start only checks
          }

          // ---- load, then SIGKILL at a random moment ----
          let stop = false;
          const clients = ['a', 'b'].map((name) => writer(name));
          const maint = maintenance();
          const runMs = random.int(20, 600);
          await sleep(runMs);
          const killedWhile = svc.alive() ? 'load' : 'dead';
          stats.killedDuring[killedWhile] = (stats.killedDuring[killedWhile] || 0) + 1;
          await svc.kill('SIGKILL');
          stop = true;
          await Promise.all([...clients, maint]);

          // ---- the crashed store, as it is on disk ----
          if (fs.existsSync(storeDir) && (cycle % 5 === 0 || cycle === CYCLES - 1)) {
            const v = await verifyStore(storeDir);
            stats.verifyCrashed++;
            if (v.code !== 0 && crashedVerify.length < 20) {
              crashedVerify.push(`cycle ${cycle}: t4dx verify of the crashed store (read-only) exit ${v.code}: ${v.stdout}${v.stderr}`);
            }
          }

          // A client: puts (new ids), overwrites and deletes of its own ids, small batches.
          async function writer(name) {
            const mine = () => model.liveIds().filter((id) => id.startsWith(name));
            while (!stop) {
              const p = random();
              const live = p >= 0.6 ? mine() : [];
              if (p < 0.6 || live.length === 0) {
                const id = `${name}${++counter}`;
                const value = { content: `c${counter} ${name} cycle ${cycle}`, vector: unitVector(random, DIM) };
                model.begin(id, value);
                const r = await svc.post('/episodes', { session_id: SESSION, id, content: value.content, embedding: value.vector });
                if (!settle(r, () => model.ack(id), () => model.refuse(id), `POST /episodes ${id}`)) return;
                stats.writes++;
              } else if (p < 0.72) {
                const id = random.pick(live);
                const value = { content: `c${++counter} ${name} overwrite cycle ${cycle}`, vector: unitVector(random, DIM) };
                model.begin(id, value);
                const r = await svc.post('/episodes', { session_id: SESSION, id, content: value.content, embedding: value.vector });
                if (!settle(r, () => model.ack(id), () => model.refuse(id), `overwrite ${id}`)) return;
                stats.writes++;
              } else if (p < 0.88) {
                const id = random.pick(live);
                model.begin(id, null);
                const r = await svc.del(`/episodes/${id}?session_id=${SESSION}`);
                if (!settle(r, () => model.ack(id), () => model.refuse(id), `DELETE ${id}`)) return;
                stats.deletes++;
              } else {
                const entries = [];
                for (let i = random.int(2, 8); i > 0; i--) {
                  const id = `${name}${++counter}`;
                  entries.push([id, { content: `c${counter} ${name} batch cycle ${cycle}`, vector: unitVector(random, DIM) }]);
                }
                const n = model.beginBatch(entries);
                const items = entries.map(([id, v]) => ({ id, content: v.content, embedding: v.vector }));
                const r = await svc.post('/episodes/batch', { session_id: SESSION, items });
                if (!settle(r, () => model.endBatch(n, true), () => model.endBatch(n, false), `batch of ${items.length}`)) return;
                stats.batches++;
              }
            }
          }

          // Forces the work a crash should be able to interrupt.
          async function maintenance() {
            const ops = [
              [0.35, '/storage/flush'], [0.55, '/consolidation/flush'], [0.85, '/storage/compact'],
              [0.95, '/storage/compact-wal', { keep_entries: 0 }], [1.0, '/storage/rebuild-hnsw'],
            ];
            while (!stop) {
              await sleep(random.int(0, 80));
              if (stop || !fs.existsSync(storeDir)) continue;
              const p = random();
              const [, route, extra] = ops.find(([q]) => p < q);
              stats.maintStarted++;
              const r = await svc.post(route, { session_id: SESSION, ...(extra || {}) });
              if (r.status === 0) return;
              stats.maint++;
              if (r.status !== 200 && !(r.status === 404 && r.json && r.json.error.code === 'session_not_found')) {
                fail(`cycle ${cycle}: ${route} answered ${r.status} ${r.text}`);
              }
            }
          }

          // Applies an answer to the model. False when the connection died (the kill).
          function settle(r, onAck, onRefuse, what) {
            if (r.status === 0) return false;
            if (r.status >= 200 && r.status < 300) { onAck(); return true; }
            onRefuse();
            fail(`cycle ${cycle}: ${what} answered ${r.status} ${r.text}`);
            return true;
          }
        } finally {
          if (svc.alive()) await svc.kill('SIGKILL');
        }
      }

      // A clean stop after the last check; the store verifies offline too.
      if (errors.length === 0) {
        const svc = await startService({ dataDir, env: ENV });
        await svc.get(`/storage/status?session_id=${SESSION}`);  // opens the store
        const r = await svc.stop();
        if (r.code !== 0) fail(`SIGTERM after the last cycle: exit ${r.code ?? r.signal}`);
        if (fs.existsSync(storeDir)) {
          const v = await verifyStore(storeDir);
          if (v.code !== 0) fail(`t4dx verify after a clean stop: exit ${v.code}: ${v.stdout}${v.stderr}`);
        }
      }
      const secs = (Date.now() - t0) / 1000;
      t.diagnostic(`${CYCLES} cycles in ${secs.toFixed(1)} s; ${model.acked} acknowledged operations ` +
        `(${stats.writes} puts, ${stats.batches} batches, ${stats.deletes} deletes), ${stats.maint} maintenance calls answered (${stats.maintStarted} sent), ` +
        `${stats.inFlightAtKill} ids in flight at kills, ${model.items.size} ids tracked, ` +
        `${model.liveIds().length} live at the end, ${stats.searches} searches checked, ` +
        `verify: ${stats.verifyCrashed} crashed + ${stats.verifyRecovered} recovered stores`);
      for (const e of [...errors, ...liveVerify, ...crashedVerify]) t.diagnostic(`FAILURE ${e.slice(0, 3000)}`);
      await t.test('every acknowledged write survives, no delete is undone, searches see only live items, ' +
        'the store is healthy after recovery and verifies clean after a clean stop', () => {
        assert.deepEqual(errors, [], `seed ${SEED}: data ${dataDir}`);
      });
      await t.test('t4dx verify is clean on the recovered store, read-only beside the running service', () => {
        assert.deepEqual(liveVerify, [], `seed ${SEED}`);
      });
      await t.test('t4dx verify is clean on the store as a SIGKILL left it (read-only, before restart)', () => {
        assert.deepEqual(crashedVerify, [], `seed ${SEED}`);
      });
    } finally {
      if (errors.length === 0 && crashedVerify.length === 0 && liveVerify.length === 0 && !process.env.T4DX_CRASH_KEEP) removeDir(root);
      else t.diagnostic(`kept ${root}`);
    }
  });

// A search for a live item's vector returns it and only live items; a search for a deleted
// item's vector does not return it.
async function checkSearches(svc, model, random, cycle, fail, stats) {
  const live = model.liveIds();
  const deleted = model.deletedIds().filter((id) => model.items.get(id).lastVector);
  const liveSet = new Set(live);
  const queries = [];
  for (let i = 0; i < 3 && live.length > 0; i++) {
    const id = random.pick(live);
    queries.push([id, model.items.get(id).confirmed.vector, true]);
  }
  for (let i = 0; i < 2 && deleted.length > 0; i++) {
    const id = random.pick(deleted);
    queries.push([id, model.items.get(id).lastVector, false]);
  }
  for (const [id, vector, expectFound] of queries) {
    const r = await svc.post('/episodes/search', { session_id: SESSION, query_vector: vector, k: 10 });
    stats.searches++;
    if (r.status !== 200 || !r.json || !Array.isArray(r.json.hits)) {
      fail(`cycle ${cycle}: search answered ${r.status} ${r.text}`);
      continue;
    }
    const hits = r.json.hits.map((h) => h.id);
    for (const h of r.json.hits) {
      if (!liveSet.has(h.id)) fail(`cycle ${cycle}: search returned ${h.id}, which is not live (deleted or never acknowledged)`);
      else if (h.item && h.item.content !== model.items.get(h.id).confirmed.content) {
        fail(`cycle ${cycle}: search returned ${h.id} with stale content ${JSON.stringify(h.item.content)}`);
      }
    }
    if (expectFound && !hits.includes(id)) fail(`cycle ${cycle}: search for the vector of live ${id} did not return it: ${hits}`);
    if (!expectFound && hits.includes(id)) fail(`cycle ${cycle}: search returned deleted ${id}`);
  }
  // Remember each live item's vector, to search for it once it is deleted.
  for (const id of live) model.items.get(id).lastVector = model.items.get(id).confirmed.vector;
}
