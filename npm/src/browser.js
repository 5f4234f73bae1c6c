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
    this.isReady = false;
    this.timings = null;  // the benchmark sets an array: {rtt_ms, handler_ms} of each call
    this.ready = new Promise((resolve, reject) => {
      this.worker.onmessage = (ev) => {
        const m = ev.data;
        if (m && m.ready) {
          this.isReady = true;
          resolve();
          return;
        }
        const w = this.waiting.get(m.id);
        if (!w) return;
        this.waiting.delete(m.id);
        if (m.timing && w.t0 !== undefined && this.timings) {
          this.timings.push({ rtt_ms: performance.now() - w.t0, handler_ms: m.timing.handler_ms });
        }
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

  // Posts {id, method, args} (transferring `transfer`) and resolves with the result. Once
  // the Worker is up, the message goes out in this call (no await hop before it).
  send(method, args, transfer) {
    if (this.dead) return Promise.reject(this.dead);
    if (!this.isReady) return this.ready.then(() => this.send(method, args, transfer));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const w = { resolve, reject };
      const msg = { id, method, args };
      if (this.timings) {
        msg.timing = true;
        w.t0 = performance.now();
      }
      this.waiting.set(id, w);
      try {
        this.worker.postMessage(msg, transfer);
      } catch (e) {  // an argument that cannot be cloned
        this.waiting.delete(id);
        reject(invalidArgument(`${method}: ${e && e.message ? e.message : e}`));
      }
    });
  }

  call(method, ...args) {
    return this.send(method, args, undefined);
  }

  terminate() {
    this.worker.terminate();
  }
}

// A Float32Array of its own buffer, so that postMessage copies the vector's bytes only
// (a view's whole ArrayBuffer is cloned with it otherwise).
function ownVector(v) {
  return v instanceof Float32Array && v.byteLength !== v.buffer.byteLength ? v.slice() : v;
}

// searchBatch's vectors as one Float32Array, transferred (not cloned) to the Worker, when
// every one is a Float32Array of one length; else null (sent as they are: the Worker
// checks them and reports errors as the Node entry does).
function packVectors(vectors) {
  if (!Array.isArray(vectors) || vectors.length === 0) return null;
  const dim = vectors[0] instanceof Float32Array ? vectors[0].length : -1;
  if (dim < 0) return null;
  for (const v of vectors) if (!(v instanceof Float32Array) || v.length !== dim) return null;
  const flat = new Float32Array(dim * vectors.length);
  for (let i = 0; i < vectors.length; i++) flat.set(vectors[i], i * dim);
  return { flat, dim, count: vectors.length };
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
  search(vector, options) { return this.rpc.call('search', ownVector(vector), options); }
  searchBatch(vectors, options) {
    const packed = packVectors(vectors);
    if (packed) return this.rpc.send('searchPacked', [packed, options], [packed.flat.buffer]);
    return this.rpc.call('searchBatch', Array.isArray(vectors) ? vectors.map(ownVector) : vectors, options);
  }
  explain(vector, options) { return this.rpc.call('explain', ownVector(vector), options); }
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
