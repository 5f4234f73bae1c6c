// Hostile input, part 2 (issue 9, item 5): about 200 hostile identifiers ('..', '/', '\',
// NUL, absolute paths, percent-encodings, shell and format metacharacters, reserved device
// and store file names, Unicode look-alikes / direction overrides / zero-width characters /
// lone surrogates, control characters, 4 KB strings) in every position an identifier can
// take: session_id in the query string and in the body of every endpoint, item ids in the
// path (percent-encoded and raw) and in bodies, segment ids in the path, and the free-text
// body fields (kind, content, metadata keys and values, filters, confirmation, field names).
//
// Pass: a value outside its documented grammar gets a prompt 4xx JSON error; a value inside
// it is served (and text fields come back byte for byte); never a 5xx; no byte of another
// session in any answer; nothing created outside the data root (the tree around it, an
// "outside" sibling, the service's working directory and the absolute paths named are
// checked); only valid session names appear in the data root; the process stays up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { rawRequest } from './lib.mjs';
import { KEYS, SESSION_RE, ITEM_ID_RE, vector, startStage, judge, checkAftermath } from './hostile_env.mjs';

let stage;
let svc;
let HOSTILE;
const uniq = crypto.randomBytes(6).toString('hex');
const allowedSessions = new Set(['victim', 'alice', 'sandbox', 'default']);
const problems = [];
const check = (r, what, opts) => { const p = judge(r, what, opts); if (p) problems.push(p); return p; };

function hostileStrings() {
  const rel = path.relative(stage.dataDir, stage.outside);
  const list = [
    '..', '.', '...', '....', '/', '//', '\\', '\\\\', '\0', '\0victim', 'victim\0', 'victim\0.json',
    '../victim', '../../victim', '..\\victim', 'victim/..', 'victim/../alice', './victim', '.\\victim',
    'victim/', '/victim', 'victim\\', rel, `${rel}/pwned`, `../../${path.basename(stage.root)}/outside`,
    '/etc/passwd', '/etc/shadow', '/proc/self/environ', '/dev/null', '/dev/zero', '/tmp',
    `/tmp/t4dx-hostile-${uniq}`, path.join(stage.outside, 'pwned'), stage.dataDir, path.join(stage.dataDir, 'victim'),
    'C:\\Windows\\system32', 'C:', '\\\\server\\share', 'file:///etc/passwd', 'http://127.0.0.1/',
    '%2e%2e', '%2e%2e%2f', '%2F', '%5C', '%00', '..%2f..%2fetc', '%252e%252e', '%c0%ae%c0%ae', '%u002e',
    '~', '~root', '$HOME', '${HOME}', '`id`', '$(id)', 'a;id', 'a|id', 'a&&id', 'a\nb', 'victim\n',
    'victim\r\nX-Injected: 1', '\r\n\r\nGET / HTTP/1.1', '\t', '\x0b', '\x0c', ' ', '', '  ',
    'victim ', ' victim', 'vic tim', 'victim\t',
    'con', 'nul', 'aux', 'prn', 'com1', 'lpt1', 'CON', 'con.txt', 'NUL:',
    '.git', '.api_key', '.ssh', 't4dm-service.lock', 'LOCK', 'wal.jsonl', 'seg_000001', 'global_index.json',
    'quarantine', 'hnsw.idx', 'recovery_report.json', 'default',
    '*', '?', '[a-z]*', 'victim*', 'alice*', '%s%s%s%n', '{{7*7}}', '<script>alert(1)</script>',
    "'; DROP TABLE x;--", '" OR 1=1', 'a"b', "a'b", 'a:b', 'a=b', 'a&b', 'a#b', 'a?b', 'a+b', 'a%b', 'a,b', 'a@b',
    '\u202evictim', '\uff56\uff49\uff43\uff54\uff49\uff4d', 'v\u0456ctim', 'vict\u0131m', '\u200bvictim', 'victim\u200d',
    '\u2060victim', '\ufeffvictim', 'victim\ufeff', 'e\u0301', '\u00e9', '\ufb01le', '\u0130', '\u00df', '\u01c5',
    '\ud83d\ude42', '\ud800', '\udfff', 'a\ud800b', '\u0085', '\u2028', '\u2029', '\u00a0', '\u3000',
    '\uff0e\uff0e', '\uff0e\uff0e\uff0f', '\u2215', '\u2044', '\uff0f', '\u29f5', '\ufe68', '\u2024\u2024',
    '\u0338', '\u001b[31m', '\u007f', 'a\u0301\u0301\u0301\u0301', '\u2126', '\u212a', '\ufffd', '\uffff',
    'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(128), 'x'.repeat(129), 'x'.repeat(255), 'x'.repeat(256),
    'x'.repeat(4096), '../'.repeat(1365), 'a/'.repeat(2048), '\u00e9'.repeat(2048), '\ud83d\ude42'.repeat(1024),
    '-1', '0', '1e9', 'NaN', 'Infinity', 'null', 'true', 'false', '[]', '{}', '""', '0x10', '000001',
    '-', '_', '--', '-rf', '--help', '--data-dir=/tmp',
  ];
  for (let c = 1; c < 32; c++) list.push(`a${String.fromCharCode(c)}b`);
  return [...new Set(list)];
}

