// Helpers of the t4dx CLI tests: the shared harness (tests/lib/harness.mjs) runs the real
// binary on real temp directories; here, this suite's data helpers.
// The binary: $T4DX_BIN, else build/bin/t4dx of this checkout.
import fs from 'node:fs';
import path from 'node:path';
import {
  T4DX_BIN, runT4dxSync, spawnT4dx, exited, tempDir as harnessTempDir, removeDir,
} from '../lib/harness.mjs';

export const BIN = T4DX_BIN;
export { exited };

// Runs t4dx synchronously (no T4DM_* of this process leaks in). Returns {code, stdout,
// stderr, json} (json: stdout parsed when it is one JSON document).
export function t4dx(args, { input, env } = {}) {
  return runT4dxSync(args, { input, env });
}

// Starts t4dx in the background (stdio piped).
export function t4dxSpawn(args, { env } = {}) {
  return spawnT4dx(args, { env });
}

// A fresh temp dir, removed after the test t.
export function tempDir(t) {
  const dir = harnessTempDir('t4dx-cli-');
  t.after(() => removeDir(dir));
  return dir;
}

// A deterministic pseudo-random generator (xorshift32).
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

// Item i of a data set: float32-exact embedding values (multiples of 1/1024).
export function makeItem(i, dim = 16) {
  const r = rng(i * 2654435761 + 7);
  const embedding = [];
  for (let d = 0; d < dim; d++) embedding.push(Math.round((r() * 2 - 1) * 1024) / 1024);
  return {
    id: `item-${String(i).padStart(6, '0')}`,
    kind: i % 3 === 0 ? 'note' : 'episode',
    content: `memory ${i}: the quick brown fox ${i % 17}`,
    embedding,
    timestamp: 1700000000000 + i * 1000,
    metadata: { session: `s${i % 5}`, n: i, tags: ['t' + (i % 4)] },
  };
}

export function writeItems(file, from, to, dim = 16) {
  const lines = [];
  for (let i = from; i < to; i++) lines.push(JSON.stringify(makeItem(i, dim)));
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

// Imports items [from, to) into a store; asserts success.
export function importItems(dir, from, to, { env, dim = 16, batch = 50 } = {}) {
  const file = path.join(path.dirname(dir), `items-${path.basename(dir)}-${from}-${to}.jsonl`);
  writeItems(file, from, to, dim);
  const r = t4dx(['--data', dir, 'import', file, '--batch', String(batch), '--json'], { env });
  if (r.code !== 0) throw new Error(`import failed (${r.code}): ${r.stderr}`);
  fs.rmSync(file);
  return r.json;
}

// Every live item of a store, by id (through `t4dx export -`).
export function exportItems(dir) {
  const r = t4dx(['--data', dir, 'export', '-']);
  if (r.code !== 0) throw new Error(`export failed (${r.code}): ${r.stderr}`);
  const byId = new Map();
  for (const line of r.stdout.split('\n')) {
    if (!line) continue;
    const item = JSON.parse(line);
    byId.set(item.id, item);
  }
  return byId;
}

function cosine(a, b) {
  let ab = 0, aa = 0, bb = 0;
  for (let k = 0; k < a.length; k++) {
    ab += a[k] * b[k];
    aa += a[k] * a[k];
    bb += b[k] * b[k];
  }
  return ab / Math.sqrt(aa * bb);
}

// Asserts (with node:assert) that every item i in indices is stored: exactly as in
// `baseline` (an exportItems() map taken before the damage) when given, else with the
// content and embedding direction it was written with (a cosine store normalizes).
export function assertItemsPresent(assert, dir, indices, { baseline, dim = 16 } = {}) {
  const got = exportItems(dir);
  for (const i of indices) {
    const want = makeItem(i, dim);
    const have = got.get(want.id);
    assert.ok(have, `acknowledged item ${want.id} is missing`);
    if (baseline) {
      assert.deepStrictEqual(have, baseline.get(want.id), `item ${want.id} changed`);
    } else {
      assert.strictEqual(have.content, want.content);
      assert.ok(cosine(have.embedding, want.embedding) > 0.99999, `embedding of ${want.id}`);
    }
  }
  return got;
}

export function flipByte(file, offset) {
  const fd = fs.openSync(file, 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, offset);
  b[0] ^= 0x5a;
  fs.writeSync(fd, b, 0, 1, offset);
  fs.closeSync(fd);
}

export function range(from, to) {
  return Array.from({ length: to - from }, (_, k) => from + k);
}

// Collects a child's stdout lines; `until(line)` resolves the returned promise.
export function watchLines(stream, until) {
  let buf = '';
  const lines = [];
  let resolveFn;
  const done = new Promise((r) => (resolveFn = r));
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      if (until && until(line)) resolveFn(line);
    }
  });
  stream.on('end', () => resolveFn(null));
  return { lines, done };
}
