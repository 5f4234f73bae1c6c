// The inspector in real headless Chromium on fixtures made by the native t4dx: for each
// fixture (healthy; torn WAL tail; flipped byte in a segment; corrupt global_index.json;
// missing HNSW container), loaded through the folder input and through a .tar, the
// verdict and the exact problem shown (which segment, which line and byte offset).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  OUT, launchBrowser, loadInto, makeFixtures, newPage, problems, requireBuild, startServer, tempDir,
} from './helpers.mjs';

let root;
let fx;
let server;
let browser;

before(async () => {
  requireBuild();
  root = tempDir();
  fx = makeFixtures(root);
  server = await startServer();
  browser = await launchBrowser();
  fs.mkdirSync(OUT, { recursive: true });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

async function open(name, mode) {
  const page = await newPage(browser.context, server.url);
  await loadInto(page, fx[name], mode);
  return page;
}

async function verdict(page) {
  return page.getAttribute('#verdict', 'data-verdict');
}

function noPageErrors(page) {
  assert.deepEqual(page.errors, [], 'no page or console errors');
}

for (const mode of ['folder', 'tar']) {
  describe(`loaded through the ${mode === 'folder' ? 'folder input (webkitdirectory)' : '.tar input'}`, () => {
    test('healthy store: verdict healthy, no problem, views consistent', async () => {
      const page = await open('healthy', mode);
      assert.equal(await verdict(page), 'healthy');
      assert.deepEqual(await problems(page), []);
      // Segments: every checksum verified; the WAL holds the 4 records above the flush.
      await page.click('a[data-view="segments"]');
      await page.waitForSelector('[data-testid="segments-table"]');
      const states = await page.$$eval('[data-testid="segments-table"] tbody tr', (rs) => rs.map((r) => r.dataset.checksum));
      assert.ok(states.length >= 1);
      assert.ok(states.every((s) => s === 'verified'), states.join(','));
      await page.waitForSelector('#segments-chart[data-chart="ready"]');
      await page.click('a[data-view="global-index"]');
      const gi = await page.$$eval('#gi-checks tbody tr', (rs) => rs.map((r) => r.dataset.ok));
      assert.ok(gi.length >= 5 && gi.every((x) => x === 'true'), gi.join(','));
      await page.click('a[data-view="wal"]');
      await page.waitForSelector('#wal-table tbody tr');
      assert.match(await page.textContent('#wal-problems'), /Every line of every WAL file passes its checksum/);
      noPageErrors(page);
      await page.close();
    });

    test('torn WAL tail: healthy with a note naming wal.jsonl, its line and byte offset', async () => {
      const t = fx.torn;
      const page = await open('torn', mode);
      assert.equal(await verdict(page), 'notes');
      const ps = await problems(page);
      const p = ps.find((x) => x.kind === 'wal_torn');
      assert.ok(p, JSON.stringify(ps));
      assert.equal(p.severity, 'info');
      assert.equal(p.file, 'wal.jsonl');
      assert.equal(p.line, t.line);
      assert.equal(p.offset, t.offset);
      assert.ok(p.text.includes(`line ${t.line}, byte ${t.offset}`), p.text);
      assert.ok(p.text.includes('t4dx --data') && p.text.includes('wal repair'), 'names the fixing command');
      assert.ok(p.text.includes('Issue: Storage Recovery Fails After Crash'), 'names the runbook section');
      if (mode === 'folder') await page.screenshot({ path: path.join(OUT, 'overview-torn-tail.png'), fullPage: true });

      // The WAL view marks the torn line with its line, offset and reason.
      await page.click('#problems li[data-kind="wal_torn"] a');
      await page.waitForSelector('#wal-problems li[data-kind="torn_tail"]');
      const li = await page.$eval('#wal-problems li', (e) => ({ line: Number(e.dataset.line), offset: Number(e.dataset.offset), file: e.dataset.file, text: e.textContent }));
      assert.equal(li.line, t.line);
      assert.equal(li.offset, t.offset);
      assert.equal(li.file, 'wal.jsonl');
      assert.match(li.text, new RegExp(`line ${t.line}, byte offset ${t.offset} \\(${t.length} bytes`));
      await page.waitForSelector('#wal-chart[data-chart="ready"]');
      await page.click('#wal-last');
      await page.waitForSelector('#wal-table tr[data-problem="torn_tail"]');
      if (mode === 'folder') await page.screenshot({ path: path.join(OUT, 'wal-torn-tail.png'), fullPage: true });
      noPageErrors(page);
      await page.close();
    });

    test('flipped byte in a segment: damaged, names the segment, its file and the block offset', async () => {
      const t = fx.segflip;
      const page = await open('segflip', mode);
      assert.equal(await verdict(page), 'damaged');
      const ps = await problems(page);
      assert.equal(ps[0].kind, 'segment_checksum', 'worst first');
      assert.equal(ps[0].severity, 'error');
      assert.equal(ps[0].segment, t.segment);
      assert.equal(ps[0].file, t.file);
      assert.equal(ps[0].offset, t.offset);
      assert.ok(ps[0].text.includes(`Segment ${t.segment} fails its checksum`), ps[0].text);
      assert.ok(ps[0].text.includes(`segment repair ${t.segment}`), ps[0].text);
      assert.ok(ps[0].text.includes('Issue: Segment Checksum Failure'));
      // Its row in the segments table says which file and offset failed.
      await page.click('#problems li[data-kind="segment_checksum"] a');
      const row = await page.waitForSelector(`[data-testid="segments-table"] tr[data-segment="${t.segment}"]`);
      assert.equal(await row.getAttribute('data-checksum'), 'failed');
      assert.match(await row.textContent(), new RegExp(`FAILED: ${t.file.replace('.', '\\.')} @ byte ${t.offset}`));
      await page.waitForSelector(`#segment-detail[data-segment="${t.segment}"]`);
      const others = await page.$$eval('[data-testid="segments-table"] tbody tr', (rs) => rs.filter((r) => r.dataset.checksum === 'failed').length);
      assert.equal(others, 1, 'only that segment fails');
      noPageErrors(page);
      await page.close();
    });

    test('corrupt global_index.json: damaged, names the file and why', async () => {
      const t = fx.gindex;
      const page = await open('gindex', mode);
      const v = await verdict(page);
      const ps = await problems(page);
      const p = ps.find((x) => x.kind === 'global_index');
      assert.ok(p, JSON.stringify(ps));
      assert.equal(p.severity, 'error');
      assert.equal(p.file, t.file);
      // The JSON parser stops at the replaced byte (or just after it).
      assert.ok(p.offset === t.at || p.offset === t.at + 1, `offset ${p.offset}, damage at ${t.at}`);
      assert.ok(p.text.includes(`byte offset ${p.offset}`), p.text);
      assert.ok(['damaged', 'unreadable'].includes(v), v);
      assert.equal(v, ps.some((x) => x.severity === 'critical') ? 'unreadable' : 'damaged');
      assert.ok(p.text.includes('global-index rebuild'), p.text);
      assert.ok(p.text.includes('Global Index Corrupted'));
      await page.click('a[data-view="global-index"]');
      const first = await page.$eval('#gi-checks tbody tr', (r) => ({ ok: r.dataset.ok, text: r.textContent }));
      assert.equal(first.ok, 'false');
      assert.match(first.text, /global_index\.json/);
      noPageErrors(page);
      await page.close();
    });

    test('missing HNSW container: healthy with a note, view says the container is missing', async () => {
      const page = await open('nohnsw', mode);
      assert.equal(await verdict(page), 'notes');
      const ps = await problems(page);
      assert.equal(ps.length, mode === 'tar' && fx.nohnsw.tarKind === 'plain' ? 2 : 1, JSON.stringify(ps));
      const p = ps.find((x) => x.kind === 'hnsw');
      assert.equal(p.severity, 'info');
      assert.equal(p.file, 'hnsw.idx');
      assert.ok(p.text.includes('hnsw rebuild'));
      await page.click('#problems li[data-kind="hnsw"] a');
      await page.waitForSelector('#hnsw-container');
      assert.match(await page.textContent('#hnsw-container'), /hnsw\.idx.*missing/);
      noPageErrors(page);
      await page.close();
    });
  });
}

test('items: look-up by id and similar items with a filter, the plan drawn as a diagram', async () => {
  const page = await open('healthy', 'folder');
  await page.keyboard.press('/');
  await page.waitForSelector('#item-id:focus');
  await page.fill('#item-id', 'item-000006');
  await page.press('#item-id', 'Enter');
  await page.waitForSelector('#item-detail[data-found="true"]');
  const kv = await page.textContent('#item-kv');
  assert.match(kv, /16-d, norm/);
  assert.match(kv, /memory 6: the quick brown fox 6/);
  await page.fill('#sim-kind', 'note');
  await page.fill('#sim-k', '5');
  await page.click('#similar-go');
  await page.waitForSelector('#plan-diagram');
  const hits = await page.$$eval('#similar-table tbody tr', (rs) => rs.map((r) => r.children[3].textContent));
  assert.equal(hits.length, 5);
  assert.ok(hits.every((k) => k === 'note'), hits.join(','));
  const first = await page.$eval('#similar-table tbody tr td:nth-child(2)', (e) => e.textContent);
  assert.equal(first, 'item-000006', 'the item itself is the best match');
  const diagram = await page.textContent('#plan-diagram');
  assert.match(diagram, /MemTable/);
  assert.match(diagram, /kind/);
  noPageErrors(page);
  await page.close();
});

test('diagnosis report downloads as JSON and Markdown with the exact problem', async () => {
  const t = fx.torn;
  const page = await open('torn', 'folder');
  const [dj] = await Promise.all([page.waitForEvent('download'), page.click('#download-json')]);
  const json = JSON.parse(fs.readFileSync(await dj.path(), 'utf8'));
  assert.equal(json.format, 't4dx-inspector-report');
  assert.equal(json.verdict.code, 'notes');
  const p = json.problems.find((x) => x.area === 'wal');
  assert.equal(p.file, 'wal.jsonl');
  assert.equal(p.line, t.line);
  assert.equal(p.offset, t.offset);
  assert.ok(json.engine.check_files && json.engine.views.status, 'carries the engine reports');
  const [dm] = await Promise.all([page.waitForEvent('download'), page.click('#download-md')]);
  const md = fs.readFileSync(await dm.path(), 'utf8');
  assert.match(md, /^# T4DX diagnosis: Healthy, with notes/);
  assert.ok(md.includes(`file \`wal.jsonl\`, line ${t.line}, byte offset ${t.offset}`), md);
  assert.ok(md.includes('t4dx --data DIR wal repair'));
  await page.close();
});

test('keyboard: digits switch views, [ and ] page the WAL table', async () => {
  const page = await open('healthy', 'folder');
  for (const [key, view] of [['2', 'segments'], ['3', 'wal'], ['4', 'global-index'], ['5', 'hnsw'], ['7', 'history'], ['1', 'overview']]) {
    await page.keyboard.press(key);
    await page.waitForSelector(`#view[data-view="${view}"]`);
  }
  await page.keyboard.press('7');
  await page.waitForSelector('[data-testid="history-table"] tbody tr');
  await page.waitForSelector('#history-chart[data-chart="ready"]');
  noPageErrors(page);
  await page.close();
});

test('drag and drop of a .tar snapshot', async () => {
  const t = fx.segflip;
  const page = await newPage(browser.context, server.url);
  const b64 = fs.readFileSync(t.tar).toString('base64');
  await page.evaluate(({ b64, name }) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], name, { type: 'application/x-tar' }));
    document.querySelector('#dropzone').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, { b64, name: path.basename(t.tar) });
  await page.waitForSelector('#verdict');
  assert.equal(await verdict(page), 'damaged');
  const ps = await problems(page);
  assert.equal(ps[0].segment, t.segment);
  assert.equal(ps[0].file, t.file);
  assert.equal(await page.evaluate(() => window.t4dxInspector.model.source.kind), 'archive');
  noPageErrors(page);
  await page.close();
});

