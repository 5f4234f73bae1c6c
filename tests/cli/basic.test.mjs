// t4dx basics: help on every command, exit codes, the views, items, search, import/export,
// and that piped output holds nothing extra.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { BIN, importItems, makeItem, t4dx, tempDir, writeItems } from './helpers.mjs';

test('the binary exists', () => {
  assert.ok(fs.existsSync(BIN), `${BIN} not built (set T4DX_BIN)`);
});

test('--help lists every command and the exit codes', () => {
  const r = t4dx(['--help']);
  assert.equal(r.code, 0);
  for (const c of ['status', 'stats', 'segments', 'segment show', 'verify', 'wal check',
                   'wal repair', 'wal dump', 'wal compact', 'wal truncate', 'global-index check',
                   'global-index rebuild', 'hnsw stats', 'hnsw rebuild', 'flush', 'compact',
                   'replay-estimate', 'get', 'delete', 'put', 'import', 'export', 'search',
                   'snapshot create', 'snapshot restore', 'recover']) {
    assert.ok(r.stdout.includes(`  ${c}`), `--help lists ${c}`);
  }
  assert.match(r.stdout, /Exit codes:\n\s+0\s+healthy/);
  assert.match(r.stdout, /T4DM_FLUSH_THRESHOLD/);
});

test('every command has --help', () => {
  const list = t4dx(['--help']).stdout.split('Commands:\n')[1].trim().split('\n');
  assert.ok(list.length >= 30, `${list.length} commands`);
  for (const line of list) {
    const words = line.trim().split(/\s{2,}/)[0].split(' ').filter((w) => /^[a-z-]+$/.test(w));
    const r = t4dx([...words, '--help']);
    assert.equal(r.code, 0, `${words.join(' ')} --help`);
    assert.match(r.stdout, /^usage: t4dx/, words.join(' '));
    assert.match(r.stdout, /Exit codes: 0 ok, 1 problems/, words.join(' '));
  }
  const group = t4dx(['wal', '--help']);
  assert.equal(group.code, 0);
  assert.match(group.stdout, /wal check/);
});

test('usage errors exit 2', (t) => {
  const dir = tempDir(t);
  assert.equal(t4dx(['nonsense']).code, 2);
  assert.equal(t4dx(['status']).code, 2); // no --data
  assert.equal(t4dx(['--data', dir, 'status', '--bogus']).code, 2);
  assert.equal(t4dx(['--data', dir, 'segment', 'show']).code, 2); // missing ID
  assert.equal(t4dx(['--data', path.join(dir, 'absent'), 'status']).code, 2);
  const trunc = t4dx(['--data', dir, 'wal', 'truncate']);
  assert.equal(trunc.code, 2);
  assert.match(trunc.stderr, /I_UNDERSTAND/);
});

