// Hostile input: path traversal in session, segment and item ids; oversized and malformed
// requests. Each is answered with a prompt JSON 4xx, nothing is written or created, and the
// process stays up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startService, rawGet, rawRequest, errorCode, listTree, vec, tempDir, removeDir } from './helpers.mjs';

const MAX_BODY = 256 * 1024;
let svc;
let outside;  // a directory beside the data root that must stay empty
before(async () => {
  outside = tempDir('t4dm-outside-');
  svc = await startService({ args: ['--max-body-bytes', String(MAX_BODY), '--max-batch-items', '50',
    '--max-content-bytes', '1000', '--max-k', '100', '--read-timeout-seconds', '1'] });
  const r = await svc.post('/episodes', { session_id: 'victim', id: 'secret', content: 'victim data', embedding: vec(1) });
  assert.equal(r.status, 201, r.text);
  assert.equal((await svc.post('/storage/flush', { session_id: 'victim' })).status, 200);
});
after(async () => {
  const { code } = await svc.stop();
  assert.equal(code, 0);
  await svc.cleanup();
  removeDir(outside);
});

const rel = () => path.relative(svc.dataDir, outside);
const BAD_SESSIONS = () => [
  '..', '.', '../victim', 'victim/..', 'a/b', 'a\\b', '/etc', '/tmp', rel(), `../${path.basename(outside)}`,
  'a.b', 'victim\u0000', 'x'.repeat(65), 'x'.repeat(4096), 'é', 'victim ', ' victim', 'vi%ctim',
  '\u202evictim', 'ｖｉｃｔｉｍ', '~', '$HOME', 'victim;rm',
];

test('bad session ids in the query string and the body: 400, nothing created', async () => {
  const before = listTree(svc.dataDir);
  for (const s of BAD_SESSIONS()) {
    const q = encodeURIComponent(s);
    const responses = [
      await svc.get(`/storage/status?session_id=${q}`),
      await svc.get(`/episodes/secret?session_id=${q}`),
      await svc.post('/episodes', { session_id: s, content: 'x' }),
      await svc.post(`/episodes?session_id=${q}`, { content: 'x' }),
      await svc.post('/storage/flush', { session_id: s }),
      await svc.post('/storage/truncate-wal', { session_id: s, confirmation: 'I_UNDERSTAND' }),
      await svc.post('/episodes/search', { session_id: s, query_vector: vec(1) }),
    ];
    for (const r of responses) {
      assert.equal(r.status, 400, `session ${JSON.stringify(s)}: ${r.text}`);
      assert.ok(['invalid_session_id', 'conflicting_session'].includes(errorCode(r)), r.text);
      assert.ok(!r.text.includes('victim data'));
    }
  }
  const nonString = await svc.post('/episodes', { session_id: ['victim'], content: 'x' });
  assert.equal(nonString.status, 400);
  assert.deepEqual(listTree(svc.dataDir), before);
  assert.deepEqual(fs.readdirSync(outside), []);
  assert.equal((await svc.get('/episodes/secret?session_id=victim')).json.content, 'victim data');
});

test('bad segment ids: 400 or 404, never a file outside the store', async () => {
  const paths = [
    '/storage/segment/..?session_id=victim',
    '/storage/segment/../../etc/passwd?session_id=victim',
    '/storage/segment/..%2F..%2Fetc%2Fpasswd?session_id=victim',
    '/storage/segment/%2e%2e/verify?session_id=victim',
    '/storage/segment/000001%00/verify?session_id=victim',
    '/storage/segment/seg_..%2Fx/metadata?session_id=victim',
    '/storage/segment/-1/count?session_id=victim',
    '/storage/segment/0x1/count?session_id=victim',
    '/storage/segment/000000/verify?session_id=victim',
    '/storage/segment/999999/verify?session_id=victim',
    `/storage/segment/${'9'.repeat(40)}/verify?session_id=victim`,
    `/storage/segment/${'1'.repeat(4000)}?session_id=victim`,
    '/storage/segment/%2Fetc%2Fpasswd/metadata?session_id=victim',
    '/storage/segment/1e3/count?session_id=victim',
  ];
  for (const p of paths) {
    const r = await rawGet(svc.port, p, svc.key);
    assert.ok([400, 404].includes(r.status), `${p}: ${r.status} ${r.body}`);
    assert.ok(r.json && r.json.error, `${p}: ${r.body}`);
    assert.ok(!r.body.includes('root:'), p);
  }
  // The accepted spellings of a real segment all work.
  for (const id of ['000001', '1', 'seg_000001']) {
    const r = await svc.get(`/storage/segment/${id}/verify?session_id=victim`);
    assert.equal(r.status, 200, `${id}: ${r.text}`);
  }
});

