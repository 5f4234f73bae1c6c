// Read-only commands beside a running service that flushes and compacts (issue 5): a
// compaction removes segments that `t4dx verify` may have seen named by the manifest a
// moment before. verify must never report that as damage (it re-reads the manifest and
// runs again); it reports real damage only. The service comes from the shared harness.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { startService, runT4dx, SERVICE_BIN } from '../lib/harness.mjs';
import { makeItem, tempDir } from './helpers.mjs';

const SESSION = 'busy';
// Verify runs beside the compacting writer. Before verify looked again, about 1 run in 16
// reported a segment that a compaction had just removed as damage.
const RUNS = 60;

test('verify beside a service that flushes and compacts: never a false corruption',
  { skip: !fs.existsSync(SERVICE_BIN) && `no service binary at ${SERVICE_BIN}`, timeout: 240000 },
  async (t) => {
    const base = tempDir(t);
    const dataDir = path.join(base, 'data');
    fs.mkdirSync(dataDir);
    const svc = await startService({ dataDir, env: { T4DM_FLUSH_THRESHOLD: '100000', T4DM_LOG_LEVEL: 'error',
      T4DM_ACCESS_LOG: 'false' } });
    t.after(() => svc.cleanup());
    const store = path.join(dataDir, SESSION);

    // The writer: batches, flushes and compactions, over and over, until told to stop.
    let stop = false;
    let next = 0;
    let compactions = 0;
    const writer = (async () => {
      while (!stop) {
        // Four segments, then a compaction merges them (and removes them).
        for (let r = 0; r < 4; r++) {
          const items = [];
          for (let k = 0; k < 100; k++) items.push(makeItem(next++));
          const b = await svc.post('/episodes/batch', { session_id: SESSION, items });
          assert.equal(b.status, 201, b.text);
          assert.equal((await svc.post('/storage/flush', { session_id: SESSION })).status, 200);
        }
        const c = await svc.post('/storage/compact', { session_id: SESSION });
        assert.equal(c.status, 200, c.text);
        compactions++;
      }
    })();
    while (next < 400) await new Promise((r) => setTimeout(r, 10));

    const runs = [];
    try {
      for (let i = 0; i < RUNS; i++) {
        const v = await runT4dx(['--data', store, 'verify', '--json']);
        runs.push({ code: v.code, attempts: v.json && v.json.attempts, skipped: v.json && v.json.skipped });
        assert.equal(v.code, 0, `run ${i}: verify beside a compacting service: ${v.stdout}${v.stderr}`);
        assert.equal(v.json.healthy, true, v.stdout);
        if (i % 10 === 0) {  // the other read-only views work beside it too
          const st = await runT4dx(['--data', store, 'segments', '--json']);
          assert.equal(st.code, 0, st.stderr);
        }
      }
    } finally {
      stop = true;
      await writer;
    }
    t.diagnostic(`${compactions} compactions during ${RUNS} verify runs; runs that had to look again: ` +
      `${JSON.stringify(runs.filter((r) => r.attempts || r.skipped))}`);
    assert.ok(compactions > 0);

    // Real damage is still reported once the store is quiet: a segment folder the manifest
    // names, moved aside.
    await svc.stop();
    const seg = fs.readdirSync(store).filter((n) => /^seg_\d{6}$/.test(n)).sort()[0];
    assert.ok(seg, 'no segment on disk');
    fs.renameSync(path.join(store, seg), path.join(base, `${seg}.moved`));
    const v = await runT4dx(['--data', store, 'verify', '--json']);
    assert.equal(v.code, 1, v.stdout);
    assert.equal(v.json.healthy, false);
    assert.ok(JSON.stringify(v.json.problems).includes(seg), v.stdout);
    assert.equal(v.json.skipped, undefined, 'a segment the manifest still names is damage, never skipped');
  });
