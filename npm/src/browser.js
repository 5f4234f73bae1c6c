// Browser entry of the package: the engine runs in a dedicated Worker over the Origin
// Private File System; this side is a Promise API that forwards every call to it.
//
//   <script type="module">
//     import { open } from './node_modules/t4dx/dist/browser.js';
//     const store = await open({ path: 'agent-1', dim: 384 });
//   </script>
//
// One store per Worker; a second tab (or a second open() of the same path) gets a
// T4dxError with code "locked". Works without a bundler and without cross-origin
// isolation (no SharedArrayBuffer); Vite needs optimizeDeps.exclude: ['t4dx'].
import { T4dxError, errorFromJSON, invalidArgument } from './core.js';

class WorkerRpc {
  constructor() {
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 't4dx' });
    this.nextId = 1;
    this.waiting = new Map();
    this.dead = null;
    this.ready = new Promise((resolve, reject) => {
      this.worker.onmessage = (ev) => {
        const m = ev.data;
        if (m && m.ready) {
          resolve();
          return;
        }
        const w = this.waiting.get(m.id);
        if (!w) return;
        this.waiting.delete(m.id);
        if (m.error) w.reject(errorFromJSON(m.error));
        else w.resolve(m.result);
      };
      this.worker.onerror = (ev) => {
        const err = new T4dxError({ code: 'io_error', message: `t4dx worker failed: ${ev.message || 'load error'}` });
        this.dead = err;
        reject(err);
        for (const w of this.waiting.values()) w.reject(err);
        this.waiting.clear();
      };
    });
  }

  async call(method, ...args) {
    await this.ready;
    if (this.dead) throw this.dead;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, method, args });
    });
  }

  terminate() {
    this.worker.terminate();
  }
}

/** A store open in a Worker. Every method returns a Promise. */
class BrowserStore {
  constructor(rpc, path) {
    this.rpc = rpc;
    this.path = path;
    this.closed = false;
  }
  put(item) { return this.rpc.call('put', item); }
  putBatch(items) { return this.rpc.call('putBatch', items); }
  get(id, options) { return this.rpc.call('get', id, options); }
  delete(id) { return this.rpc.call('delete', id); }
  search(vector, options) { return this.rpc.call('search', vector, options); }
  explain(vector, options) { return this.rpc.call('explain', vector, options); }
  scan(options) { return this.rpc.call('scan', options); }
  count() { return this.rpc.call('count'); }
  flush() { return this.rpc.call('flush'); }
  compact() { return this.rpc.call('compact'); }
  verify() { return this.rpc.call('verify'); }
  stats() { return this.rpc.call('stats'); }
  describe(view, arg) { return this.rpc.call('describe', view, arg); }
  compactWal(keepEntries) { return this.rpc.call('compactWal', keepEntries); }
  truncateWal() { return this.rpc.call('truncateWal'); }
  rebuildHnsw() { return this.rpc.call('rebuildHnsw'); }
  rebuildGlobalIndex() { return this.rpc.call('rebuildGlobalIndex'); }
  maintain() { return this.rpc.call('maintain'); }
  poolStats() { return this.rpc.call('poolStats'); }
  async close() {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.rpc.call('close');
    } finally {
      this.rpc.terminate();
    }
  }
}

function checkPath(options) {
  if (!options || typeof options.path !== 'string' || options.path === '') {
    throw invalidArgument('options.path: expected a store name');
  }
}

/**
 * Opens (creating if missing) the OPFS store named options.path in a new Worker.
 * @param {import('./index').OpenOptions} options
 */
export async function open(options) {
  checkPath(options);
  const { onLog, ...rest } = options;  // functions cannot cross postMessage
  const rpc = new WorkerRpc();
  try {
    await rpc.call('open', rest);
  } catch (e) {
    rpc.terminate();
    throw e;
  }
  return new BrowserStore(rpc, options.path);
}

// One-shot Worker calls that need the store closed everywhere.
async function oneShot(method, ...args) {
  const rpc = new WorkerRpc();
  try {
    return await rpc.call(method, ...args);
  } finally {
    rpc.terminate();
  }
}

/** Writes files ([{path, data: Uint8Array}], store-relative) into the OPFS store at path. */
export function importFiles(path, files) {
  return oneShot('importFiles', path, files);
}
/** Reads every file of the OPFS store at path: [{path, data: Uint8Array}]. */
export function exportFiles(path) {
  return oneShot('exportFiles', path);
}
/** Deletes the OPFS store at path. Fails with "locked" when it is open. */
export function destroy(path) {
  return oneShot('destroy', path);
}

export { T4dxError };
