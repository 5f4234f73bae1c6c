// Hostile input, part 1 (issue 9, item 5): the key matrix over EVERY endpoint the service
// publishes in GET /openapi.json — no key, wrong keys, a read-only key writing, a key scoped
// to another session (read-only, read-write and admin), keys sent where they do not belong,
// conflicting session names. Every one is answered promptly with 401/403 (or 400 for
// conflicting sessions) as a JSON error, no byte of the victim session comes back, nothing
// changes in the victim's or alice's store, no file appears outside the data root, and the
// process stays up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { KEYS, SECRETS, vector, startStage, judge, checkAftermath } from './hostile_env.mjs';

// Every endpoint, its role and how it picks its session. The test fails when the service
// publishes an endpoint this table does not classify.
const ENDPOINTS = [
  { method: 'GET', pattern: '/healthz', role: 'none' },
  { method: 'GET', pattern: '/inspector/', role: 'none' },
  { method: 'GET', pattern: '/openapi.json', role: 'ro' },
  { method: 'GET', pattern: '/metrics', role: 'ro', allSessions: true },
  { method: 'GET', pattern: '/sessions', role: 'ro', allSessions: true },
  ...['status', 'stats', 'segments', 'memtable', 'wal-status', 'hnsw-stats', 'global-index',
    'compaction-history', 'recovery-report', 'verify'].map((v) => ({ method: 'GET', pattern: `/storage/${v}`, role: 'ro', session: true })),
  ...['', '/metadata', '/verify', '/count'].map((v) => ({ method: 'GET', pattern: `/storage/segment/{segment_id}${v}`, role: 'ro', session: true })),
  { method: 'POST', pattern: '/storage/estimate-replay-time', role: 'ro', session: true },
  { method: 'POST', pattern: '/storage/query-plan', role: 'ro', session: true, body: () => ({ query_vector: vector(1), k: 5 }) },
  { method: 'POST', pattern: '/episodes/search', role: 'ro', session: true, body: () => ({ query_vector: vector(1), k: 5 }) },
  { method: 'GET', pattern: '/episodes/{item_id}', role: 'ro', session: true },
  { method: 'POST', pattern: '/episodes', role: 'rw', session: true, body: () => ({ id: 'intruder', content: 'intruder', embedding: vector(3) }) },
  { method: 'POST', pattern: '/episodes/batch', role: 'rw', session: true, body: () => ({ items: [{ id: 'intruder2', content: 'x', embedding: vector(4) }] }) },
  { method: 'DELETE', pattern: '/episodes/{item_id}', role: 'rw', session: true },
  { method: 'POST', pattern: '/storage/flush', role: 'rw', session: true },
  { method: 'POST', pattern: '/consolidation/flush', role: 'rw', session: true },
  { method: 'POST', pattern: '/storage/compact-wal', role: 'admin', session: true, body: () => ({ keep_entries: 0 }) },
  { method: 'POST', pattern: '/storage/truncate-wal', role: 'admin', session: true, body: () => ({ confirmation: 'I_UNDERSTAND' }) },
  { method: 'POST', pattern: '/storage/compact', role: 'admin', session: true },
  { method: 'POST', pattern: '/storage/rebuild-hnsw', role: 'admin', session: true },
  { method: 'POST', pattern: '/storage/rebuild-global-index', role: 'admin', session: true },
];
const RANK = { none: -1, ro: 0, rw: 1, admin: 2 };

// The request of endpoint e against session s (undefined: no session named).
function build(e, s, { itemId = SECRETS.id } = {}) {
  let p = e.pattern.replace('{segment_id}', '000001').replace('{item_id}', encodeURIComponent(itemId));
  let body;
  if (e.method === 'POST') {
    body = e.body ? e.body() : {};
    if (e.session && s !== undefined) body.session_id = s;
  } else if (e.session && s !== undefined) {
    p += `?session_id=${encodeURIComponent(s)}`;
  }
  return { method: e.method, path: p, body };
}

let stage;
let svc;
const problems = [];
const check = (r, what, opts) => { const p = judge(r, what, opts); if (p) problems.push(p); return p; };

before(async () => {
  stage = await startStage();
  svc = stage.svc;
});
after(async () => {
  if (stage) await stage.cleanup();
});

