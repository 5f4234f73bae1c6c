// The diagnosis: turns what the engine reported (file checks, WAL inspection, snapshot
// digests, the read-only store's views) into one verdict and a list of problems, worst
// first, each linked to its view, its runbook section and the t4dx commands that fix it.
// Pure functions over plain objects (no DOM, no engine): used by the page, the report and
// the Node unit tests. Nothing here reads store bytes; every figure comes from the engine.
import { SECTIONS, commandsFor } from './runbook.js';

export const SEVERITY_ORDER = ['critical', 'error', 'warning', 'info'];

export const VERDICTS = {
  healthy: { label: 'Healthy', text: 'No problem found: every checksum holds and the views are consistent.' },
  notes: { label: 'Healthy, with notes', text: 'No damage. The notes below heal by themselves on the next read-write open and cost no data.' },
  degraded: { label: 'Needs attention', text: 'No damage found, but the store is not in the state it should be.' },
  damaged: { label: 'Damaged', text: 'Some data fails its checks. Worst first:' },
  unreadable: { label: 'Does not open', text: 'The store does not open, even read-only. Worst first:' },
};

/** The store-relative form of an engine path ("inspect.tar/seg_000001/x" -> "seg_000001/x"). */
export function relPath(file, root) {
  if (!file) return file;
  if (root && (file === root)) return '.';
  if (root && file.startsWith(root + '/')) return file.slice(root.length + 1);
  return file;
}

/** text with every engine path under root made store-relative. */
export function relText(text, root) {
  if (!text || !root) return text;
  return String(text).split(`${root}/`).join('');
}

/** "000001" for a path inside seg_000001/, else null. */
export function segmentOf(path) {
  const m = /(?:^|\/)seg_(\d{6,})(?:\/|$)/.exec(path || '');
  return m ? m[1] : null;
}

function where(p) {
  const parts = [];
  if (p.file) parts.push(p.file);
  if (p.line) parts.push(`line ${p.line}`);
  if (p.offset !== null && p.offset !== undefined && p.offset >= 0) parts.push(`byte ${p.offset}`);
  return parts.join(', ');
}

// One problem found by CheckStoreFiles (or VerifySnapshot), made readable.
function fromFileProblem(fp, ctx) {
  const file = relPath(fp.file, ctx.root);
  const seg = segmentOf(file);
  // Builds of the engine before FileProblem::severity: a torn tail and a missing HNSW
  // container are the states it heals by itself ("info").
  const severity = fp.severity || (fp.torn_tail || (fp.area === 'hnsw' && /missing/.test(fp.reason)) ? 'info' : 'error');
  const base = {
    severity: severity === 'info' ? 'info' : 'error',
    area: fp.area,
    file,
    line: fp.line || null,
    offset: fp.offset === undefined ? null : fp.offset,
    reason: relText(fp.reason, ctx.root),
    segment: seg,
  };
  let kind;
  let title;
  let view;
  switch (fp.area) {
    case 'segment':
      if (/listed in global_index\.json but its directory is missing/.test(fp.reason)) {
        kind = 'segment_missing';
        title = `Segment ${seg} is missing`;
      } else {
        kind = 'segment_checksum';
        title = `Segment ${seg} fails its checksum`;
      }
      view = seg ? `segments/${seg}` : 'segments';
      break;
    case 'wal':
      kind = fp.torn_tail ? 'wal_torn' : 'wal_corrupt';
      title = fp.torn_tail
        ? `Torn WAL tail: ${file} line ${fp.line}, byte ${fp.offset}`
        : `Corrupt WAL line: ${file} line ${fp.line}, byte ${fp.offset}`;
      view = 'wal';
      break;
    case 'global_index':
      kind = 'global_index';
      title = 'global_index.json is corrupt';
      if (/missing/.test(fp.reason)) title = 'global_index.json is missing';
      view = 'global-index';
      break;
    case 'hnsw':
      kind = 'hnsw';
      title = /missing/.test(fp.reason) ? 'HNSW index container is missing' : 'HNSW index container is damaged';
      view = 'hnsw';
      if (base.severity === 'error') base.severity = 'warning';  // derived data: rebuilt, no loss
      break;
    case 'history':
      kind = 'history';
      title = 'Compaction history has bad lines';
      view = 'history';
      base.severity = 'warning';
      break;
    case 'snapshot':
      kind = 'snapshot';
      title = `Snapshot archive: ${file}`;
      if (/no t4dx_snapshot\.json/.test(fp.reason)) {
        title = 'Plain tar archive (not made by t4dx snapshot create): no member digests to check';
        base.severity = 'info';
      }
      view = 'overview';
      break;
    default:
      kind = 'engine';
      title = `${fp.area}: ${fp.reason}`;
      view = 'overview';
  }
  return { ...base, kind, title, view, where: where({ file, line: fp.line, offset: fp.offset }) };
}