test('picking a data root that holds several stores offers a choice', async () => {
  const page = await newPage(browser.context, server.url);
  await page.setInputFiles('#folder-input', root);
  await page.waitForSelector('#chooser button');
  const names = await page.$$eval('#chooser button', (bs) => bs.map((b) => b.textContent.split('/').pop()));
  assert.deepEqual(names.sort(), ['gindex', 'healthy', 'nohnsw', 'segflip', 'torn']);
  await page.click('#chooser button:text-matches("torn$")');
  await page.waitForSelector('#verdict');
  assert.equal(await verdict(page), 'notes');
  const p = (await problems(page)).find((x) => x.kind === 'wal_torn');
  assert.equal(p.line, fx.torn.line);
  assert.equal(p.offset, fx.torn.offset);
  noPageErrors(page);
  await page.close();
});

test('a store kept in this browser\'s OPFS (written with the npm package) opens by name', async () => {
  const page = await newPage(browser.context, server.url);
  const n = await page.evaluate(async () => {
    const pkg = await import('./t4dx_browser.js');
    const s = await pkg.open({ path: 'agent-1', dim: 8, flushThreshold: 50 });
    const items = [];
    for (let i = 0; i < 120; i++) {
      items.push({ id: `o${i}`, kind: 'note', content: `opfs item ${i}`, embedding: Array.from({ length: 8 }, (_, d) => Math.cos(i * 7 + d)) });
    }
    await s.putBatch(items.slice(0, 60));
    await s.putBatch(items.slice(60));
    await s.maintain();
    const count = await s.count();
    await s.close();
    return count;
  });
  assert.equal(n, 120);
  await page.fill('#opfs-name', 'agent-1');
  await page.click('#opfs-form button[type="submit"]');
  await page.waitForSelector('#verdict');
  assert.equal(await verdict(page), 'healthy');
  const m = await page.evaluate(() => ({ kind: window.t4dxInspector.model.source.kind, count: window.t4dxInspector.model.engine.count }));
  assert.deepEqual(m, { kind: 'opfs', count: 120 });
  noPageErrors(page);
  await page.close();
});
