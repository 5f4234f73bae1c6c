// Disk full, seen through the service: on a small tmpfs (root and `mount` needed, else the
// test is skipped with the reason), with a flush threshold so small that writes stall on a
// MemTable whose flush failed with ENOSPC. Refused writes are 507 no_space JSON errors;
// once space is freed, writing resumes at once, without a restart: the 507 of the failed
// flush is not kept until the compactor's next retry (its backoff reaches 5 s), the stalled
// writer asks for a retry and gets its outcome.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startService, tempDir, removeDir, sleep, isJsonError, SERVICE_BIN } from '../lib/harness.mjs';

function mount(dir) {
  if (process.getuid && process.getuid() !== 0) return 'not running as root';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 't4dm-svc-diskfull', dir], { stdio: 'pipe' });
    return null;
  } catch (e) {
    return `mount failed: ${String(e.stderr || e.message).trim()}`;
  }
}

test('disk full: 507 while full, writing resumes at once when space is freed (no restart)',
  { timeout: 120000 }, async (t) => {
    assert.ok(fs.existsSync(SERVICE_BIN), `no service binary at ${SERVICE_BIN}`);
    const mnt = tempDir('t4dm-svc-diskfull-');
    const why = mount(mnt);
    if (why) {
      removeDir(mnt);
      t.skip(`cannot mount a tmpfs (${why})`);
      return;
    }
    let svc;
    try {
      const dataDir = path.join(mnt, 'data');
      fs.mkdirSync(dataDir);
      const filler = path.join(mnt, 'filler');
      fs.writeFileSync(filler, Buffer.alloc(Math.floor((4 << 20) / 3), 7));
      svc = await startService({ dataDir, env: { T4DM_FLUSH_THRESHOLD: '10', T4DM_LOG_LEVEL: 'error' } });
      const put = (id, content) =>
        svc.post('/episodes', { session_id: 'full', id, content, embedding: [1, 2, 3, (id.length % 7) + 1] });

      // Fill until writes are refused, then keep them refused a while (the compactor's
      // retries back off meanwhile).
      const text = 'y'.repeat(2500);
      const acked = [];
      let refused = 0;
      for (let i = 0; i < 20000 && refused < 150; i++) {
        const r = await put(`f${i}`, text);
        if (r.status === 201) {
          acked.push(`f${i}`);
          continue;
        }
        refused++;
        assert.equal(r.status, 507, r.text);
        assert.ok(isJsonError(r) && r.json.error.code === 'no_space', r.text);
        await sleep(20);
      }
      assert.ok(refused > 0 && acked.length > 10, `refused ${refused}, acknowledged ${acked.length}`);
      const stats = await svc.get('/storage/stats?session_id=full');
      t.diagnostic(`${acked.length} acknowledged, ${refused} refused; write stalls ` +
        `${stats.json.memtable.write_stalls}; compactor: ${stats.json.compactor.last_error}`);

      // Space freed: the next writes succeed (a few tries allowed for a retry in flight).
      fs.rmSync(filler);
      let attempts = 0;
      let r;
      do {
        attempts++;
        r = await put(`after${attempts}`, 'after');
        if (r.status !== 201) await sleep(200);
      } while (r.status !== 201 && attempts < 3);
      assert.equal(r.status, 201, `still refused ${attempts} tries after space was freed: ${r.text}`);
      for (let i = 0; i < 30; i++) assert.equal((await put(`g${i}`, `g${i}`)).status, 201);
      for (const id of acked) assert.equal((await svc.get(`/episodes/${id}?session_id=full&include_embedding=false`)).status, 200, id);
      assert.equal((await svc.stop()).code, 0, svc.stderr());
    } finally {
      if (svc) await svc.kill();
      try { execFileSync('umount', [mnt]); } catch { /* already gone */ }
      removeDir(mnt);
    }
  });
