// The browser entry in Debian's Chromium (playwright-core): OPFS in a Worker, 5,000 items,
// reload, a second tab gets "locked", closing the page mid-write leaves a store that opens,
// and a store written by the native build opens in the browser and back.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { NPM_DIR, nativeCli, tempDir, vector } from './helpers.mjs';

const CHROMIUM = process.env.T4DX_CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];
const MIME = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.cjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

let server;
let base;
let context;
let tmp;
const fixtures = new Map();  // url path -> Buffer (native store files)

function serve(req, res) {
  const url = new URL(req.url, 'http://x');
  let body = fixtures.get(url.pathname);
  let file = null;
  if (!body) {
    const rel = url.pathname === '/' ? '/test/browser/index.html' : url.pathname;
    file = path.join(NPM_DIR, path.normalize(rel));
    if (!file.startsWith(NPM_DIR) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404);
      res.end();
      return;
    }
    body = fs.readFileSync(file);
  }
  res.writeHead(200, {
    'content-type': MIME[path.extname(file || url.pathname)] || 'application/octet-stream',
    'cache-control': 'no-store',
  });
  res.end(body);
}

const available = fs.existsSync(CHROMIUM);

before(async () => {
  if (!available) return;
  const { chromium } = await import('playwright-core');
  tmp = tempDir('t4dx-browser-');
  server = http.createServer(serve);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  context = await chromium.launchPersistentContext(path.join(tmp.dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    timeout: 60000,
  });
}, { timeout: 90000 });

// Closing the browser is given 20 s; then its process is killed, so a wedged Chromium
// fails the run instead of holding it.
after(async () => {
  if (context) {
    const browserProcess = context.browser()?.process?.();
    let timer;
    const closed = await Promise.race([
      context.close().then(() => true),
      new Promise((r) => { timer = setTimeout(() => r(false), 20000); }),
    ]);
    clearTimeout(timer);
    if (!closed && browserProcess) browserProcess.kill('SIGKILL');
  }
  if (server) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  if (tmp) tmp.cleanup();
}, { timeout: 60000 });

async function newPage() {
  const page = await context.newPage();
  page.setDefaultTimeout(120000);  // waits fail with a message (evaluate: the test timeout)
  page.on('pageerror', (e) => console.error('pageerror', e));
  await page.goto(`${base}/`);
  await page.waitForFunction(() => window.t4dxReady === true);
  return page;
}

const opts = { skip: available ? false : `no Chromium at ${CHROMIUM}` };

test('OPFS store in a Worker: 5,000 items, search, reload, second tab locked', { ...opts, timeout: 300000 }, async () => {
  const page = await newPage();
  const r = await page.evaluate(async () => {
    const store = await t4dx.open({ path: 'bt', dim: 16, flushThreshold: 1000 });
    window.store = store;
    for (let b = 0; b < 10; b++) {
      const items = [];
      for (let i = b * 500; i < (b + 1) * 500; i++) {
        items.push({ id: `it-${i}`, content: `item ${i}`, kind: i % 3 ? 'a' : 'b',
          embedding: vector(16, i + 1), timestamp: 1700000000000 + i });
      }
      await store.putBatch(items);
    }
    const hits = [];
    for (const i of [0, 1234, 4999]) hits.push((await store.search(vector(16, i + 1), { k: 3 }))[0].id);
    return { count: await store.count(), hits, pool: await store.poolStats() };
  });
  assert.equal(r.count, 5000);
  assert.deepEqual(r.hits, ['it-0', 'it-1234', 'it-4999']);
  assert.ok(r.pool.slots >= 32, JSON.stringify(r.pool));

  // A second tab: the store is held by the first.
  const page2 = await newPage();
  const err = await page2.evaluate(async () => {
    try {
      await t4dx.open({ path: 'bt' });
      return null;
    } catch (e) {
      return { code: e.code, message: e.message, isError: e instanceof t4dx.T4dxError };
    }
  });
  assert.equal(err.code, 'locked');
  assert.match(err.message, /locked/);
  assert.ok(err.isError);
  await page2.close();

  // Reload without close(): the Worker dies; everything acknowledged is there.
  await page.reload();
  await page.waitForFunction(() => window.t4dxReady === true);
  const after1 = await page.evaluate(async () => {
    const store = await t4dx.open({ path: 'bt' });
    const got = await store.get('it-4321');
    const hit = (await store.search(vector(16, 4322), { k: 1 }))[0];
    const filtered = await store.search(vector(16, 10), { k: 5, filter: { kind: 'b' } });
    await store.flush();
    const v = await store.verify();
    const out = { count: await store.count(), content: got.content, emb: got.embedding.length,
      hit: hit.id, kinds: filtered.map((h) => h.item.kind), healthy: v.healthy };
    await store.close();
    return out;
  });
  assert.deepEqual(after1, { count: 5000, content: 'item 4321', emb: 16, hit: 'it-4321',
    kinds: ['b', 'b', 'b', 'b', 'b'], healthy: true });

  // Closed: another tab may open it now.
  const page3 = await newPage();
  const n = await page3.evaluate(async () => {
    const s = await t4dx.open({ path: 'bt' });
    const c = await s.count();
    await s.close();
    return c;
  });
  assert.equal(n, 5000);
  await page3.close();
  await page.close();
});