test('traversal in item ids and paths: 4xx, nothing read from disk', async () => {
  const paths = [
    '/episodes/..%2F..%2Fetc%2Fpasswd?session_id=victim',
    '/episodes/../../etc/passwd?session_id=victim',
    '/episodes/%2e%2e?session_id=victim',
    '/episodes/a%5Cb?session_id=victim',
    `/episodes/${'a'.repeat(129)}?session_id=victim`,
    '/episodes/%00?session_id=victim',
    '/inspector/../../etc/passwd',
    '/inspector/..%2F..%2Fetc%2Fpasswd',
    '/inspector/%2e%2e/%2e%2e/etc/passwd',
    '/../../etc/passwd',
  ];
  for (const p of paths) {
    const r = await rawGet(svc.port, p, svc.key);
    assert.ok(r.status >= 400 && r.status < 500, `${p}: ${r.status} ${r.body}`);
    assert.ok(r.json && r.json.error, `${p}: ${r.body}`);
    assert.ok(!r.body.includes('root:'), p);
  }
});

test('oversized requests: body, batch, content, k, dimension', async () => {
  const big = 'x'.repeat(MAX_BODY + 10);
  const r1 = await svc.post('/episodes', big);
  assert.equal(r1.status, 413, r1.text);
  assert.equal(errorCode(r1), 'payload_too_large');
  const items = Array.from({ length: 51 }, (_, i) => ({ id: `big${i}` }));
  const r2 = await svc.post('/episodes/batch', { session_id: 'victim', items });
  assert.equal(r2.status, 400);
  assert.equal(errorCode(r2), 'batch_too_large');
  const r3 = await svc.post('/episodes', { session_id: 'victim', id: 'big', content: 'y'.repeat(1001) });
  assert.equal(r3.status, 400);
  assert.equal(errorCode(r3), 'content_too_large');
  for (const k of [0, 101, 1e9, -1, 2.5, '10', null, true]) {
    const r = await svc.post('/episodes/search', { session_id: 'victim', query_vector: vec(1), k });
    assert.equal(r.status, 400, `k=${k}: ${r.text}`);
  }
  const dim = await svc.post('/episodes', { session_id: 'victim', id: 'dim', embedding: [1, 2, 3] });
  assert.equal(dim.status, 400, dim.text);
  const qdim = await svc.post('/episodes/search', { session_id: 'victim', query_vector: [1, 2, 3] });
  assert.equal(qdim.status, 400, qdim.text);
  const huge = await svc.post('/episodes', { session_id: 'victim', id: 'huge', embedding: new Array(5000).fill(0.1) });
  assert.equal(huge.status, 400);
  for (const id of ['big', 'dim', 'huge', 'big0']) {
    assert.equal((await svc.get(`/episodes/${id}?session_id=victim`)).status, 404, id);
  }
});

