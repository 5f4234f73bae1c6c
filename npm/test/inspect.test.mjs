// The inspect entry: read-only forensics over supplied files (what the web inspector does
// with a directory the user picked), in Node here.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { open } from '../dist/node.js';
import { inspect } from '../dist/inspect_node.js';
import { item, nativeCli, tempDir } from './helpers.mjs';

function readStore(dir) {
  const files = [];
  const walk = (rel) => {
    for (const name of fs.readdirSync(path.join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (fs.statSync(path.join(dir, r)).isDirectory()) walk(r);
      else files.push({ path: r, data: fs.readFileSync(path.join(dir, r)) });
    }
  };
  walk('');
  return files;
}

test('inspect: WAL entries, torn tail, file checks and a read-only open', { timeout: 60000 }, async () => {
  const t = tempDir();
  const dir = path.join(t.dir, 'store');
  try {
    const s = await open({ path: dir, dim: 6, flushThreshold: 10 });
    for (let i = 0; i < 25; i++) await s.put(item(i, 6));
    await s.delete('item-4');
    await s.flush();
    for (let i = 25; i < 30; i++) await s.put(item(i, 6));
    await s.close();
    fs.appendFileSync(path.join(dir, 'wal.jsonl'), '{"v":1,"lsn":99,"op');  // torn tail
    const before = readStore(dir);

    const ins = await inspect({ files: before });
    const wal = await ins.inspectWal({ limit: 3 });
    assert.equal(wal.entries.length, 3);
    assert.ok(wal.entriesSeen >= 5);
    const torn = wal.report.problems.find((p) => p.kind === 'torn_tail');
    assert.ok(torn, JSON.stringify(wal.report).slice(0, 300));
    assert.equal(torn.file, 'inspect/wal.jsonl');
    assert.equal(torn.length, 19);
    for (const e of wal.entries) {
      assert.equal(typeof e.offset, 'number');
      assert.ok(['put', 'delete', 'batch'].includes(e.op_type));
    }
    const check = await ins.checkFiles();
    assert.equal(typeof check, 'object');
    const ro = await ins.open();
    assert.equal(await ro.count(), 29);
    assert.equal((await ro.get('item-29')).content, 'content number 29');
    assert.equal((await ro.search(item(12, 6).embedding, { k: 1 }))[0].id, 'item-12');
    await assert.rejects(ro.put(item(99, 6)), { code: 'failed_precondition' });
    await ins.close();

    // Nothing changed on disk (the inspector had copies, and it never writes anyway).
    const afterFiles = readStore(dir);
    assert.deepEqual(afterFiles.map((f) => f.path).sort(), before.map((f) => f.path).sort());
    await assert.rejects(inspect({}), { code: 'invalid_argument' });
  } finally {
    t.cleanup();
  }
});

test('inspect: onProgress of checkFiles, inspectWal and verifySnapshot', { timeout: 60000 }, async (t) => {
  const tmp = tempDir();
  const dir = path.join(tmp.dir, 'store');
  try {
    const s = await open({ path: dir, dim: 6, flushThreshold: 10 });
    for (let i = 0; i < 35; i++) await s.put(item(i, 6));
    await s.flush();
    for (let i = 35; i < 40; i++) await s.put(item(i, 6));
    await s.close();
    const ins = await inspect({ files: readStore(dir) });
    const calls = (log) => (done, total) => log.push([done, total]);
    const monotonic = (log, what) => {
      assert.ok(log.length >= 2, `${what}: ${JSON.stringify(log)}`);
      for (let i = 1; i < log.length; i++) {
        assert.ok(log[i][0] >= log[i - 1][0] && log[i][1] === log[0][1], `${what}: ${JSON.stringify(log)}`);
      }
      assert.equal(log.at(-1)[0], log.at(-1)[1], `${what} ends at its total`);
    };
    const c = [];
    const check = await ins.checkFiles({ onProgress: calls(c) });
    assert.equal(check.problems.length, 0);
    monotonic(c, 'checkFiles');
    const w = [];
    const wal = await ins.inspectWal({ limit: 1, onProgress: calls(w) });
    monotonic(w, 'inspectWal');
    assert.equal(w.at(-1)[1], wal.report.bytes);
    // A throwing callback: the call completes inside the engine, then the error surfaces.
    await assert.rejects(ins.checkFiles({ onProgress: () => { throw new Error('boom'); } }), /boom/);
    await assert.rejects(ins.checkFiles({ onProgress: 7 }), { code: 'invalid_argument' });
    assert.equal((await ins.checkFiles()).problems.length, 0);
    await ins.close();

    const cli = nativeCli();
    if (!cli) {
      t.diagnostic('verifySnapshot progress skipped: no native t4dx CLI');
      return;
    }
    const tar = path.join(tmp.dir, 'snap.tar');
    execFileSync(cli, ['--data', dir, 'snapshot', 'create', tar], { stdio: 'pipe' });
    const arch = await inspect({ archive: new Uint8Array(fs.readFileSync(tar)) });
    const v = [];
    const r = await arch.verifySnapshot({ onProgress: calls(v) });
    assert.equal(r.healthy, true, JSON.stringify(r.info.problems));
    monotonic(v, 'verifySnapshot');
    await arch.close();
  } finally {
    tmp.cleanup();
  }
});
