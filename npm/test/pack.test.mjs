// `npm pack` produces a tarball that installs into an empty folder (no build step, no
// network) and works from import and from require, with the inspect entry too.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { NPM_DIR, tempDir } from './helpers.mjs';

function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
}

test('npm pack tarball installs in an empty folder and runs from import and require', { timeout: 300000 }, () => {
  const t = tempDir();
  try {
    const out = run('npm', ['pack', '--silent', '--pack-destination', t.dir], NPM_DIR).trim().split('\n').pop();
    const tarball = path.join(t.dir, out);
    assert.ok(fs.existsSync(tarball), out);
    const listing = run('tar', ['tzf', tarball], t.dir);
    assert.match(listing, /package\/dist\/wasm\/t4dx\.wasm/);
    assert.match(listing, /package\/dist\/index\.d\.ts/);
    assert.doesNotMatch(listing, /package\/test\//);
    assert.doesNotMatch(listing, /package\/src\//);

    const app = path.join(t.dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), '{"name":"app","private":true}\n');
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--silent', tarball], app);

    fs.writeFileSync(path.join(app, 'esm.mjs'), `
      import { open, constants } from 't4dx';
      import { inspect } from 't4dx/inspect';
      import fs from 'node:fs';
      const s = await open({ path: process.argv[2], dim: 3 });
      await s.put({ id: 'a', content: 'from esm', embedding: new Float32Array([1, 0, 0]) });
      const hits = await s.search([1, 0, 0], { k: 1 });
      await s.close();
      const files = [{ path: 'wal.jsonl', data: fs.readFileSync(process.argv[2] + '/wal.jsonl') }];
      const ins = await inspect({ files });
      const wal = await ins.inspectWal();
      console.log(JSON.stringify({ id: hits[0].id, locked: (await constants()).statusCodes.locked, walRecords: wal.report.records ?? wal.entries.length }));
    `);
    fs.writeFileSync(path.join(app, 'cjs.cjs'), `
      const { open } = require('t4dx');
      const { inspect } = require('t4dx/inspect');
      (async () => {
        const s = await open({ path: process.argv[2] });
        const got = await s.get('a');
        await s.put({ id: 'b', content: 'from cjs', embedding: [0, 1, 0] });
        const n = await s.count();
        await s.close();
        console.log(JSON.stringify({ content: got.content, count: n, inspect: typeof inspect }));
      })().catch((e) => { console.error(e); process.exit(1); });
    `);
    const store = path.join(t.dir, 'store');
    const esm = JSON.parse(run(process.execPath, ['esm.mjs', store], app));
    assert.deepEqual(esm, { id: 'a', locked: 6, walRecords: 1 });
    const cjs = JSON.parse(run(process.execPath, ['cjs.cjs', store], app));
    assert.deepEqual(cjs, { content: 'from esm', count: 2, inspect: 'function' });
  } finally {
    t.cleanup();
  }
});
