// One scripted drill per runbook symptom (../shared/seed/DEBUGGING_STORAGE.md), on a real
// store: cause it, show that `t4dx verify` / `wal check` report it with the right file,
// line/offset and exit code, repair it with the command README.md names, and show that
// every acknowledged item is still there.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import {
  assertItemsPresent, exited, exportItems, importItems, range, t4dx, t4dxSpawn, tempDir,
  watchLines, writeItems, flipByte,
} from './helpers.mjs';

const FLUSH = { T4DM_FLUSH_THRESHOLD: '100' };

// A store with items 0..299 in segments and 300..339 only in the WAL (MemTable), closed
// cleanly (hnsw.idx saved). Returns {dir, baseline}.
function seed(t) {
  const dir = path.join(tempDir(t), 'store');
  importItems(dir, 0, 300, { env: FLUSH });
  assert.equal(t4dx(['--data', dir, 'flush'], { env: FLUSH }).code, 0);
  importItems(dir, 300, 340, { env: FLUSH, batch: 10 });  // 4 WAL lines above the flush
  // The engine indexes in the background; build and save the index now so every drill
  // starts from the same files.
  assert.equal(t4dx(['--data', dir, 'hnsw', 'rebuild']).code, 0);
  const baseline = exportItems(dir);
  assert.equal(baseline.size, 340);
  const v = t4dx(['--data', dir, 'verify', '--json']);
  assert.equal(v.code, 0, `fresh store verifies: ${v.stdout}`);
  assert.deepEqual(v.json.problems, []);
  return { dir, baseline };
}

function verify(dir) {
  const r = t4dx(['--data', dir, 'verify', '--json']);
  assert.ok(r.json, `verify prints JSON: ${r.stdout} ${r.stderr}`);
  return r;
}

function firstSegment(dir) {
  const segs = t4dx(['--data', dir, 'segments', '--json']).json.segments;
  assert.ok(segs.length >= 1);
  return segs[0];
}

