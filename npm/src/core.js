// The host-independent half of the package: wraps the embind Store of wasm/bindings.cc in a
// synchronous JavaScript class (used inside one thread: Node's main thread or the OPFS
// Worker), converts items and errors, and schedules the engine's cooperative maintenance.
// The Promise API (node.js, browser.js) is built on top of it.

/** Error thrown by every API call: `code` is a stable name ("not_found", "corruption",
 * "locked", ...); corruption errors also carry `file`, `line` and `offset`. */
export class T4dxError extends Error {
  constructor(info) {
    super(info.message);
    this.name = 'T4dxError';
    this.code = info.code;
    if (info.codeNumber !== undefined) this.codeNumber = info.codeNumber;
    if (info.file !== undefined) this.file = info.file;
    if (info.line !== undefined) this.line = info.line;
    if (info.offset !== undefined) this.offset = info.offset;
  }
  /** A plain object that survives postMessage (structured clone). */
  toJSON() {
    const o = { code: this.code, message: this.message };
    for (const k of ['codeNumber', 'file', 'line', 'offset']) if (this[k] !== undefined) o[k] = this[k];
    return o;
  }
}

/** Rebuilds a T4dxError from its toJSON() form (after a postMessage). */
export function errorFromJSON(o) {
  return new T4dxError(o);
}

export function invalidArgument(message) {
  return new T4dxError({ code: 'invalid_argument', message });
}

// Throws the error of an embind result, returns the result otherwise.
function check(r) {
  if (r.error) throw new T4dxError(r.error);
  return r;
}

/** Reads the constants exported by C++ (once per module) and installs them where the host
 * glue (wasm/host_library.js) reads them. */
export function installConstants(Module) {
  if (!Module.t4dxConstants) Module.t4dxConstants = JSON.parse(Module.constants());
  return Module.t4dxConstants;
}

function isNumberArray(v) {
  return Array.isArray(v) || ArrayBuffer.isView(v);
}

// Splits items into JSON text (without embeddings) + flat Float32Array + lengths.
function encodeItems(items, batch) {
  const lengths = new Uint32Array(items.length);
  let total = 0;
  const plain = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw invalidArgument(`${batch ? `items[${i}]` : 'item'}: expected an object`);
    }
    const { embedding, ...rest } = item;
    if (embedding !== undefined && embedding !== null) {
      if (!isNumberArray(embedding)) {
        throw invalidArgument(
          `${batch ? `items[${i}]` : 'item'}.embedding: expected a Float32Array or an array of numbers`);
      }
      lengths[i] = embedding.length;
      total += embedding.length;
    }
    plain[i] = rest;
  }
  const flat = new Float32Array(total);
  let pos = 0;
  for (let i = 0; i < items.length; i++) {
    if (lengths[i]) {
      flat.set(items[i].embedding, pos);
      pos += lengths[i];
    }
  }
  return { json: JSON.stringify(batch ? plain : plain[0]), flat, lengths };
}

// The inverse: parsed item objects with Float32Array embeddings (when sent).
function decodeItems(r) {
  const items = JSON.parse(r.json);
  if (r.embeddings) {
    let pos = 0;
    for (let i = 0; i < items.length; i++) {
      const n = r.lengths[i];
      items[i].embedding = r.embeddings.slice(pos, pos + n);
      pos += n;
    }
  }
  return items;
}

// The shortest decimal that reads back as the same float32 (what the engine's JSON
// writes for a score), e.g. 0.9875414 rather than 0.987541377544403. If p digits read
// back, so do p + 1 (the nearer rounding), so search down from 8: most scores take 7 to 9.
// (The nearest p-digit decimal is a (p+1)-digit one too.) Most scores need 7 to 9 digits:
// the search starts at 7 and goes down, or up, from there (toPrecision is slow).
function shortestFloat(x) {
  if (!Number.isFinite(x)) return null;
  let y = Number(x.toPrecision(7));
  if (Math.fround(y) === x) {
    for (let p = 6; p >= 1; p--) {
      const z = Number(x.toPrecision(p));
      if (Math.fround(z) !== x) break;
      y = z;
    }
    return y;
  }
  y = Number(x.toPrecision(8));
  return Math.fround(y) === x ? y : Number(x.toPrecision(9));
}

