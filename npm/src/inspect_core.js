// The inspect API, shared by the Node and browser inspect entries: read-only forensics
// over files the caller supplies (a store directory's files, or one snapshot archive), in
// a WebAssembly instance of its own (its host is a FilesHost, so nothing can be written).
import { SyncStore, T4dxError, installConstants, invalidArgument } from './core.js';
import { FilesHost } from './files_host.js';
import { Store } from './store.js';

const ROOT = 'inspect';
const ARCHIVE = 'inspect.tar';

function check(r) {
  if (r.error) throw new T4dxError(r.error);
  return r;
}

function splitProgress(options, what) {
  if (options === null || typeof options !== 'object') throw invalidArgument(`${what}: options must be an object`);
  const { onProgress, ...rest } = options;
  if (onProgress !== undefined && onProgress !== null && typeof onProgress !== 'function') {
    throw invalidArgument(`${what}: onProgress must be a function`);
  }
  return { onProgress: onProgress || null, rest };
}

// Runs call(fn) with fn forwarding the engine's (done, total) to onProgress. An exception
// of onProgress must not cross the WebAssembly frames: the first one is kept, later calls
// are skipped, and it is thrown once the engine call has returned.
function withProgress(onProgress, call) {
  if (!onProgress) return call(null);
  let failure = null;
  const r = call((done, total) => {
    if (failure) return;
    try {
      onProgress(done, total);
    } catch (e) {
      failure = { e };
    }
  });
  if (failure) throw failure.e;
  return r;
}

export class Inspector {
  constructor(Module, host, archive) {
    this.Module = Module;
    this.host = host;
    this.archive = archive ? ARCHIVE : '';
    this.stores = [];
  }

  /** WAL forensics: {report, entries} (entries: at most options.limit, from options.skip).
   * options.onProgress(done, total): bytes of the WAL files read. */
  async inspectWal(options = {}) {
    const { onProgress, rest } = splitProgress(options, 'inspectWal');
    const r = check(withProgress(onProgress, (fn) => fn
      ? this.Module.inspectWal(ROOT, JSON.stringify(rest), this.archive, fn)
      : this.Module.inspectWal(ROOT, JSON.stringify(rest), this.archive)));
    return { report: JSON.parse(r.json), entries: JSON.parse(r.entries), entriesSeen: r.entriesSeen };
  }

  /** Checks every file (manifest, segments, WAL, HNSW, history) without opening the store.
   * options.onProgress(done, total): segment directories checked (+ the WAL, + the rest). */
  async checkFiles(options = {}) {
    const { onProgress, rest } = splitProgress(options, 'checkFiles');
    return JSON.parse(check(withProgress(onProgress, (fn) => fn
      ? this.Module.checkStoreFiles(ROOT, JSON.stringify(rest), this.archive, fn)
      : this.Module.checkStoreFiles(ROOT, JSON.stringify(rest), this.archive))).json);
  }

  /** For an archive: every member digest and checksum. options.onProgress(done, total):
   * bytes hashed, of twice the members' bytes (digests, then the store's own checks). */
  async verifySnapshot(options = {}) {
    if (!this.archive) throw invalidArgument('verifySnapshot: no archive was given');
    const { onProgress } = splitProgress(options, 'verifySnapshot');
    const r = check(withProgress(onProgress, (fn) => fn
      ? this.Module.verifySnapshot(ARCHIVE, fn)
      : this.Module.verifySnapshot(ARCHIVE)));
    return { healthy: r.healthy, info: JSON.parse(r.json) };
  }

  /** Opens the store read-only (replays the WAL in memory; changes nothing). */
  async open(options = {}) {
    const sync = new SyncStore(this.Module, ROOT, { ...options, readOnly: true, archive: this.archive });
    const store = new Store(sync, { defer: (fn) => setTimeout(fn, 0), idleMs: 0 });
    this.stores.push(store);
    return store;
  }

  /** What the host's block cache read from lazily read files (Blobs in a Worker). */
  cacheStats() {
    return this.host.cacheStats();
  }

  async close() {
    for (const s of this.stores) await s.close();
    this.stores = [];
  }
}

/**
 * @param {() => Promise<any>} createModule  instantiates a fresh module given a host
 * @param {{files?: Array<{path: string, data: any}>, archive?: any, cacheBytes?: number}} input
 */
export async function makeInspector(createModule, input) {
  if (!input || (!input.files && !input.archive)) {
    throw invalidArgument('inspect: give files ([{path, data}]) or archive (bytes or a Blob)');
  }
  const files = input.archive ? [{ path: ARCHIVE, data: input.archive }] : input.files;
  const host = await FilesHost.create(input.archive ? '' : ROOT, files, { cacheBytes: input.cacheBytes });
  const Module = await createModule(host);
  installConstants(Module);
  return new Inspector(Module, host, !!input.archive);
}

export { T4dxError };