test('the endpoint table covers every endpoint of GET /openapi.json', async () => {
  const r = await svc.get('/openapi.json', { key: KEYS.admin });
  assert.equal(r.status, 200, r.text);
  const published = [];
  for (const [p, ops] of Object.entries(r.json.paths)) {
    for (const m of Object.keys(ops)) {
      if (['get', 'post', 'delete', 'put', 'patch'].includes(m)) published.push(`${m.toUpperCase()} ${p}`);
    }
  }
  const known = ENDPOINTS.map((e) => `${e.method} ${e.pattern}`);
  assert.deepEqual(published.filter((x) => !known.includes(x)), [], 'endpoints the hostile suite does not cover');
  assert.deepEqual(known.filter((x) => !published.includes(x)), [], 'endpoints the service no longer publishes');
});

test('no key and wrong keys: 401 on every endpoint that needs a key', async () => {
  const wrong = [null, '', 'x', KEYS.admin + 'x', KEYS.admin.slice(0, -1), KEYS.admin.slice(0, -1) + 'Z',
    KEYS.admin.toUpperCase(), `${KEYS.admin}\u0000`, 'h-admin', '*', 'null', 'undefined',
    Buffer.from(KEYS.admin).toString('base64'), 'x'.repeat(4096)];
  for (const e of ENDPOINTS.filter((x) => x.role !== 'none')) {
    for (const key of wrong) {
      const q = build(e, 'victim');
      const r = await svc.request(q.method, q.path, { body: q.body, key });
      const what = `${q.method} ${q.path} with key ${JSON.stringify(key === null ? null : key.slice(0, 40))}`;
      if (r.status === -1) continue;  // Node refuses to send this header value (NUL): nothing to test
      if (!check(r, what) && r.status !== 401) problems.push(`${what}: expected 401, got ${r.status}`);
    }
    // The admin key anywhere but X-API-Key.
    const q = build(e, 'victim');
    const sep = q.path.includes('?') ? '&' : '?';
    for (const [path, headers] of [
      [`${q.path}${sep}api_key=${KEYS.admin}`, {}],
      [`${q.path}${sep}X-API-Key=${KEYS.admin}`, {}],
      [q.path, { Authorization: `Bearer ${KEYS.admin}` }],
      [q.path, { 'X-Api-Token': KEYS.admin, Cookie: `X-API-Key=${KEYS.admin}` }],
    ]) {
      const r = await svc.request(q.method, path, { body: q.body, key: null, headers });
      const what = `${q.method} ${path} with the key outside X-API-Key (${Object.keys(headers).join(',') || 'query'})`;
      if (!check(r, what) && r.status !== 401) problems.push(`${what}: expected 401, got ${r.status}`);
    }
  }
  // Keys are checked before the body is read: a large body without a key is refused at once.
  const big = 'x'.repeat(20 << 20);
  const r = await svc.request('POST', '/episodes', { body: big, key: null });
  if (!check(r, 'POST /episodes, 20 MiB body, no key', { maxMs: 5000 }) && r.status !== 401) {
    problems.push(`20 MiB body without a key: ${r.status}`);
  }
  assert.deepEqual(problems.splice(0), []);
});

test('a role below the endpoint\'s: 403 (read-only writing, read-write doing admin work)', async () => {
  const cases = [
    [KEYS.ro, 'ro', 'victim'],
    [KEYS.aliceRo, 'ro', 'alice'],
    [KEYS.aliceRw, 'rw', 'alice'],
  ];
  for (const [key, role, session] of cases) {
    for (const e of ENDPOINTS.filter((x) => RANK[x.role] > RANK[role])) {
      const q = build(e, session, { itemId: session === 'alice' ? 'a1' : SECRETS.id });
      const r = await svc.request(q.method, q.path, { body: q.body, key });
      const what = `${q.method} ${q.path} with a ${role} key of ${session}`;
      if (!check(r, what, { alice: false }) && r.status !== 403) problems.push(`${what}: expected 403, got ${r.status}`);
    }
  }
  assert.deepEqual(problems.splice(0), []);
});

test('a key scoped to another session: 403 on every endpoint, for every role', async () => {
  for (const key of [KEYS.aliceRo, KEYS.aliceRw, KEYS.aliceAdmin]) {
    for (const e of ENDPOINTS.filter((x) => x.session || x.allSessions)) {
      for (const s of ['victim', undefined, '', 'default', 'alice2', 'Alice', 'alicE', 'ALICE']) {
        if (!e.session && s !== undefined) continue;
        const q = build(e, s);
        const r = await svc.request(q.method, q.path, { body: q.body, key });
        const what = `${q.method} ${q.path} (session ${JSON.stringify(s)}) with ${key.slice(0, 10)}`;
        if (!check(r, what, { alice: false }) && !(r.status === 403 || (r.status === 400 && s !== undefined && s !== 'victim' && s !== 'default'))) {
          problems.push(`${what}: expected 403, got ${r.status}`);
        }
      }
    }
  }
  assert.deepEqual(problems.splice(0), []);
});

