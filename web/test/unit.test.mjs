// Node unit tests of the page's pure modules: the diagnosis, the report, the loader's store
// detection. (The engine's own figures are tested by the browser tests.)
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { diagnose, relPath, segmentOf, walOpCounts, walTimeline } from '../src/analysis.js';
import { buildReport, reportToMarkdown } from '../src/report.js';
import { filesUnder, findStoreRoots, storeSummaries } from '../src/loader.js';

const ROOT = 'inspect';

function model(problems, extra = {}) {
  return {
    root: ROOT,
    source: { kind: 'folder', name: 's1', files: 10, bytes: 1000 },
    check: { problems, manifest_ok: true, segments_on_disk: 2, segments_verified: 2 },
    engine: { opened: true, views: {}, viewErrors: {} },
    timings: { total_ms: 5 },
    ...extra,
  };
}

test('paths: store-relative, segment ids', () => {
  assert.equal(relPath('inspect/seg_000002/items.jsonl', ROOT), 'seg_000002/items.jsonl');
  assert.equal(relPath('inspect.tar/wal.jsonl', 'inspect.tar'), 'wal.jsonl');
  assert.equal(segmentOf('seg_000002/items.jsonl'), '000002');
  assert.equal(segmentOf('wal.jsonl'), null);
});

test('diagnosis: healthy when nothing is found', () => {
  const d = diagnose(model([]));
  assert.equal(d.verdict, 'healthy');
  assert.equal(d.problems.length, 0);
});

test('diagnosis: worst first, with view, runbook section and commands', () => {
  const d = diagnose(model([
    { area: 'wal', file: 'inspect/wal.jsonl', line: 7, offset: 900, reason: 'torn tail: line has no newline', severity: 'info', torn_tail: true },
    { area: 'hnsw', file: 'inspect/hnsw.idx', line: null, offset: null, reason: 'the HNSW index container is missing while segments hold vectors', severity: 'info' },
    { area: 'segment', file: 'inspect/seg_000002/vectors.f32', line: null, offset: 65536, reason: 'block checksum mismatch', severity: 'error' },
  ]));
  assert.equal(d.verdict, 'damaged');
  assert.deepEqual(d.problems.map((p) => p.kind), ['segment_checksum', 'wal_torn', 'hnsw']);
  const s = d.problems[0];
  assert.equal(s.segment, '000002');
  assert.equal(s.file, 'seg_000002/vectors.f32');
  assert.equal(s.offset, 65536);
  assert.equal(s.view, 'segments/000002');
  assert.equal(s.runbook.title, 'Issue: Segment Checksum Failure');
  assert.ok(s.commands.includes('t4dx --data DIR segment repair 000002'));
  const w = d.problems[1];
  assert.equal(w.title, 'Torn WAL tail: wal.jsonl line 7, byte 900');
  assert.equal(w.view, 'wal');
});

test('diagnosis: only self-healing notes -> "notes"; an open failure -> "unreadable"', () => {
  assert.equal(diagnose(model([{ area: 'wal', file: 'inspect/wal.jsonl', line: 3, offset: 10, reason: 'torn', severity: 'info', torn_tail: true }])).verdict, 'notes');
  const m = model([]);
  m.engine = { opened: false, error: { code: 'corruption', message: 'bad manifest', file: 'inspect/global_index.json', offset: 12 }, views: {} };
  const d = diagnose(m);
  assert.equal(d.verdict, 'unreadable');
  assert.equal(d.problems[0].file, 'global_index.json');
  assert.equal(d.problems[0].offset, 12);
});

test('diagnosis: engine views add global index and HNSW findings; archives get restore steps', () => {
  const m = model([], { source: { kind: 'archive', name: 'x.tar', files: 1, bytes: 1 } });
  m.engine.views = {
    global_index: { consistency: { ok: false, errors: ['ID a references missing segment 000004'] } },
    hnsw_stats: { present: true, in_sync: false, indexed_vectors: 5, stored_live_vectors: 9, lag_vectors: 4, file: 'inspect/hnsw.idx' },
  };
  const d = diagnose(m);
  assert.equal(d.verdict, 'damaged');
  assert.equal(d.problems[0].kind, 'global_index_check');
  assert.ok(d.problems[0].commands.some((c) => c.startsWith('t4dx --data FILE.tar global-index check')));
  assert.equal(d.problems[1].kind, 'hnsw');
  assert.equal(d.problems[1].severity, 'warning');
});

