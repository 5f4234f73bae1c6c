// The inspector's Worker: holds the WebAssembly engine (the t4dx package's read-only
// inspect entry) and the user's files, so the page never freezes and never copies a store
// into memory: File objects are read lazily by the package's FilesHost (FileReaderSync
// through a block cache), a .tar through the engine's TarEnv.
//
// Protocol (structured-clone messages):
//   page -> worker  {id, method, params}
//   worker -> page  {id, result} | {id, error: {code, message, file?, line?, offset?}}
//                   {progress: {stage, label, fraction}}   while `load` runs
// Methods:
//   load({kind: 'folder'|'archive'|'opfs', name, files?: [{path, data: File|Uint8Array}],
//         file?: File})                       -> model (see analysis.js / app.js)
//   walPage({skip, limit, op})                -> {total, rows}
//   walEntry({index})                         -> one WAL record with its summary
//   segment({id})                             -> {summary, metadata}
//   item({id})                                -> {item, dim, norm, head} | null
//   similar({id, k, ef, filter})              -> {hits, plan}
//   sample({limit})                           -> [{id, kind, timestamp}]
//   stats()                                   -> {walScans, entryHits, bytesRead, entryPagesCached}
import { inspect } from './t4dx_inspect.js';
import { diagnose, relPath, walOpCounts, walTimeline } from './analysis.js';

const MAX_WAL_ROWS = 2000000;  // entries kept for the table and the timeline
const VIEWS = ['status', 'segments', 'global_index', 'hnsw_stats', 'compaction_history', 'replay_estimate',
  'recovery_report', 'wal_status', 'memtable', 'stats'];

let inspector = null;
let store = null;
let root = 'inspect';
let wal = null;  // columnar WAL entries: {n, lsn, lastLsn, ts, line, offset, length, op, file, ids, opNames, fileNames}

// Stages of `load` and their share of the progress bar.
const STAGES = {
  start: { label: 'Starting the engine (WebAssembly)', at: 0.0 },
  check: { label: 'Checking every file: manifest, segment blocks, WAL lines, HNSW container', at: 0.05 },
  snapshot: { label: 'Checking the archive\'s member digests', at: 0.45 },
  wal: { label: 'Reading WAL entries', at: 0.6 },
  open: { label: 'Opening the store read-only (replaying the WAL in memory)', at: 0.72 },
  views: { label: 'Reading the engine\'s views', at: 0.92 },
  done: { label: 'Done', at: 1.0 },
};

const ORDER = Object.keys(STAGES);

// Reports a stage (and how far into it, 0..1) to the page.
function progress(stage, within = 0) {
  const s = STAGES[stage];
  const next = STAGES[ORDER[ORDER.indexOf(stage) + 1]] || s;
  const fraction = s.at + (next.at - s.at) * within;
  self.postMessage({ progress: { stage, label: s.label, fraction, bytesRead: bytesRead() } });
}

// Enters a stage.
function enter(stage) {
  reads.stage = stage;
  reads.lastPost = performance.now();
  progress(stage, 0);
}

function errorJson(e) {
  if (e && typeof e.toJSON === 'function') return e.toJSON();
  return { code: (e && (e.code || e.t4dxCode)) || 'internal', message: e && e.message ? e.message : String(e) };
}

async function closeAll() {
  if (inspector) {
    try {
      await inspector.close();
    } catch {
      // closing a read-only store cannot lose anything
    }
  }
  inspector = null;
  store = null;
  wal = null;
  entryPages.clear();
  stats.walScans = 0;
  stats.entryHits = 0;
}

// Progress: the engine reports how far its long inspect calls are (onProgress of the
// package's checkFiles / verifySnapshot / inspectWal); the bytes read from the user's files
// come from the package's block cache (cacheStats). Posted at most every 100 ms.
const reads = { stage: null, lastPost: 0 };

function bytesRead() {
  return inspector && typeof inspector.cacheStats === 'function' ? inspector.cacheStats().bytesRead : 0;
}

// An onProgress(done, total) for the engine call of `stage`.
function engineProgress(stage) {
  return (done, total) => {
    const now = performance.now();
    if (now - reads.lastPost < 100 && done < total) return;
    reads.lastPost = now;
    progress(stage, total > 0 ? Math.min(1, done / total) : 0);
  };
}

function inputOf(params) {
  if (params.kind === 'archive') return { archive: params.file };
  return { files: params.files.map((f) => ({ path: f.path, data: f.data })) };
}