test('malformed requests: bad JSON, wrong types, NaN, unknown fields, deep nesting', async () => {
  const bodies = [
    ['{"session_id": "victim", "content": ', 'malformed_json'],
    ['{"session_id": "victim", "embedding": [NaN, 1]}', 'malformed_json'],
    ['{"session_id": "victim", "embedding": [Infinity]}', 'malformed_json'],
    ['[1, 2, 3]', 'expected_object'],
    ['"just a string"', 'expected_object'],
    ['{"session_id": "victim", "id": "bad id with spaces"}', null],
    ['{"session_id": "victim", "id": 42}', null],
    ['{"session_id": "victim", "embedding": "0.1,0.2"}', 'wrong_type'],
    ['{"session_id": "victim", "embedding": [1e39, 0, 0, 0, 0, 0, 0, 0]}', 'not_finite'],
    ['{"session_id": "victim", "embedding": [1, "2", 3, 4, 5, 6, 7, 8]}', 'wrong_type'],
    ['{"session_id": "victim", "contnet": "typo"}', 'unknown_field'],
    ['{"session_id": "victim", "timestamp": "yesterday"}', null],
    ['{"session_id": "victim", "metadata": {"k": {"nested": 1}}}', null],
    ['{"session_id": "victim", "metadata": [1]}', null],
    ['{"session_id": "victim", "kind": "' + 'k'.repeat(65) + '"}', null],
    ['[' .repeat(100000) + ']'.repeat(100000), 'too_deep'],
    ['{"a":'.repeat(40000) + '1' + '}'.repeat(40000), 'too_deep'],
    ['\u0000\u0001\u0002', 'malformed_json'],
    ['{"session_id": "victim", "content": "\\ud800"}', null],
  ];
  for (const [body, code] of bodies) {
    const r = await svc.post('/episodes', body);
    assert.ok(r.status >= 400 && r.status < 500, `${body.slice(0, 60)}: ${r.status} ${r.text}`);
    const got = errorCode(r);
    if (code) assert.equal(got, code, `${body.slice(0, 60)}: ${r.text}`);
  }
  const search = [
    [{ session_id: 'victim' }, 'missing_field'],
    [{ session_id: 'victim', query_vector: [] }, 'out_of_range'],
    [{ session_id: 'victim', query_vector: vec(1), filter: 'kind=note' }, 'wrong_type'],
    [{ session_id: 'victim', query_vector: vec(1), explain: 'yes' }, 'wrong_type'],
    [{ session_id: 'victim', query_vector: vec(1), topk: 3 }, 'unknown_field'],
    [{ session_id: 'victim', query_vector: vec(1), ef: -5 }, 'out_of_range'],
  ];
  for (const [body, code] of search) {
    const r = await svc.post('/episodes/search', body);
    assert.equal(r.status, 400, r.text);
    assert.equal(errorCode(r), code, r.text);
  }
  const maint = [
    ['/storage/truncate-wal', { session_id: 'victim' }, 'confirmation_required'],
    ['/storage/truncate-wal', { session_id: 'victim', confirmation: 'i_understand' }, 'confirmation_required'],
    ['/storage/truncate-wal', { session_id: 'victim', confirmation: true }, 'wrong_type'],
    ['/storage/compact-wal', { session_id: 'victim', keep_entries: -1 }, 'out_of_range'],
    ['/storage/compact-wal', { session_id: 'victim', keep_entries: '1000' }, 'wrong_type'],
    ['/storage/flush', { session_id: 'victim', force: true }, 'unknown_field'],
  ];
  for (const [p, body, code] of maint) {
    const r = await svc.post(p, body);
    assert.equal(r.status, 400, `${p}: ${r.text}`);
    assert.equal(errorCode(r), code, r.text);
  }
  // Nothing of it was written.
  const wal = await svc.get('/storage/wal-status?session_id=victim');
  assert.equal(wal.json.unflushed_entries, 0, wal.text);
  assert.equal((await svc.get('/episodes/secret?session_id=victim')).json.content, 'victim data');
});

test('bad input for a session that does not exist creates nothing', async () => {
  const r = await svc.post('/episodes', { session_id: 'fresh', content: 'x', embedding: ['a'] });
  assert.equal(r.status, 400);
  const b = await svc.post('/episodes/batch', { session_id: 'fresh', items: [{ id: '../x' }] });
  assert.equal(b.status, 400);
  assert.ok(!fs.existsSync(path.join(svc.dataDir, 'fresh')));
  const g = await svc.get('/storage/status?session_id=fresh');
  assert.equal(g.status, 404);
  assert.equal(errorCode(g), 'session_not_found');
});

test('bad HTTP framing and methods: JSON 4xx, the process stays up', async () => {
  const cases = [
    'GARBAGE\r\n\r\n',
    'GET /storage/status HTTP/9.9\r\nHost: x\r\n\r\n',
    `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    `POST /episodes HTTP/1.1\r\nHost: x\r\nX-API-Key: ${svc.key}\r\nContent-Length: 5\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\nabcde`,
    `PUT /episodes HTTP/1.1\r\nHost: x\r\nX-API-Key: ${svc.key}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
    `PATCH /storage/status HTTP/1.1\r\nHost: x\r\nX-API-Key: ${svc.key}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    `POST /episodes HTTP/1.1\r\nHost: x\r\nX-API-Key: ${svc.key}\r\nContent-Length: 10\r\nConnection: close\r\n\r\n{"a"`,
  ];
  for (const c of cases) {
    const r = await rawRequest(svc.port, c);
    assert.ok(r.status === 0 || (r.status >= 400 && r.status < 500), `${c.slice(0, 50)}: ${r.text.slice(0, 200)}`);
    if (r.status !== 0) assert.ok(r.json && r.json.error, r.text.slice(0, 300));
  }
  const wrongMethod = await svc.request('DELETE', '/storage/status?session_id=victim');
  assert.equal(wrongMethod.status, 405);
  assert.equal(errorCode(wrongMethod), 'method_not_allowed');
  const unknown = await svc.get('/storage/nope');
  assert.equal(unknown.status, 404);
  assert.equal(errorCode(unknown), 'not_found');
  assert.equal((await svc.get('/healthz', { apiKey: null })).status, 200);
});
