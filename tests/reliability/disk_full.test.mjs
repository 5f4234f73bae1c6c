// Disk full (issue 9, item 3): the real t4dm-service on a small real file system, a
// T4DX_DISKFULL_MB (default 4) MiB tmpfs mounted for the test (root and `mount` needed;
// otherwise the test is skipped with the reason — the engine's fault Env covers ENOSPC at
// every call site in tests/engine/fault_sweep_test.cc). A filler file takes part of the
// space; the store is filled until writes fail, then:
//   - every refused write is a 5xx JSON error, never a 201, and the refused item is absent;
//   - reads (get, search, status, healthz) go on while full; the process stays up;
//   - a SIGKILL while full and a restart lose nothing acknowledged;
//   - once the filler is deleted, writing resumes (after a reopen if the store refused
//     writes for good after a failed sync, which it must say), nothing acknowledged is lost,
//     and `t4dx verify` is clean.
// The mount is removed in a `finally`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import {
  startService, tempDir, removeDir, rng, unitVector, verifyStore, isJsonError, T4DX_BIN, SERVICE_BIN,
} from './lib.mjs';

const MB = Number(process.env.T4DX_DISKFULL_MB || 4);
const SESSION = 'full';
const S = `?session_id=${SESSION}`;
const DIM = 16;
const ENV = { T4DM_FLUSH_THRESHOLD: '40', T4DM_WAL_SYNC: 'always', T4DM_LOG_LEVEL: 'error' };

function run(cmd, args) {
  return new Promise((resolve) => {
    execFile(cmd, args, (err, stdout, stderr) => resolve({ code: err ? (err.code || 1) : 0, stderr }));
  });
}

async function mountTmpfs(dir) {
  if (process.getuid && process.getuid() !== 0) return 'not running as root';
  const r = await run('mount', ['-t', 'tmpfs', '-o', `size=${MB}m`, 't4dx-diskfull', dir]);
  return r.code === 0 ? null : `mount failed: ${String(r.stderr).trim()}`;
}

// Every acknowledged item reads back with its content.
async function checkAcked(svc, acked, when) {
  for (const [id, content] of acked) {
    const res = await svc.get(`/episodes/${encodeURIComponent(id)}${S}&include_embedding=false`);
    assert.equal(res.status, 200, `${when}: acknowledged ${id}: ${res.status} ${res.text}`);
    assert.equal(res.json.content, content, `${when}: ${id} changed`);
  }
}

test(`disk full on a ${MB} MiB tmpfs: 5xx on writes, reads go on, writing resumes, nothing lost`,
  { timeout: 10 * 60 * 1000 }, async (t) => {
    // Checked before mounting: a spawn failure is an uncaught error that skips `finally`.
    assert.ok(fs.existsSync(SERVICE_BIN), `no service binary at ${SERVICE_BIN}`);
    const mnt = tempDir('t4dm-diskfull-');
    const why = await mountTmpfs(mnt);
    if (why) {
      removeDir(mnt);
      t.skip(`cannot mount a tmpfs (${why})`);
      return;
    }
    const random = rng(9);
    const dataDir = path.join(mnt, 'data');
    const filler = path.join(mnt, 'filler');
    let svc;
    try {
      fs.mkdirSync(dataDir);
      fs.writeFileSync(filler, Buffer.alloc(Math.floor(MB * (1 << 20) / 3), 7));
      svc = await startService({ dataDir, env: ENV });
      const acked = new Map();
      const codes = new Set();
      let refused = 0;
      const text = 'y'.repeat(2500);
      for (let i = 0; i < 5000 && refused < 20; i++) {
        const id = `f${i}`;
        const content = `${id} ${text}`;
        const batch = i % 7 === 6;
        const res = batch
          ? await svc.post('/episodes/batch', { session_id: SESSION, items: [
            { id, content, embedding: unitVector(random, DIM) },
            { id: `${id}b`, content, embedding: unitVector(random, DIM) }] })
          : await svc.post('/episodes', { session_id: SESSION, id, content, embedding: unitVector(random, DIM) });
        if (res.status === 201) {
          acked.set(id, content);
          if (batch) acked.set(`${id}b`, content);
          continue;
        }
        refused++;
        assert.ok(res.status >= 500 && res.status < 600, `write ${id}: ${res.status} ${res.text}`);
        assert.ok(isJsonError(res), `write ${id}: not a JSON error: ${res.text}`);
        codes.add(`${res.status} ${res.json.error.code}`);
        const got = await svc.get(`/episodes/${id}${S}`);
        assert.equal(got.status, 404, `refused ${id} is readable: ${got.text}`);
      }
      assert.ok(refused > 0, 'the file system never filled up');
      assert.ok(acked.size > 10, `only ${acked.size} writes fitted`);

      // Reads go on while full.
      assert.equal((await svc.get('/healthz')).status, 200);
      const search = await svc.post('/episodes/search',
        { session_id: SESSION, query_vector: unitVector(random, DIM), k: 5 });
      assert.equal(search.status, 200, search.text);
      for (const h of search.json.hits) assert.ok(acked.has(h.id), `search returned ${h.id}`);
      assert.equal((await svc.get(`/storage/status${S}`)).status, 200);
      await checkAcked(svc, acked, 'while full');
      assert.ok(svc.alive());

      // A kill while full, a restart (still full): nothing acknowledged lost.
      await svc.kill('SIGKILL');
      svc = await startService({ dataDir, env: ENV });
      await checkAcked(svc, acked, 'after a kill while full');

      // Space freed: writing resumes (after a reopen if the store asks for one).
      fs.rmSync(filler);
      let res = await svc.post('/episodes', { session_id: SESSION, id: 'after', content: 'after',
        embedding: unitVector(random, DIM) });
      let reopened = false;
      if (res.status !== 201) {
        assert.ok(isJsonError(res), res.text);
        codes.add(`${res.status} ${res.json.error.code} (space freed)`);
        const { code } = await svc.stop();
        assert.equal(code, 0, svc.stderr());
        svc = await startService({ dataDir, env: ENV });
        reopened = true;
        res = await svc.post('/episodes', { session_id: SESSION, id: 'after', content: 'after',
          embedding: unitVector(random, DIM) });
      }
      assert.equal(res.status, 201, `writing does not resume once space is freed: ${res.text}`);
      acked.set('after', 'after');
      for (let i = 0; i < 30; i++) {
        res = await svc.post('/episodes', { session_id: SESSION, id: `g${i}`, content: `g${i}`,
          embedding: unitVector(random, DIM) });
        assert.equal(res.status, 201, res.text);
        acked.set(`g${i}`, `g${i}`);
      }
      assert.equal((await svc.post('/storage/flush', { session_id: SESSION })).status, 200);
      const { code } = await svc.stop();
      assert.equal(code, 0, svc.stderr());

      svc = await startService({ dataDir, env: ENV });
      await checkAcked(svc, acked, 'after the restart');
      const health = await svc.get(`/storage/verify${S}`);
      assert.equal(health.json && health.json.healthy, true, health.text);
      await svc.stop();
      if (fs.existsSync(T4DX_BIN)) {
        const v = await verifyStore(path.join(dataDir, SESSION));
        assert.equal(v.code, 0, `t4dx verify: ${v.stdout}${v.stderr}`);
      }
      console.log(`disk full: ${acked.size} acknowledged, ${refused} refused (${[...codes].join('; ')}), ` +
        `writes resumed ${reopened ? 'after a reopen' : 'without a reopen'}`);
    } finally {
      if (svc) await svc.kill('SIGKILL');
      await run('umount', [mnt]);
      removeDir(mnt);
    }
  });