// Starts an endless write loop on store `name` in the page (puts and batches of ids
// `<tag>-<n>`); the number acknowledged is kept in localStorage under `tag`, which survives
// the page. Returns once `min` writes are acknowledged.
async function startWriting(page, name, tag, min) {
  await page.evaluate(async ([name, tag]) => {
    localStorage.setItem(tag, '0');
    const store = await t4dx.open({ path: name, dim: 8, flushThreshold: 50 });
    (async () => {
      for (let i = 0; ;) {
        if (i % 10 === 9) {
          const batch = [];
          for (let j = i; j < i + 5; j++) batch.push({ id: `${tag}-${j}`, content: `${tag} ${j}`, embedding: vector(8, j + 1) });
          await store.putBatch(batch);
          i += 5;
        } else {
          await store.put({ id: `${tag}-${i}`, content: `${tag} ${i}`, embedding: vector(8, i + 1) });
          i += 1;
        }
        localStorage.setItem(tag, String(i));  // synchronous, survives the page
      }
    })();
  }, [name, tag]);
  await page.waitForFunction(([tag, min]) => Number(localStorage.getItem(tag)) >= min,
    [tag, min], { timeout: 120000 });
}

// Opens store `name` in the page at once and checks every write acknowledged under `tags`.
function checkAcknowledged(page, name, tags) {
  return page.evaluate(async ([name, tags]) => {
    const store = await t4dx.open({ path: name });
    const missing = [];
    let acked = 0;
    for (const tag of tags) {
      const n = Number(localStorage.getItem(tag));
      acked += n;
      for (let i = 0; i < n; i++) {
        const got = await store.get(`${tag}-${i}`, { includeEmbedding: false });
        if (!got || got.content !== `${tag} ${i}`) missing.push(`${tag}-${i}`);
      }
    }
    const count = await store.count();
    const v = await store.verify();
    await store.close();
    return { acked, count, missing, healthy: v.healthy };
  }, [name, tags]);
}

function assertAllThere(r, minAcked) {
  assert.deepEqual(r.missing, [], JSON.stringify(r).slice(0, 300));
  assert.ok(r.count >= r.acked, JSON.stringify(r));
  assert.ok(r.acked >= minAcked, JSON.stringify(r));
  assert.equal(r.healthy, true);
}

test('closing the page mid-write leaves a store that opens with every acknowledged write', { ...opts, timeout: 180000 }, async () => {
  const tags = [];
  for (let round = 0; round < 2; round++) {
    const page = await newPage();
    tags.push(`close${round}`);
    await startWriting(page, 'midclose', tags[round], 120 + round * 37);
    await page.close();  // mid-write: the Worker is killed with the page
    const page2 = await newPage();
    assertAllThere(await checkAcknowledged(page2, 'midclose', tags), 120 * tags.length);
    await page2.close();
  }
});

test('reloading the page mid-write leaves a store that opens with every acknowledged write', { ...opts, timeout: 180000 }, async () => {
  const page = await newPage();
  const tags = [];
  for (let round = 0; round < 3; round++) {
    tags.push(`reload${round}`);
    await startWriting(page, 'midreload', tags[round], 120 + round * 29);
    await page.reload();  // mid-write; the reloaded page opens the store at once
    await page.waitForFunction(() => window.t4dxReady === true);
    assertAllThere(await checkAcknowledged(page, 'midreload', tags), 120 * tags.length);
  }
  await page.close();
});