// The hits of an embind searchRaw() whose result header is at byte address h (see
// wasm/bindings.cc): [{id, score}], best first.
function rawHits(Module, h) {
  const u32 = Module.HEAPU32;
  const n = u32[h >> 2];
  const scores = u32[(h >> 2) + 1] >> 2;
  const ids = u32[(h >> 2) + 2];
  const idBytes = u32[(h >> 2) + 3];
  const ends = u32[(h >> 2) + 4] >> 2;
  const f32 = Module.HEAPF32;
  const bytes = Module.HEAPU8;
  const all = utf8.decode(bytes.subarray(ids, ids + idBytes));
  const ascii = all.length === idBytes;  // then byte offsets are character offsets
  const hits = new Array(n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = u32[ends + i];
    const id = ascii ? all.slice(start, end) : utf8.decode(bytes.subarray(ids + start, ids + end));
    hits[i] = { id, score: shortestFloat(f32[scores + i]) };
    start = end;
  }
  return hits;
}

const utf8 = new TextDecoder();
const SEARCH_KEYS = new Set(['k', 'ef', 'filter', 'includeItems', 'includeEmbedding']);
const MAX_COUNT = 0xFFFFFFFF;

// The arguments of the embind searchFast() for options it takes as they are, or null when
// anything is unusual (then search() parses the options and reports any error).
function fastSearchArgs(options) {
  if (options === undefined || options === null) return [-1, -1, 1, ''];
  if (typeof options !== 'object' || Array.isArray(options)) return null;
  let k = -1;
  let ef = -1;
  let flags = 1;
  let filter = '';
  for (const key in options) {
    if (!SEARCH_KEYS.has(key)) return null;
    const v = options[key];
    if (v === undefined || v === null) continue;
    if (key === 'k' || key === 'ef') {
      if (!Number.isInteger(v) || v < (key === 'k' ? 1 : 0) || v > MAX_COUNT) return null;
      if (key === 'k') k = v;
      else ef = v;
    } else if (key === 'includeItems' || key === 'includeEmbedding') {
      if (typeof v !== 'boolean') return null;
      const bit = key === 'includeItems' ? 1 : 2;
      flags = v ? flags | bit : flags & ~bit;
    } else {
      if (typeof v !== 'object') return null;
      filter = JSON.stringify(v);
    }
  }
  return [k, ef, flags, filter];
}

function toFloat32(vector, what) {
  if (vector instanceof Float32Array) return vector;
  if (!isNumberArray(vector)) throw invalidArgument(`${what}: expected a Float32Array or an array of numbers`);
  return Float32Array.from(vector);
}

function optionsJson(options, what) {
  if (options === undefined || options === null) return '';
  if (typeof options !== 'object') throw invalidArgument(`${what}: expected an object`);
  return JSON.stringify(options);
}

/**
 * One open store, synchronous. Owns an embind Store; close() frees it.
 * Not thread-safe (nothing in JavaScript is): one instance lives in one thread.
 */
export class SyncStore {
  /** Opens the store at path (the host decides what path means). Throws T4dxError. */
  constructor(Module, path, options = {}) {
    installConstants(Module);
    // JavaScript-only options stay here; the rest goes to the engine (unknown keys fail there).
    const { path: _path, onLog, idleMs: _idle, archive = '', ...engineOptions } = options;
    this.path = path;
    this.onLog = typeof onLog === 'function' ? onLog : null;
    this.Module = Module;
    this.store = new Module.Store();
    let r;
    try {
      r = this.store.open(path, JSON.stringify(engineOptions), archive);
    } catch (e) {
      this.store.delete();
      throw e;
    }
    if (r.error) {
      this.store.delete();
      this.store = null;
      throw new T4dxError(r.error);
    }
    this.drainLog();
  }

  get closed() {
    return this.store === null;
  }

  live() {
    if (!this.store) throw new T4dxError({ code: 'failed_precondition', message: `store ${this.path} is closed` });
    return this.store;
  }

  drainLog() {
    if (!this.store) return;
    const lines = JSON.parse(this.store.drainLog());
    if (this.onLog) for (const l of lines) this.onLog(l);
  }

