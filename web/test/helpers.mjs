// Shared helpers of the inspector's browser tests: fixtures made by the native t4dx at
// test time, a static server for web/dist on 127.0.0.1, and Debian's Chromium driven by
// playwright-core.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(WEB, '..');
export const DIST = path.join(WEB, 'dist');
export const OUT = path.join(WEB, 'test-output');
export const BIN = process.env.T4DX_BIN || path.join(REPO, 'build', 'bin', 't4dx');

export function requireBuild() {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run make build (or set T4DX_BIN)`);
  if (!fs.existsSync(path.join(DIST, 'index.html'))) throw new Error(`${DIST} is missing: run scripts/build-web.sh`);
}

// ------------------------------------------------------------------------ the CLI

function cliEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('T4DM_')) delete env[k];
  return { ...env, ...extra };
}

/** Runs t4dx; throws unless the exit code is one of `ok`. Returns {code, stdout, stderr, json}. */
export function t4dx(args, { input, env, ok = [0] } = {}) {
  const r = spawnSync(BIN, args, { input, env: cliEnv(env), encoding: 'utf8', maxBuffer: 512 << 20 });
  if (r.error) throw r.error;
  if (!ok.includes(r.status)) throw new Error(`t4dx ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout.slice(0, 2000)}`);
  let json;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

export function tempDir(prefix = 't4dx-web-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Deterministic items: float32-exact embeddings (multiples of 1/1024).
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

export function makeItem(i, dim = 16) {
  const r = rng(i * 2654435761 + 7);
  const embedding = [];
  for (let d = 0; d < dim; d++) embedding.push(Math.round((r() * 2 - 1) * 1024) / 1024);
  return {
    id: `item-${String(i).padStart(6, '0')}`,
    kind: i % 3 === 0 ? 'note' : 'episode',
    content: `memory ${i}: the quick brown fox ${i % 17}`,
    embedding,
    timestamp: 1700000000000 + i * 1000,
    metadata: { session: `s${i % 5}`, n: i, tags: [`t${i % 4}`] },
  };
}

/** Imports items [from, to) into the store at dir through `t4dx import`. */
export function importItems(dir, from, to, { env, dim = 16, batch = 50 } = {}) {
  const file = path.join(path.dirname(dir), `items-${path.basename(dir)}-${from}-${to}.jsonl`);
  const lines = [];
  for (let i = from; i < to; i++) lines.push(JSON.stringify(makeItem(i, dim)));
  fs.writeFileSync(file, lines.join('\n') + '\n');
  t4dx(['--data', dir, 'import', file, '--batch', String(batch), '--json'], { env });
  fs.rmSync(file);
}

const FLUSH = { T4DM_FLUSH_THRESHOLD: '100' };

/**
 * A store like the CLI drills': items 0..299 in segments, 300..339 only in the WAL (4
 * lines above the flush), the HNSW container saved. Verifies clean.
 */
export function seedStore(dir) {
  importItems(dir, 0, 300, { env: FLUSH });
  t4dx(['--data', dir, 'flush'], { env: FLUSH });
  importItems(dir, 300, 340, { env: FLUSH, batch: 10 });
  t4dx(['--data', dir, 'hnsw', 'rebuild']);
  const v = t4dx(['--data', dir, 'verify', '--json']);
  if (v.json.problems.length) throw new Error(`fresh store does not verify: ${v.stdout}`);
}

/**
 * Adds WAL records of every op_type to a seeded store (all stay in the WAL: the default
 * flush threshold is far above): `extra` single-item batches, 3 puts and 2 deletes.
 * Returns the records each op_type gains.
 */
export function addWalRecords(dir, extra = 220) {
  importItems(dir, 340, 340 + extra, { batch: 1 });
  for (let i = 0; i < 3; i++) {
    t4dx(['--data', dir, 'put'], { input: JSON.stringify(makeItem(900000 + i)) });
  }
  t4dx(['--data', dir, 'delete', 'item-000001']);
  t4dx(['--data', dir, 'delete', 'item-000350']);
  return { batch: extra, put: 3, delete: 2 };
}

/** sha256 of every file under dir ({relative path -> hex}), to prove nothing was changed. */
export function treeDigest(dir) {
  const out = {};
  const walk = (d, rel) => {
    for (const n of fs.readdirSync(d).sort()) {
      const f = path.join(d, n);
      const st = fs.statSync(f);
      if (st.isDirectory()) walk(f, `${rel}${n}/`);
      else out[`${rel}${n}`] = `${st.size}:${st.mtimeMs}:${crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex')}`;
    }
  };
  walk(dir, '');
  return out;
}

