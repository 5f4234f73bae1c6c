// The stage of the hostile-input suites: a service with a keys file (admin, read-only,
// read-write and admin keys scoped to "alice"), a victim session holding secrets that no
// other session's request may ever see, an alice session, and a sandbox session the hostile
// requests may legitimately write to. The data root lives in its own directory beside an
// "outside" directory and the service's working directory, which must both stay empty.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { startService, tempDir, removeDir, listTree, isJsonError } from './lib.mjs';

export const KEYS = {
  admin: 'h-admin-6b0c1f7a93e24d58',
  ro: 'h-readonly-2e8d4a61c07f9b35',
  aliceRw: 'h-alice-rw-9f3e1b7c5a2d6048',
  aliceRo: 'h-alice-ro-4c7a2e9d1f0b3865',
  aliceAdmin: 'h-alice-admin-8e1d5c3a7b9f2046',
};

export const DIM = 8;
export const SESSION_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const ITEM_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

// Secrets: random, so no request can contain them by accident.
const rand = crypto.randomBytes(8).toString('hex');
export const SECRETS = {
  content: `victim-secret-content-${rand}`,
  id: `victim-secret-id-${rand}`,
  meta: `victim-secret-meta-${rand}`,
  kind: `vk-${rand}`,
};
export const ALICE_SECRET = `alice-secret-${rand}`;

export function vector(i) {
  const v = [];
  for (let d = 0; d < DIM; d++) v.push(Math.fround(Math.sin((i + 1) * (d + 1)) + (d === i % DIM ? 2 : 0)));
  const n = Math.hypot(...v);
  return v.map((x) => Math.fround(x / n));
}

// Starts the stage. extraArgs: more service flags.
export async function startStage(extraArgs = []) {
  const root = tempDir('t4dm-hostile-');
  const dataDir = path.join(root, 'data');
  const outside = path.join(root, 'outside');
  const cwd = path.join(root, 'cwd');
  fs.mkdirSync(dataDir);
  fs.mkdirSync(outside);
  fs.mkdirSync(cwd);
  const keysFile = path.join(root, 'keys.json');
  fs.writeFileSync(keysFile, JSON.stringify({
    keys: [
      { key: KEYS.admin, role: 'admin', sessions: '*', name: 'admin' },
      { key: KEYS.ro, role: 'read-only', sessions: '*', name: 'ro' },
      { key: KEYS.aliceRw, role: 'read-write', sessions: ['alice'], name: 'alice-rw' },
      { key: KEYS.aliceRo, role: 'read-only', sessions: ['alice'], name: 'alice-ro' },
      { key: KEYS.aliceAdmin, role: 'admin', sessions: ['alice'], name: 'alice-admin' },
    ],
  }));
  const svc = await startService({ dataDir, key: null, cwd, env: { T4DM_API_KEYS_FILE: keysFile, T4DM_LOG_LEVEL: 'error' }, args: extraArgs });
  svc.key = KEYS.admin;
  // Counts every request of the suite (for the report).
  const send = svc.request.bind(svc);
  svc.count = 0;
  svc.request = (...a) => { svc.count++; return send(...a); };
  const put = async (session, body) => {
    const r = await svc.post('/episodes', { session_id: session, ...body }, { key: KEYS.admin });
    if (r.status !== 201) throw new Error(`seeding ${session}: ${r.status} ${r.text}`);
  };
  await put('victim', { id: SECRETS.id, kind: SECRETS.kind, content: SECRETS.content, embedding: vector(1), metadata: { tag: SECRETS.meta } });
  for (let i = 2; i < 12; i++) await put('victim', { id: `v${i}`, content: `${SECRETS.content} #${i}`, embedding: vector(i), metadata: { tag: SECRETS.meta } });
  for (let i = 1; i < 6; i++) await put('alice', { id: `a${i}`, content: `${ALICE_SECRET} #${i}`, embedding: vector(i) });
  for (let i = 1; i < 6; i++) await put('sandbox', { id: `s${i}`, content: `sandbox ${i}`, embedding: vector(i) });
  for (const s of ['victim', 'alice']) {
    const f = await svc.post('/storage/flush', { session_id: s }, { key: KEYS.admin });
    if (f.status !== 200) throw new Error(`flush ${s}: ${f.text}`);
  }
  const stage = {
    svc, root, dataDir, outside, cwd,
    victimState: await storeState(svc, 'victim'),
    aliceState: await storeState(svc, 'alice'),
    treeOutsideData: snapshotAround(root),
    async cleanup() {
      await svc.kill('SIGKILL');
      removeDir(root);
    },
  };
  return stage;
}

