// Memory follows the open stores (issue 9, item 4): 50 sessions each get 300 items with
// 384-dim vectors (flush threshold 100, so every store has segments and an HNSW index),
// the idle timeout (1 s) closes every store, and the service's resident memory must come
// back near where it started: a closed store keeps nothing, and the pages it freed are
// handed back to the OS (core/tools/service/memory_trimmer.h), not kept by the allocator.
//
// Pass: every write acknowledged; RSS over the start at its peak at least half the vectors
// written (the test measures something); after every store is closed, RSS at most the
// start + 16 MiB (measured on 2 cores: 8 MiB over the start, peak 23 MiB over it; before
// the trimmer 54 MiB over the start after the closes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startService, tempDir, removeDir, rng, unitVector, rssKiB, sleep } from './lib.mjs';

const SESSIONS = 50;
const ITEMS = 300;
const DIM = 384;

test('closed session stores give their memory back to the OS', { timeout: 180000 }, async (t) => {
  const random = rng(99);
  const root = tempDir('t4dm-memrel-');
  const svc = await startService({
    dataDir: path.join(root, 'data'),
    env: { T4DM_LOG_LEVEL: 'warn', T4DM_FLUSH_THRESHOLD: '100', T4DM_SESSION_IDLE_SECONDS: '1',
      T4DM_WAL_SYNC: 'none' },
  });
  try {
    const pool = Array.from({ length: 256 }, () => JSON.stringify(unitVector(random, DIM)));
    await sleep(500);
    const startKiB = rssKiB(svc.pid);
    let peakKiB = startKiB;
    let next = 0;
    const writer = async () => {
      while (next < SESSIONS) {
        const s = `mem-${next++}`;
        for (let b = 0; b < ITEMS; b += 50) {
          const items = [];
          for (let i = b; i < b + 50; i++) {
            items.push(`{"id":"i${i}","content":"item ${i} of ${s}","embedding":${pool[(i * 7 + next) % pool.length]}}`);
          }
          const r = await svc.post('/episodes/batch', `{"session_id":"${s}","items":[${items.join(',')}]}`);
          assert.equal(r.status, 201, r.text);
          peakKiB = Math.max(peakKiB, rssKiB(svc.pid));
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, writer));
    // Every store is idle now: the reaper closes them within a few seconds.
    let open = -1;
    for (let i = 0; i < 200 && open !== 0; i++) {
      await sleep(100);
      peakKiB = Math.max(peakKiB, rssKiB(svc.pid));
      open = (await svc.get('/healthz')).json.sessions_open;
    }
    assert.equal(open, 0, 'every idle store closed');
    // The trimmer runs at the tick after the closes and once more a tick later (2 s each).
    await sleep(5000);
    const endKiB = rssKiB(svc.pid);
    const vectorsMiB = (SESSIONS * ITEMS * DIM * 4) / 1048576;
    t.diagnostic(`RSS start ${(startKiB / 1024).toFixed(1)} MiB, peak ${(peakKiB / 1024).toFixed(1)} MiB ` +
      `(${vectorsMiB.toFixed(1)} MiB of vectors written), after every store closed ${(endKiB / 1024).toFixed(1)} MiB`);
    // Stores finished early close while others are written: at least half the vectors at once.
    assert.ok(peakKiB - startKiB >= (vectorsMiB * 1024) / 2, 'the stores held their vectors at the peak');
    assert.ok(endKiB - startKiB <= 16 * 1024,
      `RSS ${((endKiB - startKiB) / 1024).toFixed(1)} MiB over the start after every store closed (allowed 16)`);
    assert.equal((await svc.stop()).code, 0);
  } finally {
    await svc.kill('SIGKILL');
    removeDir(root);
  }
});