function tarWalk(tar, fn) {
  const buf = fs.readFileSync(tar);
  for (let at = 0; at + 512 <= buf.length;) {
    const header = buf.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (o, n) => header.subarray(o, o + n).toString('latin1').replace(/\0.*$/s, '');
    const full = field(345, 155) ? `${field(345, 155)}/${field(0, 100)}` : field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    if (fn(full, at + 512, size)) return;
    at += 512 + Math.ceil(size / 512) * 512;
  }
}

/** The member names of a ustar archive, in order. */
export function tarMembers(tar) {
  const names = [];
  tarWalk(tar, (name) => { names.push(name); });
  return names;
}

/** Where the data of the member `name` of a ustar archive is: {offset, length}. */
export function tarMember(tar, name) {
  let found = null;
  tarWalk(tar, (n, offset, length) => {
    if (n === name) found = { offset, length };
    return !!found;
  });
  if (!found) throw new Error(`${tar}: no member ${name}`);
  return found;
}

export function flipByte(file, offset) {
  const fd = fs.openSync(file, 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, offset);
  b[0] ^= 0xff;
  fs.writeSync(fd, b, 0, 1, offset);
  fs.closeSync(fd);
}

/** A snapshot made by `t4dx snapshot create`. */
export function snapshot(dir, tar) {
  t4dx(['--data', dir, 'snapshot', 'create', tar, '--json']);
  return tar;
}

/**
 * A plain ustar archive of the directory (what an operator's `tar cf` of a copied store
 * gives), for damage that `t4dx snapshot create` refuses to copy (a corrupt manifest) or
 * leaves out by design (a torn WAL tail: a snapshot holds complete lines only). It has no
 * t4dx_snapshot.json, so the inspector notes it is not a snapshot.
 */
