// Hostile input, part 4 (issue 9, item 5): slow clients against the service's defaults
// (T4DM_READ_TIMEOUT_SECONDS=5, T4DM_HTTP_THREADS=32).
//   - a socket that sends its request head byte by byte, then stalls, is closed by the
//     server within the read timeout (plus slack) of the stall;
//   - a body that stops half way is dropped the same way, and stores nothing;
//   - while a few such clients dribble, other requests are answered promptly;
//   - while more slow clients than there are HTTP threads dribble one byte a second (never
//     silent for the read timeout), /healthz and a search are still answered promptly: a
//     handful of sockets must not take the server down (slowloris).
// All sockets are closed by the test before it ends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { sleep } from './lib.mjs';
import { KEYS, vector, startStage } from './hostile_env.mjs';

const READ_TIMEOUT_S = 5;  // the service's default
const THREADS = 32;        // the service's default
let stage;
let svc;
const sockets = new Set();

before(async () => {
  stage = await startStage();
  svc = stage.svc;
});
after(async () => {
  for (const s of sockets) s.destroy();
  if (stage) await stage.cleanup();
});

// A client that writes `text` one byte every `everyMs`, for at most `bytes` bytes (then stalls).
// Resolves closedAt (ms since epoch) when the server closes it; .stop() ends it.
function dribbler(text, everyMs, bytes = text.length) {
  const sock = net.connect(svc.port, '127.0.0.1');
  sockets.add(sock);
  let pos = 0;
  let stalledAt = null;
  let answer = '';
  const timer = setInterval(() => {
    if (pos < Math.min(bytes, text.length)) {
      sock.write(text[pos++]);
    } else if (stalledAt === null) {
      stalledAt = Date.now();
    }
  }, everyMs);
  const closed = new Promise((resolve) => {
    sock.on('data', (d) => { answer += d; });
    sock.on('error', () => {});
    sock.on('close', () => { clearInterval(timer); sockets.delete(sock); resolve(Date.now()); });
  });
  return {
    closed,
    stalledAt: () => stalledAt,
    answer: () => answer,
    stop() { clearInterval(timer); sock.destroy(); },
  };
}

const HEAD = `GET /storage/status?session_id=sandbox HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${KEYS.admin}\r\n\r\n`;

// p's value, or null after ms (the timer does not keep the process alive).
function within(p, ms) {
  let timer;
  const t = new Promise((resolve) => { timer = setTimeout(() => resolve(null), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function timed(fn) {
  const t0 = Date.now();
  const r = await fn();
  return { ...r, ms: Date.now() - t0 };
}

test('a request head sent byte by byte, then stalled, is timed out by the server', async () => {
  const slow = dribbler(HEAD, 50, 40);  // 40 bytes of the head, then silence
  const closedAt = await within(slow.closed, 60000);
  slow.stop();
  assert.ok(closedAt, 'the server never closed a stalled connection (60 s)');
  const stalledAt = slow.stalledAt() ?? closedAt;
  assert.ok(closedAt - stalledAt <= (READ_TIMEOUT_S + 5) * 1000,
    `closed ${closedAt - stalledAt} ms after the stall (read timeout ${READ_TIMEOUT_S} s)`);
});

test('a body that stops half way is dropped, and nothing is stored', async () => {
  const body = JSON.stringify({ session_id: 'sandbox', id: 'half-body', content: 'never complete', embedding: vector(3) });
  const req = `POST /episodes HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${KEYS.admin}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const slow = dribbler(req, 5, req.length - 20);
  const closedAt = await within(slow.closed, 60000);
  slow.stop();
  assert.ok(closedAt, 'the server never closed a connection whose body stalled (60 s)');
  assert.ok(closedAt - (slow.stalledAt() ?? closedAt) <= (READ_TIMEOUT_S + 5) * 1000);
  assert.ok(!/^HTTP\/1\.[01] 2/.test(slow.answer()), slow.answer());
  const g = await svc.get('/episodes/half-body?session_id=sandbox');
  assert.equal(g.status, 404, g.text);
});

test('8 slow clients dribbling: other requests are answered promptly', async () => {
  const slow = Array.from({ length: 8 }, () => dribbler(HEAD, 1000));
  await sleep(1500);
  const lat = [];
  for (let i = 0; i < 10; i++) {
    const r = await timed(() => svc.post('/episodes/search', { session_id: 'sandbox', query_vector: vector(1), k: 3 }));
    assert.equal(r.status, 200, r.text);
    lat.push(r.ms);
  }
  for (const s of slow) s.stop();
  assert.ok(Math.max(...lat) < 3000, `search latencies with 8 slow clients: ${lat}`);
});

test(`${THREADS + 8} slow clients dribbling one byte a second (slowloris): /healthz and search still answered within 5 s`,
  { timeout: 120000 }, async (t) => {
    const slow = [];
    for (let i = 0; i < THREADS + 8; i++) {
      // Half dribble the head, half a body after a complete head.
      const body = JSON.stringify({ session_id: 'sandbox', query_vector: vector(1), k: 3 });
      const text = i % 2 ? HEAD
        : `POST /episodes/search HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${KEYS.admin}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      const d = dribbler(text, 1000);
      if (i % 2 === 0) {
        // Send the head at once, then dribble the body.
        d.stop();
        const sock = net.connect(svc.port, '127.0.0.1');
        sockets.add(sock);
        sock.on('error', () => {});
        sock.on('close', () => sockets.delete(sock));
        const headEnd = text.indexOf('\r\n\r\n') + 4;
        sock.write(text.slice(0, headEnd));
        let pos = headEnd;
        const timer = setInterval(() => { if (pos < text.length - 1) sock.write(text[pos++]); }, 1000);
        sock.on('close', () => clearInterval(timer));
        slow.push({ stop() { clearInterval(timer); sock.destroy(); } });
      } else {
        slow.push(d);
      }
    }
    await sleep(3000);
    const results = [];
    try {
      for (let i = 0; i < 3; i++) {
        const h = await timed(() => svc.get('/healthz', { key: null, timeoutMs: 8000, agent: false }));
        const s = await timed(() => svc.post('/episodes/search', { session_id: 'sandbox', query_vector: vector(1), k: 3 },
          { timeoutMs: 8000, agent: false }));
        results.push([h.status, h.ms, s.status, s.ms]);
        if (h.status !== 200 || s.status !== 200) break;
      }
    } finally {
      for (const s of slow) s.stop();
    }
    t.diagnostic(`with ${slow.length} slow clients: [healthz status, ms, search status, ms] = ${JSON.stringify(results)}`);
    // Once they are gone the server serves again.
    const recovered = await svc.get('/healthz', { key: null, timeoutMs: 30000, agent: false });
    assert.equal(recovered.status, 200, 'the server did not recover once the slow clients left');
    for (const [hs, hms, ss, sms] of results) {
      assert.ok(hs === 200 && hms < 5000 && ss === 200 && sms < 5000,
        `${slow.length} sockets sending one byte a second hold every HTTP thread: ` +
        `the read timeout is per read, not a deadline for the request (${JSON.stringify(results)})`);
    }
  });