test('drill: torn last WAL line (crash mid-write) -> wal check, wal repair', (t) => {
  const { dir, baseline } = seed(t);
  // One more write, then "crash" in the middle of writing its line.
  const r0 = t4dx(['--data', dir, 'put'], {
    input: JSON.stringify({ id: 'torn-1', content: 'never acknowledged' }),
  });
  assert.equal(r0.code, 0);
  const wal = path.join(dir, 'wal.jsonl');
  const data = fs.readFileSync(wal);
  const start = data.lastIndexOf(0x0a, data.length - 2) + 1;
  const cut = start + Math.floor((data.length - start) / 2);
  fs.truncateSync(wal, cut);
  const line = data.subarray(0, start).toString().split('\n').length;  // 1-based

  let r = t4dx(['--data', dir, 'wal', 'check', '--json']);
  assert.equal(r.code, 1);
  assert.equal(r.json.verdict, 'torn_tail');
  assert.equal(r.json.problems.length, 1);
  assert.equal(r.json.problems[0].file, wal);
  assert.equal(r.json.problems[0].line, line);
  assert.equal(r.json.problems[0].offset, start);
  assert.equal(r.json.problems[0].torn_tail, true);
  const human = t4dx(['--data', dir, 'wal', 'check']);
  assert.match(human.stdout, new RegExp(`WAL torn tail: .*wal\\.jsonl line ${line} \\(byte ${start}`));

  // verify lists it with file, line and offset; a torn tail alone is not damage (the next
  // open cuts it), so verify's verdict stays healthy.
  r = verify(dir);
  const p = r.json.problems.find((x) => x.kind === 'wal_torn_tail');
  assert.ok(p, JSON.stringify(r.json.problems));
  assert.equal(p.file, wal);
  assert.equal(p.line, line);
  assert.equal(p.offset, start);
  assert.equal(r.code, 0);

  r = t4dx(['--data', dir, 'wal', 'repair', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.actions.length, 1);
  const a = r.json.actions[0];
  assert.equal(a.action, 'cut_torn_tail');
  assert.equal(a.offset, start);
  assert.ok(a.saved_to.startsWith(path.join(dir, 'quarantine')));
  assert.deepEqual(fs.readFileSync(a.saved_to), data.subarray(start, cut), 'removed bytes saved');
  assert.equal(fs.statSync(wal).size, start);

  assert.equal(t4dx(['--data', dir, 'wal', 'check']).code, 0);
  r = verify(dir);
  assert.equal(r.code, 0);
  assert.equal(r.json.problems.length, 0);
  assertItemsPresent(assert, dir, range(0, 340), { baseline });
  assert.equal(t4dx(['--data', dir, 'get', 'torn-1']).code, 1);
});

test('drill: mid-log WAL corruption -> strict mode refuses, wal repair quarantines', (t) => {
  const { dir, baseline } = seed(t);
  const wal = path.join(dir, 'wal.jsonl');
  const text = fs.readFileSync(wal, 'utf8');
  const lines = text.split('\n').slice(0, -1);
  assert.ok(lines.length >= 3, `${lines.length} lines`);
  const bad = lines.length - 1;  // 1-based number of the second-to-last line
  const offset = Buffer.byteLength(lines.slice(0, bad - 1).join('\n')) + 1;
  flipByte(wal, offset + 30);
  const damaged = fs.readFileSync(wal);

  let r = t4dx(['--data', dir, 'wal', 'check', '--json']);
  assert.equal(r.code, 1);
  assert.equal(r.json.verdict, 'corrupt');
  assert.equal(r.json.problems[0].file, wal);
  assert.equal(r.json.problems[0].line, bad);
  assert.equal(r.json.problems[0].offset, offset);
  r = verify(dir);
  assert.equal(r.code, 1);
  assert.ok(r.json.problems.some((p) => p.kind === 'wal_corruption' && p.offset === offset));

  r = t4dx(['--data', dir, 'recover'], { env: { T4DM_RECOVERY_STRICT: 'true' } });
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(`${wal}:${bad} (byte ${offset})`), r.stderr);

  r = t4dx(['--data', dir, 'wal', 'repair', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.actions[0].action, 'cut_corrupt_tail');
  assert.equal(r.json.actions[0].offset, offset);
  assert.deepEqual(fs.readFileSync(r.json.actions[0].saved_to), damaged.subarray(offset),
                   'every removed byte is saved');
  assert.equal(verify(dir).code, 0);
  // Every entry before the bad line is still there; the rest is saved under quarantine/.
  const lost = new Set();
  for (const l of lines.slice(bad - 1)) {
    const e = JSON.parse(l);
    for (const it of e.items || (e.item ? [e.item] : [])) lost.add(it.id);
  }
  const kept = range(0, 340).filter((i) => !lost.has(`item-${String(i).padStart(6, '0')}`));
  assert.ok(kept.length >= 300);
  assertItemsPresent(assert, dir, kept, { baseline });
});

test('drill: flipped byte in a segment -> verify, segment repair rebuilds from the WAL', (t) => {
  const { dir, baseline } = seed(t);
  const seg = firstSegment(dir);
  const file = path.join(dir, seg.dir, 'vectors.f32');
  flipByte(file, 100);

  let r = verify(dir);
  assert.equal(r.code, 1);
  const p = r.json.problems.find((x) => x.kind === 'segment_checksum');
  assert.ok(p, JSON.stringify(r.json.problems));
  assert.equal(p.file, file);
  assert.equal(p.offset, 0);  // the 64 KiB block holding byte 100
  r = t4dx(['--data', dir, 'segment', 'verify', seg.id, '--json']);
  assert.equal(r.code, 1);
  assert.equal(r.json.valid, false);
  assert.equal(r.json.problems[0].file, file);

  r = t4dx(['--data', dir, 'segment', 'repair', seg.id, '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.json.set_aside.length, 1);
  assert.ok(fs.existsSync(r.json.set_aside[0].moved_to), 'the damaged copy is kept');
  assert.equal(r.json.recovery.segments_rebuilt_from_wal, 1);

  assert.equal(verify(dir).code, 0);
  assertItemsPresent(assert, dir, range(0, 340), { baseline });
});

test('drill: segment folder moved aside (runbook mv + restart) -> recover', (t) => {
  const { dir, baseline } = seed(t);
  const seg = firstSegment(dir);
  fs.renameSync(path.join(dir, seg.dir), path.join(dir, `${seg.dir}.bak`));

  let r = verify(dir);
  assert.equal(r.code, 1);
  assert.ok(r.json.problems.some((x) => JSON.stringify(x).includes(path.join(dir, seg.dir))),
            JSON.stringify(r.json.problems));

  r = t4dx(['--data', dir, 'recover', '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.json.recovery.segments_rebuilt_from_wal, 1);
  assert.ok(r.json.recovery.actions.some((a) => a.includes('rebuilt from the WAL')));
  assert.ok(fs.existsSync(path.join(dir, `${seg.dir}.bak`)), 'the moved folder is untouched');

  assert.equal(verify(dir).code, 0);
  assertItemsPresent(assert, dir, range(0, 340), { baseline });
});

test('drill: corrupt global_index.json -> verify, global-index rebuild', (t) => {
  const { dir, baseline } = seed(t);
  const gi = path.join(dir, 'global_index.json');
  const text = fs.readFileSync(gi, 'utf8');
  const at = text.indexOf(':');
  fs.writeFileSync(gi, text.slice(0, at) + '#' + text.slice(at + 1));

  let r = verify(dir);
  assert.equal(r.code, 1);
  const p = r.json.problems.find((x) => x.file === gi);
  assert.ok(p, JSON.stringify(r.json.problems));
  assert.ok(p.offset >= at && p.offset <= at + 1, `offset ${p.offset} near ${at}`);
  assert.match(p.reason, /invalid JSON/);
  assert.equal(t4dx(['--data', dir, 'global-index', 'check']).code, 1);

  r = t4dx(['--data', dir, 'global-index', 'rebuild', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.json.rebuilt.segments >= 1);
  assert.ok(r.json.recovery_actions.some((a) => a.includes('global_index.json unreadable')));
  const quarantined = fs.readdirSync(path.join(dir, 'quarantine'));
  assert.ok(quarantined.some((n) => n.startsWith('global_index.json')), 'corrupt copy kept');

  assert.equal(t4dx(['--data', dir, 'global-index', 'check']).code, 0);
  assert.equal(verify(dir).code, 0);
  assertItemsPresent(assert, dir, range(0, 340), { baseline });
});

test('drill: deleted HNSW index container -> verify, hnsw rebuild', (t) => {
  const { dir, baseline } = seed(t);
  const idx = path.join(dir, 'hnsw.idx');
  assert.ok(fs.existsSync(idx), 'a clean close saves hnsw.idx');
  fs.rmSync(idx);

  // Derived data: verify names the missing file; the store is not damaged (a read-write
  // open rebuilds it in the background), so the verdict stays healthy: severity "info".
  let r = verify(dir);
  const p = r.json.problems.find((x) => x.kind === 'hnsw');
  assert.ok(p, JSON.stringify(r.json.problems));
  assert.equal(p.file, idx);
  assert.equal(p.severity, 'info');
  assert.equal(r.code, 0);
  const before = t4dx(['--data', dir, 'hnsw', 'stats', '--json']).json;
  assert.equal(before.in_sync, false);
  assert.equal(before.lag_vectors, before.stored_live_vectors);

  // A damaged container is an error.
  fs.writeFileSync(idx, 'not an index');
  r = verify(dir);
  assert.equal(r.code, 1);
  assert.ok(r.json.problems.some((x) => x.kind === 'hnsw' && x.file === idx &&
                                        x.severity === 'error'), JSON.stringify(r.json.problems));

  r = t4dx(['--data', dir, 'hnsw', 'rebuild', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.json.vectors >= 300, JSON.stringify(r.json));
  assert.ok(fs.existsSync(idx));

  r = verify(dir);
  assert.equal(r.code, 0);
  assert.deepEqual(r.json.problems, []);
  const stats = t4dx(['--data', dir, 'hnsw', 'stats', '--json']).json;
  assert.equal(stats.stored_live_vectors_indexed, stats.stored_live_vectors);
  r = t4dx(['--data', dir, 'search', '--like', 'item-000007', '--k', '3', '--json']);
  assert.equal(r.code, 0);
  assert.equal(r.json.hits.length, 3);
  assertItemsPresent(assert, dir, range(0, 340), { baseline });
});

test('drill: writer killed with SIGKILL mid-import (flushing) -> recover, nothing acknowledged lost',
     async (t) => {
  const base = tempDir(t);
  const dir = path.join(base, 'store');
  const file = path.join(base, 'big.jsonl');
  const total = 20000;
  writeItems(file, 0, total);
  const env = { T4DM_FLUSH_THRESHOLD: '200' };
  const child = t4dxSpawn(['--data', dir, 'import', file, '--batch', '50', '--acks', '--json'],
                          { env });
  let acked = 0;
  let lockChecked = false;
  let resolveKill;
  const killAt = new Promise((r) => (resolveKill = r));
  const { done } = watchLines(child.stdout, (line) => {
    const j = JSON.parse(line);
    if (j.acknowledged === undefined) return false;
    acked = j.acknowledged;
    if (acked >= 600 && !lockChecked) {
      lockChecked = true;
      // A command that changes the store fails at once, naming the holder.
      const r = t4dx(['--data', dir, 'flush']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, new RegExp(`locked by process ${child.pid}`));
      // A read-only command works beside the writer.
      const s = t4dx(['--data', dir, 'stats', '--json']);
      assert.ok(s.json && s.json.items >= 600, s.stderr);
    }
    if (acked >= 4000) {
      child.kill('SIGKILL');
      resolveKill();
      return true;
    }
    return false;
  });
  await Promise.race([killAt, done]);
  const ex = await exited(child);
  assert.equal(ex.signal, 'SIGKILL', 'the writer was killed before it finished');
  assert.ok(lockChecked);
  assert.ok(acked >= 4000 && acked < total);

  let r = t4dx(['--data', dir, 'wal', 'check', '--json']);
  assert.ok(r.code === 0 || (r.code === 1 && r.json.verdict === 'torn_tail'),
            `a crash leaves at most a torn tail: ${r.stdout}`);
  r = verify(dir);
  assert.ok(!r.json.problems.some((p) => /segment_checksum|wal_corruption/.test(p.kind)),
            JSON.stringify(r.json.problems));

  r = t4dx(['--data', dir, 'recover', '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  r = verify(dir);
  assert.equal(r.code, 0, JSON.stringify(r.json.problems));
  const got = assertItemsPresent(assert, dir, range(0, acked));
  for (const id of got.keys()) assert.match(id, /^item-\d{6}$/);
  assert.ok(got.size <= total);
});
