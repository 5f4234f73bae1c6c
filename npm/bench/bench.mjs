// npm run bench: the WASM benchmark of issue 8. The same workloads as the native
// t4dx-bench (core/tools/bench), run through this package in Node (system
// "t4dx-wasm-node") and in headless Chromium over OPFS (system "t4dx-wasm-chromium"),
// next to the native engine on the same rows (build/bin/t4dx-bench, system "t4dx") and
// the npm package hnswlib-wasm in Chromium ("hnswlib-wasm-chromium"; its build runs in
// browsers only). Prints one JSON line per result in t4dx-bench's format (`--out FILE`
// holds this run's lines: the file is replaced, as make bench replaces its own) and a
// table of ratios on stderr.
//
//   npm run bench -- [--n 20000] [--nq 1000] [--ef 10,20,40,80,160,320] [--runs 3]
//                    [--ingest-n 3000] [--batch-n 20000] [--search-batch 100] [--workloads ingest,ann]
//                    [--systems node,chromium,native,hnswlib-wasm] [--data DIR]
//                    [--native-bench BIN] [--chromium BIN] [--out FILE]
//
// ingest: a fresh store, sync "always", batch 1 (--ingest-n items, put) and batch 100
//   (--batch-n items, putBatch), timed until every item is durable and searchable.
// ann: the first --n rows loaded (PutBatch of 1000, flush, compact, indexed), then
//   recall@10 and single-thread queries/s per --ef (warm-up: 200 queries and 1 s; the fastest of
//   --runs passes), and queries/s at recall@10 >= 0.95; ground truth: gt100.ibin when
//   every row is used, else the exact answer over the first --n rows. Then the same with
//   --search-batch queries per call (0: not run): store.searchBatch() in Node
//   ("t4dx-wasm-node-batch100") and Chromium ("t4dx-wasm-chromium-batch100", one message
//   per batch) and hnswlib-wasm's Worker looping searchKnn ("hnswlib-wasm-chromium-batch100");
//   their p50_ms/p99_ms are latencies of one call (of a whole batch). And workload "ann-rpc"
//   (Chromium): per ef, the mean round trip of one search() seen by the page, the time the
//   Worker spent on it, and the difference (postMessage, structured clone, thread wake-ups).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { open } from '../dist/node.js';
import { itemBytes, loadDataset, qpsAtRecall, recallAtK } from './data.mjs';
import { annLoad, ingest, makeItems, t4dxSearch, t4dxSearchBatch, timeSearchBatches, timeSearches }
  from './workloads.js';

const NPM_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO_DIR = path.resolve(NPM_DIR, '..');
const TARGET_RECALL = 0.95;
const M = 16;
const EF_CONSTRUCTION = 200;
const K = 10;

function parseArgs(argv) {
  const o = {
    n: 20000, nq: 1000, ef: [10, 20, 40, 80, 160, 320], runs: 3, ingestN: 3000, batchN: 20000, searchBatch: 100,
    workloads: ['ingest', 'ann'], systems: ['node', 'chromium', 'native', 'hnswlib-wasm'],
    data: path.resolve(REPO_DIR, '..', 'shared', 'data', 'debian'),
    nativeBench: process.env.T4DX_BENCH || path.join(REPO_DIR, 'build', 'bin', 't4dx-bench'),
    chromium: process.env.T4DX_CHROMIUM || '/usr/bin/chromium', out: null,
  };
  const list = (v) => v.split(',').filter(Boolean);
  const num = (a, v) => {
    const x = Number(v);
    if (!Number.isFinite(x) || x <= 0) throw new Error(`${a}: expected a positive number, got '${v}'`);
    return Math.floor(x);
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let v;
    if (a.startsWith('--') && a.includes('=')) [a, v] = [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)];
    const value = () => {
      if (v !== undefined) return v;
      if (i + 1 >= argv.length) throw new Error(`${a}: missing value`);
      return argv[++i];
    };
    if (a === '--n') o.n = num(a, value());
    else if (a === '--nq') o.nq = num(a, value());
    else if (a === '--ef') o.ef = list(value()).map((x) => num(a, x));
    else if (a === '--runs') o.runs = num(a, value());
    else if (a === '--ingest-n') o.ingestN = num(a, value());
    else if (a === '--batch-n') o.batchN = num(a, value());
    else if (a === '--search-batch') {
      const x = value();
      o.searchBatch = x === '0' ? 0 : num(a, x);
    }
    else if (a === '--workloads') o.workloads = list(value());
    else if (a === '--systems') o.systems = list(value());
    else if (a === '--data') o.data = path.resolve(value());
    else if (a === '--native-bench') o.nativeBench = path.resolve(value());
    else if (a === '--chromium') o.chromium = value();
    else if (a === '--out') o.out = path.resolve(value());
    else if (a === '--help' || a === '-h') {
      process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport ')[0]
        .replace(/^\/\/ ?/gm, '') + '\n');
      process.exit(0);
    } else throw new Error(`unknown option '${a}' (see --help)`);
  }
  for (const w of o.workloads) if (!['ingest', 'ann'].includes(w)) throw new Error(`--workloads: unknown '${w}'`);
  for (const s of o.systems) {
    if (!['node', 'chromium', 'native', 'hnswlib-wasm'].includes(s)) throw new Error(`--systems: unknown '${s}'`);
  }
  return o;
}

