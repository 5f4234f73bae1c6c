// OpfsPool: the files of one store in the Origin Private File System, as a pool of
// pre-opened FileSystemSyncAccessHandles (the design of SQLite's "opfs-sahpool" VFS).
//
// Why: every OPFS call that opens, creates or renames a file is asynchronous, while the
// engine's Env calls are synchronous. So all files of a store live in a fixed set of
// "slot" files, each opened once (asynchronously) when the store opens; a slot's header
// names the engine file it holds. Creating, renaming and removing engine files are then
// synchronous header writes. The pool grows asynchronously between engine calls
// (reserve()), never during one. Sync access handles exist only in dedicated Workers.
//
// On OPFS (the format is documented in npm/doc/opfs_pool.md):
//   <root>/t4dx/<encodeURIComponent(store path)>/slot-NNNNNN.t4dx   slot files
//   <root>/t4dx/<encodeURIComponent(store path)>/journal.t4dx       rename journal
// Slot file = 4096-byte header + the engine file's bytes. Header (little-endian):
//   0 magic "T4DXPOOL" | 8 u32 version (1) | 12 u32 kind (0 free, 1 file, 2 directory)
//   16 u32 path length | 20 u32 FNV-1a of the header without this field + the path
//   24 f64 generation (pool-wide counter; the higher wins if two slots name one path)
//   32 path (UTF-8, relative to the store directory, '/'-separated)
// A header that fails its magic, version or checksum is a free slot (a torn create).
//
// Crash safety: a create or remove is one header write (made durable by the file's sync
// or the directory's SyncDir; removes are flushed at once so a path never has two live
// slots). A rename, of a file or of a whole directory, rewrites several headers, so it is
// journaled: the list of header writes goes to journal.t4dx and is flushed first, then
// applied and flushed, then the journal is cleared. Opening the pool replays a journal
// left by a crash, so a rename is all or nothing and a store never becomes unopenable.
//
// Writes are coalesced per file into 64 KiB runs (small OPFS writes cost 20-60 us each,
// large ones run at ~600 MB/s; flush() costs ~3 ms), so group commits are cheap.

export const POOL_FORMAT = Object.freeze({
  headerSize: 4096,
  magic: 'T4DXPOOL',
  version: 1,
  kindFree: 0,
  kindFile: 1,
  kindDir: 2,
  writeRun: 65536,
  rootDir: 't4dx',
  journalName: 'journal.t4dx',
});
const F = POOL_FORMAT;

const enc = new TextEncoder();
const dec = new TextDecoder();

