// At least 50 cycles of SIGKILL of a Node writer process: nothing acknowledged is lost,
// nothing deleted comes back, and the store always opens.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

import { open } from '../dist/node.js';
import { NPM_DIR, rng, tempDir } from './helpers.mjs';

const CYCLES = Number(process.env.T4DX_NODE_CRASH_CYCLES || 50);
const WRITER = path.join(NPM_DIR, 'test', 'fixtures', 'writer.mjs');

// Runs the writer until it acknowledged `acks` lines, then SIGKILLs it.
function runAndKill(dir, cycle, acks) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir, String(cycle), '16'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked = new Set();
    const deleted = new Set();
    const uncertain = new Set();  // a delete was sent but not acknowledged
    let buf = '';
    let stderr = '';
    let lines = 0;
    let killed = false;
    // A writer that stops acknowledging is a hang: fail with what it printed.
    let stalled = false;
    let watchdog;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        stalled = true;
        child.kill('SIGKILL');
      }, 30000);
    };
    arm();
    child.stdout.on('data', (d) => {
      arm();
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        // Every line is a fact, even one read after the kill was sent: the writer printed
        // it after the store acknowledged the write.
        if (line.startsWith('ack ')) {
          acked.add(line.slice(4));
        } else if (line.startsWith('try-del ')) {
          acked.delete(line.slice(8));
          uncertain.add(line.slice(8));
        } else if (line.startsWith('del ')) {
          uncertain.delete(line.slice(4));
          deleted.add(line.slice(4));
        }
        if (++lines >= acks && !killed) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      if (stalled) reject(new Error(`cycle ${cycle}: writer acknowledged nothing for 30 s after ${lines} lines: ${stderr}`));
      else if (signal !== 'SIGKILL') reject(new Error(`writer exited ${code} ${signal}: ${stderr}`));
      else resolve({ acked, deleted, uncertain });
    });
  });
}

test(`${CYCLES} SIGKILL cycles of a Node writer lose nothing acknowledged`, { timeout: 280000 }, async () => {
  const t = tempDir();
  const dir = path.join(t.dir, 'store');
  const r = rng(42);
  const live = new Set();
  const gone = new Set();
  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const acks = 1 + Math.floor(r() * 40);
      const { acked, deleted, uncertain } = await runAndKill(dir, cycle, acks);
      for (const id of acked) live.add(id);
      for (const id of deleted) { live.delete(id); gone.add(id); }
      for (const id of uncertain) live.delete(id);  // either outcome is correct
      const s = await open({ path: dir, dim: 8, idleMs: 0 });
      try {
        for (const id of acked) {
          const got = await s.get(id);
          assert.ok(got, `cycle ${cycle}: acknowledged ${id} is missing`);
          assert.equal(got.content, `content of ${id}`);
        }
        for (const id of deleted) assert.equal(await s.get(id), null, `cycle ${cycle}: deleted ${id} is back`);
        assert.ok((await s.count()) >= live.size);
      } finally {
        await s.close();
      }
    }
    const s = await open({ path: dir });
    for (const id of live) assert.ok(await s.get(id), `${id} lost by a later cycle`);
    for (const id of gone) assert.equal(await s.get(id), null);
    const v = await s.verify();
    assert.equal(v.healthy, true, JSON.stringify(v.report).slice(0, 800));
    await s.close();
  } finally {
    if (process.env.T4DX_KEEP) console.log('kept', dir);
    else t.cleanup();
  }
});
