// The inspect entry: read-only forensics over supplied files (what the web inspector does
// with a directory the user picked), in Node here.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { open } from '../dist/node.js';
import { inspect } from '../dist/inspect_node.js';
import { item, tempDir } from './helpers.mjs';

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
