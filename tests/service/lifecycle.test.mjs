// Lifecycle: SIGTERM during a write load loses no acknowledged write; a second server on the
// same data root fails at start; a non-loopback address needs a key; the generated key is
// kept in the data root with mode 0600; SIGINT also shuts down cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startService, runToExit, tempDir, removeDir, vec, ADMIN_KEY } from './helpers.mjs';

test('SIGTERM during a write load: exit 0, every acknowledged write is there after restart',
  async () => {
    const dataDir = tempDir();
    try {
      const svc = await startService({ dataDir, args: ['--flush-threshold', '50'] });
      const acked = new Map();  // session -> [{id, content}]
      let stop = false;
      let signalled = false;
      const TARGET = 150;  // acknowledged writes before the signal
      let total = 0;
      let resolveTarget;
      const reached = new Promise((r) => { resolveTarget = r; });
      const writer = async (w) => {
        const session = `load-${w % 3}`;
        for (let i = 0; !stop; i++) {
          const id = `w${w}-${i}`;
          const content = `writer ${w} item ${i}`;
          const batch = i % 5 === 4;
          try {
            const body = batch
              ? { session_id: session, items: [{ id, content, embedding: vec(i) }, { id: `${id}-b`, content, embedding: vec(i + 1) }] }
              : { session_id: session, id, content, embedding: vec(i) };
            const res = await fetch(`${svc.base}${batch ? '/episodes/batch' : '/episodes'}`, {
              method: 'POST', headers: { 'X-API-Key': ADMIN_KEY }, body: JSON.stringify(body),
            });
            await res.text();
            if (res.status === 201) {
              const list = acked.get(session) || [];
              list.push({ id, content });
              if (batch) list.push({ id: `${id}-b`, content });
              acked.set(session, list);
              if (++total >= TARGET) resolveTarget();
            } else if (!signalled) {
              throw new Error(`write failed before the signal: ${res.status}`);
            }
          } catch (e) {
            if (!signalled) throw e;
            return;  // refused after the signal: not acknowledged, so not expected
          }
        }
      };
      const writers = Array.from({ length: 6 }, (_, w) => writer(w));
      await reached;
      signalled = true;
      const exit = await svc.stop('SIGTERM');
      stop = true;
      await Promise.all(writers);
      assert.equal(exit.code, 0, svc.stderr());
      const logs = svc.logs();
      assert.ok(logs.some((l) => l.msg.startsWith('shutdown requested') && l.signal === 'SIGTERM'));
      assert.ok(logs.some((l) => l.msg === 'stopped' && l.exit_code === 0));
      // Every open store was closed.
      const opened = new Set(logs.filter((l) => l.msg === 'session opened').map((l) => l.session));
      const closed = new Set(logs.filter((l) => l.msg === 'session closed').map((l) => l.session));
      assert.deepEqual([...closed].sort(), [...opened].sort());
      assert.ok(!fs.existsSync(path.join(dataDir, 't4dm-service.lock')) ||
        fs.statSync(path.join(dataDir, 't4dm-service.lock')).isFile());

      const again = await startService({ dataDir });
      let checked = 0;
      for (const [session, list] of acked) {
        for (const { id, content } of list) {
          const r = await again.get(`/episodes/${id}?session_id=${session}`);
          assert.equal(r.status, 200, `lost acknowledged ${session}/${id}`);
          assert.equal(r.json.content, content);
          checked++;
        }
      }
      assert.ok(checked >= TARGET);
      assert.equal((await again.stop('SIGINT')).code, 0);
      await again.cleanup();
    } finally {
      removeDir(dataDir);
    }
  });

test('a second server on the same data root fails at start with a clear message', async () => {
  const svc = await startService();
  const second = await runToExit(['--port', '0'], { T4DM_DATA_DIR: svc.dataDir, T4DM_API_KEY: ADMIN_KEY });
  assert.equal(second.code, 1);
  assert.match(second.stderr, /already in use by another t4dm-service/);
  // The first one is unaffected.
  assert.equal((await svc.get('/healthz', { apiKey: null })).status, 200);
  assert.equal((await svc.stop()).code, 0);
  // Once it stopped, the root can be used again.
  const third = await startService({ dataDir: svc.dataDir });
  assert.equal((await third.stop()).code, 0);
  await svc.cleanup();
});

test('a non-loopback address without a key is refused', async () => {
  const dir = tempDir();
  try {
    const r = await runToExit(['--port', '0', '--host', '0.0.0.0'], { T4DM_DATA_DIR: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refusing to listen on a non-loopback address without an API key/);
    assert.ok(!fs.existsSync(path.join(dir, '.api_key')));
  } finally {
    removeDir(dir);
  }
});

test('without a key, one is generated once, kept with mode 0600 and printed', async () => {
  const dir = tempDir();
  try {
    const a = await startService({ dataDir: dir, key: null });
    const keyFile = path.join(dir, '.api_key');
    const key = fs.readFileSync(keyFile, 'utf8').trim();
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    assert.ok(key.length >= 32);
    assert.ok(a.stdout().includes(key), 'the key is printed');
    assert.equal((await a.get('/storage/status', { apiKey: key })).status, 404);  // no data yet
    assert.equal((await a.get('/storage/status', { apiKey: 'nope' })).status, 401);
    assert.equal((await a.stop()).code, 0);
    const b = await startService({ dataDir: dir, key: null });
    assert.ok(b.stdout().includes(key), 'the same key on the next start');
    const put = await b.post('/episodes', { content: 'x' }, { apiKey: key });
    assert.equal(put.status, 201);
    assert.equal((await b.stop()).code, 0);
  } finally {
    removeDir(dir);
  }
});

test('a port in use fails at start', async () => {
  const a = await startService();
  const dir = tempDir();
  try {
    const r = await runToExit(['--port', String(a.port)], { T4DM_DATA_DIR: dir, T4DM_API_KEY: ADMIN_KEY });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot listen/);
  } finally {
    removeDir(dir);
  }
  assert.equal((await a.stop()).code, 0);
  await a.cleanup();
});