const SESSION_GETS = ['/storage/status', '/storage/stats', '/storage/segments', '/storage/wal-status',
  '/storage/verify', '/storage/segment/1/verify', '/episodes/s1'];
const SESSION_POSTS = [
  ['/episodes', () => ({ id: 'h1', content: 'hostile', embedding: vector(2) })],
  ['/episodes/batch', () => ({ items: [{ id: 'h2', content: 'hostile', embedding: vector(3) }] })],
  ['/episodes/search', () => ({ query_vector: vector(1), k: 5 })],
  ['/storage/query-plan', () => ({ query_vector: vector(1), k: 5 })],
  ['/storage/estimate-replay-time', () => ({})],
  ['/storage/flush', () => ({})],
  ['/consolidation/flush', () => ({})],
  ['/storage/compact', () => ({})],
  ['/storage/compact-wal', () => ({ keep_entries: 0 })],
  ['/storage/truncate-wal', () => ({ confirmation: 'I_UNDERSTAND' })],
  ['/storage/rebuild-hnsw', () => ({})],
  ['/storage/rebuild-global-index', () => ({})],
];

before(async () => {
  stage = await startStage();
  svc = stage.svc;
  HOSTILE = hostileStrings();
});
after(async () => {
  if (stage) await stage.cleanup();
});

// Percent-encodes the bytes of s; a lone surrogate becomes its three WTF-8 bytes (not valid
// UTF-8: exactly what a hostile client can send), where encodeURIComponent would throw.
function enc(s) {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let bytes;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      bytes = Buffer.from(s.slice(i, i + 2), 'utf8');
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      bytes = Buffer.from([0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)]);
    } else {
      bytes = Buffer.from(s[i], 'utf8');
    }
    for (const b of bytes) {
      const ch = String.fromCharCode(b);
      out += /[A-Za-z0-9_.~-]/.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}