function finish(p, ctx) {
  const section = SECTIONS[p.kind] || SECTIONS.engine;
  return {
    ...p,
    runbook: { file: section.file, path: section.path, title: section.title, anchor: section.anchor, steps: section.steps },
    commands: commandsFor(p.kind, { seg: p.segment, archive: ctx.archive }),
  };
}

function key(p) {
  return `${p.kind}|${p.file}|${p.line}|${p.offset}`;
}

/**
 * model: {root, source: {kind}, check, checkError, snapshot, engine: {opened, error, views}}
 * Returns {verdict, label, text, problems, counts}.
 */
export function diagnose(model) {
  const ctx = { root: model.root, archive: model.source && model.source.kind === 'archive' };
  const out = [];
  const seen = new Set();
  const add = (p) => {
    const k = key(p);
    if (seen.has(k)) return;
    seen.add(k);
    out.push(finish(p, ctx));
  };

  if (model.checkError) {
    add({ severity: 'critical', kind: 'open_failed', area: 'files', title: 'The files could not be checked',
      reason: relText(model.checkError.message, ctx.root), file: relPath(model.checkError.file, ctx.root) || null,
      line: model.checkError.line || null, offset: model.checkError.offset ?? null, view: 'overview',
      where: '' });
  }
  const check = model.check;
  if (check) for (const fp of check.problems || []) add(fromFileProblem(fp, ctx));
  if (model.snapshot && model.snapshot.info) {
    for (const fp of model.snapshot.info.problems || []) {
      if (fp.area === 'snapshot') add(fromFileProblem(fp, ctx));
    }
  }

  const engine = model.engine || {};
  if (engine.error) {
    const e = engine.error;
    const file = relPath(e.file, ctx.root) || null;
    add({ severity: 'critical', kind: 'open_failed', area: 'engine', title: 'The store does not open read-only',
      reason: `${e.code}: ${relText(e.message, ctx.root)}`, file, line: e.line || null, offset: e.offset ?? null,
      segment: segmentOf(file), view: 'overview', where: where({ file, line: e.line, offset: e.offset }) });
  }
  const v = engine.views || {};
  const gi = v.global_index;
  if (gi && gi.consistency && !gi.consistency.ok) {
    for (const err of gi.consistency.errors || []) {
      add({ severity: 'error', kind: 'global_index_check', area: 'global_index', title: `Global index mismatch: ${err}`,
        reason: err, file: 'global_index.json', line: null, offset: null, segment: segmentOf(err.replace(/^segment (\d+).*/, 'seg_$1/')),
        view: 'global-index', where: 'global_index.json' });
    }
  }
  const hn = v.hnsw_stats;
  if (hn && hn.present && !hn.in_sync) {
    // Segments flushed after the container was saved are searched exactly and indexed on
    // the next read-write open: a lag, not damage. More indexed than stored is not that.
    const lagging = hn.unindexed_segments > 0 && hn.indexed_vectors <= hn.stored_live_vectors;
    add({ severity: lagging ? 'info' : 'warning', kind: 'hnsw', area: 'hnsw',
      title: lagging ? `HNSW index lags ${hn.lag_vectors} vectors behind the segments` : 'HNSW index out of sync',
      reason: `${hn.indexed_vectors} vectors indexed, ${hn.stored_live_vectors} stored live vectors; ${hn.lag_vectors} not indexed` +
        (lagging ? ` (${hn.unindexed_segments} segment(s) not yet in the index are searched exactly until the engine catches up)` : ''),
      file: relPath(hn.file, ctx.root), line: null, offset: null, view: 'hnsw', where: '' });
  }
  const ws = v.wal_status;
  if (ws && ws.size_exceeded) {
    add({ severity: 'warning', kind: 'wal_unbounded', area: 'wal', title: 'WAL size exceeded',
      reason: `${ws.total_bytes} bytes of WAL (warning above ${ws.size_warning_bytes})`, file: 'wal.jsonl',
      line: null, offset: null, view: 'wal', where: '' });
  }
  const mt = v.memtable;
  if (mt && mt.threshold_items && mt.items > 2 * mt.threshold_items) {
    add({ severity: 'warning', kind: 'memtable', area: 'memtable', title: 'MemTable far above its flush threshold',
      reason: `${mt.items} unflushed entries replayed from the WAL; flush threshold ${mt.threshold_items}`,
      file: null, line: null, offset: null, view: 'wal', where: '' });
  }
  const st = v.status;
  if (st) {
    for (const msg of st.problems || []) {
      if (/^Global index mismatch: /.test(msg)) continue;  // listed above from the view itself
      if (/^WAL size exceeded/.test(msg)) continue;
      if (out.some((p) => msg.includes(p.reason) || (p.file && msg.includes(p.file)))) continue;
      add({ severity: 'warning', kind: 'engine', area: 'engine', title: `Engine status: ${msg}`, reason: msg,
        file: null, line: null, offset: null, view: 'overview', where: '' });
    }
  }

  const rank = (s) => SEVERITY_ORDER.indexOf(s);
  const areaRank = ['engine', 'files', 'global_index', 'segment', 'wal', 'snapshot', 'hnsw', 'memtable', 'history'];
  out.sort((a, b) => rank(a.severity) - rank(b.severity) ||
    areaRank.indexOf(a.area) - areaRank.indexOf(b.area) ||
    String(a.file).localeCompare(String(b.file)) || (a.offset ?? 0) - (b.offset ?? 0));
  out.forEach((p, i) => { p.id = `p${i + 1}`; });

  const counts = { critical: 0, error: 0, warning: 0, info: 0 };
  for (const p of out) counts[p.severity]++;
  let verdict = 'healthy';
  if (counts.critical) verdict = 'unreadable';
  else if (counts.error) verdict = 'damaged';
  else if (counts.warning) verdict = 'degraded';
  else if (counts.info) verdict = 'notes';
  return { verdict, label: VERDICTS[verdict].label, text: VERDICTS[verdict].text, problems: out, counts };
}