  call(fn) {
    try {
      return check(fn(this.live()));
    } finally {
      if (this.store && this.onLog) this.drainLog();
    }
  }

  put(item) {
    const e = encodeItems([item], false);
    return this.call((s) => s.put(e.json, e.flat, e.lengths, false)).lsn;
  }

  putBatch(items) {
    if (!Array.isArray(items)) throw invalidArgument('items: expected an array');
    const e = encodeItems(items, true);
    return this.call((s) => s.put(e.json, e.flat, e.lengths, true)).lsn;
  }

  get(id, { includeEmbedding = true } = {}) {
    if (typeof id !== 'string') throw invalidArgument('id: expected a string');
    const items = decodeItems(this.call((s) => s.get(id, includeEmbedding)));
    return items.length ? items[0] : null;
  }

  delete(id) {
    if (typeof id !== 'string') throw invalidArgument('id: expected a string');
    return this.call((s) => s.remove(id)).deleted;
  }

  search(vector, options = {}) {
    const q = toFloat32(vector, 'vector');
    const fast = fastSearchArgs(options);
    if (fast && (fast[2] & 1) === 0) return this.searchIds(q, fast);
    // jsonBytes views WebAssembly memory: decoded before any other call into the module
    // (call() drains the log afterwards, which may grow the memory and detach the view).
    const r = fast
      ? this.call((s) => {
        const x = s.searchFast(q, fast[0], fast[1], fast[2], fast[3]);
        if (x.jsonBytes) x.json = utf8.decode(x.jsonBytes);
        return x;
      })
      : this.call((s) => s.search(q, optionsJson(options, 'search options')));
    const scores = r.scores;
    const hits = JSON.parse(r.json).map((h, i) => {
      const hit = { id: h.id, score: shortestFloat(scores[i]) };
      if (h.item) hit.item = h.item;
      return hit;
    });
    if (r.embeddings) {
      let pos = 0;
      for (let i = 0; i < hits.length; i++) {
        const n = r.lengths[i];
        hits[i].item.embedding = r.embeddings.slice(pos, pos + n);
        pos += n;
      }
    }
    return hits;
  }

  // search() without items: the query goes into WebAssembly memory and the ids and scores
  // come back from it, with no embind value on the way (searchRaw in wasm/bindings.cc).
  searchIds(q, [k, ef, , filter]) {
    const s = this.live();
    const Module = this.Module;
    try {
      const at = s.queryBuffer(q.length);
      Module.HEAPF32.set(q, at >> 2);  // read HEAPF32 after the call: memory may have grown
      const h = s.searchRaw(q.length, k, ef, filter);
      if (h === 0) check(s.lastError());
      return rawHits(Module, h);
    } finally {
      if (this.store && this.onLog) this.drainLog();
    }
  }

  explain(vector, options = {}) {
    const q = toFloat32(vector, 'vector');
    return JSON.parse(this.call((s) => s.explain(q, optionsJson(options, 'search options'))).json);
  }

  scan(options = {}) {
    return decodeItems(this.call((s) => s.scan(optionsJson(options, 'scan options'))));
  }

  count() {
    return this.call((s) => s.count()).count;
  }

  flush() {
    this.call((s) => s.flush());
  }

  compact() {
    this.call((s) => s.compact());
  }

  /**
   * One bounded unit of background work; true when there was any. With deferMerges, a
   * merge starts only once segments have piled up (Engine MaintenanceStepOptions).
   */
  maintenanceStep(deferMerges = false) {
    return this.call((s) => s.maintenanceStep(Boolean(deferMerges))).didWork;
  }

  verify() {
    const r = this.call((s) => s.verify());
    return { healthy: r.healthy, report: JSON.parse(r.json) };
  }

  describe(view, arg = '') {
    return JSON.parse(this.call((s) => s.describe(String(view), String(arg))).json);
  }

  stats() {
    return this.describe('stats');
  }

  compactWal(keepEntries = 0) {
    return JSON.parse(this.call((s) => s.compactWal(keepEntries)).json);
  }

  truncateWal() {
    return JSON.parse(this.call((s) => s.truncateWal()).json);
  }

  rebuildHnsw() {
    return JSON.parse(this.call((s) => s.rebuildHnsw()).json);
  }

