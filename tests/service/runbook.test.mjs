// Every curl line of the runbook (../shared/seed/DEBUGGING_STORAGE.md), run with the real
// curl exactly as written. The only changes: the port (the test server listens on a free
// port, not 8000) and the runbook's placeholders {segment_id}, {item_id} and [...], which an
// operator fills in; a last test also runs those placeholders literally.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, startService, bash, vec, errorCode } from './helpers.mjs';

// The runbook's curl commands, continuation lines joined with one space, in runbook order.
const RUNBOOK_CURL_LINES = [
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" "http://localhost:8000/storage/status?session_id=$SESSION_ID"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" "http://localhost:8000/storage/stats?session_id=$SESSION_ID"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" "http://localhost:8000/storage/segments?session_id=$SESSION_ID"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" "http://localhost:8000/storage/memtable?session_id=$SESSION_ID"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" "http://localhost:8000/storage/wal-status?session_id=$SESSION_ID"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" "http://localhost:8000/storage/hnsw-stats?session_id=$SESSION_ID"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" "http://localhost:8000/storage/global-index?session_id=$SESSION_ID"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" "http://localhost:8000/storage/segment/{segment_id}?session_id=$SESSION_ID"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" "http://localhost:8000/storage/segment/{segment_id}/metadata?session_id=$SESSION_ID"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" "http://localhost:8000/storage/segment/{segment_id}/verify?session_id=$SESSION_ID"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" "http://localhost:8000/storage/segment/{segment_id}/count?session_id=$SESSION_ID"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" "http://localhost:8000/storage/compaction-history?session_id=$SESSION_ID"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" -X POST "http://localhost:8000/storage/estimate-replay-time" -d "{\"session_id\": \"$SESSION_ID\"}"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" -X POST "http://localhost:8000/storage/compact-wal" -d "{\"session_id\": \"$SESSION_ID\", \"keep_entries\": 1000}"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" -X POST "http://localhost:8000/storage/truncate-wal" -d "{\"session_id\": \"$SESSION_ID\", \"confirmation\": \"I_UNDERSTAND\"}"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" "http://localhost:8000/storage/compaction-history?session_id=$SESSION_ID"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" -X POST "http://localhost:8000/storage/compact-wal" -d "{\"session_id\": \"$SESSION_ID\", \"keep_entries\": 10000}"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" -X POST "http://localhost:8000/consolidation/flush" -d "{\"session_id\": \"$SESSION_ID\"}"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" "http://localhost:8000/storage/segment/000001/verify"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" -X POST "http://localhost:8000/storage/flush" -d "{\"session_id\": \"$SESSION_ID\"}"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" "http://localhost:8000/episodes/{item_id}"  # Should be found in MemTable`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" "http://localhost:8000/storage/hnsw-stats"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" -X POST "http://localhost:8000/storage/query-plan" -d "{\"query_vector\": [...], \"k\": 10}"`,
  String.raw`curl -H "X-API-Key: $T4DM_API_KEY" -X POST "http://localhost:8000/storage/rebuild-hnsw" -d "{\"session_id\": \"$SESSION_ID\"}"`,
];

const RUNBOOK = process.env.T4DM_RUNBOOK ||
  path.resolve(REPO, '..', 'shared', 'seed', 'DEBUGGING_STORAGE.md');

// The curl commands of the runbook's ```bash blocks, continuation lines joined.
function extractCurlLines(markdown) {
  const out = [];
  for (const block of markdown.matchAll(/```bash\n([\s\S]*?)```/g)) {
    let cur = null;
    for (const raw of block[1].split('\n')) {
      const line = raw.trim();
      if (cur !== null) {
        cur += ' ' + line.replace(/\\$/, '').trim();
        if (!line.endsWith('\\')) { out.push(cur); cur = null; }
        continue;
      }
      if (!line.startsWith('curl')) continue;
      if (line.endsWith('\\')) cur = line.replace(/\\$/, '').trim();
      else out.push(line);
    }
  }
  return out;
}

test('the curl lines tested here are exactly the runbook\'s', (t) => {
  if (!fs.existsSync(RUNBOOK)) {
    t.skip(`runbook not found at ${RUNBOOK}`);
    return;
  }
  assert.deepEqual(extractCurlLines(fs.readFileSync(RUNBOOK, 'utf8')), RUNBOOK_CURL_LINES);
});

