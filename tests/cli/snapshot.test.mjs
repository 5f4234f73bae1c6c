// Snapshots: created from a store a writer holds open, verified, opened directly as --data,
// restored, and the restored store verified with the same items; a damaged archive is
// refused before anything is written.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import {
  exited, exportItems, flipByte, importItems, makeItem, t4dx, t4dxSpawn, tempDir, watchLines,
} from './helpers.mjs';

// Feeds items [from, to) to a running `import -` and waits for their acknowledgement.
async function feed(child, acks, from, to) {
  const target = acks.count + (to - from);
  const lines = [];
  for (let i = from; i < to; i++) lines.push(JSON.stringify(makeItem(i)));
  child.stdin.write(lines.join('\n') + '\n');
  while (acks.count < target) await new Promise((r) => setTimeout(r, 5));
}

test('snapshot round trip from a store in use', async (t) => {
  const base = tempDir(t);
  const dir = path.join(base, 'store');
  importItems(dir, 0, 400, { env: { T4DM_FLUSH_THRESHOLD: '100' } });

  // A writer holds the store (its lock) for the whole test.
  const child = t4dxSpawn(['--data', dir, 'import', '-', '--batch', '10', '--acks', '--json'],
                          { env: { T4DM_FLUSH_THRESHOLD: '100' } });
  const acks = { count: 0 };
  const { lines } = watchLines(child.stdout, (line) => {
    const j = JSON.parse(line);
    if (j.acknowledged !== undefined) acks.count = j.acknowledged;
    return false;
  });
  await feed(child, acks, 400, 550);  // crosses a flush
  assert.equal(t4dx(['--data', dir, 'flush']).code, 2, 'the store is held');

  const snap = path.join(base, 'snap.tar');
  let r = t4dx(['--data', dir, 'snapshot', 'create', snap, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.ok(r.json.attempts >= 1);
  assert.ok(r.json.members.some((m) => m.name === 'global_index.json'));
  assert.ok(r.json.members.some((m) => m.name === 'wal.jsonl'));
  assert.ok(r.json.members.some((m) => /^seg_\d{6}\/vectors\.f32$/.test(m.name)));
  const atSnapshot = exportItems(dir);  // read-only, beside the writer
  assert.equal(atSnapshot.size, 550);

  await feed(child, acks, 550, 600);  // the store moves on
  child.stdin.end();
  const ex = await exited(child);
  assert.equal(ex.code, 0, lines.join('\n'));

  // The archive itself: every checksum; a standard tar tool lists it.
  r = t4dx(['snapshot', 'verify', snap, '--json']);
  assert.equal(r.code, 0, JSON.stringify(r.json && r.json.problems));
  assert.equal(r.json.healthy, true);

  // Read-only commands open it directly.
  r = t4dx(['--data', snap, 'status', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.items, 550);
  assert.equal(t4dx(['--data', snap, 'flush']).code, 2, 'a snapshot is read-only');

  const restored = path.join(base, 'restored');
  r = t4dx(['snapshot', 'restore', snap, restored, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!fs.existsSync(path.join(restored, 't4dx_snapshot.json')));
  r = t4dx(['--data', restored, 'verify', '--json']);
  assert.equal(r.code, 0, JSON.stringify(r.json.problems));
  assert.deepEqual(exportItems(restored), atSnapshot, 'same items as at snapshot time');
  // The restored store is a normal writable store.
  importItems(restored, 600, 610);
  assert.equal(exportItems(restored).size, 560);

  // Restoring onto a non-empty directory is refused.
  r = t4dx(['snapshot', 'restore', snap, restored]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not empty/);
});

test('a damaged snapshot is refused before anything is written', (t) => {
  const base = tempDir(t);
  const dir = path.join(base, 'store');
  importItems(dir, 0, 300, { env: { T4DM_FLUSH_THRESHOLD: '100' } });
  const snap = path.join(base, 'snap.tar');
  let r = t4dx(['--data', dir, 'snapshot', 'create', snap, '--json']);
  assert.equal(r.code, 0, r.stderr);
  // Find a segment file's data in the archive (header name at a 512-byte boundary).
  const buf = fs.readFileSync(snap);
  let dataAt = -1;
  for (let off = 0; off + 512 <= buf.length; off += 512) {
    const name = buf.subarray(off, off + 100).toString('latin1').replace(/\0.*$/s, '');
    if (/^seg_\d{6}\/items\.jsonl$/.test(name)) {
      dataAt = off + 512;
      break;
    }
  }
  assert.ok(dataAt > 0);
  flipByte(snap, dataAt + 10);

  r = t4dx(['snapshot', 'verify', snap, '--json']);
  assert.equal(r.code, 1);
  assert.ok(r.json.problems.some((p) => p.area === 'snapshot' && /items\.jsonl$/.test(p.file)));
  assert.ok(r.json.problems.some((p) => p.area === 'segment' && p.offset === 0));

  const restored = path.join(base, 'restored');
  r = t4dx(['snapshot', 'restore', snap, restored]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nothing was written/);
  assert.ok(!fs.existsSync(restored));
  assert.ok(!fs.existsSync(`${restored}.restore-tmp`));
});
