// The HTTP layer's bounds, over real sockets: body framing judged from the head alone (a
// huge Content-Length is a 413 before any body byte is sent; a malformed or contradictory
// one a 400), the whole-request read deadline (a client dribbling bytes gets 408 and its
// connection closed while others are served), element limits applied while a body is
// parsed (a batch far over the limit, a huge array, deep nesting), and keep-alive
// connections that stay usable after an answer. Nothing here measures time: each case
// checks what is answered.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startService, rawRequest, isJsonError, sleep } from '../lib/harness.mjs';

const KEY = 'http-limits-key-5b7e1d3c9a2f4068';
let svc;

before(async () => {
  // A short whole-request deadline, a long per-read timeout: only the deadline can cut a
  // client that sends a byte every 200 ms. Small body and batch limits.
  svc = await startService({
    key: KEY,
    env: { T4DM_LOG_LEVEL: 'error' },
    args: ['--request-timeout-seconds', '1', '--read-timeout-seconds', '60',
      '--max-body-bytes', '1048576', '--max-batch-items', '50'],
  });
});
after(async () => { if (svc) await svc.cleanup(); });

const head = (method, p, extra = '') =>
  `${method} ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${KEY}\r\n${extra}\r\n`;

// Sends the head only (never a body byte) and resolves the answer once the server closes.
function headOnly(extra) {
  return rawRequest(svc.port, head('POST', '/episodes', extra), { timeoutMs: 30000 });
}

test('a Content-Length over the limit is answered 413 from the head, before any body byte', async () => {
  for (const n of [1048577, 4 * 1024 ** 3, 10 ** 18]) {
    const r = await headOnly(`Content-Length: ${n}\r\n`);
    assert.equal(r.status, 413, `${n}: ${r.text}`);
    assert.equal(r.json.error.code, 'payload_too_large');
    assert.match(r.json.error.message, /--max-body-bytes/);
    assert.match(r.text, /\r\nConnection: close\r\n/i);
  }
});

test('malformed or contradictory framing: 400 naming the header', async () => {
  const body = '{"session_id":"frame","content":"x"}';
  const cases = [
    [`Content-Length: 1e3\r\n`, 'invalid_content_length'],
    [`Content-Length: -1\r\n`, 'invalid_content_length'],
    [`Content-Length: +${body.length}\r\n`, 'invalid_content_length'],
    [`Content-Length: ${body.length}, ${body.length}\r\n`, 'invalid_content_length'],
    [`Content-Length: ${body.length}\r\nContent-Length: ${body.length + 5}\r\n`, 'invalid_content_length'],
    [`Content-Length: 99999999999999999999999\r\n`, 'invalid_content_length'],
    [`Transfer-Encoding: gzip, chunked\r\n`, 'invalid_transfer_encoding'],
    [`Transfer-Encoding: chunked\r\nContent-Length: ${body.length}\r\n`, 'invalid_transfer_encoding'],
  ];
  for (const [extra, code] of cases) {
    const r = await rawRequest(svc.port, head('POST', '/episodes', extra) + body, { timeoutMs: 30000 });
    assert.equal(r.status, 400, `${JSON.stringify(extra)}: ${r.text}`);
    assert.ok(isJsonError(r), r.text);
    assert.equal(r.json.error.code, code, r.text);
  }
  assert.equal((await svc.get('/storage/status?session_id=frame')).status, 404, 'nothing was stored');
});

test('a chunked body counts against the body limit: 413', async () => {
  const chunk = 'x'.repeat(16384);
  let text = head('POST', '/episodes', 'Transfer-Encoding: chunked\r\n');
  for (let i = 0; i < 80; i++) text += `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
  text += '0\r\n\r\n';
  const r = await rawRequest(svc.port, text, { timeoutMs: 30000 });
  assert.equal(r.status, 413, r.text);
  assert.equal(r.json.error.code, 'payload_too_large');
});

test('an answer given without reading the body closes the connection; others stay usable', async () => {
  // 401 before the body is read: the connection is closed (the body would be taken for the
  // next request otherwise).
  const r = await rawRequest(svc.port,
    `POST /episodes HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n{"content":"aaaaaa"}` +
    `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`, { timeoutMs: 30000 });
  assert.equal(r.status, 401, r.text);
  assert.equal((r.text.match(/HTTP\/1\.1 /g) || []).length, 1, r.text);
  // Two pipelined requests on one keep-alive connection are both answered.
  const two = await rawRequest(svc.port,
    `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    { timeoutMs: 30000 });
  assert.equal((two.text.match(/HTTP\/1\.1 200/g) || []).length, 2, two.text);
});

