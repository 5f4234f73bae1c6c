// Hostile input, part 3 (issue 9, item 5): hostile request bodies against the service with
// its default limits (32 MiB bodies, k <= 10000, 10000 items per batch, nesting 32):
// oversized bodies (declared, streamed, chunked), a batch of 10^6 items streamed, dimension
// mismatches, NaN / Infinity / 1e999 as JSON tokens, k = 10^9 and friends, JSON nested
// 10^5 deep in every POST endpoint, truncated bodies (framing and JSON). Each is answered
// with a prompt 4xx JSON error (or, for a body cut off by the client, the connection closed),
// nothing is stored, and the process stays up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { rawRequest, rssKiB } from './lib.mjs';
import { KEYS, vector, startStage, judge, checkAftermath } from './hostile_env.mjs';

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

const POSTS = ['/episodes', '/episodes/batch', '/episodes/search', '/storage/query-plan',
  '/storage/estimate-replay-time', '/storage/flush', '/consolidation/flush', '/storage/compact',
  '/storage/compact-wal', '/storage/truncate-wal', '/storage/rebuild-hnsw', '/storage/rebuild-global-index'];

// Streams a request: head, then body chunks from next() (null: end) until the server answers
// or closes, or maxBytes are sent (then waits for the answer). Resolves {status, json, text,
// sent (body bytes), ms}.
function stream(head, next, { timeoutMs = 60000, maxBytes = 256 << 20 } = {}) {
  return new Promise((resolve) => {
    const start = Date.now();
    const sock = net.connect(svc.port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let sent = 0;
    let done = false;
    let answered = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const text = data.toString('utf8');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const i = text.indexOf('\r\n\r\n');
      let json;
      try { json = JSON.parse(i >= 0 ? text.slice(i + 4) : ''); } catch { json = undefined; }
      resolve({ status: m ? Number(m[1]) : 0, text, json, sent, ms: Date.now() - start });
    };
    const timer = setTimeout(finish, timeoutMs);
    sock.on('data', (d) => {
      data = Buffer.concat([data, d]);
      answered = true;
      const t = data.toString('latin1');
      const i = t.indexOf('\r\n\r\n');
      const m = /content-length: *(\d+)/i.exec(t);
      if (i >= 0 && m && data.length >= i + 4 + Number(m[1])) finish();
    });
    sock.on('error', finish);
    sock.on('close', finish);
    const pump = () => {
      while (!answered && !done && sent < maxBytes) {
        const chunk = next();
        if (chunk === null) return;
        sent += chunk.length;
        if (!sock.write(chunk)) { sock.once('drain', pump); return; }
      }
    };
    sock.on('connect', () => { sock.write(head); pump(); });
  });
}

