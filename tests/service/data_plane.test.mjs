// The data plane over real HTTP: store, get, search (finds it at once), delete (search no
// longer finds it), batches (atomic), filters, explain, replace, flush.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService, vec, errorCode } from './helpers.mjs';

let svc;
before(async () => { svc = await startService(); });
after(async () => {
  const { code } = await svc.stop();
  assert.equal(code, 0);
  await svc.cleanup();
});

const S = '?session_id=plane';

test('round trip: store, get, search finds it at once, delete, search no longer finds it',
  async () => {
    // Some neighbours so the search has a choice.
    for (let i = 1; i <= 5; i++) {
      const r = await svc.post('/episodes', { session_id: 'plane', id: `n${i}`, embedding: vec(i) });
      assert.equal(r.status, 201, r.text);
    }
    const put = await svc.post('/episodes', {
      session_id: 'plane', kind: 'episode', content: 'the cat sat on the mat',
      embedding: vec(0), timestamp: 1700000000000, metadata: { tag: 'x', n: 3, ok: true },
    });
    assert.equal(put.status, 201, put.text);
    const { id, lsn } = put.json;
    assert.equal(typeof id, 'string');
    assert.equal(put.json.id_generated, true);
    assert.ok(Number.isInteger(lsn) && lsn > 0);
    assert.equal(put.json.session_id, 'plane');

    const got = await svc.get(`/episodes/${id}${S}`);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.json.id, id);
    assert.equal(got.json.content, 'the cat sat on the mat');
    assert.equal(got.json.kind, 'episode');
    assert.equal(got.json.timestamp, 1700000000000);
    assert.deepEqual(got.json.metadata, { tag: 'x', n: 3, ok: true });
    assert.equal(got.json.embedding.length, 8);
    got.json.embedding.forEach((x, i) => assert.ok(Math.abs(x - vec(0)[i]) < 1e-6));

    const noEmb = await svc.get(`/episodes/${id}${S}&include_embedding=false`);
    assert.equal(noEmb.json.embedding, undefined);

    const found = await svc.post('/episodes/search', { session_id: 'plane', query_vector: vec(0), k: 3 });
    assert.equal(found.status, 200, found.text);
    assert.equal(found.json.hits[0].id, id);
    assert.ok(found.json.hits[0].score > 0.99);
    assert.equal(found.json.hits[0].item.content, 'the cat sat on the mat');
    assert.ok(found.json.hits.length <= 3);

    const del = await svc.del(`/episodes/${id}${S}`);
    assert.equal(del.status, 200, del.text);
    assert.equal(del.json.deleted, true);

    const gone = await svc.get(`/episodes/${id}${S}`);
    assert.equal(gone.status, 404);
    assert.equal(errorCode(gone), 'item_not_found');
    const again = await svc.del(`/episodes/${id}${S}`);
    assert.equal(again.status, 404);

    const after = await svc.post('/episodes/search', { session_id: 'plane', query_vector: vec(0), k: 10 });
    assert.equal(after.status, 200);
    assert.ok(!after.json.hits.some((h) => h.id === id), after.text);
  });

test('a replaced item reads back with its new content, also after a flush', async () => {
  let r = await svc.post('/episodes', { session_id: 'plane', id: 'rep', content: 'v1', embedding: vec(7) });
  assert.equal(r.status, 201);
  r = await svc.post('/episodes', { session_id: 'plane', id: 'rep', content: 'v2', embedding: vec(7) });
  assert.equal(r.status, 201);
  assert.equal((await svc.get(`/episodes/rep${S}`)).json.content, 'v2');
  r = await svc.post('/storage/flush', { session_id: 'plane' });
  assert.equal(r.status, 200, r.text);
  assert.equal((await svc.get(`/episodes/rep${S}`)).json.content, 'v2');
  const s = await svc.post('/episodes/search', { session_id: 'plane', query_vector: vec(7), k: 1 });
  assert.equal(s.json.hits[0].id, 'rep');
});