// A client writing `text` one byte every 200 ms (well inside the 60 s per-read timeout).
// Resolves {answer} once the server closes the connection.
function dribble(text) {
  return new Promise((resolve) => {
    const sock = net.connect(svc.port, '127.0.0.1');
    let answer = '';
    let pos = 0;
    const timer = setInterval(() => { if (pos < text.length) sock.write(text[pos++]); }, 200);
    sock.on('data', (d) => { answer += d; });
    sock.on('error', () => {});
    sock.on('close', () => { clearInterval(timer); resolve({ answer, sent: pos }); });
  });
}

test('a client dribbling its head or its body is cut by the request deadline: 408, nothing stored', async () => {
  const body = JSON.stringify({ session_id: 'slow', id: 'slow-item', content: 'never complete' });
  const slowHead = dribble(head('GET', '/storage/status?session_id=slow'));
  const slowBody = (async () => {
    // The head at once, then the body a byte at a time.
    const sock = net.connect(svc.port, '127.0.0.1');
    let answer = '';
    await new Promise((r) => sock.on('connect', r));
    sock.write(head('POST', '/episodes', `Content-Length: ${body.length}\r\n`));
    let pos = 0;
    const timer = setInterval(() => { if (pos < body.length) sock.write(body[pos++]); }, 200);
    sock.on('data', (d) => { answer += d; });
    sock.on('error', () => {});
    await new Promise((r) => sock.on('close', r));
    clearInterval(timer);
    return { answer, sent: pos };
  })();
  // Meanwhile the server answers others.
  await sleep(300);
  const h = await svc.get('/healthz', { key: null, agent: false });
  assert.equal(h.status, 200);
  for (const p of [slowHead, slowBody]) {
    const { answer, sent } = await p;
    assert.match(answer, /^HTTP\/1\.1 408 /, answer);
    const json = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    assert.equal(json.error.code, 'request_timeout');
    assert.match(json.error.message, /--request-timeout-seconds/);
    assert.ok(sent < body.length, 'cut before the request was complete');
  }
  assert.equal((await svc.get('/episodes/slow-item?session_id=slow')).status, 404);
});

test('a batch far over the item limit is refused while parsing: 400 batch_too_large', async () => {
  const items = [];
  for (let i = 0; i < 3000; i++) items.push({ id: `b${i}` });
  const r = await svc.post('/episodes/batch', { session_id: 'limits', items });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error.code, 'batch_too_large');
  assert.match(r.json.error.message, /more than 50 .*--max-batch-items/);
  // At the limit it is accepted.
  const ok = await svc.post('/episodes/batch', { session_id: 'limits', items: items.slice(0, 50) });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.json.count, 50);
  // Any other array or object over max(4096 dimensions, batch limit) values.
  const arr = await svc.post('/episodes/search', `{"session_id":"limits","query_vector":[${'0,'.repeat(5000)}0]}`);
  assert.equal(arr.status, 400, arr.text);
  assert.equal(arr.json.error.code, 'too_many_elements');
  const keys = {};
  for (let i = 0; i < 4200; i++) keys[`k${i}`] = i;
  const obj = await svc.post('/episodes', { session_id: 'limits', id: 'm', metadata: keys });
  assert.equal(obj.status, 400, obj.text);
  assert.equal(obj.json.error.code, 'too_many_elements');
});

test('JSON nested 10^5 deep: 400 too_deep in every shape', async () => {
  const deep = 100000;
  for (const body of ['['.repeat(deep) + ']'.repeat(deep), '{"a":'.repeat(deep) + '1' + '}'.repeat(deep),
    `{"session_id":"limits","items":[${'['.repeat(deep)}]}`]) {
    const r = await svc.post('/episodes/batch', body);
    assert.equal(r.status, 400, r.text.slice(0, 300));
    assert.equal(r.json.error.code, 'too_deep');
  }
  assert.ok(svc.alive());
});
