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

export class Inspector {
  constructor(Module, host, archive) {
    this.Module = Module;
    this.host = host;
    this.archive = archive ? ARCHIVE : '';
    this.stores = [];
  }

  /** WAL forensics: {report, entries} (entries: at most options.limit, from options.skip). */
  async inspectWal(options = {}) {
    const r = check(this.Module.inspectWal(ROOT, JSON.stringify(options), this.archive));
    return { report: JSON.parse(r.json), entries: JSON.parse(r.entries), entriesSeen: r.entriesSeen };
  }

  /** Checks every file (manifest, segments, WAL, HNSW, history) without opening the store. */
  async checkFiles(options = {}) {
    return JSON.parse(check(this.Module.checkStoreFiles(ROOT, JSON.stringify(options), this.archive)).json);
  }

  /** For an archive: every member digest and checksum. */
  async verifySnapshot() {
    if (!this.archive) throw invalidArgument('verifySnapshot: no archive was given');
    const r = check(this.Module.verifySnapshot(ARCHIVE));
    return { healthy: r.healthy, info: JSON.parse(r.json) };
  }

  /** Opens the store read-only (replays the WAL in memory; changes nothing). */
  async open(options = {}) {
    const sync = new SyncStore(this.Module, ROOT, { ...options, readOnly: true, archive: this.archive });
    const store = new Store(sync, { defer: (fn) => setTimeout(fn, 0), idleMs: 0 });
    this.stores.push(store);
    return store;
  }

  async close() {
    for (const s of this.stores) await s.close();
    this.stores = [];
  }
}

/**
 * @param {() => Promise<any>} createModule  instantiates a fresh module given a host
 * @param {{files?: Array<{path: string, data: any}>, archive?: any}} input
 */
export async function makeInspector(createModule, input) {
  if (!input || (!input.files && !input.archive)) {
    throw invalidArgument('inspect: give files ([{path, data}]) or archive (bytes or a Blob)');
  }
  const files = input.archive ? [{ path: ARCHIVE, data: input.archive }] : input.files;
  const host = await FilesHost.create(input.archive ? '' : ROOT, files);
  const Module = await createModule(host);
  installConstants(Module);
  return new Inspector(Module, host, !!input.archive);
}

export { T4dxError };
