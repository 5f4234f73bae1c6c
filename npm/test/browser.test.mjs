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
  });
});

after(async () => {
  if (context) await context.close();
  if (server) await new Promise((r) => server.close(r));
  if (tmp) tmp.cleanup();
});

async function newPage() {
  const page = await context.newPage();
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

test('closing the page mid-write leaves a store that opens with every acknowledged write', { ...opts, timeout: 300000 }, async () => {
  const page = await newPage();
  await page.evaluate(async () => {
    localStorage.setItem('acked', '0');
    const store = await t4dx.open({ path: 'midwrite', dim: 8, flushThreshold: 50 });
    (async () => {
      for (let i = 0; ; i++) {
        await store.put({ id: `m-${i}`, content: `m ${i}`, embedding: vector(8, i + 1) });
        localStorage.setItem('acked', String(i + 1));  // synchronous, survives the page
      }
    })();
  });
  await page.waitForFunction(() => Number(localStorage.getItem('acked')) >= 120, null, { timeout: 120000 });
  await page.close();  // mid-write: the Worker is killed with the page

  const page2 = await newPage();
  const r = await page2.evaluate(async () => {
    const acked = Number(localStorage.getItem('acked'));
    const store = await t4dx.open({ path: 'midwrite' });
    const missing = [];
    for (let i = 0; i < acked; i++) {
      const got = await store.get(`m-${i}`, { includeEmbedding: false });
      if (!got || got.content !== `m ${i}`) missing.push(i);
    }
    const count = await store.count();
    const v = await store.verify();
    await store.close();
    return { acked, count, missing, healthy: v.healthy };
  });
  assert.deepEqual(r.missing, []);
  assert.ok(r.count >= r.acked, JSON.stringify(r));
  assert.ok(r.acked >= 120);
  assert.equal(r.healthy, true);
  await page2.close();
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