test('a batch stores every item, or none when one is invalid', async () => {
  const ok = await svc.post('/episodes/batch', {
    session_id: 'plane',
    items: [
      { id: 'b1', content: 'one', embedding: vec(11) },
      { id: 'b2', content: 'two', embedding: vec(12) },
      { content: 'three (id generated)', embedding: vec(13) },
    ],
  });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.json.count, 3);
  assert.equal(ok.json.ids.length, 3);
  for (const id of ok.json.ids) assert.equal((await svc.get(`/episodes/${id}${S}`)).status, 200);

  const bad = await svc.post('/episodes/batch', {
    session_id: 'plane',
    items: [
      { id: 'atomic-1', content: 'fine', embedding: vec(14) },
      { id: 'atomic-2', content: 'wrong dimension', embedding: [1, 2, 3] },
    ],
  });
  assert.equal(bad.status, 400, bad.text);
  errorCode(bad);
  assert.equal((await svc.get(`/episodes/atomic-1${S}`)).status, 404);
  assert.equal((await svc.get(`/episodes/atomic-2${S}`)).status, 404);

  const badField = await svc.post('/episodes/batch', {
    session_id: 'plane', items: [{ id: 'atomic-3', content: 'x' }, { id: 'atomic-4', contnet: 'typo' }],
  });
  assert.equal(badField.status, 400);
  assert.match(badField.json.error.message, /items\[1\]/);
  assert.equal((await svc.get(`/episodes/atomic-3${S}`)).status, 404);
});

test('search filters by kind, metadata and time range; explain returns the plan', async () => {
  const items = [
    { id: 'f1', kind: 'note', embedding: vec(20), timestamp: 1000, metadata: { team: 'a', tags: ['x', 'y'] } },
    { id: 'f2', kind: 'task', embedding: vec(20), timestamp: 2000, metadata: { team: 'b', tags: ['y'] } },
    { id: 'f3', kind: 'note', embedding: vec(20), timestamp: 3000, metadata: { team: 'b', tags: ['z'] } },
  ];
  assert.equal((await svc.post('/episodes/batch', { session_id: 'filters', items })).status, 201);
  const search = async (filter, extra = {}) => {
    const r = await svc.post('/episodes/search', { session_id: 'filters', query_vector: vec(20), k: 10, filter, ...extra });
    assert.equal(r.status, 200, r.text);
    return r;
  };
  const ids = (r) => r.json.hits.map((h) => h.id).sort();
  assert.deepEqual(ids(await search({ kind: 'note' })), ['f1', 'f3']);
  assert.deepEqual(ids(await search({ kind: ['task'] })), ['f2']);
  assert.deepEqual(ids(await search({ metadata: { team: 'b' } })), ['f2', 'f3']);
  assert.deepEqual(ids(await search({ metadata: { tags: { any_of: ['x', 'z'] } } })), ['f1', 'f3']);
  assert.deepEqual(ids(await search({ time_from: 1500, time_to: 3000 })), ['f2']);
  assert.deepEqual(ids(await search({ kind: 'note', metadata: { team: 'a' } })), ['f1']);
  const explained = await search({}, { explain: true, ef: 50 });
  assert.equal(typeof explained.json.plan, 'object');
  const plan = await svc.post('/storage/query-plan', { session_id: 'filters', query_vector: vec(20), k: 2 });
  assert.equal(plan.status, 200, plan.text);
  assert.equal(typeof plan.json, 'object');
  assert.equal(plan.json.error, undefined);
  const bad = await svc.post('/episodes/search', { session_id: 'filters', query_vector: vec(20), filter: { kind: 5 } });
  assert.equal(bad.status, 400);
  assert.equal(errorCode(bad), 'invalid_filter');
});

test('session_id is accepted in the query string of a POST as well', async () => {
  const r = await svc.post('/episodes?session_id=viaquery', { id: 'q1', content: 'x' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.session_id, 'viaquery');
  assert.equal((await svc.get('/episodes/q1?session_id=viaquery')).status, 200);
  const both = await svc.post('/episodes?session_id=viaquery', { session_id: 'other', id: 'q2' });
  assert.equal(both.status, 400);
  assert.equal(errorCode(both), 'conflicting_session');
});

test('a body sent as form data (curl -d) is read as JSON', async () => {
  const r = await svc.post('/episodes', JSON.stringify({ session_id: 'plane', id: 'form1', content: 'f' }),
    { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(r.status, 201, r.text);
});