const log = (s) => process.stderr.write(`bench: ${s}\n`);

function machine() {
  const cpus = os.cpus();
  return `${cpus.length} cores (${cpus[0]?.model ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM`;
}

class Reporter {
  constructor(opts) {
    this.opts = opts;
    this.lines = [];
    this.date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    this.command = ['npm run bench --', ...process.argv.slice(2)].join(' ');
    this.machine = machine();
    if (opts.out) {
      fs.mkdirSync(path.dirname(opts.out), { recursive: true });
      fs.writeFileSync(opts.out, '');  // this run's lines only (report tables read them all)
    }
  }
  emit(workload, system, params, figures) {
    const line = { workload, system, params, figures, machine: this.machine,
      load_average: Number(os.loadavg()[0].toFixed(2)), date: this.date, command: this.command };
    this.lines.push(line);
    const text = JSON.stringify(line);
    process.stdout.write(text + '\n');
    if (this.opts.out) fs.appendFileSync(this.opts.out, text + '\n');
  }
}

function baseParams(o, ds, n) {
  return { M, data: path.join(o.data, 'base.fbin'), dim: ds.dim, ef_construction: EF_CONSTRUCTION, n };
}

// ---- Node ------------------------------------------------------------------------------

function dirBytes(dir) {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return total;
}

