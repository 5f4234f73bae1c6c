// The inspector in real headless Chromium on fixtures made by the native t4dx: for each
// fixture (healthy; torn WAL tail; flipped byte in a segment; corrupt global_index.json;
// missing HNSW container), loaded through the folder input and through a .tar, the
// verdict and the exact problem shown (which segment, which line and byte offset).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  DIST, OUT, damagedSnapshot, importItems, launchBrowser, loadInto, makeFixtures, newPage, problems, requireBuild, startServer,
  t4dx, tempDir, treeDigest,
} from './helpers.mjs';

let root;
let fx;
let server;
let browser;
let digests;

before(async () => {
  requireBuild();
  root = tempDir();
  fx = makeFixtures(root);
  fx.transit = damagedSnapshot(fx.healthy.tar, path.join(root, 'transit.tar'));
  // Every byte the tests hand to the page, to prove at the end that none changed.
  digests = treeDigest(root);
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

/** Opens a view by its tab and waits until the page has drawn it (routing runs on hashchange). */
async function showView(page, view) {
  await page.click(`a[data-view="${view}"]`);
  await page.waitForSelector(`#view[data-view="${view}"]`);
}

function noPageErrors(page) {
  assert.deepEqual(page.errors, [], 'no page or console errors');
}

// A plain `tar cf` of a copied store (what the operator makes of a store that
// `t4dx snapshot create` will not copy) carries no member digests, and the overview says
// so; a real snapshot's digests are checked and hold.
function assertArchiveNote(ps, name, mode) {
  const note = ps.find((x) => x.kind === 'snapshot');
  if (mode === 'tar' && fx[name].tarKind === 'plain') {
    assert.ok(note, `plain tar noted: ${JSON.stringify(ps)}`);
    assert.equal(note.severity, 'info');
    assert.match(note.text, /Plain tar archive \(not made by t4dx snapshot create\)/);
  } else {
    assert.equal(note, undefined, `no archive problem for a ${mode === 'tar' ? 'real snapshot' : 'folder'}: ${JSON.stringify(ps)}`);
  }
}

/** Whether every row of a table is drawn below its header (no header slid over them). */
function rowsBelowHeader(page, table) {
  return page.$eval(table, (t) => {
    const head = t.tHead.rows[0].cells[0].getBoundingClientRect();  // a sticky cell moves, its thead does not
    return [...t.tBodies[0].rows].every((r) => r.getBoundingClientRect().top >= head.bottom - 1);
  });
}

/** The "Records by op_type" table: {op -> records}. */
async function opTable(page) {
  await page.waitForSelector('#wal-ops');
  return page.$$eval('#wal-ops tbody tr[data-op]', (rs) => Object.fromEntries(rs.map((r) => [r.dataset.op, Number(r.dataset.count)])));
}

for (const mode of ['folder', 'tar']) {
  const how = mode === 'folder' ? 'folder input (webkitdirectory)'
    : '.tar input (t4dx snapshot create; a plain tar of a copy for the torn tail and the corrupt manifest, which a snapshot never holds)';
  describe(`loaded through the ${how}`, () => {
    test('healthy store: verdict healthy, no problem, views consistent', async () => {
      const page = await open('healthy', mode);
      assert.equal(await verdict(page), 'healthy');
      assert.deepEqual(await problems(page), []);
      // Segments: every checksum verified; the WAL holds the 4 records above the flush.
      await showView(page, 'segments');
      await page.waitForSelector('[data-testid="segments-table"]');
      const states = await page.$$eval('[data-testid="segments-table"] tbody tr', (rs) => rs.map((r) => r.dataset.checksum));
      assert.ok(states.length >= 1);
      assert.ok(states.every((s) => s === 'verified'), states.join(','));
      await page.waitForSelector('#segments-chart[data-chart="ready"]');
      await showView(page, 'global-index');
      const gi = await page.$$eval('#gi-checks tbody tr', (rs) => rs.map((r) => r.dataset.ok));
      assert.ok(gi.length >= 5 && gi.every((x) => x === 'true'), gi.join(','));
      await showView(page, 'wal');
      await page.waitForSelector('#wal-table tbody tr');
      assert.match(await page.textContent('#wal-problems'), /Every line of every WAL file passes its checksum/);
      // Records by op_type: exactly what was written (a snapshot keeps every complete line).
      const ops = await opTable(page);
      assert.deepEqual(ops, fx.healthy.ops);
      const total = Object.values(fx.healthy.ops).reduce((a, b) => a + b, 0);
      assert.equal(await page.getAttribute('#wal-ops', 'data-total'), String(total));
      assert.match(await page.textContent('#wal-summary'), /Replay estimate\s*\d+(\.\d+)? (ms|s|min) for /);
      assertArchiveNote(await (async () => { await showView(page, 'overview'); return problems(page); })(), 'healthy', mode);
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
      assertArchiveNote(ps, 'torn', mode);
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
      // The torn line is not a record: 6 sealed batches of 50 and 4 of 10 are.
      assert.deepEqual(await opTable(page), { batch: 10 });
      await page.click('#wal-last');
      await page.waitForSelector('#wal-table tr[data-problem="torn_tail"]');
      // Scrolled down to the tail: the op_type table still shows its rows under its header.
      assert.ok(await page.evaluate(() => window.scrollY > 0), 'the page scrolled to the tail');
      assert.ok(await rowsBelowHeader(page, '#wal-ops'), 'op_type rows are not hidden by the header');
      assert.ok(await rowsBelowHeader(page, '#wal-files'));
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
      assertArchiveNote(ps, 'segflip', mode);
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
      assertArchiveNote(ps, 'gindex', mode);
      await showView(page, 'global-index');
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
      assert.equal(ps.length, 1, JSON.stringify(ps));
      assertArchiveNote(ps, 'nohnsw', mode);
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

test('keyboard: digits switch views (the WAL view\'s [ and ] are tested with it)', async () => {
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

test('a data root holding several stores lists them (what each holds), opens one, switches to another', async () => {
  const page = await newPage(browser.context, server.url);
  await page.setInputFiles('#folder-input', root);
  await page.waitForSelector('#stores-table tbody tr');
  const rows = await page.$$eval('#stores-table tbody tr', (rs) => rs.map((r) => ({
    store: r.dataset.store, cells: [...r.children].map((c) => c.textContent),
  })));
  assert.deepEqual(rows.map((r) => r.store).sort(), ['gindex', 'healthy', 'nohnsw', 'segflip', 'torn']);
  // Segments and WAL files as on disk (the listing reads names and sizes only).
  for (const r of rows) {
    const dir = fx[r.store].dir;
    const names = fs.readdirSync(dir);
    assert.equal(r.cells[1], String(names.filter((n) => /^seg_\d+$/.test(n)).length), `${r.store} segments`);
    assert.equal(r.cells[2], String(names.filter((n) => /^wal(_\d+)?\.jsonl$/.test(n)).length), `${r.store} WAL files`);
    assert.equal(r.cells[7], fs.existsSync(path.join(dir, 'hnsw.idx')) ? 'yes' : 'no', `${r.store} hnsw.idx`);
  }
  const stores = await page.evaluate(() => window.t4dxInspector.stores.map((s) => s.name));
  assert.equal(stores.length, 5);
  await page.click('#stores-table tr[data-store="torn"] button');
  await page.waitForSelector('#verdict');
  assert.equal(await verdict(page), 'notes');
  const p = (await problems(page)).find((x) => x.kind === 'wal_torn');
  assert.equal(p.line, fx.torn.line);
  assert.equal(p.offset, fx.torn.offset);
  // The tab bar offers the other stores of the same root.
  const options = await page.$$eval('#store-select option', (os) => os.map((o) => o.textContent.split('/').pop()));
  assert.deepEqual(options.sort(), ['gindex', 'healthy', 'nohnsw', 'segflip', 'torn']);
  const segflipRoot = await page.$eval('#store-select', (sel) => [...sel.options].find((o) => o.value.endsWith('/segflip')).value);
  await page.selectOption('#store-select', segflipRoot);
  await page.waitForFunction(() => document.body.dataset.state === 'loaded' && window.t4dxInspector.model && window.t4dxInspector.model.source.name === 'segflip');
  await page.waitForSelector('#verdict[data-verdict="damaged"]');
  assert.equal((await problems(page))[0].segment, fx.segflip.segment);
  noPageErrors(page);
  await page.close();
});

test('WAL view: records by op_type, paging with ] and [, record details read once per page', async () => {
  const page = await open('healthy', 'folder');
  await page.keyboard.press('3');
  await page.waitForSelector('#wal-table tbody tr');
  const total = Object.values(fx.healthy.ops).reduce((a, b) => a + b, 0);
  assert.equal(await page.textContent('#wal-page-info'), `records 1–100 of ${total}`);
  await page.keyboard.press(']');
  await page.waitForFunction(() => document.querySelector('#wal-page-info').textContent.startsWith('records 101–200'));
  await page.keyboard.press(']');
  await page.waitForFunction((t) => document.querySelector('#wal-page-info').textContent === `records 201–${t} of ${t}`, total);
  assert.equal(await page.isDisabled('#wal-next'), true);
  await page.keyboard.press('[');
  await page.waitForFunction(() => document.querySelector('#wal-page-info').textContent.startsWith('records 101–200'));
  // Filter by op_type: the deletes only.
  await page.selectOption('#wal-op', 'delete');
  await page.waitForFunction(() => document.querySelector('#wal-page-info').textContent === 'records 1–2 of 2');
  const ids = await page.$$eval('#wal-table tbody tr[data-index]', (rs) => rs.map((r) => r.children[6].textContent));
  assert.deepEqual(ids, ['item-000001', 'item-000350']);
  // Two records of the same page: one WAL scan.
  const before = await page.evaluate(() => window.t4dxInspector.stats());
  await page.click('#wal-table tbody tr[data-index]:nth-child(1)');
  await page.waitForFunction(() => /op_type|delete/.test(document.querySelector('#wal-entry pre')?.textContent || ''));
  assert.match(await page.textContent('#wal-entry h3'), /· delete$/);
  await page.click('#wal-table tbody tr[data-index]:nth-child(2)');
  await page.waitForFunction(() => (document.querySelector('#wal-entry pre')?.textContent || '').includes('item-000350'));
  const after = await page.evaluate(() => window.t4dxInspector.stats());
  assert.equal(after.walScans - before.walScans, 1, JSON.stringify({ before, after }));
  assert.equal(after.entryHits - before.entryHits, 1);
  noPageErrors(page);
  await page.close();
});

test('segments table sorts by any column, by mouse and by keyboard', async () => {
  // Three segments of different sizes, each import flushed on its own (the seeded stores'
  // segment count depends on when their background flushes ran), in a folder of its own
  // (the fixtures' bytes are checked unchanged at the end).
  const own = tempDir();
  const dir = path.join(own, 'sortable');
  for (const [from, to] of [[0, 40], [40, 140], [140, 200]]) {
    importItems(dir, from, to);
    t4dx(['--data', dir, 'flush']);
  }
  const page = await newPage(browser.context, server.url);
  await loadInto(page, { dir }, 'folder');
  await page.keyboard.press('2');
  await page.waitForSelector('[data-testid="segments-table"] tbody tr');
  const order = () => page.$$eval('[data-testid="segments-table"] tbody tr', (rs) => rs.map((r) => r.dataset.segment));
  const asc = await order();
  assert.deepEqual(asc, [...asc].sort());
  assert.ok(asc.length >= 3, asc.join(','));
  await page.click('[data-testid="segments-table"] th:nth-child(1) button');  // id again: descending
  assert.deepEqual(await order(), [...asc].sort().reverse());
  assert.equal(await page.getAttribute('[data-testid="segments-table"] th:nth-child(1)', 'aria-sort'), 'descending');
  await page.focus('[data-testid="segments-table"] th:nth-child(3) button');  // items
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('[data-testid="segments-table"] th:nth-child(3)', 'aria-sort'), 'ascending');
  const items = await page.$$eval('[data-testid="segments-table"] tbody tr td:nth-child(3)', (tds) => tds.map((t) => Number(t.textContent.replace(/,/g, ''))));
  assert.deepEqual(items, [...items].sort((a, b) => a - b));
  assert.deepEqual(items, [40, 60, 100]);
  noPageErrors(page);
  await page.close();
  fs.rmSync(own, { recursive: true, force: true });
});

test('a snapshot damaged after it was taken: the member digest that fails is named', async () => {
  const t = fx.transit;
  const page = await newPage(browser.context, server.url);
  await loadInto(page, { tar: t.tar }, 'tar');
  assert.equal(await verdict(page), 'damaged');
  const ps = await problems(page);
  const digest = ps.find((x) => x.kind === 'snapshot');
  assert.ok(digest, JSON.stringify(ps));
  assert.equal(digest.severity, 'error');
  assert.ok(digest.text.includes(t.member), digest.text);
  const seg = ps.find((x) => x.kind === 'segment_checksum');
  assert.ok(seg, JSON.stringify(ps));
  assert.equal(seg.segment, t.segment);
  assert.equal(seg.file, t.member);
  noPageErrors(page);
  await page.close();
});

test('a folder dropped on the page (its directory entries walked) opens', async () => {
  const dir = fx.torn.dir;
  const files = [];
  const walk = (d, rel) => {
    for (const n of fs.readdirSync(d)) {
      const f = path.join(d, n);
      if (fs.statSync(f).isDirectory()) walk(f, `${rel}${n}/`);
      else files.push({ path: `${rel}${n}`, b64: fs.readFileSync(f).toString('base64') });
    }
  };
  walk(dir, '');
  const page = await newPage(browser.context, server.url);
  await page.evaluate(({ files, name }) => {
    // FileSystemEntry objects as Chromium hands them to a drop of a folder: directories
    // are read in batches through createReader().readEntries().
    const dirEntry = (n) => ({ isFile: false, isDirectory: true, name: n, children: new Map() });
    const top = dirEntry(name);
    for (const f of files) {
      const parts = f.path.split('/');
      let d = top;
      for (const p of parts.slice(0, -1)) {
        if (!d.children.has(p)) d.children.set(p, dirEntry(p));
        d = d.children.get(p);
      }
      const file = new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], parts.at(-1));
      d.children.set(parts.at(-1), { isFile: true, isDirectory: false, name: parts.at(-1), file: (ok) => setTimeout(() => ok(file), 0) });
    }
    const finish = (d) => {
      if (!d.isDirectory) return d;
      const kids = [...d.children.values()].map(finish);
      d.createReader = () => {
        let i = 0;
        return { readEntries: (ok) => setTimeout(() => { const b = kids.slice(i, i + 3); i += 3; ok(b); }, 0) };
      };
      return d;
    };
    finish(top);
    const ev = new Event('drop', { bubbles: true, cancelable: true });
    Object.defineProperty(ev, 'dataTransfer', { value: { items: [{ kind: 'file', webkitGetAsEntry: () => top }], files: [] } });
    document.querySelector('#dropzone').dispatchEvent(ev);
  }, { files, name: 'torn' });
  await page.waitForSelector('#verdict');
  assert.equal(await verdict(page), 'notes');
  const p = (await problems(page)).find((x) => x.kind === 'wal_torn');
  assert.equal(p.line, fx.torn.line);
  assert.equal(p.offset, fx.torn.offset);
  const src = await page.evaluate(() => window.t4dxInspector.model.source);
  assert.equal(src.kind, 'folder');
  assert.equal(src.files, files.length);
  noPageErrors(page);
  await page.close();
});

test('the progress bar reports every stage and the bytes read, in order', async () => {
  const page = await open('segflip', 'tar');
  const log = await page.evaluate(() => window.t4dxInspector.progressLog);
  const stages = [...new Set(log.map((e) => e.stage))];
  assert.deepEqual(stages, ['start', 'check', 'snapshot', 'wal', 'open', 'views', 'done']);
  for (let i = 1; i < log.length; i++) {
    assert.ok(log[i].fraction >= log[i - 1].fraction, `fraction never goes back: ${JSON.stringify(log.slice(i - 1, i + 1))}`);
    assert.ok(log[i].bytesRead >= log[i - 1].bytesRead);
  }
  assert.equal(log.at(-1).fraction, 1);
  assert.ok(log.at(-1).bytesRead >= fs.statSync(fx.segflip.tar).size, 'the whole archive was read at least once');
  assert.equal(await page.getAttribute('#progress', 'value'), '1');
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

test('served by any static file server (README: python3 -m http.server), it works the same', async () => {
  const py = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '-d', DIST], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`python3 http.server did not start: ${out}`)), 15000);
      py.stdout.on('data', (d) => {
        out += d;
        const m = /port (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${m[1]}/`);
        }
      });
      py.on('exit', (code) => reject(new Error(`python3 http.server exited ${code}: ${out}`)));
    });
    const page = await newPage(browser.context, url);
    await loadInto(page, fx.nohnsw, 'tar');
    assert.equal(await verdict(page), 'notes');
    assert.equal((await problems(page))[0].file, 'hnsw.idx');
    noPageErrors(page);
    await page.close();
  } finally {
    py.kill('SIGTERM');
  }
});

// Last: every fixture file and archive the page was given is byte for byte what it was.
test('the user\'s files are never modified', () => {
  assert.deepEqual(treeDigest(root), digests);
});
