// The inspect entry's FilesHost: one block cache shared by every lazily read file, bounded
// in bytes and scan resistant. Node has no FileReaderSync (so the host reads Blobs whole
// there); these tests install a fake one that counts the bytes read from the "file API",
// which is what happens in a Worker.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { BlockCache, DEFAULT_CACHE_BYTES, FilesHost } from '../dist/files_host.js';
import { inspect } from '../dist/inspect_node.js';
import { open } from '../dist/node.js';
import { item, tempDir } from './helpers.mjs';

const MiB = 1 << 20;
const api = { reads: 0, bytes: 0 };

// A Blob whose bytes can only be read through FileReaderSync (counted).
class FakeBlob {
  constructor(bytes) {
    this.bytes = bytes;
    this.size = bytes.length;
  }
  slice(a, b) {
    return { part: this.bytes.subarray(a, b) };
  }
  arrayBuffer() {
    throw new Error('a lazily read Blob must not be read whole');
  }
}

let saved;
before(() => {
  saved = globalThis.FileReaderSync;
  globalThis.FileReaderSync = class {
    readAsArrayBuffer(s) {
      api.reads++;
      api.bytes += s.part.length;
      return s.part.slice().buffer;
    }
  };
});
after(() => {
  if (saved === undefined) delete globalThis.FileReaderSync;
  else globalThis.FileReaderSync = saved;
});

function bytesOf(n, seed) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 255;
  return b;
}

// Reads a whole file through the host in `chunk`-byte pieces, checking the bytes.
function readAll(host, p, expect, chunk = 4096) {
  const h = host.open(p, 'r');
  const dest = new Uint8Array(chunk);
  for (let off = 0; off < expect.length; off += chunk) {
    const n = host.read(h, off, dest);
    assert.equal(n, Math.min(chunk, expect.length - off));
    if (off % (256 * 1024) === 0) assert.equal(dest[0], expect[off]);
    assert.ok(host.cacheStats().cachedBytes <= host.cacheStats().limit);
  }
  host.close(h);
}

test('FilesHost: one shared cache, bounded in bytes; passes over a file larger than the cache read it about once', async () => {
  assert.equal(DEFAULT_CACHE_BYTES, 64 * MiB);
  const big = bytesOf(9 * MiB + 12345, 1);  // 10 blocks; the cache holds 6
  const host = await FilesHost.create('inspect', [{ path: 'big', data: new FakeBlob(big) }], { cacheBytes: 6 * MiB });
  api.bytes = 0;
  readAll(host, 'inspect/big', big);
  assert.equal(api.bytes, big.length, 'one sequential pass reads each byte once');
  for (let pass = 0; pass < 3; pass++) readAll(host, 'inspect/big', big);
  const st = host.cacheStats();
  assert.equal(st.bytesRead, api.bytes);
  assert.ok(st.cachedBytes <= 6 * MiB);
  // Plain LRU would read 4 x 9 MiB; here each later pass reads what does not fit (4 MiB)
  // and at most one block more.
  assert.ok(api.bytes <= big.length + 3 * 5 * MiB, `4 passes read ${(api.bytes / MiB).toFixed(1)} MiB`);
});

test('FilesHost: many files share the limit; a scan does not evict the working set', async () => {
  const files = [];
  for (let i = 0; i < 12; i++) files.push({ path: `seg_${i}/data`, data: bytesOf(700 * 1024 + i, i) });
  const host = await FilesHost.create('', files.map((f) => ({ path: f.path, data: new FakeBlob(f.data) })),
    { cacheBytes: 4 * MiB });
  api.bytes = 0;
  const total = files.reduce((s, f) => s + f.data.length, 0);
  for (let pass = 0; pass < 3; pass++) for (const f of files) readAll(host, f.path, f.data);
  assert.ok(host.cacheStats().cachedBytes <= 4 * MiB);
  // Each later pass reads what does not fit, and at most two blocks more (plain LRU: all).
  const slack = (total - 4 * MiB + 2 * 700 * 1024) * 2;
  assert.ok(api.bytes <= total + slack, `3 passes over ${(total / MiB).toFixed(1)} MiB read ${(api.bytes / MiB).toFixed(1)} MiB`);

});

test('FilesHost: a sequential scan larger than the cache does not evict the working set', async () => {
  const a = bytesOf(8 * MiB, 3);
  const b = bytesOf(12 * MiB, 4);
  const host = await FilesHost.create('', [{ path: 'a', data: new FakeBlob(a) }, { path: 'b', data: new FakeBlob(b) }],
    { cacheBytes: 6 * MiB });
  const h = host.open('a', 'r');
  const dest = new Uint8Array(100);
  const hot = () => {
    for (const blk of [5, 2, 7]) assert.equal(host.read(h, blk * MiB + 10, dest), 100);
  };
  hot();
  hot();  // read again: the working set
  readAll(host, 'b', b);
  readAll(host, 'b', b);
  api.bytes = 0;
  hot();
  assert.equal(api.bytes, 0, 'the working set stayed cached through two scans');
  assert.ok(host.cacheStats().cachedBytes <= 6 * MiB);
});

test('BlockCache: a limit below one block caches nothing and stays bounded', () => {
  const c = new BlockCache(1000);
  const src = { id: 1, blocks: 3, lastIndex: -1, load: () => new Uint8Array(2000) };
  c.get(src, 0);
  c.get(src, 0);
  assert.equal(c.bytes, 0);
  assert.equal(c.stats.reads, 2);
  assert.throws(() => new BlockCache(-1), /cacheBytes/);
});

test('inspect: checking a store larger than the cache reads each byte about once', { timeout: 120000 }, async () => {
  const t = tempDir();
  const dir = path.join(t.dir, 'store');
  try {
    const s = await open({ path: dir, dim: 96, flushThreshold: 1500, sync: 'none' });
    for (let b = 0; b < 6000; b += 500) {
      const batch = [];
      for (let i = b; i < b + 500; i++) batch.push(item(i, 96));
      await s.putBatch(batch);
    }
    await s.flush();
    await s.maintain();
    await s.close();
    const files = [];
    const walk = (rel) => {
      for (const name of fs.readdirSync(path.join(dir, rel))) {
        const r = rel ? `${rel}/${name}` : name;
        if (fs.statSync(path.join(dir, r)).isDirectory()) walk(r);
        else if (name !== 'LOCK') files.push({ path: r, data: new FakeBlob(new Uint8Array(fs.readFileSync(path.join(dir, r)))) });
      }
    };
    walk('');
    const total = files.reduce((n, f) => n + f.data.size, 0);
    const cacheBytes = 2 * MiB;
    assert.ok(total > 2 * cacheBytes, `store of ${total} bytes`);

    api.bytes = 0;
    const ins = await inspect({ files, cacheBytes });
    const check = await ins.checkFiles();
    assert.equal(check.problems.length, 0, JSON.stringify(check.problems));
    const once = api.bytes;
    assert.ok(once <= total * 1.1, `checkFiles read ${once} of ${total} bytes`);
    assert.equal(ins.cacheStats().bytesRead, once);
    assert.ok(ins.cacheStats().cachedBytes <= cacheBytes);
    const ro = await ins.open();
    assert.equal(await ro.count(), 6000);
    assert.ok(ins.cacheStats().cachedBytes <= cacheBytes);
    await ins.close();
  } finally {
    t.cleanup();
  }
});
