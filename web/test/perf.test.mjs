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
  const start = Date.now();
  await page.setInputFiles('#tar-input', tar);
  await page.waitForSelector('#verdict', { timeout: 20 * 60 * 1000 });
  const ms = Date.now() - start;
  const model = await page.evaluate(() => {
    const m = window.t4dxInspector.model;
    return { verdict: m.diagnosis.verdict, problems: m.diagnosis.problems.map((p) => `${p.severity} ${p.title}: ${p.reason}`), count: m.engine.count, timings: m.timings };
  });
  const line = `inspector: ${N}-item snapshot (${(size / 1048576).toFixed(1)} MiB, ${DIM}-d) -> overview in ${ms} ms; verdict ${model.verdict}` +
    `${model.problems.length ? ` (${model.problems.join('; ')})` : ''}; steps ${JSON.stringify(model.timings)} (fixture made in ${made} ms)`;
  const served = [...server.served.values()].reduce((a, b) => a + b, 0);
  console.log(line);
  console.log(`inspector: the page downloaded ${served} bytes (${[...server.served.keys()].length} files) before the overview showed`);
  t.diagnostic(line);
  // Healthy, or notes only (e.g. an index that lags the newest segment).
  assert.ok(['healthy', 'notes'].includes(model.verdict), model.problems.join('\n'));
  assert.equal(model.count, N);
  assert.deepEqual(page.errors, []);
  await page.close();
});
