// The auth matrix: no key, wrong key, a read-only key writing, a key of another session,
// role boundaries of maintenance endpoints, and 401 before a large body is read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startService, tempDir, removeDir, rawRequest, errorCode, vec } from './helpers.mjs';

const KEYS = {
  admin: 'k-admin-0123456789abcdef',
  ro: 'k-readonly-0123456789abcdef',
  aliceRw: 'k-alice-rw-0123456789abcdef',
  teamRw: 'k-team-rw-0123456789abcdef',
  aliceRo: 'k-alice-ro-0123456789abcdef',
};

let svc;
let keysDir;
before(async () => {
  keysDir = tempDir('t4dm-keys-');
  const file = path.join(keysDir, 'keys.json');
  fs.writeFileSync(file, JSON.stringify({
    keys: [
      { key: KEYS.admin, role: 'admin', sessions: '*', name: 'ops' },
      { key: KEYS.ro, role: 'read-only', sessions: '*', name: 'dashboards' },
      { key: KEYS.aliceRw, role: 'read-write', sessions: ['alice'] },
      { key: KEYS.teamRw, role: 'read-write', sessions: ['team-*'] },
      { key: KEYS.aliceRo, role: 'read-only', sessions: ['alice'] },
    ],
  }));
  svc = await startService({ key: null, env: { T4DM_API_KEYS_FILE: file } });
  // Data in two sessions.
  for (const s of ['alice', 'bob']) {
    const r = await svc.post('/episodes', { session_id: s, id: `${s}-1`, content: s, embedding: vec(1) },
      { apiKey: KEYS.admin });
    assert.equal(r.status, 201, r.text);
  }
});
after(async () => {
  const { code } = await svc.stop();
  assert.equal(code, 0);
  await svc.cleanup();
  removeDir(keysDir);
});

const ENDPOINTS = [
  ['GET', '/storage/status?session_id=alice'],
  ['GET', '/storage/segment/000001/verify?session_id=alice'],
  ['GET', '/episodes/alice-1?session_id=alice'],
  ['POST', '/episodes', { session_id: 'alice', content: 'x' }],
  ['POST', '/episodes/search', { session_id: 'alice', query_vector: vec(1) }],
  ['POST', '/storage/flush', { session_id: 'alice' }],
  ['POST', '/storage/truncate-wal', { session_id: 'alice', confirmation: 'I_UNDERSTAND' }],
  ['DELETE', '/episodes/alice-1?session_id=alice'],
  ['GET', '/metrics'],
  ['GET', '/openapi.json'],
  ['GET', '/sessions'],
];

test('no key: 401 with a JSON error on every endpoint but /healthz', async () => {
  for (const [method, p, body] of ENDPOINTS) {
    const r = await svc.request(method, p, { apiKey: null, body });
    assert.equal(r.status, 401, `${method} ${p}: ${r.text}`);
    assert.equal(errorCode(r), 'unauthorized');
  }
  const h = await svc.get('/healthz', { apiKey: null });
  assert.equal(h.status, 200);
  assert.equal(h.json.status, 'ok');
});

test('wrong keys: 401 (near misses, prefixes, empty)', async () => {
  const wrong = [KEYS.admin.slice(0, -1) + 'X', KEYS.admin.slice(0, -1), KEYS.admin + 'x', '',
    'k-admin', KEYS.admin.toUpperCase()];
  for (const k of wrong) {
    for (const [method, p, body] of ENDPOINTS) {
      const r = await svc.request(method, p, { apiKey: k, body });
      assert.equal(r.status, 401, `key ${JSON.stringify(k)} ${method} ${p}: ${r.text}`);
    }
  }
});

test('a read-only key reads but cannot write: 403', async () => {
  assert.equal((await svc.get('/storage/status?session_id=alice', { apiKey: KEYS.ro })).status, 200);
  assert.equal((await svc.get('/episodes/bob-1?session_id=bob', { apiKey: KEYS.ro })).status, 200);
  const s = await svc.post('/episodes/search', { session_id: 'bob', query_vector: vec(1) }, { apiKey: KEYS.ro });
  assert.equal(s.status, 200, s.text);
  const writes = [
    ['POST', '/episodes', { session_id: 'alice', id: 'ro-write', content: 'x' }],
    ['POST', '/episodes/batch', { session_id: 'alice', items: [{ id: 'ro-batch' }] }],
    ['DELETE', '/episodes/alice-1?session_id=alice'],
    ['POST', '/storage/flush', { session_id: 'alice' }],
    ['POST', '/consolidation/flush', { session_id: 'alice' }],
    ['POST', '/storage/compact-wal', { session_id: 'alice', keep_entries: 1 }],
    ['POST', '/storage/truncate-wal', { session_id: 'alice', confirmation: 'I_UNDERSTAND' }],
    ['POST', '/storage/rebuild-hnsw', { session_id: 'alice' }],
  ];
  for (const [method, p, body] of writes) {
    const r = await svc.request(method, p, { apiKey: KEYS.ro, body });
    assert.equal(r.status, 403, `${method} ${p}: ${r.text}`);
    assert.equal(errorCode(r), 'forbidden');
  }
  assert.equal((await svc.get('/episodes/ro-write?session_id=alice', { apiKey: KEYS.admin })).status, 404);
  assert.equal((await svc.get('/episodes/alice-1?session_id=alice', { apiKey: KEYS.admin })).status, 200);
});