// A request head; `close` adds Connection: close (so raw exchanges end with the answer).
function head(path, extra, close = false) {
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${KEYS.admin}\r\nContent-Type: application/json\r\n` +
    `${close ? 'Connection: close\r\n' : ''}${extra}\r\n`;
}

// The body of a batch of `count` items, chunk by chunk; with `chunked`, in chunked framing.
function batchBody(count, { dim = 0, chunked = false } = {}) {
  let i = 0;
  let state = 0;
  const emb = dim ? `,"embedding":${JSON.stringify(Array.from({ length: dim }, (_, d) => Math.fround(Math.sin(d))))}` : '';
  const frame = (s) => (chunked ? Buffer.from(`${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`) : Buffer.from(s));
  return () => {
    if (state === 0) { state = 1; return frame('{"session_id":"sandbox","items":['); }
    if (state === 1) {
      const parts = [];
      for (let n = 0; n < 200 && i < count; n++, i++) parts.push(`${i ? ',' : ''}{"id":"b${i}","content":"x"${emb}}`);
      if (i >= count) state = 2;
      return frame(parts.join(''));
    }
    if (state === 2) { state = 3; return chunked ? Buffer.concat([frame(']}'), Buffer.from('0\r\n\r\n')]) : Buffer.from(']}'); }
    return null;
  };
}

test('oversized bodies: 413 at once, whether declared, streamed or chunked', async () => {
  const limit = 32 << 20;
  // Declared larger than the limit: refused from the headers, before the body is sent.
  const declared = await stream(head('/episodes', `Content-Length: ${4 * 1024 ** 3}\r\n`), batchBody(1e6, { dim: 384 }));
  check(declared, 'Content-Length 4 GiB', { maxMs: 5000 });
  if (declared.status !== 413) problems.push(`Content-Length 4 GiB: ${declared.status}`);
  if (declared.sent > 2 * limit) {
    problems.push(`Content-Length 4 GiB: the server kept reading (${declared.sent} bytes sent, the test stops at 256 MiB) ` +
      `instead of answering 413 from the headers; answer: ${declared.status} after ${declared.ms} ms`);
  }
  // Chunked: refused once the limit is crossed.
  const chunked = await stream(head('/episodes/batch', 'Transfer-Encoding: chunked\r\n'), batchBody(1e6, { dim: 384, chunked: true }));
  check(chunked, 'chunked batch of 10^6 items with 384-dim embeddings (3.5 GB)', { maxMs: 15000 });
  if (chunked.status !== 413 && chunked.status !== 400) problems.push(`chunked 3.5 GB batch: ${chunked.status}`);
  if (chunked.sent > 4 * limit) problems.push(`chunked 3.5 GB batch: the server read ${chunked.sent} bytes before answering`);
  // Exactly one byte over the limit, fully sent.
  const over = 'x'.repeat(limit + 1);
  const r = await svc.post('/episodes', over);
  check(r, 'body of 32 MiB + 1', { maxMs: 10000 });
  if (r.status !== 413) problems.push(`32 MiB + 1: ${r.status}`);
  assert.deepEqual(problems.splice(0), []);
});

test('a batch of 10^6 items does not balloon the server\'s memory (< 256 MiB for a ~20 MB body)', async (t) => {
  const base = rssKiB(svc.pid);
  let peak = base;
  const timer = setInterval(() => { peak = Math.max(peak, rssKiB(svc.pid)); }, 20);
  const r = await stream(head('/episodes/batch', 'Transfer-Encoding: chunked\r\n'), batchBody(1e6, { chunked: true }));
  clearInterval(timer);
  peak = Math.max(peak, rssKiB(svc.pid));
  t.diagnostic(`RSS ${(base / 1024).toFixed(0)} MiB -> peak ${(peak / 1024).toFixed(0)} MiB for a ${(r.sent / 1e6).toFixed(1)} MB body (${r.status})`);
  assert.ok(peak - base < 256 * 1024,
    `parsing one ${(r.sent / 1e6).toFixed(1)} MB batch raised RSS by ${((peak - base) / 1024).toFixed(0)} MiB: ` +
    'the whole body becomes a JSON DOM before the item count is checked');
});

test('a batch of 10^6 items streamed under the body limit: prompt 400 batch_too_large, nothing stored', async () => {
  const before = (await svc.get('/storage/status?session_id=sandbox')).json.items;
  const r = await stream(head('/episodes/batch', 'Transfer-Encoding: chunked\r\n'), batchBody(1e6, { chunked: true }));
  check(r, 'chunked batch of 10^6 small items (~20 MB)', { maxMs: 15000 });
  if (r.status !== 400 && r.status !== 413) problems.push(`10^6 small items: ${r.status} ${r.text.slice(0, 200)}`);
  const after = (await svc.get('/storage/status?session_id=sandbox')).json.items;
  if (after !== before) problems.push(`items ${before} -> ${after}`);
  assert.deepEqual(problems.splice(0), []);
});

test('dimension mismatches: 400, nothing stored', async () => {
  const before = (await svc.get('/storage/status?session_id=sandbox')).json.items;
  for (const dim of [1, 7, 9, 16, 384, 4096, 4097, 100000]) {
    const emb = Array.from({ length: dim }, (_, i) => Math.fround(1 / (i + 1)));
    check(await svc.post('/episodes', { session_id: 'sandbox', id: `dim${dim}`, embedding: emb }), `POST /episodes ${dim}-dim into an 8-dim store`);
    check(await svc.post('/episodes/batch', { session_id: 'sandbox', items: [{ id: `okb${dim}`, embedding: vector(1) }, { id: `dimb${dim}`, embedding: emb }] }), `batch with a ${dim}-dim item`);
    check(await svc.post('/episodes/search', { session_id: 'sandbox', query_vector: emb }), `search ${dim}-dim`);
    check(await svc.post('/storage/query-plan', { session_id: 'sandbox', query_vector: emb }), `query-plan ${dim}-dim`);
  }
  check(await svc.post('/episodes/search', { session_id: 'sandbox', query_vector: [] }), 'search with an empty vector');
  const after = (await svc.get('/storage/status?session_id=sandbox')).json.items;
  if (after !== before) problems.push(`items ${before} -> ${after}`);
  assert.deepEqual(problems.splice(0), []);
});

test('NaN, Infinity and overflowing numbers as JSON tokens in every numeric field: 400', async () => {
  const tokens = ['NaN', '-NaN', 'nan', 'Infinity', '-Infinity', 'inf', '1e999', '-1e999', '1e39', '-3.5e38',
    '0x10', '+1', '.5', '01', '1.', '1e', '--1', '1_000'];
  const v = JSON.stringify(vector(1)).slice(1, -1).split(',');
  const bodies = (t) => [
    ['/episodes', `{"session_id":"sandbox","id":"nan1","embedding":[${t},${v.slice(1).join(',')}]}`],
    ['/episodes', `{"session_id":"sandbox","id":"nan2","timestamp":${t}}`],
    ['/episodes', `{"session_id":"sandbox","id":"nan3","metadata":{"x":${t}}}`],
    ['/episodes/batch', `{"session_id":"sandbox","items":[{"id":"nan4","embedding":[${v.slice(0, 7).join(',')},${t}]}]}`],
    ['/episodes/search', `{"session_id":"sandbox","query_vector":[${t},${v.slice(1).join(',')}]}`],
    ['/episodes/search', `{"session_id":"sandbox","query_vector":[${v.join(',')}],"k":${t}}`],
    ['/episodes/search', `{"session_id":"sandbox","query_vector":[${v.join(',')}],"ef":${t}}`],
    ['/episodes/search', `{"session_id":"sandbox","query_vector":[${v.join(',')}],"filter":{"time_from":${t}}}`],
    ['/storage/query-plan', `{"session_id":"sandbox","query_vector":[${v.join(',')}],"k":${t}}`],
    ['/storage/compact-wal', `{"session_id":"sandbox","keep_entries":${t}}`],
  ];
  // A finite double is a valid metadata number (metadata is not float32).
  const finiteDouble = new Set(['1e39', '-3.5e38']);
  for (const t of tokens) {
    for (const [p, body] of bodies(t)) {
      const r = await svc.post(p, body);
      check(r, `${p} with ${t}: ${body.slice(0, 90)}`, { allowOk: finiteDouble.has(t) && body.includes('"metadata"') });
    }
  }
  for (const id of ['nan1', 'nan2', 'nan4']) {
    const g = await svc.get(`/episodes/${id}?session_id=sandbox`);
    if (g.status !== 404) problems.push(`${id} was stored: ${g.text}`);
  }
  assert.deepEqual(problems.splice(0), []);
});

test('k = 10^9 and other impossible k / ef values: 400', async () => {
  for (const k of ['1000000000', '1e9', '10001', '9007199254740993', '18446744073709551616', '-1', '0', '1.5',
    '"10"', 'true', 'null', '[]', '{}', '-0']) {
    for (const field of ['k', 'ef']) {
      if (field === 'ef' && k === '10001') continue;
      const body = `{"session_id":"sandbox","query_vector":${JSON.stringify(vector(1))},"${field}":${k}}`;
      for (const p of ['/episodes/search', '/storage/query-plan']) {
        // ef 0 means "the default ef".
        check(await svc.post(p, body), `${p} ${field}=${k}`, { allowOk: field === 'ef' && ['0', '-0'].includes(k) });
      }
    }
  }
  assert.deepEqual(problems.splice(0), []);
});

test('JSON nested 10^5 deep, in every POST endpoint and inside fields: prompt 400', async () => {
  const deep = 100000;
  const shapes = [
    '['.repeat(deep) + ']'.repeat(deep),
    '{"a":'.repeat(deep) + '1' + '}'.repeat(deep),
    `{"session_id":"sandbox","metadata":${'['.repeat(deep)}${']'.repeat(deep)}}`,
    `{"session_id":"sandbox","query_vector":${'['.repeat(deep)}${']'.repeat(deep)}}`,
    `{"session_id":"sandbox","items":[${'{"x":'.repeat(deep)}1${'}'.repeat(deep)}]}`,
    '['.repeat(deep),  // unterminated
  ];
  for (const p of POSTS) {
    for (const s of shapes) {
      check(await svc.post(p, s), `${p} nested ${s.slice(0, 30)}…`, { maxMs: 5000 });
    }
  }
  assert.deepEqual(problems.splice(0), []);
});

test('truncated bodies: malformed JSON is a 400; a body cut short is dropped, nothing stored', async () => {
  const full = JSON.stringify({ session_id: 'sandbox', id: 'trunc', content: 'truncated body', embedding: vector(2) });
  for (let cut = 1; cut < full.length; cut += 7) {
    check(await svc.post('/episodes', full.slice(0, cut)), `POST /episodes cut at ${cut}: ${full.slice(0, Math.min(cut, 40))}`);
  }
  // Content-Length larger than what is sent, then the client half-closes: an answer (4xx) or
  // the connection closed; never a stored item.
  for (const p of ['/episodes', '/episodes/batch', '/storage/truncate-wal']) {
    const body = full.slice(0, 30);
    const r = await new Promise((resolve) => {
      const sock = net.connect(svc.port, '127.0.0.1');
      let data = '';
      sock.on('data', (d) => { data += d; });
      sock.on('error', () => {});
      sock.on('close', () => resolve({ status: Number((/^HTTP\/1\.[01] (\d{3})/.exec(data) || [0, 0])[1]), text: data }));
      sock.setTimeout(20000, () => sock.destroy());
      sock.end(`${head(p, `Content-Length: ${full.length}\r\n`)}${body}`);
    });
    if (r.status !== 0 && (r.status < 400 || r.status >= 500)) problems.push(`${p} half-closed short body: ${r.status} ${r.text.slice(0, 200)}`);
  }
  const g = await svc.get('/episodes/trunc?session_id=sandbox');
  if (g.status !== 404) problems.push(`a truncated body was stored: ${g.text}`);
  assert.deepEqual(problems.splice(0), []);
});

test('framing that lies or contradicts itself (RFC 9112 6.1, 6.3): 4xx, or the connection closed', async () => {
  // Framing that lies or contradicts itself. A body that is valid JSON names the sandbox.
  const b = '{"session_id":"sandbox","id":"frame"}';
  const n = b.length;
  const framing = [
    // [request, what is acceptable besides a 4xx]
    [`${head('/episodes', 'Transfer-Encoding: chunked\r\n', true)}zz\r\n${b}\r\n0\r\n\r\n`, null],
    [`${head('/episodes', 'Transfer-Encoding: chunked\r\n', true)}ffffffffffffffff\r\n${b}\r\n0\r\n\r\n`, null],
    [`${head('/episodes', 'Transfer-Encoding: chunked\r\n', true)}-5\r\n${b}\r\n0\r\n\r\n`, null],
    [`${head('/episodes', 'Transfer-Encoding: gzip, chunked\r\n', true)}${n.toString(16)}\r\n${b}\r\n0\r\n\r\n`, null],
    // RFC 9112 6.1: with both, Transfer-Encoding wins (or the request is refused).
    [`${head('/episodes', `Transfer-Encoding: chunked\r\nContent-Length: ${n}\r\n`, true)}${n.toString(16)}\r\n${b}\r\n0\r\n\r\n`, 'ok'],
    // RFC 9112 6.3: differing Content-Length values are an unrecoverable error (400).
    [`${head('/episodes', `Content-Length: ${n}\r\nContent-Length: ${n + 40}\r\n`, true)}${b}`, null],
    [`${head('/episodes', `Content-Length: ${n}, ${n + 40}\r\n`, true)}${b}`, null],
    [`${head('/episodes', 'Content-Length: -1\r\n', true)}${b}`, null],
    [`${head('/episodes', 'Content-Length: 1e3\r\n', true)}${b}`, null],
    [`${head('/episodes', `Content-Length: +${n}\r\n`, true)}${b}`, null],
    [`${head('/episodes', 'Content-Length: 18446744073709551617\r\n', true)}${b}`, null],
  ];
  for (const [c, allow] of framing) {
    const r = await rawRequest(svc.port, c, { timeoutMs: 20000 });
    const what = `framing ${c.split('\r\n').slice(5, -2).join(' | ').slice(0, 100)}`;
    if (r.timedOut) problems.push(`${what}: no answer and no close in 20 s`);
    else if (r.status !== 0) check(r, what, { allowOk: allow === 'ok' });
    await svc.del('/episodes/frame?session_id=sandbox');
  }
  assert.deepEqual(problems.splice(0), []);
});

test('aftermath: process alive, nothing outside the data root, victim and alice unchanged', async (t) => {
  t.diagnostic(`${svc.count} requests through the keep-alive client, plus raw streams`);
  assert.deepEqual(await checkAftermath(stage, new Set(['victim', 'alice', 'sandbox'])), []);
});
