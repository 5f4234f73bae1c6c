// The engine scenarios of the native suite, through the Node entry (WASM on Node fs).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { open, constants, T4dxError } from '../dist/node.js';
import { item, tempDir, vector } from './helpers.mjs';

const DIM = 8;

async function withStore(options, fn) {
  const t = tempDir();
  const dir = path.join(t.dir, 'store');
  try {
    await fn(dir, () => open({ path: dir, dim: DIM, ...options }));
  } finally {
    t.cleanup();
  }
}

test('put, get, delete, count with exact embeddings (l2)', { timeout: 60000 }, async () => {
  await withStore({ metric: 'l2' }, async (dir, opener) => {
    const s = await opener();
    const a = item(1, DIM);
    const lsn = await s.put(a);
    assert.equal(typeof lsn, 'number');
    const got = await s.get('item-1');
    assert.equal(got.id, 'item-1');
    assert.equal(got.kind, a.kind);
    assert.equal(got.content, a.content);
    assert.equal(got.timestamp, a.timestamp);
    assert.deepEqual(got.metadata, a.metadata);
    assert.ok(got.embedding instanceof Float32Array);
    assert.deepEqual([...got.embedding], [...a.embedding]);
    const noEmb = await s.get('item-1', { includeEmbedding: false });
    assert.equal(noEmb.embedding, undefined);
    assert.equal(await s.get('missing'), null);
    assert.equal(await s.count(), 1);
    assert.equal(await s.delete('item-1'), true);
    assert.equal(await s.delete('item-1'), false);
    assert.equal(await s.get('item-1'), null);
    assert.equal(await s.count(), 0);
    await s.close();
  });
});