test('a key of another session: 403, whether that session exists or not', async () => {
  for (const s of ['bob', 'nobody', 'default']) {
    const g = await svc.get(`/storage/status?session_id=${s}`, { apiKey: KEYS.aliceRw });
    assert.equal(g.status, 403, g.text);
    const p = await svc.post('/episodes', { session_id: s, content: 'x' }, { apiKey: KEYS.aliceRw });
    assert.equal(p.status, 403, p.text);
    const q = await svc.post(`/episodes?session_id=${s}`, { content: 'x' }, { apiKey: KEYS.aliceRw });
    assert.equal(q.status, 403, q.text);
  }
  // No session named = "default", which this key does not cover either.
  assert.equal((await svc.get('/storage/status', { apiKey: KEYS.aliceRw })).status, 403);
  assert.equal((await svc.get('/episodes/bob-1?session_id=bob', { apiKey: KEYS.aliceRo })).status, 403);
  // Its own session works.
  const own = await svc.post('/episodes', { session_id: 'alice', id: 'alice-2', content: 'mine' }, { apiKey: KEYS.aliceRw });
  assert.equal(own.status, 201, own.text);
  // Nothing of bob's was touched or created.
  assert.equal((await svc.get('/episodes/alice-2?session_id=bob', { apiKey: KEYS.admin })).status, 404);
  assert.ok(!fs.existsSync(path.join(svc.dataDir, 'nobody')));
});

test('prefix-scoped keys, admin-only maintenance, all-session endpoints', async () => {
  const ok = await svc.post('/episodes', { session_id: 'team-red', content: 'x' }, { apiKey: KEYS.teamRw });
  assert.equal(ok.status, 201, ok.text);
  const no = await svc.post('/episodes', { session_id: 'teamred', content: 'x' }, { apiKey: KEYS.teamRw });
  assert.equal(no.status, 403);
  // read-write is not admin.
  const cw = await svc.post('/storage/compact-wal', { session_id: 'alice', keep_entries: 10 }, { apiKey: KEYS.aliceRw });
  assert.equal(cw.status, 403);
  const fl = await svc.post('/storage/flush', { session_id: 'alice' }, { apiKey: KEYS.aliceRw });
  assert.equal(fl.status, 200, fl.text);
  // /metrics and /sessions name every session: only keys for every session.
  assert.equal((await svc.get('/metrics', { apiKey: KEYS.aliceRw })).status, 403);
  assert.equal((await svc.get('/sessions', { apiKey: KEYS.aliceRw })).status, 403);
  assert.equal((await svc.get('/metrics', { apiKey: KEYS.ro })).status, 200);
  assert.equal((await svc.get('/openapi.json', { apiKey: KEYS.aliceRo })).status, 200);
  const admin = await svc.post('/storage/compact-wal', { session_id: 'alice', keep_entries: 10 }, { apiKey: KEYS.admin });
  assert.equal(admin.status, 200, admin.text);
});

test('an unauthenticated large body is refused with 401 before it is read', async () => {
  const size = 8 << 20;
  const head = `POST /episodes HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`;
  // Only the headers are sent: the answer must come without the body.
  const r = await rawRequest(svc.port, head);
  assert.equal(r.status, 401, r.text);
  assert.equal(r.json.error.code, 'unauthorized');
});

test('a keys file with a bad role refuses to start, naming the entry', async () => {
  const dir = tempDir('t4dm-keys-bad-');
  const file = path.join(dir, 'keys.json');
  fs.writeFileSync(file, JSON.stringify({ keys: [{ key: 'abcdefabcdefabcdef', role: 'root', sessions: '*' }] }));
  const { runToExit } = await import('./helpers.mjs');
  const r = await runToExit(['--port', '0'], { T4DM_DATA_DIR: path.join(dir, 'data'), T4DM_API_KEYS_FILE: file });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /keys\[0\]\.role/);
  removeDir(dir);
});
