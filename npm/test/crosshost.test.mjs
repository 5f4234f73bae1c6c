// A store is the same bytes on every host: written by the native build (build/bin/t4dx),
// opened and verified in Node/WASM, written there, and read back natively; the same items
// and the same search results both ways. Also the store lock across hosts: a native
// holder refuses Node, and a Node holder (in this process or another) refuses native.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { open } from '../dist/node.js';
import { nativeCli, tempDir, vector } from './helpers.mjs';

const cli = nativeCli();
const skip = cli ? false : 'native t4dx CLI not built (build/bin/t4dx or T4DX_CLI)';
const DIM = 12;

function native(args, env = {}) {
  return execFileSync(cli, args, { encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function nativeSearch(dir, q, k) {
  const doc = JSON.parse(native(['--data', dir, 'search', '--vector', JSON.stringify([...q]), '--k', String(k), '--json']));
  return (doc.hits || doc.results).map((h) => h.id);
}

test('native -> Node -> native round trip: same items, same search results', { skip, timeout: 300000 }, async () => {
  const t = tempDir();
  const dir = path.join(t.dir, 'store');
  try {
    const lines = [];
    for (let i = 0; i < 500; i++) {
      lines.push(JSON.stringify({ id: `n-${i}`, kind: i % 2 ? 'odd' : 'even', content: `native ${i}`,
        embedding: [...vector(DIM, i + 1)], timestamp: 1700000000000 + i, metadata: { i, tags: [`t${i % 3}`] } }));
    }
    const jsonl = path.join(t.dir, 'items.jsonl');
    fs.writeFileSync(jsonl, lines.join('\n') + '\n');
    // Segments (flush threshold 150) plus a WAL tail that Node must replay.
    native(['--data', dir, 'import', jsonl, '--batch', '50'], { T4DM_FLUSH_THRESHOLD: '150' });
    native(['--data', dir, 'delete', 'n-7']);
    const queries = [3, 77, 250, 499].map((i) => vector(DIM, i + 1000));
    const nativeBefore = queries.map((q) => nativeSearch(dir, q, 10));

    let s = await open({ path: dir });
    assert.equal(await s.count(), 499);
    assert.equal(await s.get('n-7'), null);
    const g = await s.get('n-123');
    assert.equal(g.content, 'native 123');
    assert.deepEqual(g.metadata, { i: 123, tags: ['t0'] });
    const ex = JSON.parse(native(['--data', dir, 'get', 'n-123', '--json']));
    assert.deepEqual([...g.embedding], (ex.item || ex).embedding.map(Math.fround));  // same float32 bits
    for (let j = 0; j < queries.length; j++) {
      assert.deepEqual((await s.search(queries[j], { k: 10 })).map((h) => h.id), nativeBefore[j], `query ${j}`);
    }
    assert.equal((await s.verify()).healthy, true);
    // Node writes: a batch, overwrites, a delete, a flush, and a WAL tail left unflushed.
    const more = [];
    for (let i = 500; i < 600; i++) {
      more.push({ id: `n-${i}`, content: `node ${i}`, embedding: vector(DIM, i + 1), timestamp: 1700000000000 + i });
    }
    await s.putBatch(more);
    await s.put({ id: 'n-1', content: 'overwritten in node', embedding: vector(DIM, 2), timestamp: 1700000000001 });
    await s.delete('n-2');
    await s.flush();
    await s.put({ id: 'tail', content: 'in the WAL only', embedding: vector(DIM, 5555) });
    const nodeAfter = [];
    for (const q of queries) nodeAfter.push((await s.search(q, { k: 10 })).map((h) => h.id));
    await s.close();

    // Native reads what Node wrote.
    const verify = JSON.parse(native(['--data', dir, 'verify', '--json']));
    assert.notEqual(verify.healthy, false, JSON.stringify(verify).slice(0, 500));
    assert.equal((JSON.parse(native(['--data', dir, 'get', 'n-1', '--json'])).item || {}).content
      ?? JSON.parse(native(['--data', dir, 'get', 'n-1', '--json'])).content, 'overwritten in node');
    const tail = JSON.parse(native(['--data', dir, 'get', 'tail', '--json']));
    assert.equal((tail.item || tail).content, 'in the WAL only');
    assert.throws(() => native(['--data', dir, 'get', 'n-2', '--json']));  // exit 1: absent
    for (let j = 0; j < queries.length; j++) assert.deepEqual(nativeSearch(dir, queries[j], 10), nodeAfter[j]);
    const exported = native(['--data', dir, 'export', '-']).trim().split('\n');
    assert.equal(exported.length, 599 + 1 - 1);  // 500 - n-7 - n-2 + 100 + tail

    // And Node again after native touched it.
    s = await open({ path: dir });
    assert.equal(await s.count(), 599);
    await s.close();
  } finally {
    t.cleanup();
  }
});

test('a store held by a native process is refused in Node with "locked" naming the pid', { skip, timeout: 120000 }, async () => {
  const t = tempDir();
  const dir = path.join(t.dir, 'store');
  try {
    const child = spawn(cli, ['--data', dir, 'import', '-', '--batch', '1', '--acks'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const acked = new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => { if (String(d).includes('acknowledged')) resolve(); });
      child.on('exit', (code) => reject(new Error(`native import exited ${code}`)));
    });
    child.stdin.write(JSON.stringify({ id: 'held', content: 'x', embedding: [...vector(DIM, 1)] }) + '\n');
    await acked;
    await assert.rejects(open({ path: dir }), (e) => {
      assert.equal(e.code, 'locked');
      assert.match(e.message, new RegExp(`process ${child.pid}`));
      return true;
    });
    const exited = new Promise((r) => child.on('exit', r));
    child.stdin.end();
    assert.equal(await exited, 0);
    const s = await open({ path: dir });
    assert.equal((await s.get('held')).content, 'x');
    await s.close();
  } finally {
    t.cleanup();
  }
});

// The native CLI's stderr and exit code for a write command on a store held elsewhere.
function nativeImportRefused(dir) {
  try {
    execFileSync(cli, ['--data', dir, 'import', '-', '--batch', '1'],
      { input: JSON.stringify({ id: 'intruder', content: 'y', embedding: [...vector(DIM, 9)] }) + '\n',
        encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 60000 });
  } catch (e) {
    return { status: e.status, stderr: String(e.stderr) };
  }
  return { status: 0, stderr: '' };
}

test('a store held by Node is refused by a native process with "locked" naming the pid', { skip, timeout: 120000 }, async () => {
  const t = tempDir();
  const dir = path.join(t.dir, 'store');
  let holder = null;
  try {
    // Held by this process.
    let s = await open({ path: dir, dim: DIM });
    await s.put({ id: 'mine', content: 'node', embedding: vector(DIM, 1) });
    let r = nativeImportRefused(dir);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`locked by process ${process.pid} \\(node\\)`));
    await s.close();

    // Held by another Node process that is then SIGKILLed: refused while it lives, then
    // the native process opens the store (the stale pid is not a holder).
    holder = spawn(process.execPath, ['--input-type=module', '-e', `
      import { open } from ${JSON.stringify(new URL('../dist/node.js', import.meta.url).href)};
      const s = await open({ path: ${JSON.stringify(dir)} });
      await s.put({ id: 'other', content: 'other node', embedding: new Float32Array(${DIM}).fill(0.5) });
      process.stdout.write('held\\n');
      setInterval(() => {}, 1000);
    `], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise((resolve, reject) => {
      let err = '';
      holder.stderr.on('data', (d) => { err += d; });
      holder.stdout.on('data', (d) => { if (String(d).includes('held')) resolve(); });
      holder.on('exit', (code) => reject(new Error(`holder exited ${code}: ${err}`)));
    });
    r = nativeImportRefused(dir);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`locked by process ${holder.pid} \\(node\\)`));
    const gone = new Promise((res) => holder.on('exit', res));
    holder.kill('SIGKILL');
    await gone;
    r = nativeImportRefused(dir);
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(native(['--data', dir, 'get', 'other', '--json']));
    assert.equal((got.item || got).content, 'other node');

    // Native closed it: Node opens it again and sees the native write.
    s = await open({ path: dir });
    assert.equal((await s.get('intruder')).content, 'y');
    assert.equal(await s.count(), 3);
    await s.close();
  } finally {
    if (holder && holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL');
    t.cleanup();
  }
});
