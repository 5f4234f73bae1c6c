// The dedicated Worker of the browser entry: runs the engine over OPFS (OpfsHost) and
// answers the Promise API of browser.js with postMessage. One Worker per open store.
//
// Messages in:  {id, method, args}
// Messages out: {id, result} or {id, error: {code, message, file?, line?, offset?}}
import createT4dxModule from './wasm/t4dx_web.mjs';
import { SyncStore, T4dxError, installConstants } from './core.js';
import { OpfsHost } from './opfs_host.js';
import { OpfsPool, normRel } from './opfs_pool.js';
import { Store } from './store.js';

const host = new OpfsHost();
let modulePromise = null;
let store = null;        // Store (Promise API) of the one store this Worker holds
let pool = null;
let releaseLock = null;  // resolves the Web Lock's promise
let storePath = null;
const MIN_FREE = 32;

function loadModule() {
  if (!modulePromise) {
    const wasmUrl = new URL('./wasm/t4dx.wasm', import.meta.url).href;
    modulePromise = createT4dxModule({ t4dxHost: host, locateFile: () => wasmUrl }).then((M) => {
      installConstants(M);
      return { M };
    });
  }
  return modulePromise.then((x) => x.M);
}

function lockName(path) {
  return `t4dx:${normRel(path)}`;
}

// Takes the store's Web Lock without waiting: a second tab gets a "locked" error.
async function acquireLock(path) {
  if (!navigator.locks) {
    throw new T4dxError({ code: 'not_supported', message: 'Web Locks are not available in this browser' });
  }
  return new Promise((resolve, reject) => {
    navigator.locks
      .request(lockName(path), { ifAvailable: true, mode: 'exclusive' }, (lock) => {
        if (!lock) {
          reject(new T4dxError({
            code: 'locked',
            message: `store ${path} is locked: it is open in another tab or worker`,
          }));
          return undefined;
        }
        return new Promise((release) => resolve(release));
      })
      .catch(reject);
  });
}

async function mountPool(path) {
  const release = await acquireLock(path);
  try {
    const p = await OpfsPool.open(normRel(path), { minFree: MIN_FREE });
    host.mount(path, p);
    return { pool: p, release };
  } catch (e) {
    release();
    throw e;
  }
}

function unmountPool(p, path, release) {
  try {
    if (p) p.close();
  } finally {
    host.unmount(path);
    if (release) release();
  }
}

const methods = {
  async open(options) {
    if (store) throw new T4dxError({ code: 'failed_precondition', message: 'this worker already holds a store' });
    const path = options && options.path;
    if (typeof path !== 'string' || normRel(path) === '') {
      throw new T4dxError({ code: 'invalid_argument', message: 'options.path: expected a store name' });
    }
    const Module = await loadModule();
    const m = await mountPool(path);
    try {
      const sync = new SyncStore(Module, normRel(path), options);
      pool = m.pool;
      releaseLock = m.release;
      storePath = path;
      store = new Store(sync, {
        defer: (fn) => setTimeout(fn, 0),
        idleMs: options.idleMs,
        before: async () => {
          if (pool && !pool.closed && pool.freeSlots < MIN_FREE) await pool.reserve(MIN_FREE);
        },
      });
    } catch (e) {
      unmountPool(m.pool, path, m.release);
      throw e;
    }
    return { path: normRel(path) };
  },

  async close() {
    if (!store) return;
    try {
      await store.close();
    } finally {
      unmountPool(pool, storePath, releaseLock);
      store = pool = releaseLock = storePath = null;
    }
  },

  async poolStats() {
    return pool ? { ...pool.stats, slots: pool.slots.length, free: pool.freeSlots } : null;
  },

  // Files in/out of OPFS (cross-host copies, backups): [{path, data: Uint8Array}] with
  // store-relative paths. REQUIRES: the store is not open (anywhere).
  async importFiles(path, files) {
    const m = await mountPool(path);
    try {
      await m.pool.reserve(files.length + MIN_FREE);
      const root = normRel(path);
      for (const f of files) {
        const rel = normRel(f.path);
        const parts = rel.split('/');
        for (let i = 1; i < parts.length; i++) {
          host.mkdir(root + '/' + parts.slice(0, i).join('/'));
        }
        const h = host.open(root + '/' + rel, 'w');
        host.write(h, 0, f.data);
        host.sync(h);
        host.close(h);
      }
      m.pool.syncAll();
    } finally {
      unmountPool(m.pool, path, m.release);
    }
  },

  async exportFiles(path) {
    const m = await mountPool(path);
    try {
      const out = [];
      const root = normRel(path);
      const walk = (rel) => {
        for (const name of m.pool.list(rel)) {
          const child = rel ? `${rel}/${name}` : name;
          if (m.pool.stat(child) === 'dir') {
            walk(child);
          } else {
            const h = host.open(root + '/' + child, 'r');
            const data = new Uint8Array(host.handleSize(h));
            host.read(h, 0, data);
            host.close(h);
            out.push({ path: child, data });
          }
        }
      };
      walk('');
      return out;
    } finally {
      unmountPool(m.pool, path, m.release);
    }
  },

  // searchBatch() of vectors packed by browser.js: {flat: Float32Array, dim, count}.
  searchPacked(packed, options) {
    if (!store) throw new T4dxError({ code: 'failed_precondition', message: 'store is closed' });
    const { flat, dim, count } = packed;
    const vectors = new Array(count);
    for (let i = 0; i < count; i++) vectors[i] = flat.subarray(i * dim, (i + 1) * dim);
    return store.searchBatch(vectors, options);
  },

  async destroy(path) {
    const release = await acquireLock(path);
    try {
      await OpfsPool.destroy(normRel(path));
    } finally {
      release();
    }
  },
};

const storeMethods = new Set(['put', 'putBatch', 'get', 'delete', 'search', 'searchBatch', 'explain', 'scan', 'count',
  'flush', 'compact', 'verify', 'stats', 'describe', 'compactWal', 'truncateWal', 'rebuildHnsw',
  'rebuildGlobalIndex', 'maintain']);

function errorJSON(e) {
  return e instanceof T4dxError ? e.toJSON()
    : { code: (e && e.t4dxCode) || 'io_error', message: e && e.message ? e.message : String(e) };
}

// Starts one call; returns its Promise (store methods and methods) or throws.
function dispatch(method, args) {
  if (storeMethods.has(method)) {
    if (!store) throw new T4dxError({ code: 'failed_precondition', message: 'store is closed' });
    return store[method](...args);
  }
  if (Object.prototype.hasOwnProperty.call(methods, method)) return methods[method](...args);
  throw new T4dxError({ code: 'invalid_argument', message: `unknown method ${method}` });
}

// A message with `timing: true` (the benchmark's) gets `timing: {handler_ms}` back: the
// time from the message's arrival to its result (the reply's structured clone not included).
self.onmessage = (ev) => {
  const m = ev.data || {};
  const id = m.id;
  const t0 = m.timing ? performance.now() : 0;
  let p;
  try {
    p = dispatch(m.method, m.args || []);
  } catch (e) {
    self.postMessage({ id, error: errorJSON(e) });
    return;
  }
  Promise.resolve(p).then((result) => {
    try {
      if (m.timing) self.postMessage({ id, result, timing: { handler_ms: performance.now() - t0 } });
      else self.postMessage({ id, result });
    } catch (e) {  // a result that cannot be cloned
      self.postMessage({ id, error: errorJSON(e) });
    }
  }, (e) => self.postMessage({ id, error: errorJSON(e) }));
};
self.postMessage({ ready: true });