async function nodeIngest(ds, n, batch) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 't4dx-bench-'));
  try {
    const dir = path.join(tmp, 'store');
    const items = makeItems(ds.items, ds.base, ds.dim, 0, n);
    const r = await ingest({ open: (o) => open({ ...o, idleMs: 1000 }), path: dir, dim: ds.dim, items, batch,
      m: M, efConstruction: EF_CONSTRUCTION });
    const storeBytes = dirBytes(dir);
    return { ...r, store_bytes: storeBytes, disk_bytes_per_vector: storeBytes / n };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function nodeAnn(ds, o) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 't4dx-bench-'));
  try {
    const { store, build_s } = await annLoad({ open, path: path.join(tmp, 'store'), dim: ds.dim, meta: ds.items,
      base: ds.base, n: ds.n, m: M, efConstruction: EF_CONSTRUCTION });
    const queries = [];
    for (let q = 0; q < ds.nq; q++) queries.push(ds.queries.slice(q * ds.dim, (q + 1) * ds.dim));
    const points = [];
    const batchPoints = [];
    try {
      const search = t4dxSearch(store, K);
      for (const ef of o.ef) {
        points.push({ ef, ...(await timeSearches({ search, queries, ef, runs: o.runs })) });
        log(`ann t4dx-wasm-node ef=${ef} done`);
      }
      if (o.searchBatch > 0) {
        const searchBatch = t4dxSearchBatch(store, K);
        for (const ef of o.ef) {
          batchPoints.push({ ef, ...(await timeSearchBatches({ searchBatch, queries, ef, runs: o.runs, batch: o.searchBatch })) });
        }
        log(`ann t4dx-wasm-node batch ${o.searchBatch} done`);
      }
    } finally {
      await store.close();
    }
    return { build_s, points, batchPoints };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// ---- Chromium --------------------------------------------------------------------------

const MIME = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.json': 'application/json' };

async function withChromium(o, ds, fn) {
  const { chromium } = await import('playwright-core');
  const dataFiles = new Map([
    ['/data/info.json', Buffer.from(JSON.stringify({ dim: ds.dim, nAll: ds.nAll, nq: ds.nq }))],
    ['/data/base.f32', Buffer.from(ds.base.buffer, ds.base.byteOffset, ds.nAll * ds.dim * 4)],
    ['/data/queries.f32', Buffer.from(ds.queries.buffer, ds.queries.byteOffset, ds.nq * ds.dim * 4)],
    ['/data/meta.json', Buffer.from(JSON.stringify(ds.items))],
  ]);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    let body = dataFiles.get(url.pathname);
    let ext = path.extname(url.pathname);
    if (!body) {
      const file = path.join(NPM_DIR, path.normalize(url.pathname));
      const allowed = ['dist', 'bench', path.join('node_modules', 'hnswlib-wasm')]
        .some((d) => file.startsWith(path.join(NPM_DIR, d) + path.sep));
      if (!allowed || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
        res.writeHead(404);
        res.end();
        return;
      }
      body = fs.readFileSync(file);
      ext = path.extname(file);
    }
    res.writeHead(200, { 'content-type': MIME[ext] || 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 't4dx-bench-chromium-'));
  let context = null;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: o.chromium,
      headless: true,
      timeout: 60000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const page = await context.newPage();
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') log(`page console: ${m.text()}`); });
    await page.goto(`http://127.0.0.1:${server.address().port}/bench/page.html`);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 60000 });
    await page.evaluate(() => window.bench.load());
    return await fn(page);
  } finally {
    if (context) await context.close().catch(() => {});
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

// ---- native ----------------------------------------------------------------------------

function runNative(o, args) {
  const out = execFileSync(o.nativeBench, [...args, '--data', o.data, '--systems', 't4dx', '--json'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  return out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

// ---- figures ---------------------------------------------------------------------------

function annFigures(ds, points, rowsById) {
  return points.map((p) => {
    const found = p.found.map((ids) => ids.map((id) => (typeof id === 'number' ? id : rowsById.get(id) ?? -1)));
    return { ef: p.ef, recall: recallAtK(found, ds.gt, K), qps: p.qps, p50_ms: p.p50_ms, p99_ms: p.p99_ms };
  });
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const rep = new Reporter(o);
  const doIngest = o.workloads.includes('ingest');
  const doAnn = o.workloads.includes('ann');
  const has = (s) => o.systems.includes(s);
  const chromiumWanted = has('chromium') || has('hnswlib-wasm');
  if (chromiumWanted && !fs.existsSync(o.chromium)) throw new Error(`no Chromium at ${o.chromium} (--chromium)`);
  if (has('native') && !fs.existsSync(o.nativeBench)) {
    log(`no native t4dx-bench at ${o.nativeBench} (make build-native, or --native-bench): native skipped`);
    o.systems = o.systems.filter((s) => s !== 'native');
  }
  if (has('hnswlib-wasm') && !fs.existsSync(path.join(NPM_DIR, 'node_modules', 'hnswlib-wasm', 'dist', 'hnswlib.js'))) {
    log('hnswlib-wasm is not installed (cd npm && npm ci): hnswlib-wasm skipped');
    o.systems = o.systems.filter((s) => s !== 'hnswlib-wasm');
  }
  const nAll = Math.max(doAnn ? o.n : 0, doIngest ? Math.max(o.ingestN, o.batchN) : 0);
  const ds = loadDataset({ dir: o.data, n: doAnn ? o.n : nAll, nAll, nq: o.nq, k: K, log });
  log(`data: ${ds.nAll} rows of ${ds.dim} dims, ${ds.nq} queries, ground truth ${ds.gtSource}`);
  const rowsById = new Map(ds.items.map((it, i) => [it.id, i]));
  const ingests = [];  // {system, batch, figures}
  const anns = [];     // {system, points, build_s, batch?}
  const rpcTimings = [];  // Chromium search() round trips: {ef, rtt_us, worker_us, ...}
  const batchName = (system) => `${system}-batch${o.searchBatch}`;

  if (doIngest) {
    for (const [n, batch] of [[o.ingestN, 1], [o.batchN, 100]]) {
      const bytes = ds.items.slice(0, n).reduce((s, it) => s + itemBytes(it, ds.dim), 0);
      const params = { ...baseParams(o, ds, n), batch, sync: 'always', threads: 1 };
      const add = (system, r, extra = {}) => {
        const figures = { items: n, seconds: r.seconds, ack_seconds: r.ack_seconds, items_per_s: n / r.seconds,
          MB_per_s: bytes / r.seconds / 1e6, bytes_ingested: bytes, ...extra };
        ingests.push({ system, batch, params, figures });
      };
      if (has('native')) {
        log(`ingest native batch=${batch} n=${n}`);
        const [r] = runNative(o, ['ingest', '--n', String(n), '--sync', 'always', '--threads', '1', '--batch', String(batch)]);
        ingests.push({ system: 't4dx', batch, params, figures: r.figures });
      }
      if (has('node')) {
        log(`ingest t4dx-wasm-node batch=${batch} n=${n}`);
        const r = await nodeIngest(ds, n, batch);
        add('t4dx-wasm-node', r, { ...r.stats, store_bytes: r.store_bytes, disk_bytes_per_vector: r.disk_bytes_per_vector });
      }
      if (has('chromium')) {
        log(`ingest t4dx-wasm-chromium batch=${batch} n=${n}`);
        const r = await withChromium(o, ds, (page) => page.evaluate((a) => window.bench.ingest(a),
          { n, batch, m: M, efConstruction: EF_CONSTRUCTION }));
        add('t4dx-wasm-chromium', r, r.stats);
      }
    }
  }

  if (doAnn) {
    const annOpts = { n: ds.n, k: K, efs: o.ef, runs: o.runs, m: M, efConstruction: EF_CONSTRUCTION,
      batch: o.searchBatch, timing: true };
    if (has('native')) {
      log(`ann native n=${ds.n}`);
      const lines = runNative(o, ['ann', '--n', String(ds.n), '--nq', String(ds.nq), '--ef', o.ef.join(','),
        '--runs', String(o.runs)]);
      const points = lines.filter((l) => l.params.ef !== undefined)
        .map((l) => ({ ef: l.params.ef, recall: l.figures.recall_at_10, qps: l.figures.qps, p50_ms: l.figures.p50_ms, p99_ms: l.figures.p99_ms }));
      const summary = lines.find((l) => l.params.summary);
      anns.push({ system: 't4dx', points, build_s: summary?.figures.build_s ?? 0 });
    }
    if (has('node')) {
      log(`ann t4dx-wasm-node n=${ds.n}`);
      const r = await nodeAnn(ds, o);
      anns.push({ system: 't4dx-wasm-node', points: annFigures(ds, r.points, rowsById), build_s: r.build_s });
      if (r.batchPoints.length) {
        anns.push({ system: batchName('t4dx-wasm-node'), points: annFigures(ds, r.batchPoints, rowsById),
          build_s: r.build_s, batch: o.searchBatch });
      }
    }
    if (has('chromium') || has('hnswlib-wasm')) {
      await withChromium(o, ds, async (page) => {
        if (has('chromium')) {
          log(`ann t4dx-wasm-chromium n=${ds.n}`);
          const r = await page.evaluate((a) => window.bench.ann(a), annOpts);
          anns.push({ system: 't4dx-wasm-chromium', points: annFigures(ds, r.points, rowsById), build_s: r.build_s });
          if (r.batchPoints.length) {
            anns.push({ system: batchName('t4dx-wasm-chromium'), points: annFigures(ds, r.batchPoints, rowsById),
              build_s: r.build_s, batch: o.searchBatch });
          }
          rpcTimings.push(...r.timings);
        }
        if (has('hnswlib-wasm')) {
          log(`ann hnswlib-wasm-chromium n=${ds.n}`);
          const r = await page.evaluate((a) => window.bench.hnswlib(a), annOpts);
          anns.push({ system: 'hnswlib-wasm-chromium', points: annFigures(ds, r.points, rowsById), build_s: r.build_s });
          if (r.batchPoints.length) {
            anns.push({ system: batchName('hnswlib-wasm-chromium'), points: annFigures(ds, r.batchPoints, rowsById),
              build_s: r.build_s, batch: o.searchBatch });
          }
        }
      });
    }
  }

  // Emit, with ratios: native over WASM (how many times slower WASM is) and t4dx in
  // Chromium over hnswlib-wasm (how many times faster t4dx is).
  const nativeIngest = new Map(ingests.filter((r) => r.system === 't4dx').map((r) => [r.batch, r.figures]));
  for (const r of ingests) {
    if (r.system === 't4dx') continue;
    const nat = nativeIngest.get(r.batch);
    if (nat) {
      r.figures.native_items_per_s = nat.items_per_s;
      r.figures.native_over_wasm_items_per_s = nat.items_per_s / r.figures.items_per_s;
    }
    rep.emit('ingest', r.system, r.params, r.figures);
  }
  const curve = (s) => anns.find((a) => a.system === s)?.points;
  const nat = curve('t4dx');
  // The hnswlib-wasm curve a t4dx Chromium curve is compared with (per call / batched).
  const hnswlibFor = (system) => (system === 't4dx-wasm-chromium' ? curve('hnswlib-wasm-chromium')
    : system === batchName('t4dx-wasm-chromium') ? curve(batchName('hnswlib-wasm-chromium')) : undefined);
  for (const a of anns) {
    if (a.system === 't4dx') continue;
    const hw = hnswlibFor(a.system);
    const params = { ...baseParams(o, ds, ds.n), nq: ds.nq, k: K, ground_truth: ds.gtSource,
      ...(a.batch ? { batch: a.batch } : {}) };
    for (const p of a.points) {
      const figures = { recall_at_10: p.recall, qps: p.qps, p50_ms: p.p50_ms, p99_ms: p.p99_ms };
      const n = nat?.find((x) => x.ef === p.ef);
      if (n) {
        figures.native_qps = n.qps;
        figures.native_recall_at_10 = n.recall;
        figures.native_over_wasm_qps_same_ef = n.qps / p.qps;
      }
      rep.emit('ann', a.system, { ...params, ef: p.ef }, figures);
    }
    const mine = qpsAtRecall(a.points, TARGET_RECALL);
    const figures = { [`qps_at_recall_${TARGET_RECALL}`]: mine.qps, [`ef_at_recall_${TARGET_RECALL}`]: mine.ef,
      build_s: a.build_s, build_vectors_per_s: ds.n / a.build_s };
    if (nat) {
      const nq = qpsAtRecall(nat, TARGET_RECALL);
      figures[`native_qps_at_recall_${TARGET_RECALL}`] = nq.qps;
      if (mine.qps > 0 && nq.qps > 0) figures[`native_over_wasm_qps_at_recall_${TARGET_RECALL}`] = nq.qps / mine.qps;
    }
    if (hw) {
      const h = qpsAtRecall(hw, TARGET_RECALL);
      figures[`hnswlib_wasm_qps_at_recall_${TARGET_RECALL}`] = h.qps;
      if (mine.qps > 0 && h.qps > 0) figures[`qps_ratio_to_hnswlib_wasm_at_recall_${TARGET_RECALL}`] = mine.qps / h.qps;
    }
    rep.emit('ann', a.system, { ...params, summary: true }, figures);
  }
  for (const t of rpcTimings) {
    const { ef, ...figures } = t;
    rep.emit('ann-rpc', 't4dx-wasm-chromium', { ...baseParams(o, ds, ds.n), nq: ds.nq, k: K, ef }, figures);
  }

  // The table.
  const f = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? '-' : Number(x).toFixed(d));
  const rows = [];
  for (const r of ingests) {
    rows.push(`ingest batch=${r.batch} n=${r.params.n}  ${r.system.padEnd(22)} items/s ${f(r.figures.items_per_s).padStart(9)}` +
      (r.figures.native_over_wasm_items_per_s ? `   native/this ${f(r.figures.native_over_wasm_items_per_s, 2)}x` : ''));
  }
  for (const a of anns) {
    const mine = qpsAtRecall(a.points, TARGET_RECALL);
    const pts = a.points.map((p) => `ef${p.ef}:${f(p.recall, 3)}/${f(p.qps, 0)}`).join(' ');
    let ratio = '';
    if (nat && a.system !== 't4dx' && !a.system.startsWith('hnswlib-wasm-chromium')) {
      const nq = qpsAtRecall(nat, TARGET_RECALL);
      if (mine.qps && nq.qps) ratio += `   native/this ${f(nq.qps / mine.qps, 2)}x`;
    }
    const hw = hnswlibFor(a.system);
    if (hw) {
      const h = qpsAtRecall(hw, TARGET_RECALL);
      if (mine.qps && h.qps) ratio += `   this/hnswlib-wasm ${f(mine.qps / h.qps, 2)}x`;
    }
    rows.push(`ann n=${ds.n}  ${a.system.padEnd(30)} qps@recall>=${TARGET_RECALL} ${f(mine.qps, 0).padStart(7)} (ef ${mine.ef})` +
      `${ratio}  [recall/qps ${pts}]`);
  }
  for (const t of rpcTimings) {
    rows.push(`ann-rpc ef=${t.ef}  t4dx-wasm-chromium search(): round trip ${f(t.rtt_us)} us = worker ${f(t.worker_us)} us` +
      ` + messaging ${f(t.overhead_us)} us`);
  }
  log('summary\n  ' + rows.join('\n  '));
  const wasm = path.join(NPM_DIR, 'dist', 'wasm', 't4dx.wasm');
  if (fs.existsSync(wasm)) {
    const { gzipSync } = await import('node:zlib');
    const raw = fs.readFileSync(wasm);
    log(`t4dx.wasm ${raw.length} bytes, ${gzipSync(raw, { level: 9 }).length} gzipped`);
  }
}

main().catch((e) => {
  process.stderr.write(`bench: ${e.stack || e}\n`);
  process.exit(1);
});