const show = (s) => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…(${s.length})` : s);

test('about 200 hostile values', () => {
  assert.ok(HOSTILE.length >= 200, `${HOSTILE.length} values`);
});

test('hostile session names in the query string and the body of every endpoint', async () => {
  for (const s of HOSTILE) {
    const valid = s === '' || SESSION_RE.test(s);
    if (valid && s !== '') allowedSessions.add(s);
    const opts = { allowOk: valid };
    for (const p of SESSION_GETS) {
      const r = await svc.get(`${p}?session_id=${enc(s)}`);
      check(r, `GET ${p} session ${show(s)}`, opts);
    }
    for (const [p, body] of SESSION_POSTS) {
      const r = await svc.post(p, { ...body(), session_id: s });
      check(r, `POST ${p} body session ${show(s)}`, opts);
      if (valid && p === '/storage/truncate-wal' && r.status === 200) continue;
    }
    for (const p of ['/episodes', '/storage/truncate-wal', '/storage/flush']) {
      const body = SESSION_POSTS.find(([q]) => q === p)[1]();
      const r = await svc.post(`${p}?session_id=${enc(s)}`, body);
      check(r, `POST ${p}?session_id=${show(s)}`, opts);
    }
    const d = await svc.del(`/episodes/s1?session_id=${enc(s)}`);
    check(d, `DELETE /episodes/s1 session ${show(s)}`, opts);
  }
  assert.deepEqual(problems.splice(0), []);
});

test('hostile item ids in the path (encoded and raw) and in bodies', async () => {
  let n = 0;
  for (const x of HOSTILE) {
    const valid = ITEM_ID_RE.test(x);
    const opts = { allowOk: valid };
    const ex = enc(x);
    check(await svc.get(`/episodes/${ex}?session_id=sandbox`), `GET /episodes/${show(x)}`, opts);
    const put = await svc.post('/episodes', { session_id: 'sandbox', id: x, content: `item ${++n}`, embedding: vector(n) });
    check(put, `POST /episodes id ${show(x)}`, opts);
    if (put.status === 201) {
      const back = await svc.get(`/episodes/${ex}?session_id=sandbox`);
      if (back.status !== 200 || back.json.id !== x) problems.push(`item ${show(x)} stored (201) but GET answers ${back.status} ${back.text.slice(0, 200)}`);
    }
    const batch = await svc.post('/episodes/batch', { session_id: 'sandbox', items: [{ id: `ok-${n}`, content: 'x' }, { id: x, content: 'y' }] });
    check(batch, `POST /episodes/batch id ${show(x)}`, opts);
    if (!valid && batch.status < 300) problems.push(`batch with invalid id ${show(x)} accepted`);
    if (!valid) {
      const half = await svc.get(`/episodes/ok-${n}?session_id=sandbox`);
      if (half.status !== 404) problems.push(`a refused batch left its valid item ok-${n} behind (${half.status})`);
    }
    check(await svc.del(`/episodes/${ex}?session_id=sandbox`), `DELETE /episodes/${show(x)}`, opts);
    // Raw: the bytes as they are (UTF-8), in the request line.
    const raw = await rawRequest(svc.port, Buffer.concat([
      Buffer.from('GET /episodes/'), Buffer.from(x, 'utf8'),
      Buffer.from(`?session_id=sandbox HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${KEYS.admin}\r\nConnection: close\r\n\r\n`)]),
    { timeoutMs: 15000 });
    check(raw, `raw GET /episodes/${show(x)}`, { allowOk: true });
  }
  assert.deepEqual(problems.splice(0), []);
});

test('hostile segment ids in the path', async () => {
  for (const x of HOSTILE) {
    const valid = /^(seg_)?\d{1,18}$/.test(x);
    for (const suffix of ['', '/verify', '/metadata']) {
      const r = await svc.get(`/storage/segment/${enc(x)}${suffix}?session_id=sandbox`);
      check(r, `GET /storage/segment/${show(x)}${suffix}`, { allowOk: valid });
    }
  }
  assert.deepEqual(problems.splice(0), []);
});

test('hostile text in kind, content, metadata and filters: refused or stored byte for byte', async () => {
  let n = 0;
  for (const x of HOSTILE) {
    n++;
    const fields = [
      ['kind', { kind: x }, (j) => j.kind === x],
      ['content', { content: x }, (j) => j.content === x],
      ['metadata', { metadata: { [x]: x } }, (j) => j.metadata && j.metadata[x] === x],
      ['metadata value', { metadata: { k: x } }, (j) => j.metadata && j.metadata.k === x],
    ];
    for (const [name, extra, same] of fields) {
      const id = `t-${name.replace(' ', '-')}-${n}`;
      const r = await svc.post('/episodes', { session_id: 'sandbox', id, embedding: vector(n), ...extra });
      check(r, `POST /episodes ${name} ${show(x)}`, { allowOk: true });
      if (r.status === 201) {
        const back = await svc.get(`/episodes/${id}?session_id=sandbox`);
        if (back.status !== 200 || !same(back.json)) {
          problems.push(`${name} ${show(x)} stored (201) but comes back as ${back.status} ${back.text.slice(0, 200)}`);
        }
      }
    }
    for (const filter of [{ kind: x }, { metadata: { [x]: x } }, { metadata: { k: [x, x] } }]) {
      const r = await svc.post('/episodes/search', { session_id: 'sandbox', query_vector: vector(1), k: 3, filter });
      check(r, `search filter ${JSON.stringify(filter).slice(0, 60)}`, { allowOk: true });
    }
    // Never "I_UNDERSTAND": truncate-wal must refuse every one.
    const tw = await svc.post('/storage/truncate-wal', { session_id: 'sandbox', confirmation: x });
    check(tw, `truncate-wal confirmation ${show(x)}`);
    const unk = await svc.post('/episodes', { session_id: 'sandbox', id: `u-${n}`, [x]: 1 });
    check(unk, `POST /episodes with field name ${show(x)}`, { allowOk: x === 'id' });
    for (const [p, body] of [['/storage/compact-wal', { keep_entries: x }], ['/episodes/search', { query_vector: vector(1), k: x }]]) {
      check(await svc.post(p, { session_id: 'sandbox', ...body }), `${p} ${Object.keys(body).pop()} ${show(x)}`);
    }
  }
  for (const x of ['I_UNDERSTAND\0', 'I_UNDERSTAND ', ' I_UNDERSTAND', 'i_understand', '\uff29_UNDERSTAND',
    'I_UNDERSTAND\u200b', 'I_UNDERSTAN', 'I\u0332_UNDERSTAND', 'I_UNDERSTAND\n', 'I_\u0055NDERSTAND\u0301']) {
    check(await svc.post('/storage/truncate-wal', { session_id: 'sandbox', confirmation: x }), `truncate-wal confirmation ${show(x)}`);
  }
  assert.deepEqual(problems.splice(0), []);
});

test('aftermath: process alive, nothing outside the data root, the named paths untouched', async (t) => {
  t.diagnostic(`${HOSTILE.length} hostile values, ${svc.count} requests`);
  const p = await checkAftermath(stage, allowedSessions);
  for (const f of [`/tmp/t4dx-hostile-${uniq}`, path.join(stage.outside, 'pwned')]) {
    if (fs.existsSync(f)) p.push(`${f} exists`);
  }
  if (fs.readdirSync(stage.outside).length) p.push(`outside/ holds ${fs.readdirSync(stage.outside)}`);
  if (fs.readdirSync(stage.cwd).length) p.push(`the service's working directory holds ${fs.readdirSync(stage.cwd)}`);
  assert.deepEqual(p, []);
});