test('put, get, delete, search, views', (t) => {
  const dir = path.join(tempDir(t), 'store');
  const item = makeItem(1);
  let r = t4dx(['--data', dir, 'put', '--json'], { input: JSON.stringify(item) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.id, item.id);
  importItems(dir, 2, 120);

  r = t4dx(['--data', dir, 'get', item.id]);
  assert.equal(r.code, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  assert.equal(got.content, item.content);
  assert.equal(got.embedding.length, 16);

  r = t4dx(['--data', dir, 'get', 'no-such-id']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no-such-id/);

  r = t4dx(['--data', dir, 'search', '--like', item.id, '--k', '5', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.hits.length, 5);
  assert.ok(!r.json.hits.some((h) => h.id === item.id), 'the --like item is left out');

  r = t4dx(['--data', dir, 'search', '--vector', JSON.stringify(item.embedding), '--k', '3',
            '--filter', '{"kind":"episode"}', '--explain', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.hits[0].id, item.id);
  assert.ok(r.json.hits.every((h) => h.kind === 'episode'));
  assert.ok(r.json.plan, 'explain adds the plan');

  r = t4dx(['--data', dir, 'delete', item.id, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(t4dx(['--data', dir, 'get', item.id]).code, 1);
  assert.equal(t4dx(['--data', dir, 'delete', item.id]).code, 1);

  for (const view of [['status'], ['stats'], ['segments'], ['memtable'], ['wal', 'stats'],
                      ['wal', 'status'], ['hnsw', 'stats'], ['global-index', 'check'],
                      ['replay-estimate'], ['compaction-history']]) {
    const j = t4dx(['--data', dir, ...view, '--json']);
    assert.equal(j.code, 0, `${view.join(' ')}: ${j.stderr}`);
    assert.ok(j.json && typeof j.json === 'object', `${view.join(' ')} prints JSON`);
    const h = t4dx(['--data', dir, ...view]);
    assert.equal(h.code, 0);
    assert.ok(!h.stdout.trim().startsWith('{'), `${view.join(' ')} renders text`);
  }
  r = t4dx(['--data', dir, 'stats', '--json']);
  assert.equal(r.json.items, 118);
  r = t4dx(['--data', dir, 'wal', 'stats', '--json']);
  assert.equal(r.json.op_counts.delete, 1);
  assert.ok(r.json.op_counts.batch >= 1);
});

test('status, stats and segments print the engine documents (one formatter)', (t) => {
  const dir = path.join(tempDir(t), 'store');
  importItems(dir, 0, 300, { env: { T4DM_FLUSH_THRESHOLD: '100' } });
  assert.equal(t4dx(['--data', dir, 'flush']).code, 0);
  const segs = t4dx(['--data', dir, 'segments', '--json']).json;
  assert.ok(segs.segments.length >= 1);
  const id = segs.segments[0].id;
  assert.match(id, /^\d{6}$/);
  const human = t4dx(['--data', dir, 'segments']).stdout;
  assert.ok(human.includes(id), 'the text shows the same segment ids');
  for (const sub of ['show', 'metadata', 'verify', 'count']) {
    const r = t4dx(['--data', dir, 'segment', sub, id, '--json']);
    assert.equal(r.code, 0, `segment ${sub}: ${r.stderr}`);
  }
  assert.equal(t4dx(['--data', dir, 'segment', 'verify', id, '--json']).json.valid, true);
  assert.equal(t4dx(['--data', dir, 'segment', 'show', '999999']).code, 1);
  const st = t4dx(['--data', dir, 'status', '--json']);
  assert.equal(st.json.healthy, true);
  assert.equal(st.json.items, 300);
});

test('import: parsed before writing; piped output has no progress bar', (t) => {
  const base = tempDir(t);
  const dir = path.join(base, 'store');
  const file = path.join(base, 'in.jsonl');
  writeItems(file, 0, 50);
  fs.appendFileSync(file, '{"id":"bad id with spaces","content":1}\n');
  let r = t4dx(['--data', dir, 'import', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /in\.jsonl:51/);
  assert.match(r.stderr, /nothing imported/);
  assert.ok(!fs.existsSync(path.join(dir, 'wal.jsonl')) ||
            fs.statSync(path.join(dir, 'wal.jsonl')).size === 0);

  writeItems(file, 0, 500);
  r = t4dx(['--data', dir, 'import', file, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'nothing on stderr when piped');
  assert.equal(r.json.imported, 500);
  r = t4dx(['--data', dir, 'verify', '--json']);
  assert.equal(r.code, 0, r.stdout);
  assert.equal(r.stderr, '');

  const out = path.join(base, 'out.jsonl');
  r = t4dx(['--data', dir, 'export', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.exported, 500);
  const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines.length, 500);
  const first = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(first).sort(),
                   ['content', 'embedding', 'id', 'kind', 'metadata', 'timestamp']);
  // Export -> import into a fresh store gives the same items.
  const copy = path.join(base, 'copy');
  assert.equal(t4dx(['--data', copy, 'import', out]).code, 0);
  assert.equal(t4dx(['--data', copy, 'export', '-']).stdout,
               t4dx(['--data', dir, 'export', '-']).stdout);
});

test('--json errors are JSON documents', (t) => {
  const dir = tempDir(t);
  const r = t4dx(['--data', path.join(dir, 'none'), 'status', '--json']);
  assert.equal(r.code, 2);
  assert.equal(r.json.ok, false);
  assert.equal(r.json.error.code, 'not_found');
});

test('a progress bar is drawn on a terminal only', (t) => {
  const script = '/usr/bin/script';  // util-linux: runs the command on a pseudo-terminal
  if (!fs.existsSync(script)) {
    t.skip('script(1) is not installed');
    return;
  }
  const base = tempDir(t);
  const dir = path.join(base, 'store');
  const file = path.join(base, 'in.jsonl');
  writeItems(file, 0, 2000);
  const onTty = (cmd) => spawnSync(script, ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
  let r = onTty(`${BIN} --data ${dir} import ${file}`);
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /import \[#+\.*\] +\d+%/, 'bar drawn on a terminal');
  r = onTty(`${BIN} --data ${dir} import ${file} --json`);
  assert.equal(r.status, 0, r.stdout);
  assert.doesNotMatch(r.stdout, /\[#/, 'no bar with --json');
  // Piped (the other tests): stderr stays empty.
  const piped = t4dx(['--data', dir, 'verify']);
  assert.equal(piped.stderr, '');
});