test('WAL timeline buckets by op type', () => {
  const tl = walTimeline([0, 10, 20, 1000, 1001], ['put', 'put', 'delete', 'put', 'batch'], 10);
  assert.equal(tl.start, 0);
  const sum = (a) => a.reduce((s, x) => s + x, 0);
  assert.equal(sum(tl.series.put), 3);
  assert.equal(sum(tl.series.delete), 1);
  assert.equal(sum(tl.series.batch), 1);
  assert.equal(tl.times.length, tl.series.put.length);
});

test('report: JSON and Markdown carry the verdict and the exact location', () => {
  const m = model([{ area: 'wal', file: 'inspect/wal.jsonl', line: 12, offset: 3456, reason: 'torn tail: x', severity: 'info', torn_tail: true }]);
  m.diagnosis = diagnose(m);
  const r = buildReport(m, { now: 0 });
  assert.equal(r.format, 't4dx-inspector-report');
  assert.equal(r.generated_at, '1970-01-01T00:00:00.000Z');
  assert.equal(r.verdict.code, 'notes');
  assert.equal(r.problems[0].line, 12);
  const md = reportToMarkdown(r);
  assert.match(md, /^# T4DX diagnosis: Healthy, with notes/);
  assert.ok(md.includes('file `wal.jsonl`, line 12, byte offset 3456'));
  assert.ok(md.includes('t4dx --data DIR wal repair'));
});

test('loader: finds the store in a picked folder, or every store of a data root', () => {
  assert.deepEqual(findStoreRoots(['s1/wal.jsonl', 's1/seg_000001/meta.json', 's1/quarantine/seg_000001/meta.json']), ['s1']);
  assert.deepEqual(findStoreRoots(['data/a/global_index.json', 'data/b/wal.jsonl', 'data/README']), ['data/a', 'data/b']);
  assert.deepEqual(findStoreRoots(['x/notes.txt']), []);
  const files = filesUnder([{ path: 'data/a/wal.jsonl', data: 1 }, { path: 'data/b/wal.jsonl', data: 2 }], 'data/a');
  assert.deepEqual(files, [{ path: 'wal.jsonl', data: 1 }]);
});

test('WAL records by op_type: the engine report, else its per-file counts, else the decoded entries', () => {
  assert.deepEqual(walOpCounts({ op_counts: { put: 5, batch: 1, delete: 1 } }, { put: 1 }), { batch: 1, delete: 1, put: 5 });
  // An empty report total (older engine builds) falls back to the per-file counts...
  assert.deepEqual(walOpCounts({ op_counts: {}, wal_files: [{ op_counts: { batch: 2 } }, { op_counts: { batch: 4, put: 1 } }] }, {}), { batch: 6, put: 1 });
  // ...then to the entries the engine decoded; pairs and {op_type, count} forms are read too.
  assert.deepEqual(walOpCounts({ op_counts: null, wal_files: [] }, { put: 3 }), { put: 3 });
  assert.deepEqual(walOpCounts({ op_counts: [['put', 2], ['delete', 1]] }, {}), { delete: 1, put: 2 });
  assert.deepEqual(walOpCounts({ op_counts: [{ op_type: 'batch', count: 7 }] }, {}), { batch: 7 });
  assert.deepEqual(walOpCounts(undefined, undefined), {});
  assert.deepEqual(walOpCounts({ op_counts: { put: 0 } }, {}), {});
});

test('loader: summarizes every store of a data root from names and sizes only', () => {
  const f = (path, size) => ({ path, data: { size } });
  const entries = [
    f('data/.api_key', 40), f('data/t4dm-service.lock', 0),
    f('data/default/global_index.json', 100), f('data/default/wal.jsonl', 1000), f('data/default/wal_00000000000000000001.jsonl', 500),
    f('data/default/seg_000001/meta.json', 10), f('data/default/seg_000001/items.jsonl', 90), f('data/default/seg_000002/meta.json', 10),
    f('data/default/hnsw.idx', 300), f('data/default/quarantine/wal.jsonl.1.2.tail', 7),
    f('data/alice/wal.jsonl', 20),
  ];
  const roots = findStoreRoots(entries.map((e) => e.path));
  assert.deepEqual(roots, ['data/alice', 'data/default']);
  const [alice, def] = storeSummaries(entries, roots);
  assert.deepEqual(alice, { root: 'data/alice', name: 'alice', files: 1, bytes: 20, segments: 0, walFiles: 1, walBytes: 20, manifest: false, hnsw: false });
  assert.deepEqual(def, { root: 'data/default', name: 'default', files: 7, bytes: 2010, segments: 2, walFiles: 2, walBytes: 1500, manifest: true, hnsw: true });
});