test('an alice key naming alice in one place and victim in another gets nothing of victim', async () => {
  // Up to here nothing may have changed alice; from here alice's keys write to alice.
  assert.deepEqual(await checkAftermath(stage, new Set(['victim', 'alice', 'sandbox'])), []);
  for (const key of [KEYS.aliceRo, KEYS.aliceRw, KEYS.aliceAdmin]) {
    for (const e of ENDPOINTS.filter((x) => x.session)) {
      const variants = [];
      if (e.method === 'POST') {
        const a = build(e, 'victim');
        variants.push([`${a.path}?session_id=alice`, a.body]);
        const b = build(e, 'alice');
        variants.push([`${b.path}?session_id=victim`, b.body]);
        variants.push([`${b.path}?session_id=alice&session_id=victim`, { ...b.body, session_id: undefined }]);
        const dup = JSON.stringify(b.body).replace('"session_id":"alice"', '"session_id":"alice","session_id":"victim"');
        variants.push([b.path, dup]);
        const dup2 = JSON.stringify(b.body).replace('"session_id":"alice"', '"session_id":"victim","session_id":"alice"');
        variants.push([b.path, dup2]);
      } else {
        const a = build(e, 'alice', { itemId: SECRETS.id });
        variants.push([`${a.path}&session_id=victim`, undefined]);
        variants.push([a.path.replace('session_id=alice', 'session_id=victim&session_id=alice'), undefined]);
        variants.push([a.path.replace('session_id=alice', 'session_id=alice%00victim'), undefined]);
        variants.push([a.path.replace('session_id=alice', 'session_id=alice&session_id=victim'), undefined]);
        variants.push([a.path.replace('session_id=alice', 'Session_Id=victim&session_id=alice'), undefined]);
      }
      for (const [p, body] of variants) {
        const r = await svc.request(e.method, p, { body, key });
        // Answering for alice is fine; naming victim must not get through.
        const what = `${e.method} ${p} body ${typeof body === 'string' ? body.slice(0, 80) : JSON.stringify(body || null).slice(0, 80)} with ${key.slice(0, 10)}`;
        check(r, what, { allowOk: true, alice: false });
        if (r.status >= 200 && r.status < 300 && r.json && r.json.session_id !== undefined && r.json.session_id !== 'alice') {
          problems.push(`${what}: answered for session ${r.json.session_id}`);
        }
      }
    }
  }
  assert.deepEqual(problems.splice(0), []);
});

test('two X-API-Key headers (read-only first, admin second) do not grant writing', async () => {
  for (const e of ENDPOINTS.filter((x) => RANK[x.role] >= RANK.rw)) {
    const q = build(e, 'victim');
    for (const pair of [[KEYS.ro, KEYS.admin], [KEYS.aliceRw, KEYS.admin], ['wrong', KEYS.admin]]) {
      const r = await svc.request(q.method, q.path, { body: q.body, key: null, headers: { 'X-API-Key': pair } });
      const what = `${q.method} ${q.path} with X-API-Key: ${pair.map((k) => k.slice(0, 10)).join(' + ')}`;
      if (!check(r, what) && ![400, 401, 403].includes(r.status)) problems.push(`${what}: ${r.status}`);
    }
  }
  assert.deepEqual(problems.splice(0), []);
});

test('the admin key works on every endpoint of the sandbox (the matrix above is not vacuous)', async () => {
  for (const e of ENDPOINTS) {
    const q = build(e, 'sandbox', { itemId: 's1' });
    const r = await svc.request(q.method, q.path, { body: q.body, key: KEYS.admin });
    const what = `${q.method} ${q.path} as admin`;
    if (r.status >= 500 || r.status === 401 || r.status === 403 || r.status <= 0) problems.push(`${what}: ${r.status} ${r.text}`);
    if (e.pattern === '/inspector/' && r.status !== 404 && r.status !== 200) problems.push(`${what}: ${r.status}`);
  }
  assert.deepEqual(problems.splice(0), []);
});

test('aftermath: process alive, nothing outside the data root, victim and alice unchanged', async (t) => {
  t.diagnostic(`${svc.count} requests`);
  assert.deepEqual(await checkAftermath(stage, new Set(['victim', 'alice', 'sandbox']), ['victim']), []);
});