export function plainTar(dir, tar) {
  const names = fs.readdirSync(dir).filter((n) => n !== 'LOCK').sort();
  const r = spawnSync('tar', ['--format=ustar', '-cf', tar, '-C', dir, ...names], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  return tar;
}

/**
 * The five fixtures of the issue, each {name, dir, tar, tarKind, expect}. expect describes
 * the exact problem the inspector must show.
 */
export function makeFixtures(root) {
  const fx = {};
  const base = (name) => {
    const dir = path.join(root, name);
    seedStore(dir);
    return dir;
  };

  // 1. Healthy, with WAL records of every op_type (more than one page of the WAL table).
  {
    const dir = base('healthy');
    const added = addWalRecords(dir);
    // The seeded store's WAL: 6 sealed batches of 50 and 4 batches of 10 above the flush.
    const ops = { batch: 10 + added.batch, put: added.put, delete: added.delete };
    fx.healthy = { name: 'healthy', dir, tar: snapshot(dir, path.join(root, 'healthy.tar')), tarKind: 'snapshot', ops };
  }
  // 2. Torn WAL tail: one more write, then a "crash" half-way through writing its line.
  {
    const dir = base('torn');
    t4dx(['--data', dir, 'put'], { input: JSON.stringify({ id: 'torn-1', content: 'never acknowledged', embedding: makeItem(9999).embedding }) });
    const wal = path.join(dir, 'wal.jsonl');
    const data = fs.readFileSync(wal);
    const start = data.lastIndexOf(0x0a, data.length - 2) + 1;
    const cut = start + Math.floor((data.length - start) / 2);
    fs.truncateSync(wal, cut);
    const line = data.subarray(0, start).toString().split('\n').length;
    fx.torn = { name: 'torn', dir, tar: plainTar(dir, path.join(root, 'torn.tar')), tarKind: 'plain', line, offset: start, length: cut - start };
  }
  // 3. A flipped byte in one segment's vectors.
  {
    const dir = base('segflip');
    const segs = t4dx(['--data', dir, 'segments', '--json']).json.segments;
    const seg = segs[0];
    flipByte(path.join(dir, seg.dir, 'vectors.f32'), 100);
    fx.segflip = { name: 'segflip', dir, tar: snapshot(dir, path.join(root, 'segflip.tar')), tarKind: 'snapshot', segment: seg.id, file: `${seg.dir}/vectors.f32`, offset: 0 };
  }
  // 4. A corrupt global_index.json (its first ':' replaced).
  {
    const dir = base('gindex');
    const gi = path.join(dir, 'global_index.json');
    const text = fs.readFileSync(gi, 'utf8');
    const at = text.indexOf(':');
    fs.writeFileSync(gi, text.slice(0, at) + '#' + text.slice(at + 1));
    fx.gindex = { name: 'gindex', dir, tar: plainTar(dir, path.join(root, 'gindex.tar')), tarKind: 'plain', file: 'global_index.json', at };
  }
  // 5. The HNSW container deleted.
  {
    const dir = base('nohnsw');
    fs.rmSync(path.join(dir, 'hnsw.idx'));
    fx.nohnsw = { name: 'nohnsw', dir, tar: snapshot(dir, path.join(root, 'nohnsw.tar')), tarKind: 'snapshot', file: 'hnsw.idx' };
  }
  return fx;
}

/**
 * A real snapshot (`t4dx snapshot create` of the healthy store) damaged after it was
 * taken: one byte of its first segment's vectors.f32 member flipped, as bit rot or a bad
 * copy would. Its t4dx_snapshot.json digest no longer matches that member.
 */
export function damagedSnapshot(fromTar, tar) {
  fs.copyFileSync(fromTar, tar);
  const member = tarMembers(tar).find((n) => /^seg_\d{6,}\/vectors\.f32$/.test(n));
  const m = tarMember(tar, member);
  flipByte(tar, m.offset + 100);
  return { tar, member, segment: member.slice(4, member.indexOf('/')) };
}

// --------------------------------------------------------------------- server, browser

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
};

/** Serves web/dist on 127.0.0.1 (a random port). Counts the bytes served per path. */
export function startServer(root = DIST) {
  const served = new Map();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let p = decodeURIComponent(url.pathname);
    if (p.endsWith('/')) p += 'index.html';
    const file = path.join(root, path.normalize(p).replace(/^(\.\.[/\\])+/, ''));
    if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const body = fs.readFileSync(file);
    served.set(p, body.length);
    res.writeHead(200, { 'content-type': MIME[path.extname(file)] || 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-store' });
    res.end(body);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}/`, served, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Debian's Chromium with a fresh profile. Returns {context, close}. */
export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  const userDataDir = tempDir('t4dx-web-profile-');
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** A new page; page errors and console errors are collected in page.errors. */
export async function newPage(context, url) {
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  await page.goto(url);
  return page;
}

/** Loads a fixture through the folder input or the .tar input; waits for the overview. */
export async function loadInto(page, { dir, tar }, mode, timeout = 120000) {
  if (mode === 'folder') await page.setInputFiles('#folder-input', dir);
  else await page.setInputFiles('#tar-input', tar);
  await page.waitForFunction(() => ['loaded', 'error'].includes(document.body.dataset.state) && !!(document.querySelector('#verdict') || document.body.dataset.state === 'error'), null, { timeout });
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state !== 'loaded') throw new Error(`load failed: ${await page.textContent('#error')}`);
}

/** The problems shown on the overview. */
export function problems(page) {
  return page.$$eval('#problems li.problem', (els) => els.map((e) => ({
    kind: e.dataset.kind,
    severity: e.dataset.severity,
    file: e.dataset.file,
    line: e.dataset.line === '' ? null : Number(e.dataset.line),
    offset: e.dataset.offset === '' ? null : Number(e.dataset.offset),
    segment: e.dataset.segment,
    text: e.textContent,
  })));
}