const cli = nativeCli();
test('a store written natively opens in the browser, and the browser copy opens natively',
  { skip: !available ? `no Chromium at ${CHROMIUM}` : !cli ? 'native t4dx CLI not built' : false, timeout: 300000 }, async () => {
    const dir = path.join(tmp.dir, 'native');
    const lines = [];
    for (let i = 0; i < 300; i++) {
      lines.push(JSON.stringify({ id: `n-${i}`, content: `native ${i}`, embedding: [...vector(12, i + 1)],
        timestamp: 1700000000000 + i, metadata: { i } }));
    }
    const jsonl = path.join(tmp.dir, 'native.jsonl');
    fs.writeFileSync(jsonl, lines.join('\n') + '\n');
    execFileSync(cli, ['--data', dir, 'import', jsonl, '--batch', '100'],
      { env: { ...process.env, T4DM_FLUSH_THRESHOLD: '120' }, stdio: 'pipe' });
    const q = [...vector(12, 42)];
    const nativeHits = JSON.parse(execFileSync(cli, ['--data', dir, 'search', '--vector', JSON.stringify(q), '--k', '5', '--json'],
      { encoding: 'utf8' }));
    const ids = (nativeHits.hits || nativeHits.results || []).map((h) => h.id);
    assert.equal(ids.length, 5, JSON.stringify(nativeHits).slice(0, 300));
    // Serve the store's files to the page.
    const list = [];
    const walk = (rel) => {
      for (const name of fs.readdirSync(path.join(dir, rel))) {
        const r = rel ? `${rel}/${name}` : name;
        if (name === 'LOCK') continue;
        if (fs.statSync(path.join(dir, r)).isDirectory()) walk(r);
        else {
          list.push(r);
          fixtures.set(`/fixture/${r}`, fs.readFileSync(path.join(dir, r)));
        }
      }
    };
    walk('');
    fixtures.set('/fixture/list.json', Buffer.from(JSON.stringify(list)));

    const page = await newPage();
    const r = await page.evaluate(async (q) => {
      const list = await (await fetch('/fixture/list.json')).json();
      const files = [];
      for (const p of list) files.push({ path: p, data: new Uint8Array(await (await fetch(`/fixture/${p}`)).arrayBuffer()) });
      await t4dx.importFiles('fromnative', files);
      const s = await t4dx.open({ path: 'fromnative' });
      const count = await s.count();
      const hits = (await s.search(new Float32Array(q), { k: 5 })).map((h) => h.id);
      const got = await s.get('n-17');
      await s.put({ id: 'browser-1', content: 'written in the browser', embedding: vector(12, 999) });
      await s.flush();
      await s.close();
      const out = await t4dx.exportFiles('fromnative');
      const b64 = (u8) => { let s = ''; for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000)); return btoa(s); };
      return { count, hits, content: got.content, files: out.map((f) => ({ path: f.path, data: b64(f.data) })) };
    }, q);
    assert.equal(r.count, 300);
    assert.deepEqual(r.hits, ids);
    assert.equal(r.content, 'native 17');
    // Back to native.
    const back = path.join(tmp.dir, 'back');
    for (const f of r.files) {
      fs.mkdirSync(path.dirname(path.join(back, f.path)), { recursive: true });
      fs.writeFileSync(path.join(back, f.path), Buffer.from(f.data, 'base64'));
    }
    const got = JSON.parse(execFileSync(cli, ['--data', back, 'get', 'browser-1', '--json'], { encoding: 'utf8' }));
    assert.equal((got.item || got).content, 'written in the browser');
    execFileSync(cli, ['--data', back, 'verify', '--json'], { encoding: 'utf8' });  // exit 0 = healthy
    await page.close();
  });

test('searchBatch in the browser: one message, the hits search() gives each vector; errors as T4dxErrors', { ...opts, timeout: 120000 }, async () => {
  const page = await newPage();
  const r = await page.evaluate(async () => {
    try { await t4dx.destroy('sbatch'); } catch (e) { if (e.code !== 'not_found') throw e; }
    const store = await t4dx.open({ path: 'sbatch', dim: 16, flushThreshold: 100 });
    const items = [];
    for (let i = 0; i < 300; i++) {
      items.push({ id: `sb-${i}`, kind: i % 2 ? 'a' : 'b', content: `c ${i}`, embedding: vector(16, i + 1) });
    }
    await store.putBatch(items);
    const flat = new Float32Array(4 * 16);
    flat.set(vector(16, 77), 16);
    const packed = [vector(16, 5), vector(16, 200), flat.subarray(16, 32)];  // Float32Arrays: one packed buffer
    const mixed = [[...vector(16, 9)], vector(16, 1000)];                     // sent as they are
    const out = { same: [], top: null, empty: null, errors: [] };
    for (const [vectors, options] of [[packed, { k: 5 }], [packed, { k: 4, includeItems: false }],
      [mixed, { k: 3, filter: { kind: 'a' } }], [packed, undefined]]) {
      const batch = await store.searchBatch(vectors, options);
      const single = [];
      for (const v of vectors) single.push(await store.search(v, options));
      out.same.push(JSON.stringify(batch) === JSON.stringify(single) && batch.length === vectors.length);
    }
    out.top = (await store.searchBatch(packed, { k: 1, includeItems: false })).map((h) => h[0].id);
    out.empty = await store.searchBatch([], { k: 2 });
    out.flatIntact = flat.length;  // the caller's buffers are not transferred away
    for (const bad of [() => store.searchBatch('x'), () => store.searchBatch([vector(16, 1), 'x']),
      () => store.searchBatch([vector(16, 1), vector(8, 1)]), () => store.searchBatch([vector(16, 1)], { k: 0 })]) {
      try {
        await bad();
        out.errors.push(null);
      } catch (e) {
        out.errors.push({ code: e.code, isError: e instanceof t4dx.T4dxError, message: e.message });
      }
    }
    await store.close();
    await t4dx.destroy('sbatch');
    return out;
  });
  assert.deepEqual(r.same, [true, true, true, true]);
  assert.deepEqual(r.top, ['sb-4', 'sb-199', 'sb-76']);
  assert.deepEqual(r.empty, []);
  assert.equal(r.flatIntact, 64);
  for (const e of r.errors) {
    assert.ok(e && e.code === 'invalid_argument' && e.isError, JSON.stringify(r.errors));
  }
  assert.match(r.errors[1].message, /vectors\[1\]/);
  await page.close();
});