function fnv1a(bytes, h = 0x811c9dc5) {
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function poolError(code, message) {
  const e = new Error(message);
  e.t4dxCode = code;
  return e;
}

// Normalizes an engine path relative to the store: "" is the store directory itself.
export function normRel(p) {
  return p.split('/').filter((s) => s !== '' && s !== '.').join('/');
}

function parentOf(rel) {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

function encodeHeader(kind, path, generation) {
  const h = new Uint8Array(F.headerSize);
  const dv = new DataView(h.buffer);
  h.set(enc.encode(F.magic), 0);
  dv.setUint32(8, F.version, true);
  dv.setUint32(12, kind, true);
  const pb = enc.encode(path);
  if (32 + pb.length > F.headerSize) throw poolError('invalid_argument', `path too long for the OPFS pool: ${path}`);
  dv.setUint32(16, pb.length, true);
  dv.setFloat64(24, generation, true);
  h.set(pb, 32);
  dv.setUint32(20, headerChecksum(h, pb.length), true);
  return h;
}

function headerChecksum(h, pathLen) {
  let c = fnv1a(h.subarray(0, 20));
  c = fnv1a(h.subarray(24, 32 + pathLen), c);
  return c;
}

// {kind, path, generation} or null when the header is not a valid used header.
function decodeHeader(h) {
  const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  if (dec.decode(h.subarray(0, 8)) !== F.magic) return null;
  if (dv.getUint32(8, true) !== F.version) return null;
  const kind = dv.getUint32(12, true);
  const len = dv.getUint32(16, true);
  if (32 + len > F.headerSize) return null;
  if (dv.getUint32(20, true) !== headerChecksum(h, len)) return null;
  if (kind !== F.kindFile && kind !== F.kindDir) return null;
  return { kind, path: dec.decode(h.subarray(32, 32 + len)), generation: dv.getFloat64(24, true) };
}

class Slot {
  constructor(name, handle) {
    this.name = name;
    this.handle = handle;
    this.kind = F.kindFree;
    this.path = null;
    this.generation = 0;
    this.openCount = 0;
    this.zombie = false;      // removed while open: reusable once closed
    this.headerDirty = false; // header written, not yet flushed
    this.dataDirty = false;   // data written, not yet flushed
    this.pending = null;      // coalesced write run: {offset, buf, len}
  }
}

export class OpfsPool {
  /** Use OpfsPool.open(). */
  constructor(storePath, dir) {
    this.storePath = storePath;
    this.dir = dir;           // FileSystemDirectoryHandle of the pool
    this.slots = [];
    this.free = [];
    this.entries = new Map(); // rel path -> Slot
    this.generation = 0;
    this.journal = null;      // sync access handle of journal.t4dx
    this.nextSlotNumber = 0;
    this.closed = false;
    this.stats = { flushes: 0, writes: 0, headerWrites: 0, journaled: 0 };
  }

  /**
   * Opens (creating) the pool of the store at storePath and pre-opens every slot.
   * REQUIRES: the caller holds the store's Web Lock (a second holder of a sync access
   * handle gets NoModificationAllowedError).
   */
  static async open(storePath, { minFree = 32, root = null } = {}) {
    const opfsRoot = root || (await navigator.storage.getDirectory());
    const top = await opfsRoot.getDirectoryHandle(F.rootDir, { create: true });
    const dir = await top.getDirectoryHandle(encodeURIComponent(storePath), { create: true });
    const pool = new OpfsPool(storePath, dir);
    try {
      await pool.load();
      await pool.reserve(minFree);
    } catch (e) {
      pool.closeHandles();
      throw e;
    }
    return pool;
  }

  async load() {
    const names = [];
    for await (const [name, h] of this.dir.entries()) {
      if (h.kind === 'file' && /^slot-\d+\.t4dx$/.test(name)) names.push(name);
    }
    names.sort();
    const jh = await this.dir.getFileHandle(F.journalName, { create: true });
    this.journal = await jh.createSyncAccessHandle();
    const header = new Uint8Array(F.headerSize);
    for (const name of names) {
      const fh = await this.dir.getFileHandle(name);
      const handle = await fh.createSyncAccessHandle();
      const slot = new Slot(name, handle);
      this.slots.push(slot);
      const n = Number(name.slice(5, 11));
      if (n >= this.nextSlotNumber) this.nextSlotNumber = n + 1;
      const got = handle.getSize() >= F.headerSize ? handle.read(header, { at: 0 }) : 0;
      const d = got === F.headerSize ? decodeHeader(header) : null;
      if (d) {
        slot.kind = d.kind;
        slot.path = d.path;
        slot.generation = d.generation;
        if (d.generation > this.generation) this.generation = d.generation;
      }
    }
    this.replayJournal();
    this.rebuildIndex();
  }

  // Index of live slots; a path named by two slots keeps the newer generation.
  rebuildIndex() {
    this.entries.clear();
    this.free = [];
    const losers = [];
    for (const s of this.slots) {
      if (s.kind === F.kindFree) continue;
      const other = this.entries.get(s.path);
      if (other) {
        const [win, lose] = other.generation >= s.generation ? [other, s] : [s, other];
        this.entries.set(s.path, win);
        losers.push(lose);
      } else {
        this.entries.set(s.path, s);
      }
    }
    for (const s of losers) this.writeHeader(s, F.kindFree, '', true);
    for (const s of this.slots) if (s.kind === F.kindFree) this.free.push(s);
  }

  replayJournal() {
    const size = this.journal.getSize();
    if (size < 8) return;
    const head = new Uint8Array(8);
    this.journal.read(head, { at: 0 });
    const dv = new DataView(head.buffer);
    const len = dv.getUint32(0, true);
    if (len === 0 || 8 + len > size) return;
    const body = new Uint8Array(len);
    this.journal.read(body, { at: 8 });
    if (fnv1a(body) !== dv.getUint32(4, true)) {
      // Torn journal: the rename had not started (headers change only after the journal
      // is durable), so there is nothing to redo.
      this.clearJournal();
      return;
    }
    const record = JSON.parse(dec.decode(body));
    this.applyWrites(record.writes);
    this.clearJournal();
  }

  clearJournal() {
    this.journal.truncate(0);
    this.journal.flush();
    this.stats.flushes++;
  }

  // Header writes [{slot: name, kind, path, generation}], each flushed.
  applyWrites(writes) {
    const byName = new Map(this.slots.map((s) => [s.name, s]));
    for (const w of writes) {
      const s = byName.get(w.slot);
      if (!s) continue;
      s.handle.write(encodeHeader(w.kind, w.path, w.generation), { at: 0 });
      s.kind = w.kind;
      s.path = w.kind === F.kindFree ? null : w.path;
      s.generation = w.generation;
      if (w.generation > this.generation) this.generation = w.generation;
    }
    for (const w of writes) {
      const s = byName.get(w.slot);
      if (s) {
        s.handle.flush();
        s.headerDirty = false;
        this.stats.flushes++;
      }
    }
  }

  /** Makes sure at least minFree slots are free (creates slot files asynchronously). */
  async reserve(minFree = 32) {
    while (this.free.length < minFree) {
      const name = `slot-${String(this.nextSlotNumber++).padStart(6, '0')}.t4dx`;
      const fh = await this.dir.getFileHandle(name, { create: true });
      const handle = await fh.createSyncAccessHandle();
      handle.truncate(0);
      const s = new Slot(name, handle);
      this.slots.push(s);
      this.free.push(s);
    }
  }

  get freeSlots() {
    return this.free.length;
  }

  writeHeader(s, kind, path, flush) {
    s.handle.write(encodeHeader(kind, path, ++this.generation), { at: 0 });
    s.generation = this.generation;
    s.kind = kind;
    s.path = kind === F.kindFree ? null : path;
    this.stats.headerWrites++;
    if (flush) {
      s.handle.flush();
      this.stats.flushes++;
      s.headerDirty = false;
    } else {
      s.headerDirty = true;
    }
  }

  claim(rel, kind) {
    const s = this.free.pop();
    if (!s) {
      throw poolError('no_space',
        `OPFS pool of ${this.storePath} has no free file (${this.slots.length} in use); retry the call`);
    }
    s.handle.truncate(F.headerSize);
    s.pending = null;
    this.writeHeader(s, kind, rel, kind === F.kindDir);
    this.entries.set(rel, s);
    return s;
  }

  release(s) {
    if (s.openCount > 0) {
      s.zombie = true;
      return;
    }
    s.zombie = false;
    s.pending = null;
    this.free.push(s);
  }

  // ---- operations on store-relative paths (the OpfsHost calls these) ----

  isDir(rel) {
    if (rel === '') return true;
    const s = this.entries.get(rel);
    return !!s && s.kind === F.kindDir;
  }

  file(rel) {
    const s = this.entries.get(rel);
    if (!s) throw poolError('not_found', `no such file: ${rel}`);
    if (s.kind !== F.kindFile) throw poolError('io_error', `is a directory: ${rel}`);
    return s;
  }

  requireParent(rel) {
    const p = parentOf(rel);
    if (!this.isDir(p)) throw poolError('not_found', `no such directory: ${p || '.'}`);
  }

  openFile(rel, mode) {
    if (rel === '' || this.isDir(rel)) throw poolError('io_error', `is a directory: ${rel || '.'}`);
    let s = this.entries.get(rel);
    if (mode === 'r') {
      if (!s) throw poolError('not_found', `no such file: ${rel}`);
    } else if (!s) {
      this.requireParent(rel);
      s = this.claim(rel, F.kindFile);
    } else if (mode === 'w') {
      s.pending = null;
      s.handle.truncate(F.headerSize);
      s.dataDirty = true;
    }
    s.openCount++;
    return s;
  }

  closeFile(s) {
    this.flushPending(s);
    s.openCount--;
    if (s.openCount === 0 && s.zombie) this.release(s);
  }

  flushPending(s) {
    const p = s.pending;
    if (!p) return;
    s.pending = null;
    s.handle.write(p.buf.subarray(0, p.len), { at: F.headerSize + p.offset });
    this.stats.writes++;
  }

  read(s, offset, dest) {
    this.flushPending(s);
    return s.handle.read(dest, { at: F.headerSize + offset });
  }

  write(s, offset, src) {
    s.dataDirty = true;
    const p = s.pending;
    if (p && p.offset + p.len === offset && p.len + src.length <= F.writeRun) {
      p.buf.set(src, p.len);
      p.len += src.length;
      return src.length;
    }
    this.flushPending(s);
    if (src.length >= F.writeRun) {
      s.handle.write(src, { at: F.headerSize + offset });
      this.stats.writes++;
    } else {
      const buf = new Uint8Array(F.writeRun);
      buf.set(src, 0);
      s.pending = { offset, buf, len: src.length };
    }
    return src.length;
  }

  sync(s) {
    this.flushPending(s);
    s.handle.flush();
    this.stats.flushes++;
    s.headerDirty = false;
    s.dataDirty = false;
  }

  size(s) {
    this.flushPending(s);
    return Math.max(0, s.handle.getSize() - F.headerSize);
  }

  truncate(rel, size) {
    const s = this.file(rel);
    this.flushPending(s);
    s.handle.truncate(F.headerSize + size);
    s.dataDirty = true;
  }

  stat(rel) {
    if (rel === '') return 'dir';
    const s = this.entries.get(rel);
    if (!s) return 'missing';
    return s.kind === F.kindDir ? 'dir' : 'file';
  }

  list(rel) {
    if (!this.isDir(rel)) throw poolError('not_found', `no such directory: ${rel || '.'}`);
    const prefix = rel === '' ? '' : rel + '/';
    const out = [];
    for (const p of this.entries.keys()) {
      if (p.startsWith(prefix) && p.length > prefix.length && !p.includes('/', prefix.length)) {
        out.push(p.slice(prefix.length));
      }
    }
    return out;
  }

  mkdir(rel) {
    if (this.isDir(rel)) return;
    if (this.entries.has(rel)) throw poolError('io_error', `exists as a file: ${rel}`);
    this.requireParent(rel);
    this.claim(rel, F.kindDir);
  }

  hasChildren(rel) {
    const prefix = rel + '/';
    for (const p of this.entries.keys()) if (p.startsWith(prefix)) return true;
    return false;
  }

  rmdir(rel) {
    if (rel === '' || !this.isDir(rel)) throw poolError('not_found', `no such directory: ${rel}`);
    if (this.hasChildren(rel)) throw poolError('io_error', `directory not empty: ${rel}`);
    const s = this.entries.get(rel);
    this.entries.delete(rel);
    this.writeHeader(s, F.kindFree, '', true);
    this.release(s);
  }

  remove(rel) {
    const s = this.file(rel);
    this.entries.delete(rel);
    s.pending = null;
    this.writeHeader(s, F.kindFree, '', true);
    this.release(s);
  }

  rename(from, to) {
    if (from === '' || to === '') throw poolError('invalid_argument', 'cannot rename the store directory');
    const src = this.entries.get(from);
    if (!src) throw poolError('not_found', `no such file or directory: ${from}`);
    this.requireParent(to);
    if (from === to) return;
    const dst = this.entries.get(to);
    const writes = [];
    const moved = [];  // [slot, old path, new path]
    if (src.kind === F.kindFile) {
      if (dst && dst.kind === F.kindDir) throw poolError('io_error', `target is a directory: ${to}`);
      moved.push([src, from, to]);
    } else {
      if (dst && dst.kind === F.kindFile) throw poolError('io_error', `target is a file: ${to}`);
      if (dst && this.hasChildren(to)) throw poolError('io_error', `target directory not empty: ${to}`);
      if (to.startsWith(from + '/')) throw poolError('invalid_argument', `cannot move ${from} into itself`);
      const prefix = from + '/';
      for (const [p, s] of this.entries) {
        if (p === from) moved.push([s, p, to]);
        else if (p.startsWith(prefix)) moved.push([s, p, to + p.slice(from.length)]);
      }
    }
    if (dst) writes.push({ slot: dst.name, kind: F.kindFree, path: '', generation: ++this.generation });
    for (const [s, , p] of moved) {
      this.flushPending(s);
      writes.push({ slot: s.name, kind: s.kind, path: p, generation: ++this.generation });
    }
    // Journal, apply, clear: all or nothing across a crash.
    const body = enc.encode(JSON.stringify({ from, to, writes }));
    const head = new Uint8Array(8);
    const hv = new DataView(head.buffer);
    hv.setUint32(0, body.length, true);
    hv.setUint32(4, fnv1a(body), true);
    this.journal.truncate(0);
    this.journal.write(head, { at: 0 });
    this.journal.write(body, { at: 8 });
    this.journal.flush();
    this.stats.flushes++;
    this.stats.journaled++;
    this.applyWrites(writes);
    this.clearJournal();
    // The in-memory index follows.
    for (const [, oldPath] of moved) this.entries.delete(oldPath);
    if (dst) {
      this.entries.delete(to);
      this.release(dst);
    }
    for (const [s, , newPath] of moved) this.entries.set(newPath, s);
  }

  /** Makes every pending create/remove durable (SyncDir). */
  syncAll() {
    for (const s of this.slots) {
      if (s.pending) this.flushPending(s);
      if (s.headerDirty) {
        s.handle.flush();
        this.stats.flushes++;
        s.headerDirty = false;
      }
    }
  }

  /** Flushes everything and closes every handle. The pool is unusable afterwards. */
  close() {
    if (this.closed) return;
    try {
      for (const s of this.slots) {
        if (s.pending) this.flushPending(s);
        if (s.headerDirty || s.dataDirty) s.handle.flush();
      }
    } finally {
      this.closeHandles();
    }
  }

  closeHandles() {
    this.closed = true;
    for (const s of this.slots) {
      try { s.handle.close(); } catch { /* already closed */ }
    }
    if (this.journal) {
      try { this.journal.close(); } catch { /* already closed */ }
    }
  }

  /** Deletes the pool of storePath from OPFS. REQUIRES: not open anywhere. */
  static async destroy(storePath, { root = null } = {}) {
    const opfsRoot = root || (await navigator.storage.getDirectory());
    const top = await opfsRoot.getDirectoryHandle(F.rootDir, { create: true });
    await top.removeEntry(encodeURIComponent(storePath), { recursive: true }).catch((e) => {
      if (e && e.name !== 'NotFoundError') throw e;
    });
  }
}
