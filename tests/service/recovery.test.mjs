// The runbook's failure drills seen through the service: a WAL corrupted mid-log
// (T4DM_RECOVERY_STRICT=true refuses the store, the default opens at the last good entry and
// reports it), and a segment whose bytes rotted (verify says so, the log says
// "segment checksum mismatch").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startService, tempDir, removeDir, vec, errorCode } from './helpers.mjs';

test('a WAL corrupted mid-log: strict mode answers 500 corruption and logs "WAL replay failed"; ' +
  'the default opens at the last good entry and reports it', async () => {
  const dir = tempDir();
  let svc;
  try {
    svc = await startService({ dataDir: dir });
    for (let i = 0; i < 5; i++) {
      const r = await svc.post('/episodes', { session_id: 's', id: `i${i}`, content: `content number ${i}`, embedding: vec(i) });
      assert.equal(r.status, 201);
    }
    assert.equal((await svc.stop()).code, 0);
    const wal = path.join(dir, 's', 'wal.jsonl');
    const text = fs.readFileSync(wal, 'utf8');
    assert.ok(text.includes('content number 1'));
    fs.writeFileSync(wal, text.replace('content number 1', 'content number X'));

    svc = await startService({ dataDir: dir, env: { T4DM_RECOVERY_STRICT: 'true' } });
    const strict = await svc.get('/storage/status?session_id=s');
    assert.equal(strict.status, 500, strict.text);
    assert.equal(errorCode(strict), 'corruption');
    assert.match(strict.json.error.message, /wal\.jsonl/);
    const failed = await svc.waitForLog((l) => l.msg === 'WAL replay failed');
    assert.ok(failed, svc.stderr());
    assert.match(failed.file, /wal\.jsonl$/);
    assert.equal(failed.session, 's');
    assert.equal((await svc.stop()).code, 0);
    assert.equal(fs.readFileSync(wal, 'utf8').includes('content number X'), true, 'strict mode changed nothing');

    svc = await startService({ dataDir: dir });
    const status = await svc.get('/storage/status?session_id=s');
    assert.equal(status.status, 200, status.text);
    assert.equal(status.json.healthy, false);
    assert.ok(status.json.problems.some((p) => /WAL corruption/.test(p)), status.text);
    assert.equal((await svc.get('/episodes/i0?session_id=s')).status, 200);
    assert.equal((await svc.stop()).code, 0);
  } finally {
    if (svc) await svc.kill();  // a failed assertion must not leave the process running
    removeDir(dir);
  }
});

test('a rotted segment byte: /verify reports it and the log says "segment checksum mismatch"',
  async () => {
    const svc = await startService();
    try {
      const items = Array.from({ length: 10 }, (_, i) => ({ id: `r${i}`, content: `rot ${i}`, embedding: vec(i) }));
      assert.equal((await svc.post('/episodes/batch', { session_id: 'rot', items })).status, 201);
      assert.equal((await svc.post('/storage/flush', { session_id: 'rot' })).status, 200);
      const ok = await svc.get('/storage/segment/000001/verify?session_id=rot');
      assert.equal(ok.json.valid, true, ok.text);
      const segDir = path.join(svc.dataDir, 'rot', 'seg_000001');
      const victim = fs.readdirSync(segDir).map((f) => path.join(segDir, f))
        .filter((f) => !f.endsWith('meta.json') && fs.statSync(f).size > 16)[0];
      const bytes = fs.readFileSync(victim);
      bytes[Math.floor(bytes.length / 2)] ^= 0xff;
      fs.writeFileSync(victim, bytes);
      const bad = await svc.get('/storage/segment/000001/verify?session_id=rot');
      assert.equal(bad.status, 200, bad.text);
      assert.equal(bad.json.valid, false, bad.text);
      assert.ok(bad.json.problems.length > 0);
      assert.ok(await svc.waitForLog((l) => l.msg.startsWith('segment checksum mismatch') && l.session === 'rot'),
        svc.stderr());
    } finally {
      await svc.stop();
      await svc.cleanup();
    }
  });