/**
 * Per-segment checksum state from the file checks: {id -> {ok, problems: [{file, offset, reason}]}}.
 * verified: whether block checksums were checked at all.
 */
export function segmentChecks(check, root) {
  const bySeg = new Map();
  if (!check) return bySeg;
  for (const fp of check.problems || []) {
    if (fp.area !== 'segment') continue;
    const file = relPath(fp.file, root);
    const seg = segmentOf(file);
    if (!seg) continue;
    if (!bySeg.has(seg)) bySeg.set(seg, []);
    bySeg.get(seg).push({ file, offset: fp.offset, reason: fp.reason });
  }
  return bySeg;
}

function countsObject(x) {
  if (!x || typeof x !== 'object') return null;
  // {op: n} from the engine; [[op, n], ...] or [{op_type, count}] from other builds.
  const out = {};
  const entries = Array.isArray(x)
    ? x.map((e) => (Array.isArray(e) ? e : [e && (e.op_type ?? e.op), e && (e.count ?? e.records)]))
    : Object.entries(x);
  for (const [op, n] of entries) {
    const v = Number(n);
    if (op === undefined || op === null || op === '' || !Number.isFinite(v) || v <= 0) continue;
    out[op] = (out[op] || 0) + v;
  }
  return Object.keys(out).length ? out : null;
}

/**
 * Records per op_type of the whole WAL: the engine's report (op_counts, else the sum of
 * its per-file op_counts), else the counts of the entries the engine decoded. Ordered by
 * op name. {} when the WAL has no record.
 */
export function walOpCounts(report, decoded) {
  let counts = countsObject(report && report.op_counts);
  if (!counts && report && Array.isArray(report.wal_files)) {
    const sum = {};
    for (const f of report.wal_files) {
      const c = countsObject(f && f.op_counts);
      if (c) for (const [op, n] of Object.entries(c)) sum[op] = (sum[op] || 0) + n;
    }
    counts = Object.keys(sum).length ? sum : null;
  }
  if (!counts) counts = countsObject(decoded) || {};
  const out = {};
  for (const op of Object.keys(counts).sort()) out[op] = counts[op];
  return out;
}

/**
 * Buckets WAL entry times into at most `buckets` intervals: {start, step, times: [bucket
 * start ms], series: {op -> counts[]}}. ts: array of ms; ops: array of op names.
 */
export function walTimeline(ts, ops, buckets = 120) {
  const n = ts.length;
  if (n === 0) return { start: 0, step: 0, times: [], series: {} };
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    if (ts[i] < lo) lo = ts[i];
    if (ts[i] > hi) hi = ts[i];
  }
  const span = Math.max(1, hi - lo + 1);
  const count = Math.max(1, Math.min(buckets, n));
  const step = Math.max(1, Math.ceil(span / count));
  const nb = Math.max(1, Math.ceil(span / step));
  const series = {};
  for (let i = 0; i < n; i++) {
    const op = ops[i];
    if (!series[op]) series[op] = new Array(nb).fill(0);
    series[op][Math.min(nb - 1, Math.floor((ts[i] - lo) / step))]++;
  }
  const times = [];
  for (let b = 0; b < nb; b++) times.push(lo + b * step);
  return { start: lo, step, times, series };
}