function columnar(entries) {
  const n = entries.length;
  const c = {
    n,
    lsn: new Float64Array(n),
    lastLsn: new Float64Array(n),
    ts: new Float64Array(n),
    line: new Float64Array(n),
    offset: new Float64Array(n),
    length: new Float64Array(n),
    op: new Uint8Array(n),
    file: new Uint16Array(n),
    ids: new Array(n),
    opNames: [],
    fileNames: [],
  };
  const opIndex = new Map();
  const fileIndex = new Map();
  for (let i = 0; i < n; i++) {
    const e = entries[i];
    c.lsn[i] = e.lsn;
    c.lastLsn[i] = e.last_lsn;
    c.ts[i] = e.timestamp;
    c.line[i] = e.line;
    c.offset[i] = e.offset;
    c.length[i] = e.length;
    let o = opIndex.get(e.op_type);
    if (o === undefined) {
      o = c.opNames.length;
      opIndex.set(e.op_type, o);
      c.opNames.push(e.op_type);
    }
    c.op[i] = o;
    let f = fileIndex.get(e.file);
    if (f === undefined) {
      f = c.fileNames.length;
      fileIndex.set(e.file, f);
      c.fileNames.push(relPath(e.file, root));
    }
    c.file[i] = f;
    c.ids[i] = e.ids.length <= 3 ? e.ids : [...e.ids.slice(0, 3), `… ${e.ids.length - 3} more`];
  }
  return c;
}

// Records per op_type among the entries the engine decoded (walOpCounts prefers the
// engine's own op_counts where it fills them).
function decodedOpCounts(c) {
  const counts = {};
  for (let i = 0; i < c.n; i++) {
    const op = c.opNames[c.op[i]];
    counts[op] = (counts[op] || 0) + 1;
  }
  return counts;
}

function timelineOf(c) {
  if (!c || c.n === 0) return { start: 0, step: 0, times: [], series: {} };
  const ops = new Array(c.n);
  for (let i = 0; i < c.n; i++) ops[i] = c.opNames[c.op[i]];
  return walTimeline(c.ts, ops, 150);
}

async function load(params) {
  await closeAll();
  const t0 = performance.now();
  const timings = {};
  const lap = (name, since) => { timings[name] = Math.round(performance.now() - since); };

  reads.stage = null;
  progress('start');
  let t = performance.now();
  inspector = await inspect(inputOf(params));
  // Paths in the engine's reports are under the directory the package mounted the files at.
  root = inspector.root || (inspector.archive ? inspector.archive : 'inspect');
  lap('engine_start_ms', t);

  const model = {
    source: {
      kind: params.kind,
      name: params.name || '',
      files: params.kind === 'archive' ? 1 : params.files.length,
      bytes: params.kind === 'archive' ? params.file.size
        : params.files.reduce((s, f) => s + (f.data.size ?? f.data.byteLength ?? 0), 0),
    },
    root,
    check: null,
    checkError: null,
    snapshot: null,
    snapshotError: null,
    wal: null,
    engine: { opened: false, error: null, views: {}, viewErrors: {} },
    timings,
  };

  enter('check');
  t = performance.now();
  try {
    model.check = await inspector.checkFiles({ segmentBlocks: true, wal: true, onProgress: engineProgress('check') });
  } catch (e) {
    model.checkError = errorJson(e);
  }
  lap('check_files_ms', t);

  if (params.kind === 'archive') {
    enter('snapshot');
    t = performance.now();
    try {
      model.snapshot = await inspector.verifySnapshot({ onProgress: engineProgress('snapshot') });
    } catch (e) {
      model.snapshotError = errorJson(e);
    }
    lap('verify_snapshot_ms', t);
  }

  enter('wal');
  t = performance.now();
  try {
    const r = await inspector.inspectWal({ summaries: false, limit: MAX_WAL_ROWS, onProgress: engineProgress('wal') });
    wal = columnar(r.entries);
    model.wal = {
      report: r.report,
      entriesSeen: r.entriesSeen,
      kept: wal.n,
      opNames: wal.opNames,
      opCounts: walOpCounts(r.report, decodedOpCounts(wal)),
      timeline: timelineOf(wal),
    };
  } catch (e) {
    model.wal = { error: errorJson(e) };
  }
  lap('wal_ms', t);

  enter('open');
  t = performance.now();
  try {
    store = await inspector.open({});
    model.engine.opened = true;
  } catch (e) {
    model.engine.error = errorJson(e);
  }
  lap('open_ms', t);

  if (store) {
    enter('views');
    t = performance.now();
    for (const v of VIEWS) {
      try {
        model.engine.views[v] = await store.describe(v);
      } catch (e) {
        model.engine.viewErrors[v] = errorJson(e);
      }
    }
    try {
      model.engine.count = await store.count();
    } catch (e) {
      model.engine.viewErrors.count = errorJson(e);
    }
    lap('views_ms', t);
  }

  model.diagnosis = diagnose(model);
  timings.total_ms = Math.round(performance.now() - t0);
  model.bytesRead = bytesRead();
  reads.stage = null;
  progress('done');
  return model;
}

