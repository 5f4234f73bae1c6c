// Operations: --help, /healthz, /openapi.json describing every endpoint, the inspector's
// static files, structured logs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startService, runToExit, tempDir, removeDir, rawGet } from './helpers.mjs';

let svc;
let inspectorDir;
before(async () => {
  inspectorDir = tempDir('t4dm-inspector-');
  fs.writeFileSync(path.join(inspectorDir, 'index.html'), '<!doctype html><title>inspector</title>');
  fs.mkdirSync(path.join(inspectorDir, 'assets'));
  fs.writeFileSync(path.join(inspectorDir, 'assets', 'app.js'), 'console.log(1);');
  fs.writeFileSync(path.join(inspectorDir, '.secret'), 'hidden');
  svc = await startService({ env: { T4DM_INSPECTOR_DIR: inspectorDir } });
});
after(async () => {
  const { code } = await svc.stop();
  assert.equal(code, 0);
  await svc.cleanup();
  removeDir(inspectorDir);
});

test('--help lists every variable', async () => {
  const r = await runToExit(['--help'], {});
  assert.equal(r.code, 0);
  for (const v of ['T4DM_DATA_DIR', 'T4DM_API_KEY', 'T4DM_API_KEYS_FILE', 'T4DM_HOST', 'T4DM_PORT',
    'T4DM_FLUSH_THRESHOLD', 'T4DM_RECOVERY_STRICT', 'T4DM_WAL_SYNC', 'T4DM_MAX_BODY_BYTES',
    'T4DM_MAX_K', 'T4DM_MAX_BATCH_ITEMS', 'T4DM_MAX_CONTENT_BYTES', 'T4DM_MAX_OPEN_SESSIONS',
    'T4DM_SESSION_IDLE_SECONDS', 'T4DM_INSPECTOR_DIR', 'T4DM_LOG_LEVEL']) {
    assert.ok(r.stdout.includes(v), v);
  }
  const bad = await runToExit(['--no-such-flag'], {});
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown flag --no-such-flag/);
  const badEnv = await runToExit(['--port', '0'], { T4DM_WAL_SYNC: 'sometimes', T4DM_DATA_DIR: path.join(inspectorDir, 'x') });
  assert.equal(badEnv.code, 2);
  assert.match(badEnv.stderr, /T4DM_WAL_SYNC/);
});

test('/openapi.json is valid OpenAPI and names every endpoint', async () => {
  const r = await svc.get('/openapi.json');
  assert.equal(r.status, 200);
  assert.match(r.json.openapi, /^3\./);
  const paths = r.json.paths;
  const expected = {
    '/healthz': ['get'], '/metrics': ['get'], '/openapi.json': ['get'], '/sessions': ['get'],
    '/storage/status': ['get'], '/storage/stats': ['get'], '/storage/segments': ['get'],
    '/storage/memtable': ['get'], '/storage/wal-status': ['get'], '/storage/hnsw-stats': ['get'],
    '/storage/global-index': ['get'], '/storage/compaction-history': ['get'],
    '/storage/recovery-report': ['get'], '/storage/verify': ['get'],
    '/storage/segment/{segment_id}': ['get'], '/storage/segment/{segment_id}/metadata': ['get'],
    '/storage/segment/{segment_id}/verify': ['get'], '/storage/segment/{segment_id}/count': ['get'],
    '/storage/estimate-replay-time': ['post'], '/storage/compact-wal': ['post'],
    '/storage/truncate-wal': ['post'], '/storage/flush': ['post'], '/consolidation/flush': ['post'],
    '/storage/compact': ['post'], '/storage/rebuild-hnsw': ['post'],
    '/storage/rebuild-global-index': ['post'], '/storage/query-plan': ['post'],
    '/episodes': ['post'], '/episodes/batch': ['post'], '/episodes/search': ['post'],
    '/episodes/{item_id}': ['get', 'delete'], '/inspector/': ['get'],
  };
  for (const [p, methods] of Object.entries(expected)) {
    assert.ok(paths[p], `missing ${p}`);
    for (const m of methods) assert.ok(paths[p][m], `missing ${m} ${p}`);
  }
  // And every documented endpoint exists (answers something other than 404 "not_found").
  for (const [p, ops] of Object.entries(paths)) {
    for (const m of Object.keys(ops)) {
      const concrete = p.replace('{segment_id}', '000001').replace('{item_id}', 'x');
      const res = await svc.request(m.toUpperCase(), concrete, m === 'get' || m === 'delete' ? {} : { body: {} });
      assert.ok(!(res.status === 404 && res.json?.error?.code === 'not_found'), `${m} ${p}: ${res.text}`);
      assert.notEqual(res.status, 405, `${m} ${p}`);
    }
  }
});

test('the inspector is served under /inspector/ without a key, and nothing else', async () => {
  const idx = await svc.get('/inspector/', { apiKey: null });
  assert.equal(idx.status, 200);
  assert.match(idx.headers.get('content-type'), /text\/html/);
  assert.match(idx.text, /inspector/);
  const js = await svc.get('/inspector/assets/app.js', { apiKey: null });
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /javascript/);
  const redirect = await fetch(`${svc.base}/inspector`, { redirect: 'manual' });
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.get('location'), '/inspector/');
  for (const p of ['/inspector/.secret', '/inspector/missing.js', '/inspector/../../etc/passwd',
    '/inspector/assets/../.secret', '/inspector/assets/%2e%2e/.secret']) {
    const r = await rawGet(svc.port, p, '');
    assert.equal(r.status, 404, `${p}: ${r.body}`);
    assert.ok(!r.body.includes('hidden'));
  }
});

test('logs are JSON lines with the runbook\'s phrases where it has one', async () => {
  await svc.post('/episodes', { session_id: 'logs', id: 'l1', content: 'x' });
  await svc.post('/storage/flush', { session_id: 'logs' });
  await svc.waitForLog((l) => l.msg === 'request' && l.route === '/storage/flush' && l.session === 'logs');
  const lines = svc.stderr().split('\n').filter(Boolean);
  for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), l);
  const logs = svc.logs();
  assert.ok(logs.some((l) => l.msg === 'listening' && l.port === svc.port));
  assert.ok(logs.some((l) => l.msg === 'request' && l.route === '/episodes' && l.status === 201 && l.session === 'logs'));
  assert.ok(logs.every((l) => typeof l.ts === 'string' && typeof l.level === 'string'));
  assert.ok(!svc.stderr().includes(svc.key), 'the API key is never logged');
});