// What must not change in a session: item count, last LSN, every victim item's content.
export async function storeState(svc, session) {
  const st = await svc.get(`/storage/status?session_id=${session}`, { key: KEYS.admin });
  return { items: st.json.items, last_lsn: st.json.last_lsn, segments: st.json.segments };
}

// The tree of root without the data root's contents (those may legitimately change).
export function snapshotAround(root) {
  return listTree(root).filter((p) => !p.startsWith('data/'));
}

// Texts that must never appear in an answer to a request not allowed to see the victim.
// A secret the request itself carried (e.g. the victim's item id in a path) may be echoed in
// an error message: `sent` is the request's text.
export function leaks(text, { alice = true, sent = '' } = {}) {
  const found = [];
  if (typeof text !== 'string') return found;
  for (const [k, v] of Object.entries(SECRETS)) {
    if (text.includes(v) && !sent.includes(v)) found.push(`victim ${k}`);
  }
  if (alice && text.includes(ALICE_SECRET)) found.push('alice content');
  return found;
}

// Checks an answer: 4xx with a JSON error body (or any non-5xx answer when `allowOk`), in
// time, without secrets. Returns a problem text or null.
export function judge(r, what, { allowOk = false, maxMs = 10000, alice = true, sent = what } = {}) {
  if (r.status <= 0) return `${what}: no answer (${r.error ? r.error.message : 'closed'})`;
  if (r.status >= 500) return `${what}: ${r.status} ${String(r.text).slice(0, 300)}`;
  const ok = r.status >= 400 && r.status < 500;
  if (!ok && !allowOk) return `${what}: expected 4xx, got ${r.status} ${String(r.text).slice(0, 300)}`;
  if (ok && !isJsonError(r)) return `${what}: ${r.status} without a JSON error body: ${String(r.text).slice(0, 200)}`;
  if (r.ms !== undefined && r.ms > maxMs) return `${what}: answered after ${r.ms.toFixed(0)} ms`;
  const l = leaks(r.text, { alice, sent });
  if (l.length) return `${what}: answer leaks ${l.join(', ')}`;
  return null;
}

// After a suite: the process is alive, nothing was created outside the data root, the data
// root holds only valid session directories (plus the lock), the `unchanged` sessions (of
// victim, alice) unchanged.
export async function checkAftermath(stage, allowedSessions, unchanged = ['victim', 'alice']) {
  const problems = [];
  const { svc } = stage;
  if (!svc.alive()) problems.push(`the service died: ${svc.stderr().slice(-2000)}`);
  const h = await svc.get('/healthz', { key: null });
  if (h.status !== 200) problems.push(`/healthz answered ${h.status}`);
  const around = snapshotAround(stage.root);
  if (JSON.stringify(around) !== JSON.stringify(stage.treeOutsideData)) {
    const added = around.filter((p) => !stage.treeOutsideData.includes(p));
    const gone = stage.treeOutsideData.filter((p) => !around.includes(p));
    problems.push(`files changed outside the data root: +${JSON.stringify(added)} -${JSON.stringify(gone)}`);
  }
  for (const name of fs.readdirSync(stage.dataDir)) {
    if (name === 't4dm-service.lock') continue;
    if (!SESSION_RE.test(name)) problems.push(`data root holds ${JSON.stringify(name)}, not a valid session name`);
    else if (!allowedSessions.has(name)) problems.push(`a store was created for session ${JSON.stringify(name)}`);
  }
  for (const s of unchanged) {
    const before = s === 'victim' ? stage.victimState : stage.aliceState;
    const now = await storeState(svc, s);
    if (JSON.stringify(now) !== JSON.stringify(before)) {
      problems.push(`session ${s} changed: ${JSON.stringify(before)} -> ${JSON.stringify(now)}`);
    }
  }
  const v = await svc.get(`/episodes/${SECRETS.id}?session_id=victim`, { key: KEYS.admin });
  if (v.status !== 200 || v.json.content !== SECRETS.content) problems.push(`victim's item changed: ${v.text}`);
  return problems;
}