  rebuildGlobalIndex() {
    return JSON.parse(this.call((s) => s.rebuildGlobalIndex()).json);
  }

  dim() {
    return this.live().dim();
  }

  close() {
    if (!this.store) return;
    const s = this.store;
    let r;
    try {
      r = s.close();
      if (this.onLog) this.drainLog();
    } finally {
      s.delete();
      this.store = null;
    }
    check(r);
  }
}

/**
 * Cooperative maintenance for a SyncStore (no threads in WebAssembly): after writes and
 * when idle, runs maintenanceStep() one step per macrotask until the engine reports no
 * work, so flushes (at the flush threshold), merges and index saves happen between calls
 * and never inside one. `defer(fn)` schedules a macrotask (setImmediate / setTimeout).
 *
 * A caller that awaits writes in a tight loop never yields to a macrotask (each call
 * resolves through microtasks), so after `inlineEvery` writes with a step still pending,
 * afterWrite() runs one step inline, between two calls: flushes and indexing keep pace
 * with writes. (The engine itself flushes inline when both MemTables are full, so memory
 * stays bounded either way.)
 *
 * Merges wait until writes pause for `idleMs`: on this one thread a merge holds up every
 * call for as long as it runs (~0.1 s for 4,000 items of 384 floats), so steps taken
 * within idleMs of a write defer them, unless segments pile up past 8 * compactionFanout
 * (Engine MaintenanceStepOptions::defer_merges). The idle look, idleMs after the last
 * step, then runs them. With idleMs 0 (no idle looks) nothing is deferred. Errors of
 * background steps are kept in `lastError` and passed to onError.
 */
export class MaintenanceScheduler {
  constructor(store, { defer, idleMs = 1000, onError = null, before = null, inlineEvery = 32 } = {}) {
    this.store = store;
    this.lastWrite = -Infinity;  // performance.now() of the last write
    this.inlineEvery = inlineEvery;
    this.writesWaiting = 0;  // writes since the pending step was scheduled
    this.defer = defer;
    this.idleMs = idleMs;
    this.onError = onError;
    this.before = before;  // async hook before a step (the OPFS pool grows there)
    this.pending = false;
    this.idleTimer = null;
    this.stopped = false;
    this.lastError = null;
    this.steps = 0;
    this.workSinceIdle = false;
  }

  /** Call after every write (synchronously, between calls). */
  afterWrite() {
    this.lastWrite = performance.now();
    if (this.pending && ++this.writesWaiting >= this.inlineEvery && !this.stopped) {
      this.writesWaiting = 0;
      try {
        if (this.store.maintenanceStep(this.deferMerges())) this.workSinceIdle = true;
        this.steps++;
      } catch (e) {
        this.lastError = e;
        if (this.onError) this.onError(e);
      }
    }
    this.kick(true);
  }

  /** Whether a step now should leave merges for later (writes came in recently). */
  deferMerges() {
    return this.idleMs > 0 && performance.now() - this.lastWrite < this.idleMs;
  }

  /** Schedules steps until there is no work left. */
  kick(afterWrite = true) {
    if (afterWrite) this.workSinceIdle = true;
    if (this.stopped || this.pending) return;
    this.pending = true;
    this.defer(() => this.run());
  }

  async run() {
    this.pending = false;
    this.writesWaiting = 0;
    if (this.stopped || this.store.closed) return;
    try {
      if (this.before) await this.before();
      if (this.stopped || this.store.closed) return;
      const did = this.store.maintenanceStep(this.deferMerges());
      this.steps++;
      if (did) {
        this.workSinceIdle = true;
        this.kick(false);
        return;
      }
    } catch (e) {
      this.lastError = e;
      if (this.onError) this.onError(e);
      return;
    }
    this.armIdle();
  }

  // When there is no work now, look again later (time-based work: interval syncs, saves).
  armIdle() {
    if (this.stopped || this.idleMs <= 0 || this.idleTimer || !this.workSinceIdle) return;
    this.workSinceIdle = false;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      this.kick(false);
    }, this.idleMs);
    if (this.idleTimer && typeof this.idleTimer.unref === 'function') this.idleTimer.unref();
  }

  stop() {
    this.stopped = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}
