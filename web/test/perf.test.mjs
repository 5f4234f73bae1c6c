// Opens a 100k-item snapshot (made by the native t4dx) through the .tar input and reports
// how long the page takes until the overview shows. Prints the time; asserts behaviour only.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { importItems, launchBrowser, newPage, requireBuild, snapshot, startServer, t4dx, tempDir } from './helpers.mjs';

const N = Number(process.env.T4DX_WEB_PERF_ITEMS || 100000);
const DIM = 32;
let root;
let server;
let browser;

before(async () => {
  requireBuild();
  root = tempDir();
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test(`a ${N}-item snapshot opens and the overview shows (time reported)`, { timeout: 30 * 60 * 1000 }, async (t) => {
  const dir = path.join(root, 'big');
  const t0 = Date.now();
  importItems(dir, 0, N, { dim: DIM, batch: 1000 });
  t4dx(['--data', dir, 'hnsw', 'rebuild']);
  const tar = snapshot(dir, path.join(root, 'big.tar'));
  const made = Date.now() - t0;
  const size = fs.statSync(tar).size;

  const page = await newPage(browser.context, server.url);
  // The page's own thread keeps drawing while the Worker loads: count its frames.
  await page.evaluate(() => {
    window.frames_ = { n: 0, maxGap: 0, last: performance.now() };
    const tick = (t) => {
      const f = window.frames_;
      f.maxGap = Math.max(f.maxGap, t - f.last);
      f.last = t;
      f.n++;
      if (document.body.dataset.state !== 'loaded') requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const start = Date.now();
  await page.setInputFiles('#tar-input', tar);
  // The progress bar moves while the engine scans (before the overview exists).
  await page.waitForFunction(() => window.t4dxInspector.progressLog.some((e) => e.stage !== 'start' && e.fraction > 0 && e.bytesRead > 0),
    null, { timeout: 20 * 60 * 1000 });
  const midway = await page.evaluate(() => ({ state: document.body.dataset.state, label: document.querySelector('#progress-label').textContent, hidden: document.querySelector('#progress-box').hidden }));
  await page.waitForSelector('#verdict', { timeout: 20 * 60 * 1000 });
  const ms = Date.now() - start;
  const model = await page.evaluate(() => {
    const m = window.t4dxInspector.model;
    return { verdict: m.diagnosis.verdict, problems: m.diagnosis.problems.map((p) => `${p.severity} ${p.title}: ${p.reason}`), count: m.engine.count, timings: m.timings, bytesRead: m.bytesRead };
  });
  const log = await page.evaluate(() => window.t4dxInspector.progressLog);
  const frames = await page.evaluate(() => window.frames_);
  const line = `inspector: ${N}-item snapshot (${(size / 1048576).toFixed(1)} MiB, ${DIM}-d) -> overview in ${ms} ms; verdict ${model.verdict}` +
    `${model.problems.length ? ` (${model.problems.join('; ')})` : ''}; steps ${JSON.stringify(model.timings)} (fixture made in ${made} ms)`;
  const served = [...server.served.values()].reduce((a, b) => a + b, 0);
  console.log(line);
  console.log(`inspector: ${log.length} progress updates; ${(model.bytesRead / 1048576).toFixed(1)} MiB read from the archive (${(model.bytesRead / size).toFixed(2)}x its size); ` +
    `the page drew ${frames.n} frames during the load (longest gap ${Math.round(frames.maxGap)} ms)`);
  console.log(`inspector: the page downloaded ${served} bytes (${[...server.served.keys()].length} files) before the overview showed`);
  t.diagnostic(line);
  // Healthy, or notes only (e.g. an index that lags the newest segment).
  assert.ok(['healthy', 'notes'].includes(model.verdict), model.problems.join('\n'));
  assert.equal(model.count, N);
  // Progress: shown while loading, every stage in order, moving inside the long scans.
  assert.equal(midway.hidden, false);
  if (midway.state === 'loading') assert.match(midway.label, / read$/);
  assert.deepEqual([...new Set(log.map((e) => e.stage))], ['start', 'check', 'snapshot', 'wal', 'open', 'views', 'done']);
  const inside = log.filter((e) => ['check', 'snapshot'].includes(e.stage) && e.bytesRead > 0);
  assert.ok(inside.length >= 2, `progress inside the checks: ${JSON.stringify(log.slice(0, 20))}`);
  assert.ok(frames.n > 1, 'the page kept drawing while the Worker worked');
  assert.deepEqual(page.errors, []);
  await page.close();
});
