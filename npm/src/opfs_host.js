// The browser host of the WebAssembly engine (runs in a dedicated Worker): the host
// functions of wasm/host_env.h over OpfsPool (pre-opened OPFS sync access handles), so
// every engine call is synchronous. Each open store has its own pool, mounted at the
// store's path; paths outside a mounted store do not exist.
//
// The store lock is a Web Lock (navigator.locks, named "t4dx:<path>") taken by the Worker
// before the pool is opened, so one tab holds a store at a time; lock() here only refuses
// a second open of the same store inside this Worker.
import { OpfsPool, normRel, poolError } from './opfs_pool.js';

export class OpfsHost {
  constructor() {
    this.pools = new Map();  // store path (normalized) -> OpfsPool
    this.handles = new Map();
    this.locks = new Map();
    this.nextId = 1;
  }

  mount(storePath, pool) {
    this.pools.set(normRel(storePath), pool);
  }

  unmount(storePath) {
    this.pools.delete(normRel(storePath));
  }

  // -> [pool, path relative to the store]
  resolve(p) {
    const n = normRel(p);
    for (const [root, pool] of this.pools) {
      if (n === root) return [pool, ''];
      if (n.startsWith(root + '/')) return [pool, n.slice(root.length + 1)];
    }
    return [null, n];
  }

  need(p) {
    const [pool, rel] = this.resolve(p);
    if (!pool) throw poolError('not_found', `${p}: not inside an open OPFS store`);
    return [pool, rel];
  }

  handle(h) {
    const x = this.handles.get(h);
    if (!x) throw poolError('invalid_argument', `bad handle ${h}`);
    return x;
  }

  open(p, mode) {
    const [pool, rel] = this.need(p);
    const slot = pool.openFile(rel, mode);
    const h = this.nextId++;
    this.handles.set(h, { pool, slot });
    return h;
  }

  close(h) {
    const { pool, slot } = this.handle(h);
    this.handles.delete(h);
    pool.closeFile(slot);
  }

  read(h, offset, dest) {
    const { pool, slot } = this.handle(h);
    return pool.read(slot, offset, dest);
  }

  write(h, offset, src) {
    const { pool, slot } = this.handle(h);
    return pool.write(slot, offset, src);
  }

  sync(h) {
    const { pool, slot } = this.handle(h);
    pool.sync(slot);
  }

  handleSize(h) {
    const { pool, slot } = this.handle(h);
    return pool.size(slot);
  }

  size(p) {
    const [pool, rel] = this.need(p);
    return pool.size(pool.file(rel));
  }

  stat(p) {
    const [pool, rel] = this.resolve(p);
    if (!pool) {
      // Parents of a mounted store exist as directories.
      const n = normRel(p);
      for (const root of this.pools.keys()) {
        if (n === '' || root.startsWith(n + '/')) return 'dir';
      }
      return 'missing';
    }
    return pool.stat(rel);
  }

  list(dir) {
    const [pool, rel] = this.need(dir);
    return pool.list(rel);
  }

  mkdir(p) {
    const [pool, rel] = this.resolve(p);
    if (!pool) {
      if (this.stat(p) === 'dir') return;
      throw poolError('not_supported', `${p}: directories outside an open OPFS store`);
    }
    pool.mkdir(rel);
  }

  rmdir(p) {
    const [pool, rel] = this.need(p);
    pool.rmdir(rel);
  }

  remove(p) {
    const [pool, rel] = this.need(p);
    pool.remove(rel);
  }

  rename(from, to) {
    const [pf, rf] = this.need(from);
    const [pt, rt] = this.need(to);
    if (pf !== pt) throw poolError('not_supported', `rename across stores: ${from} -> ${to}`);
    pf.rename(rf, rt);
  }

  truncate(p, size) {
    const [pool, rel] = this.need(p);
    pool.truncate(rel, size);
  }

  syncdir(p) {
    const [pool] = this.resolve(p);
    if (pool) pool.syncAll();
  }

  lock(p) {
    const key = normRel(p);
    for (const k of this.locks.values()) {
      if (k === key) throw poolError('locked', `store ${p} is locked by this worker`);
    }
    this.need(p);
    const id = this.nextId++;
    this.locks.set(id, key);
    return id;
  }

  unlock(id) {
    if (!this.locks.delete(id)) throw poolError('invalid_argument', `bad lock id ${id}`);
  }
}