function walPage({ skip = 0, limit = 100, op = '' }) {
  if (!wal) return { total: 0, rows: [] };
  let idx = null;
  if (op) {
    if (!wal.byOp) wal.byOp = new Map();
    idx = wal.byOp.get(op);
    if (!idx) {
      const o = wal.opNames.indexOf(op);
      idx = [];
      for (let i = 0; i < wal.n; i++) if (wal.op[i] === o) idx.push(i);
      wal.byOp.set(op, idx);
    }
  }
  const total = idx ? idx.length : wal.n;
  const rows = [];
  for (let k = skip; k < Math.min(total, skip + limit); k++) {
    const i = idx ? idx[k] : k;
    rows.push({
      index: i,
      file: wal.fileNames[wal.file[i]],
      line: wal.line[i],
      offset: wal.offset[i],
      length: wal.length[i],
      lsn: wal.lsn[i],
      last_lsn: wal.lastLsn[i],
      timestamp: wal.ts[i],
      op_type: wal.opNames[wal.op[i]],
      ids: wal.ids[i],
    });
  }
  return { total, rows };
}

// Decoded WAL records (with summaries) are fetched a page at a time, one WAL scan per page,
// and the last few pages are kept: opening the records of a page one after another reads
// the WAL once, not once per record (the engine has no index into the WAL).
const ENTRY_PAGE = 100;
const ENTRY_PAGES_KEPT = 8;
const entryPages = new Map();  // page -> entries, in LRU order
const stats = { walScans: 0, entryHits: 0 };

async function walEntry({ index }) {
  if (!inspector) throw new Error('nothing is loaded');
  if (!Number.isInteger(index) || index < 0) throw Object.assign(new Error(`bad WAL record index ${index}`), { code: 'invalid_argument' });
  const page = Math.floor(index / ENTRY_PAGE);
  let entries = entryPages.get(page);
  if (entries) {
    stats.entryHits++;
    entryPages.delete(page);
  } else {
    const r = await inspector.inspectWal({ skip: page * ENTRY_PAGE, limit: ENTRY_PAGE, summaries: true, maxContentChars: 2000 });
    stats.walScans++;
    entries = r.entries;
    if (entryPages.size >= ENTRY_PAGES_KEPT) entryPages.delete(entryPages.keys().next().value);
  }
  entryPages.set(page, entries);
  const e = entries[index - page * ENTRY_PAGE];
  if (!e) return null;
  return { ...e, file: relPath(e.file, root) };
}

/** What the Worker read and cached (for the page's footer and the tests). */
function cacheStats() {
  return { ...stats, bytesRead: bytesRead(), entryPagesCached: entryPages.size };
}

function needStore() {
  if (!store) throw Object.assign(new Error('the store did not open read-only; only the file checks are available'), { code: 'failed_precondition' });
  return store;
}

async function segment({ id }) {
  const s = needStore();
  const out = { summary: null, metadata: null };
  out.summary = await s.describe('segment', id);
  try {
    out.metadata = await s.describe('segment_metadata', id);
  } catch (e) {
    out.metadataError = errorJson(e);
  }
  return out;
}

function norm(v) {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

async function item({ id }) {
  const it = await needStore().get(id, { includeEmbedding: true });
  if (!it) return null;
  const emb = it.embedding;
  const out = { ...it };
  delete out.embedding;
  return {
    item: out,
    dim: emb ? emb.length : 0,
    norm: emb && emb.length ? norm(emb) : null,
    head: emb ? Array.from(emb.slice(0, 8)) : [],
  };
}

async function similar({ id, k = 10, ef = 0, filter = null }) {
  const s = needStore();
  const it = await s.get(id, { includeEmbedding: true });
  if (!it) throw Object.assign(new Error(`item ${id} not found`), { code: 'not_found' });
  if (!it.embedding || it.embedding.length === 0) {
    throw Object.assign(new Error(`item ${id} has no embedding`), { code: 'invalid_argument' });
  }
  const options = { k, includeItems: true };
  if (ef) options.ef = ef;
  if (filter && Object.keys(filter).length) options.filter = filter;
  const t = performance.now();
  const hits = await s.search(it.embedding, options);
  const ms = performance.now() - t;
  const plan = await s.explain(it.embedding, options);
  return {
    ms,
    plan,
    hits: hits.map((h) => ({ id: h.id, score: h.score, kind: h.item && h.item.kind, timestamp: h.item && h.item.timestamp,
      content: h.item && h.item.content ? String(h.item.content).slice(0, 200) : '' })),
  };
}

async function sample({ limit = 20 }) {
  const items = await needStore().scan({ limit, includeEmbedding: false });
  return items.map((i) => ({ id: i.id, kind: i.kind, timestamp: i.timestamp }));
}

const methods = { load, walPage, walEntry, segment, item, similar, sample, stats: cacheStats, close: closeAll };

self.onmessage = async (ev) => {
  const { id, method, params } = ev.data || {};
  try {
    const fn = methods[method];
    if (!fn) throw Object.assign(new Error(`unknown method ${method}`), { code: 'invalid_argument' });
    const result = await fn(params || {});
    self.postMessage({ id, result });
  } catch (e) {
    self.postMessage({ id, error: errorJson(e) });
  }
};
self.postMessage({ ready: true });
