// The example service (examples/service.mjs) stores and searches episodes over HTTP.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { startService } from '../examples/service.mjs';
import { tempDir, vector } from './helpers.mjs';

test('example node:http service: store, get, search, delete, errors', { timeout: 60000 }, async () => {
  const t = tempDir();
  const svc = await startService({ dataDir: path.join(t.dir, 'data'), dim: 4 });
  const base = `http://127.0.0.1:${svc.port}`;
  const call = async (method, p, body) => {
    const r = await fetch(base + p, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: r.status, body: await r.json() };
  };
  try {
    const eps = [];
    for (let i = 0; i < 20; i++) {
      eps.push({ id: `ep-${i}`, content: `episode ${i}`, embedding: [...vector(4, i + 7)], metadata: { session: i % 2 ? 'a' : 'b' } });
    }
    let r = await call('POST', '/episodes', eps.slice(0, 19));
    assert.equal(r.status, 201);
    assert.equal(r.body.stored, 19);
    r = await call('POST', '/episodes', eps[19]);
    assert.equal(r.status, 201);
    r = await call('GET', '/episodes/ep-3');
    assert.equal(r.status, 200);
    assert.equal(r.body.content, 'episode 3');
    r = await call('POST', '/search', { vector: eps[5].embedding, k: 3 });
    assert.equal(r.status, 200);
    assert.equal(r.body.hits[0].id, 'ep-5');
    r = await call('POST', '/search', { vector: eps[5].embedding, k: 5, filter: { metadata: { session: 'b' } } });
    assert.ok(r.body.hits.every((h) => h.item.metadata.session === 'b'));
    r = await call('DELETE', '/episodes/ep-5');
    assert.equal(r.status, 200);
    r = await call('GET', '/episodes/ep-5');
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'not_found');
    r = await call('POST', '/episodes', { id: 'bad id' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'invalid_argument');
    r = await call('GET', '/health');
    assert.deepEqual(r.body, { status: 'ok', count: 19 });
  } finally {
    await svc.close();
    t.cleanup();
  }
});
