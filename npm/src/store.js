// The Promise API over a SyncStore, shared by the Node entry (engine in this thread) and
// the Worker side of the browser entry. Every method returns a Promise (in Node too), so
// code moves between hosts unchanged. Calls run one at a time in call order; maintenance
// steps run between them (MaintenanceScheduler), never inside one.
import { MaintenanceScheduler, T4dxError, invalidArgument } from './core.js';

// What search() takes as a vector (core.js toFloat32).
function isVector(v) {
  return Array.isArray(v) || ArrayBuffer.isView(v);
}

export class Store {
  /**
   * @param {import('./core.js').SyncStore} sync
   * @param {{defer: (fn: () => void) => void, before?: () => Promise<void>, idleMs?: number,
   *          onClose?: () => void}} env
   */
  constructor(sync, env) {
    this.sync = sync;
    this.path = sync.path;
    this.onClose = env.onClose || null;
    this.before = env.before || null;
    this.scheduler = new MaintenanceScheduler(sync, {
      defer: env.defer,
      idleMs: env.idleMs ?? 1000,
      before: env.before,
    });
    this.queue = Promise.resolve();
  }

  // Runs fn(sync) after every earlier call; kicks maintenance after writes.
  run(fn, write = false) {
    const p = this.queue.then(async () => {
      if (this.before) await this.before();
      const r = fn(this.sync);
      if (write) this.scheduler.afterWrite();
      return r;
    });
    this.queue = p.catch(() => {});
    return p;
  }

  put(item) { return this.run((s) => s.put(item), true); }
  putBatch(items) { return this.run((s) => s.putBatch(items), true); }
  get(id, options) { return this.run((s) => s.get(id, options)); }
  delete(id) { return this.run((s) => s.delete(id), true); }
  search(vector, options) { return this.run((s) => s.search(vector, options)); }
  /**
   * search() of every vector in one call (one queue turn; in the browser, one message):
   * an array of hit arrays, in the order of `vectors`. The options apply to each query.
   */
  searchBatch(vectors, options) {
    return this.run((s) => {
      if (!Array.isArray(vectors)) throw invalidArgument('vectors: expected an array of vectors');
      for (let i = 0; i < vectors.length; i++) {
        if (!isVector(vectors[i])) {
          throw invalidArgument(`vectors[${i}]: expected a Float32Array or an array of numbers`);
        }
      }
      const out = new Array(vectors.length);
      for (let i = 0; i < vectors.length; i++) out[i] = s.search(vectors[i], options);
      return out;
    });
  }
  explain(vector, options) { return this.run((s) => s.explain(vector, options)); }
  scan(options) { return this.run((s) => s.scan(options)); }
  count() { return this.run((s) => s.count()); }
  flush() { return this.run((s) => s.flush()); }
  compact() { return this.run((s) => s.compact()); }
  verify() { return this.run((s) => s.verify()); }
  stats() { return this.run((s) => s.stats()); }
  describe(view, arg) { return this.run((s) => s.describe(view, arg)); }
  compactWal(keepEntries) { return this.run((s) => s.compactWal(keepEntries)); }
  truncateWal() { return this.run((s) => s.truncateWal()); }
  rebuildHnsw() { return this.run((s) => s.rebuildHnsw()); }
  rebuildGlobalIndex() { return this.run((s) => s.rebuildGlobalIndex()); }
  /** Runs pending maintenance now, until there is none (tests, before a snapshot). */
  maintain() {
    return this.run((s) => {
      let steps = 0;
      while (s.maintenanceStep()) steps++;
      return steps;
    });
  }
  /** The error of the last background maintenance step, or null. */
  get maintenanceError() { return this.scheduler.lastError; }

  close() {
    return this.run((s) => {
      this.scheduler.stop();
      if (s.closed) return;
      try {
        s.close();
      } finally {
        if (this.onClose) this.onClose();
      }
    });
  }
}

export { T4dxError };