describe('every runbook curl line works as written', () => {
  let svc;
  const SEGMENT_ROWS = 20;

  // A session with SEGMENT_ROWS items flushed to segment 000001 and 3 more in the MemTable.
  async function populate(session) {
    const items = [];
    for (let i = 0; i < SEGMENT_ROWS; i++) {
      items.push({ id: `${session}-item-${i}`, kind: 'episode', content: `segment item ${i}`,
        embedding: vec(i), metadata: { i } });
    }
    let r = await svc.post('/episodes/batch', { session_id: session, items });
    assert.equal(r.status, 201, r.text);
    r = await svc.post('/storage/flush', { session_id: session });
    assert.equal(r.status, 200, r.text);
    for (let i = 0; i < 3; i++) {
      r = await svc.post('/episodes', { session_id: session, id: `${session}-mem-${i}`,
        content: `memtable item ${i}`, embedding: vec(100 + i) });
      assert.equal(r.status, 201, r.text);
    }
  }

  before(async () => {
    svc = await startService();
    await populate('runbook');
    await populate('default');
  });
  after(async () => {
    const { code } = await svc.stop();
    assert.equal(code, 0);
    await svc.cleanup();
  });

  // Fills the operator's placeholders; everything else is left exactly as written.
  function fill(line, itemId) {
    return line
      .replace('http://localhost:8000', `http://localhost:${svc.port}`)
      .replaceAll('{segment_id}', '000001')
      .replaceAll('{item_id}', itemId)
      .replace('[...]', JSON.stringify(vec(0)));
  }

  async function runAll(sessionId, itemId) {
    for (const line of RUNBOOK_CURL_LINES) {
      const cmd = fill(line, itemId);
      const env = { T4DM_API_KEY: svc.key };
      if (sessionId !== undefined) env.SESSION_ID = sessionId;
      const { code, stdout, stderr } = await bash(cmd, env);
      assert.equal(code, 0, `curl failed: ${cmd}\n${stderr}`);
      let body;
      assert.doesNotThrow(() => { body = JSON.parse(stdout); }, `not JSON from: ${cmd}\n${stdout}`);
      assert.equal(body.error, undefined, `error from: ${cmd}\n${stdout}`);
      assert.equal(typeof body, 'object');
      // Spot checks of what the operator is looking for.
      if (/segment\/000001\/verify/.test(cmd)) assert.equal(body.valid, true, stdout);
      if (/segment\/000001\/count/.test(cmd)) assert.equal(body.count, SEGMENT_ROWS, stdout);
      if (/storage\/segments/.test(cmd)) {
        assert.ok(body.segments.some((s) => s.id === '000001'), stdout);
      }
      if (/episodes\//.test(cmd)) assert.equal(body.id, itemId, stdout);
      if (/storage\/status/.test(cmd)) assert.equal(typeof body.healthy, 'boolean', stdout);
      if (/storage\/flush|consolidation\/flush/.test(cmd)) assert.equal(body.flushed, true, stdout);
    }
  }

  test('with SESSION_ID set', async () => {
    await runAll('runbook', 'default-mem-0');
    assert.ok(await svc.waitForLog((l) => l.msg === 'WAL truncated'), 'truncate-wal is logged');
  });

  test('with SESSION_ID unset (the default session)', async () => {
    await runAll(undefined, 'default-item-0');
  });

  test('the placeholders typed literally get a JSON 4xx, not a crash', async () => {
    const env = { T4DM_API_KEY: svc.key, SESSION_ID: 'runbook' };
    const port = (l) => l.replace('http://localhost:8000', `http://localhost:${svc.port}`);
    const expectations = [
      // curl's URL globbing turns "{segment_id}" into "segment_id".
      [RUNBOOK_CURL_LINES[7], 'invalid_segment_id'],
      [RUNBOOK_CURL_LINES[9], 'invalid_segment_id'],
      [RUNBOOK_CURL_LINES[20], 'item_not_found'],
      [RUNBOOK_CURL_LINES[22], 'malformed_json'],
    ];
    for (const [line, code] of expectations) {
      const { stdout } = await bash(port(line), env);
      const body = JSON.parse(stdout);
      assert.equal(errorCode({ json: body, text: stdout }), code, stdout);
    }
    const health = await svc.get('/healthz', { apiKey: null });
    assert.equal(health.status, 200);
  });
});
