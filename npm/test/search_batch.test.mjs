// searchBatch() through the Node entry: one array of hits per vector, each what search()
// returns for it; options apply to every query; errors read as search()'s.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { open, T4dxError } from '../dist/node.js';
import { item, tempDir, vector } from './helpers.mjs';

const DIM = 8;

test('searchBatch returns what search returns for each vector, in order', { timeout: 60000 }, async () => {
  const t = tempDir();
  try {
    const s = await open({ path: path.join(t.dir, 'store'), dim: DIM, flushThreshold: 40 });
    const items = [];
    for (let i = 0; i < 100; i++) items.push(item(i, DIM));
    await s.putBatch(items.slice(0, 60));
    await s.flush();
    await s.maintain();
    await s.putBatch(items.slice(60));  // some in segments, some in the MemTable
    const flat = new Float32Array(3 * DIM);
    flat.set(items[7].embedding, 2 * DIM);
    const vectors = [items[3].embedding, [...items[42].embedding], flat.subarray(2 * DIM), vector(DIM, 999)];
    for (const options of [undefined, { k: 5 }, { k: 4, includeItems: false }, { k: 3, ef: 20, includeEmbedding: true },
      { k: 6, filter: { kind: 'episode' } }]) {
      const batch = await s.searchBatch(vectors, options);
      assert.equal(batch.length, vectors.length);
      for (let i = 0; i < vectors.length; i++) assert.deepEqual(batch[i], await s.search(vectors[i], options));
    }
    const [a, b, c] = await s.searchBatch(vectors.slice(0, 3), { k: 1, includeItems: false });
    assert.deepEqual([a[0].id, b[0].id, c[0].id], ['item-3', 'item-42', 'item-7']);
    assert.deepEqual(await s.searchBatch([], { k: 3 }), []);

    // In call order with writes: a put not yet awaited is seen by the batch after it.
    const fresh = item(500, DIM);
    const put = s.put(fresh);
    const [hits] = await s.searchBatch([fresh.embedding], { k: 1 });
    await put;
    assert.equal(hits[0].id, 'item-500');
    await s.close();
  } finally {
    t.cleanup();
  }
});

test('searchBatch errors are T4dxErrors; one bad query rejects the call', { timeout: 60000 }, async () => {
  const t = tempDir();
  try {
    const s = await open({ path: path.join(t.dir, 'store'), dim: DIM });
    await s.put(item(1, DIM));
    const good = vector(DIM, 1);
    const check = (e, code, re) => e instanceof T4dxError && e.code === code && (!re || re.test(e.message));
    await assert.rejects(s.searchBatch(good), (e) => check(e, 'invalid_argument', /vectors/));
    await assert.rejects(s.searchBatch([good, 'nope']), (e) => check(e, 'invalid_argument', /vectors\[1\]/));
    await assert.rejects(s.searchBatch([good, vector(DIM + 1, 2)]), (e) => check(e, 'invalid_argument'));
    await assert.rejects(s.searchBatch([good], { k: 0 }), (e) => check(e, 'invalid_argument'));
    await assert.rejects(s.searchBatch([good], { top: 3 }), (e) => check(e, 'invalid_argument'));
    assert.equal((await s.searchBatch([good], { k: 1 }))[0][0].id, 'item-1');  // still usable
    await s.close();
    await assert.rejects(s.searchBatch([good]), (e) => check(e, 'failed_precondition'));
  } finally {
    t.cleanup();
  }
});