test('number arrays are accepted as embeddings and timestamps are stamped', { timeout: 60000 }, async () => {
  await withStore({ metric: 'ip' }, async (dir, opener) => {
    const s = await opener();
    const before = Date.now();
    await s.put({ id: 'x', content: 'c', embedding: [1, 2, 3, 4, 5, 6, 7, 8] });
    const got = await s.get('x');
    assert.deepEqual([...got.embedding], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.ok(got.timestamp >= before - 1000 && got.timestamp <= Date.now() + 1000);
    await s.close();
  });
});

test('search finds the nearest items best first, with filters', { timeout: 60000 }, async () => {
  await withStore({ flushThreshold: 40 }, async (dir, opener) => {
    const s = await opener();
    const items = [];
    for (let i = 0; i < 100; i++) items.push(item(i, DIM));
    await s.putBatch(items.slice(0, 60));
    for (const it of items.slice(60)) await s.put(it);
    for (const i of [0, 17, 59, 60, 99]) {
      const hits = await s.search(items[i].embedding, { k: 5 });
      assert.equal(hits.length, 5);
      assert.equal(hits[0].id, `item-${i}`);
      assert.ok(Math.abs(hits[0].score - 1) < 1e-4, `score ${hits[0].score}`);
      for (let j = 1; j < hits.length; j++) assert.ok(hits[j - 1].score >= hits[j].score);
      assert.equal(hits[0].item.content, items[i].content);
    }
    const episodes = await s.search(items[3].embedding, { k: 10, filter: { kind: 'episode' } });
    assert.ok(episodes.length > 0);
    for (const h of episodes) assert.equal(h.item.kind, 'episode');
    const tagged = await s.search(items[3].embedding, { k: 10, filter: { metadata: { tag: 't3' } } });
    for (const h of tagged) assert.equal(h.item.metadata.tag, 't3');
    assert.equal(tagged[0].id, 'item-3');
    const timed = await s.search(items[3].embedding, {
      k: 100, filter: { time_from: 1700000000010, time_to: 1700000000020 } });
    assert.equal(timed.length, 10);
    const bare = await s.search(items[3].embedding, { k: 1, includeItems: false });
    assert.equal(bare[0].item, undefined);
    const withEmb = await s.search(items[3].embedding, { k: 2, includeEmbedding: true });
    assert.ok(withEmb[0].item.embedding instanceof Float32Array);
    assert.equal(withEmb[0].item.embedding.length, DIM);
    const plan = await s.explain(items[3].embedding, { k: 3 });
    assert.equal(typeof plan, 'object');
    await s.close();
  });
});

test('ids-only search (the raw path) agrees with item search; its errors read the same', { timeout: 60000 }, async () => {
  await withStore({ flushThreshold: 50 }, async (dir, opener) => {
    const s = await opener();
    const items = [];
    for (let i = 0; i < 120; i++) items.push(item(i, DIM, { id: `id.${i}:x-${'y'.repeat(i % 7)}` }));
    await s.putBatch(items.slice(0, 80));
    await s.maintain();
    for (const it of items.slice(80)) await s.put(it);  // segments and the memtable
    const digits = (x) => x.toExponential().replace(/e.*$/, '').replace(/[-.]/g, '').length;
    for (let q = 0; q < 20; q++) {
      const v = vector(DIM, 1000 + q);
      const full = await s.search(v, { k: 7 });
      const bare = await s.search(v, { k: 7, includeItems: false });
      assert.deepEqual(bare.map((h) => h.id), full.map((h) => h.id));
      assert.deepEqual(bare.map((h) => h.score), full.map((h) => h.score));
      for (const h of bare) {
        assert.deepEqual(Object.keys(h), ['id', 'score']);
        // The shortest decimal that reads back as the engine's float32 score.
        const f = Math.fround(h.score);
        assert.equal(f, Math.fround(Number(f.toPrecision(9))));
        const p = digits(h.score);
        if (p > 1) assert.notEqual(Math.fround(Number(f.toPrecision(p - 1))), f, `${h.score}`);
      }
      const filtered = await s.search(v, { k: 5, includeItems: false, filter: { kind: 'episode' } });
      const episodes = new Set(items.filter((it) => it.kind === 'episode').map((it) => it.id));
      for (const h of filtered) assert.ok(episodes.has(h.id), h.id);
    }
    // Memory growth between searches (large writes) does not break the views.
    const memory = () => s.sync.Module.HEAPU8.buffer.byteLength;
    const before = memory();
    for (let b = 0; b < 8 && memory() === before; b++) {
      const big = [];
      for (let i = 0; i < 20; i++) big.push(item(500 + 20 * b + i, DIM, { content: 'z'.repeat(200000) }));
      await s.putBatch(big);
    }
    assert.ok(memory() > before, 'the WebAssembly memory grew');
    const after = await s.search(items[5].embedding, { k: 3, includeItems: false });
    assert.equal(after[0].id, items[5].id);
    await assert.rejects(s.search(vector(DIM + 1, 1), { includeItems: false }), { code: 'invalid_argument' });
    await assert.rejects(s.search(vector(DIM, 1), { includeItems: false, filter: { kind: 3 } }),
      { code: 'invalid_argument' });
    await s.close();
    await assert.rejects(s.search(vector(DIM, 1), { includeItems: false }), { code: 'failed_precondition' });
  });
});

test('read-your-writes: every write is visible to the next read and search', { timeout: 60000 }, async () => {
  await withStore({ flushThreshold: 7 }, async (dir, opener) => {
    const s = await opener();
    for (let i = 0; i < 50; i++) {
      const it = item(i, DIM);
      await s.put(it);
      assert.equal((await s.get(it.id)).content, it.content);
      const hits = await s.search(it.embedding, { k: 1 });
      assert.equal(hits[0].id, it.id);
      if (i % 5 === 4) {
        await s.delete(it.id);
        assert.equal(await s.get(it.id), null);
        const after = await s.search(it.embedding, { k: 3 });
        assert.ok(!after.some((h) => h.id === it.id));
      }
    }
    assert.equal(await s.count(), 40);
    await s.close();
  });
});

test('overwrites keep the newest version', { timeout: 60000 }, async () => {
  await withStore({ flushThreshold: 5 }, async (dir, opener) => {
    const s = await opener();
    for (let v = 0; v < 4; v++) {
      for (let i = 0; i < 6; i++) await s.put(item(i, DIM, { content: `v${v}` }));
      await s.flush();
    }
    assert.equal(await s.count(), 6);
    for (let i = 0; i < 6; i++) assert.equal((await s.get(`item-${i}`)).content, 'v3');
    await s.compact();
    assert.equal(await s.count(), 6);
    assert.equal((await s.get('item-2')).content, 'v3');
    await s.close();
  });
});

test('flush and compaction write segments and keep every item', { timeout: 60000 }, async () => {
  await withStore({ flushThreshold: 1000 }, async (dir, opener) => {
    const s = await opener();
    for (let b = 0; b < 5; b++) {
      const batch = [];
      for (let i = 0; i < 30; i++) batch.push(item(b * 30 + i, DIM));
      await s.putBatch(batch);
      await s.flush();
    }
    let segments = await s.describe('segments');
    const segCount = (x) => (Array.isArray(x) ? x.length : (x.segments || []).length);
    assert.ok(segCount(segments) >= 2, JSON.stringify(segments).slice(0, 200));
    assert.ok(fs.readdirSync(dir).some((n) => /^seg_\d{6}$/.test(n)));
    await s.compact();
    segments = await s.describe('segments');
    assert.equal(segCount(segments), 1);
    assert.equal(await s.count(), 150);
    const hits = await s.search(item(77, DIM).embedding, { k: 1 });
    assert.equal(hits[0].id, 'item-77');
    const v = await s.verify();
    assert.equal(v.healthy, true, JSON.stringify(v.report).slice(0, 500));
    await s.close();
  });
});

test('cooperative maintenance flushes at the threshold without an explicit flush', { timeout: 60000 }, async () => {
  await withStore({ flushThreshold: 20, idleMs: 10 }, async (dir, opener) => {
    const s = await opener();
    for (let i = 0; i < 65; i++) await s.put(item(i, DIM));
    // Let the scheduled steps run (they run between calls, one per macrotask).
    for (let i = 0; i < 200; i++) {
      const st = await s.stats();
      if (st.compactor.flushes >= 3) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const st = await s.stats();
    assert.ok(st.compactor.flushes >= 3, JSON.stringify(st.compactor));
    assert.equal(st.compactor.mode, 'cooperative');
    assert.equal(s.maintenanceError, null);
    assert.equal(await s.count(), 65);
    await s.close();
  });
});

// Merges wait while writes keep coming (a merge holds up every call on this one thread):
// steps within idleMs of a write flush and index but leave merges to the idle look, or to
// maintain().
test('cooperative maintenance leaves merges until writes pause', { timeout: 60000 }, async () => {
  await withStore({ flushThreshold: 10, idleMs: 600000 }, async (dir, opener) => {
    const s = await opener();
    for (let i = 0; i < 80; i++) await s.put(item(i, DIM));
    // Let the scheduled steps run until nothing is left but the deferred merges.
    for (let i = 0; i < 400; i++) {
      const h = await s.describe('hnsw_stats');
      const st = await s.stats();
      if (st.compactor.flushes >= 8 && h.unindexed_segments === 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    let st = await s.stats();
    assert.ok(st.compactor.flushes >= 8, JSON.stringify(st.compactor));
    assert.equal(st.compactor.merges, 0, 'a merge ran within idleMs of a write');
    assert.equal(s.maintenanceError, null);
    await s.maintain();  // runs everything, merges included
    st = await s.stats();
    assert.ok(st.compactor.merges >= 1, JSON.stringify(st.compactor));
    assert.equal(await s.count(), 80);
    await s.close();
  });
  await withStore({ flushThreshold: 10, idleMs: 20 }, async (dir, opener) => {
    const s = await opener();
    for (let i = 0; i < 80; i++) await s.put(item(i, DIM));
    // The idle look, idleMs after the last step, runs the merges.
    let st = null;
    for (let i = 0; i < 1000; i++) {
      st = await s.stats();
      if (st.compactor.merges >= 1) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(st.compactor.merges >= 1, JSON.stringify(st.compactor));
    assert.equal(s.maintenanceError, null);
    assert.equal(await s.count(), 80);
    await s.close();
  });
});

test('reopen finds everything (segments, WAL and deletes)', { timeout: 60000 }, async () => {
  await withStore({ flushThreshold: 16 }, async (dir, opener) => {
    let s = await opener();
    for (let i = 0; i < 40; i++) await s.put(item(i, DIM));
    await s.delete('item-5');
    await s.close();
    s = await open({ path: dir });
    assert.equal(await s.count(), 39);
    assert.equal(await s.get('item-5'), null);
    assert.equal((await s.get('item-39')).content, 'content number 39');
    assert.equal((await s.search(item(12, DIM).embedding, { k: 1 }))[0].id, 'item-12');
    await s.close();
    // Reopen without close(): the previous handle was released by close; a crash-like
    // reopen is covered by crash.test.mjs.
  });
});

test('a torn WAL tail is cut on open and every complete entry is kept', { timeout: 60000 }, async () => {
  await withStore({}, async (dir, opener) => {
    let s = await opener();
    for (let i = 0; i < 10; i++) await s.put(item(i, DIM));
    await s.close();
    const wal = path.join(dir, 'wal.jsonl');
    const good = fs.statSync(wal).size;
    fs.appendFileSync(wal, '{"lsn":11,"timestamp":17000000000');  // crash mid-write
    s = await open({ path: dir });
    assert.equal(await s.count(), 10);
    assert.equal((await s.get('item-9')).content, 'content number 9');
    await s.put(item(10, DIM));
    assert.equal(await s.count(), 11);
    const report = await s.describe('recovery_report');
    assert.ok(JSON.stringify(report).includes('torn'), JSON.stringify(report).slice(0, 400));
    await s.close();
    assert.ok(fs.statSync(wal).size > good);
    s = await open({ path: dir });
    assert.equal(await s.count(), 11);
    await s.close();
  });
});

test('strict recovery refuses a corrupt WAL line with file, line and offset; lenient opens', { timeout: 60000 }, async () => {
  await withStore({}, async (dir, opener) => {
    let s = await opener();
    for (let i = 0; i < 6; i++) await s.put(item(i, DIM));
    await s.close();
    const wal = path.join(dir, 'wal.jsonl');
    const text = fs.readFileSync(wal, 'latin1');
    const lines = text.split('\n');
    const offset = lines[0].length + 1 + lines[1].length + 1;  // start of line 3
    const bytes = Buffer.from(text, 'latin1');
    const at = offset + lines[2].indexOf('content number') + 8;
    bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41;  // rot one byte inside line 3
    fs.writeFileSync(wal, bytes);
    await assert.rejects(open({ path: dir, recovery: 'strict' }), (e) => {
      assert.ok(e instanceof T4dxError);
      assert.equal(e.code, 'corruption');
      assert.ok(e.file.endsWith('wal.jsonl'), e.file);
      assert.equal(e.line, 3);
      assert.equal(e.offset, offset);
      return true;
    });
    // Strict refusal changed nothing.
    assert.deepEqual(fs.readFileSync(wal), bytes);
    s = await open({ path: dir });
    assert.equal(await s.count(), 2);  // the entries before the bad line
    const status = await s.describe('status');
    assert.ok(JSON.stringify(status).length > 2);
    await s.close();
  });
});

test('errors are T4dxErrors with stable codes; bad input changes nothing', { timeout: 60000 }, async () => {
  await withStore({}, async (dir, opener) => {
    const s = await opener();
    await assert.rejects(s.put({ id: 'bad id' }), { code: 'invalid_argument' });
    await assert.rejects(s.put({ id: 'a', embedding: [1, 2] }), { code: 'invalid_argument' });
    await assert.rejects(s.put({ id: 'a', colour: 'red' }), { code: 'invalid_argument' });
    await assert.rejects(s.put('nope'), { code: 'invalid_argument' });
    await assert.rejects(s.putBatch([item(1, DIM), { id: 'x y' }]), (e) => {
      assert.equal(e.code, 'invalid_argument');
      assert.match(e.message, /items\[1\]/);
      return true;
    });
    assert.equal(await s.count(), 0);  // the batch was all or nothing
    await assert.rejects(s.search(vector(DIM, 1), { k: 0 }), { code: 'invalid_argument' });
    await assert.rejects(s.search(vector(DIM, 1), { top: 3 }), { code: 'invalid_argument' });
    await assert.rejects(s.describe('nonsense'), { code: 'invalid_argument' });
    await assert.rejects(open({ path: path.join(dir, 'other'), dimm: 3 }), { code: 'invalid_argument' });
    await assert.rejects(open({}), { code: 'invalid_argument' });
    await s.close();
    await assert.rejects(s.get('a'), { code: 'failed_precondition' });
    await s.close();  // idempotent
  });
});

test('a second open of a held store fails with "locked"; close releases it', { timeout: 60000 }, async () => {
  await withStore({}, async (dir, opener) => {
    const s = await opener();
    await assert.rejects(open({ path: dir }), (e) => {
      assert.equal(e.code, 'locked');
      assert.match(e.message, new RegExp(`${process.pid}`));
      return true;
    });
    await s.close();
    const again = await open({ path: dir });
    await again.close();
    assert.equal(fs.readFileSync(path.join(dir, 'LOCK'), 'utf8'), '');
  });
});

test('a LOCK file naming another live process refuses; a dead one does not', { timeout: 60000 }, async () => {
  await withStore({}, async (dir, opener) => {
    (await opener()).close();
    fs.writeFileSync(path.join(dir, 'LOCK'), `${process.ppid}\n`);
    await assert.rejects(open({ path: dir }), (e) => e.code === 'locked' && e.message.includes(`${process.ppid}`));
    fs.writeFileSync(path.join(dir, 'LOCK'), '999999999\n');
    const s = await open({ path: dir });
    assert.match(fs.readFileSync(path.join(dir, 'LOCK'), 'utf8'), new RegExp(`^${process.pid} node\\n$`));
    await s.close();
  });
});

test('scan returns live items in timestamp order with limits and ranges', { timeout: 60000 }, async () => {
  await withStore({ flushThreshold: 10 }, async (dir, opener) => {
    const s = await opener();
    for (let i = 24; i >= 0; i--) await s.put(item(i, DIM));
    await s.delete('item-3');
    const all = await s.scan();
    assert.equal(all.length, 24);
    for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].timestamp <= all[i].timestamp);
    assert.ok(all[0].embedding instanceof Float32Array);
    const some = await s.scan({ timeFrom: 1700000000005, timeTo: 1700000000010, includeEmbedding: false });
    assert.deepEqual(some.map((x) => x.id), ['item-5', 'item-6', 'item-7', 'item-8', 'item-9']);
    assert.equal(some[0].embedding, undefined);
    assert.equal((await s.scan({ limit: 3 })).length, 3);
    await s.close();
  });
});

test('sync modes and the constants exported by C++', { timeout: 60000 }, async () => {
  const c = await constants();
  assert.equal(c.statusCodes.locked, 6);
  assert.ok(c.views.includes('wal_status'));
  assert.deepEqual(c.syncModes, ['always', 'interval', 'none']);
  for (const sync of ['always', 'interval', 'none', false]) {
    await withStore({ sync }, async (dir, opener) => {
      const s = await opener();
      await s.put(item(1, DIM));
      await s.close();
      const r = await open({ path: dir });
      assert.equal(await r.count(), 1);
      await r.close();
    });
  }
});

test('every diagnostic view renders', { timeout: 60000 }, async () => {
  await withStore({ flushThreshold: 5 }, async (dir, opener) => {
    const s = await opener();
    for (let i = 0; i < 12; i++) await s.put(item(i, DIM));
    await s.flush();
    const c = await constants();
    for (const view of c.views) {
      const arg = view.startsWith('segment') && view !== 'segments' ? '000001' : '';
      const doc = await s.describe(view, arg);
      assert.equal(typeof doc, 'object', view);
    }
    const st = await s.stats();
    assert.equal(typeof st, 'object');
    await s.close();
  });
});
