// Sessions: isolated stores under the data root, 404 for reads of a missing session, the
// first write creates one, a bounded number open at once, all reported in /metrics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startService, errorCode, vec } from './helpers.mjs';

let svc;
before(async () => { svc = await startService({ args: ['--max-open-sessions', '2'] }); });
after(async () => {
  const { code } = await svc.stop();
  assert.equal(code, 0);
  await svc.cleanup();
});

function gauge(metrics, name, labels = '') {
  const re = new RegExp(`^${name}${labels ? `\\{${labels}\\}` : ''} (\\S+)$`, 'm');
  const m = re.exec(metrics);
  return m ? Number(m[1]) : undefined;
}

test('reads of a missing session answer 404 and create nothing; the first write creates it', async () => {
  for (const p of ['/storage/status', '/storage/stats', '/storage/segments', '/storage/memtable',
    '/storage/wal-status', '/storage/hnsw-stats', '/storage/global-index', '/storage/compaction-history',
    '/storage/segment/000001/verify', '/episodes/x']) {
    const r = await svc.get(`${p}?session_id=ghost`);
    assert.equal(r.status, 404, `${p}: ${r.text}`);
    assert.equal(errorCode(r), 'session_not_found');
  }
  for (const p of ['/storage/flush', '/storage/estimate-replay-time', '/storage/rebuild-hnsw']) {
    const r = await svc.post(p, { session_id: 'ghost' });
    assert.equal(r.status, 404, `${p}: ${r.text}`);
  }
  const s = await svc.post('/episodes/search', { session_id: 'ghost', query_vector: vec(1) });
  assert.equal(s.status, 404);
  assert.equal((await svc.del('/episodes/x?session_id=ghost')).status, 404);
  assert.ok(!fs.existsSync(path.join(svc.dataDir, 'ghost')));

  const w = await svc.post('/episodes', { session_id: 'ghost', id: 'x', content: 'boo' });
  assert.equal(w.status, 201, w.text);
  assert.ok(fs.existsSync(path.join(svc.dataDir, 'ghost', 'wal.jsonl')));
  assert.equal((await svc.get('/storage/status?session_id=ghost')).status, 200);
});

test('sessions are isolated: same ids, different data; no cross reads or searches', async () => {
  for (const s of ['iso-a', 'iso-b']) {
    const r = await svc.post('/episodes', { session_id: s, id: 'same', content: `from ${s}`, embedding: vec(s === 'iso-a' ? 1 : 2) });
    assert.equal(r.status, 201);
  }
  assert.equal((await svc.post('/episodes', { session_id: 'iso-a', id: 'only-a', content: 'a', embedding: vec(3) })).status, 201);
  assert.equal((await svc.get('/episodes/same?session_id=iso-a')).json.content, 'from iso-a');
  assert.equal((await svc.get('/episodes/same?session_id=iso-b')).json.content, 'from iso-b');
  assert.equal((await svc.get('/episodes/only-a?session_id=iso-b')).status, 404);
  const sb = await svc.post('/episodes/search', { session_id: 'iso-b', query_vector: vec(3), k: 10 });
  assert.deepEqual(sb.json.hits.map((h) => h.id), ['same']);
  assert.equal((await svc.del('/episodes/only-a?session_id=iso-b')).status, 404);
  assert.equal((await svc.get('/episodes/only-a?session_id=iso-a')).status, 200);
  // Each session is its own store directory.
  for (const s of ['iso-a', 'iso-b']) assert.ok(fs.existsSync(path.join(svc.dataDir, s, 'wal.jsonl')));
  // An omitted or empty session_id is "default".
  assert.equal((await svc.post('/episodes', { id: 'd1', content: 'default' })).status, 201);
  assert.equal((await svc.get('/episodes/d1?session_id=')).json.content, 'default');
  assert.equal((await svc.get('/episodes/d1?session_id=default')).json.content, 'default');
  assert.ok(fs.existsSync(path.join(svc.dataDir, 'default', 'wal.jsonl')));
});

test('at most --max-open-sessions stores are open; closed ones reopen with their data', async () => {
  const ids = ['lru-1', 'lru-2', 'lru-3', 'lru-4', 'lru-5'];
  for (const s of ids) {
    const r = await svc.post('/episodes', { session_id: s, id: 'k', content: s });
    assert.equal(r.status, 201, r.text);
    const m = (await svc.get('/metrics')).text;
    assert.ok(gauge(m, 't4dm_sessions_open') <= 2, m);
  }
  for (const s of ids) {
    const r = await svc.get(`/episodes/k?session_id=${s}`);
    assert.equal(r.json.content, s);
  }
  const metrics = (await svc.get('/metrics')).text;
  assert.ok(gauge(metrics, 't4dm_sessions_open') <= 2);
  assert.equal(gauge(metrics, 't4dm_sessions_open_max'), 2);
  assert.ok(gauge(metrics, 't4dm_session_closes_total') >= 3);
  assert.ok(gauge(metrics, 't4dm_sessions_on_disk') >= 5);
  const list = await svc.get('/sessions');
  assert.ok(ids.every((s) => list.json.sessions.some((x) => x.session_id === s)));
  assert.ok(await svc.waitForLog((l) => l.msg === 'session closed' && ids.includes(l.session)));
});

test('/metrics: request histograms per route and status, per-session store gauges, process', async () => {
  await svc.get('/storage/status?session_id=lru-5');
  await svc.get('/storage/status?session_id=nope');
  const r = await svc.get('/metrics');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain/);
  const m = r.text;
  assert.match(m, /^# TYPE t4dm_http_requests_total counter$/m);
  assert.match(m, /^# TYPE t4dm_http_request_duration_seconds histogram$/m);
  assert.match(m, /^t4dm_http_requests_total\{route="\/storage\/status",method="GET",status="200"\} \d+$/m);
  assert.match(m, /^t4dm_http_requests_total\{route="\/storage\/status",method="GET",status="404"\} \d+$/m);
  assert.match(m, /^t4dm_http_request_duration_seconds_bucket\{route="\/storage\/status",method="GET",status="200",le="\+Inf"\} \d+$/m);
  assert.match(m, /^t4dm_http_request_duration_seconds_count\{route="\/storage\/status",method="GET",status="200"\} \d+$/m);
  // Store gauges from Describe(kStats) of the open sessions.
  for (const name of ['t4dm_store_memtable_items', 't4dm_store_wal_total_bytes', 't4dm_store_segments_count',
    't4dm_store_hnsw_indexed_vectors', 't4dm_store_memtable_write_stalls', 't4dm_store_memtable_flushes']) {
    assert.match(m, new RegExp(`^${name}\\{session="lru-5"\\} \\S+$`, 'm'), name);
  }
  assert.ok(gauge(m, 't4dm_process_open_fds') > 0);
  assert.ok(gauge(m, 't4dm_process_resident_memory_bytes') > 0);
  // Every family has exactly one TYPE line.
  const types = m.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
  assert.equal(new Set(types).size, types.length);
});
