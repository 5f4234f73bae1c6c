// FilesHost: a read-only host (wasm/host_env.h) over files the user supplies: Uint8Arrays,
// ArrayBuffers, or Blobs/Files. Used by the inspect entry (the web inspector opens a data
// directory or a snapshot archive the user picked, without a server and without copying
// it into OPFS).
//
// Blobs are read lazily with FileReaderSync where it exists (Workers) in 1 MiB blocks
// through one BlockCache shared by all the files of the host (options.cacheBytes, default
// 64 MiB): each FileReaderSync call costs about 1 ms whatever its size, so small engine
// reads must not map to one call each. Where FileReaderSync does not exist (the
// page's main thread, Node) Blobs are read whole up front by FilesHost.create().
//
// Every mutating call fails with not_supported: the engine opens these stores read_only.
const BLOCK = 1 << 20;
export const DEFAULT_CACHE_BYTES = 64 * BLOCK;

function hostError(code, message) {
  const e = new Error(message);
  e.t4dxCode = code;
  return e;
}

function norm(p) {
  return p.split('/').filter((s) => s !== '' && s !== '.').join('/');
}

// A doubly linked LRU list of cache entries (head = least recently used).
class List {
  constructor() {
    this.head = null;
    this.tail = null;
    this.bytes = 0;
  }
  pushTail(e) {
    e.list = this;
    e.prev = this.tail;
    e.next = null;
    if (this.tail) this.tail.next = e;
    else this.head = e;
    this.tail = e;
    this.bytes += e.data.length;
  }
  pushHead(e) {
    e.list = this;
    e.prev = null;
    e.next = this.head;
    if (this.head) this.head.prev = e;
    else this.tail = e;
    this.head = e;
    this.bytes += e.data.length;
  }
  remove(e) {
    if (e.prev) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.prev = e.next = e.list = null;
    this.bytes -= e.data.length;
  }
}

/**
 * One block cache shared by every lazily read file of a FilesHost, bounded in bytes
 * (`limit`), scan resistant. A segmented LRU: a block enters `probation`; read again
 * later (not by the very next read, which is one access cut in pieces) it moves to
 * `protected` (at most 3/4 of the limit; its overflow goes back to probation). Eviction
 * takes probation's least recently used block first. A miss that continues a sequential
 * scan (the next block of the file read last, or the first block of a file right after
 * the last block of another) while the cache is full enters probation at its cold end, so
 * it is the next one evicted: a scan of more bytes than the cache keeps what is cached and
 * streams the rest through one slot instead of evicting everything (with plain LRU, each
 * pass over a store a little larger than the cache reads all of it again).
 */
export class BlockCache {
  constructor(limit = DEFAULT_CACHE_BYTES) {
    if (!(limit >= 0)) throw hostError('invalid_argument', `cacheBytes: expected a number >= 0, got ${limit}`);
    this.limit = limit;
    this.map = new Map();  // key -> entry {key, src, index, data, list, prev, next}
    this.probation = new List();
    this.protected = new List();
    this.last = null;  // the source of the last block asked for (its lastIndex: which)
    this.stats = { hits: 0, misses: 0, bytesRead: 0, reads: 0, evictions: 0 };
  }

  get bytes() {
    return this.probation.bytes + this.protected.bytes;
  }

  /** The block `index` of `src`: cached, or read with src.load(index) and cached. */
  get(src, index) {
    const key = src.id * 0x100000000 + index;
    const last = this.last;
    this.last = src;
    const e = this.map.get(key);
    if (e) {
      this.stats.hits++;
      if (last !== src || src.lastIndex !== index) this.promote(e);
      src.lastIndex = index;
      return e.data;
    }
    this.stats.misses++;
    const data = src.load(index);
    this.stats.reads++;
    this.stats.bytesRead += data.length;
    const sequential = last !== null && ((last === src && index === src.lastIndex + 1) ||
      (index === 0 && last !== src && last.lastIndex === last.blocks - 1));
    src.lastIndex = index;
    if (data.length > this.limit) return data;  // never cached (limit below one block)
    const entry = { key, src, index, data, list: null, prev: null, next: null };
    const full = this.bytes + data.length > this.limit;
    this.makeRoom(data.length);
    if (sequential && full) this.probation.pushHead(entry);
    else this.probation.pushTail(entry);
    this.map.set(key, entry);
    return data;
  }

  promote(e) {
    e.list.remove(e);
    this.protected.pushTail(e);
    const cap = Math.floor(this.limit * 0.75);
    while (this.protected.bytes > cap && this.protected.head !== e) {
      const d = this.protected.head;
      this.protected.remove(d);
      this.probation.pushTail(d);
    }
  }

  makeRoom(n) {
    while (this.bytes + n > this.limit) {
      const victim = this.probation.head || this.protected.head;
      if (!victim) break;
      victim.list.remove(victim);
      this.map.delete(victim.key);
      this.stats.evictions++;
    }
  }
}

class BlobSource {
  constructor(blob, id, cache) {
    this.blob = blob;
    this.size = blob.size;
    this.id = id;
    this.blocks = Math.ceil(blob.size / BLOCK);
    this.lastIndex = -1;
    this.cache = cache;
    this.reader = new FileReaderSync();
  }
  load(i) {
    const start = i * BLOCK;
    return new Uint8Array(this.reader.readAsArrayBuffer(this.blob.slice(start, Math.min(this.size, start + BLOCK))));
  }
  read(offset, dest) {
    let done = 0;
    while (done < dest.length && offset + done < this.size) {
      const pos = offset + done;
      const i = Math.floor(pos / BLOCK);
      const b = this.cache.get(this, i);
      const from = pos - i * BLOCK;
      const n = Math.min(dest.length - done, b.length - from);
      dest.set(b.subarray(from, from + n), done);
      done += n;
    }
    return done;
  }
}

class BytesSource {
  constructor(bytes) {
    this.bytes = bytes;
    this.size = bytes.length;
  }
  read(offset, dest) {
    if (offset >= this.size) return 0;
    const n = Math.min(dest.length, this.size - offset);
    dest.set(this.bytes.subarray(offset, offset + n), 0);
    return n;
  }
}

function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

export class FilesHost {
  /**
   * @param {string} root  where the files appear (e.g. "/inspect")
   * @param {Array<{path: string, data: Uint8Array|ArrayBuffer|Blob}>} files  root-relative
   */
  static async create(root, files, options = {}) {
    const lazy = typeof FileReaderSync === 'function';
    const cache = new BlockCache(options.cacheBytes ?? DEFAULT_CACHE_BYTES);
    const sources = [];
    for (const f of files) {
      if (!f || typeof f.path !== 'string') throw hostError('invalid_argument', 'files[]: expected {path, data}');
      let src;
      const bytes = toBytes(f.data);
      if (bytes) src = new BytesSource(bytes);
      else if (f.data && typeof f.data.arrayBuffer === 'function') {
        src = lazy ? new BlobSource(f.data, sources.length + 1, cache) : new BytesSource(new Uint8Array(await f.data.arrayBuffer()));
      } else {
        throw hostError('invalid_argument', `files[${f.path}]: data must be bytes or a Blob`);
      }
      sources.push([norm(f.path), src]);
    }
    const host = new FilesHost(root, sources);
    host.cache = cache;
    return host;
  }

  constructor(root, sources) {
    this.cache = null;
    this.root = norm(root);
    this.files = new Map();
    this.dirs = new Set(['']);
    for (const [rel, src] of sources) {
      const full = this.root ? `${this.root}/${rel}` : rel;
      this.files.set(full, src);
      const parts = full.split('/');
      for (let i = 0; i < parts.length; i++) this.dirs.add(parts.slice(0, i).join('/'));
    }
    this.handles = new Map();
    this.nextId = 1;
  }

  src(p) {
    const s = this.files.get(norm(p));
    if (!s) throw hostError('not_found', `no such file: ${p}`);
    return s;
  }
  readOnly(op, p) {
    throw hostError('not_supported', `${op} ${p}: the inspected files are read-only`);
  }

  open(p, mode) {
    if (mode !== 'r') this.readOnly('write', p);
    const s = this.src(p);
    const h = this.nextId++;
    this.handles.set(h, s);
    return h;
  }
  close(h) { this.handles.delete(h); }
  h(h) {
    const s = this.handles.get(h);
    if (!s) throw hostError('invalid_argument', `bad handle ${h}`);
    return s;
  }
  read(h, offset, dest) { return this.h(h).read(offset, dest); }
  /** What the block cache read from the files and holds (zeros when nothing is lazy). */
  cacheStats() {
    const c = this.cache;
    if (!c) return { hits: 0, misses: 0, reads: 0, bytesRead: 0, evictions: 0, cachedBytes: 0, limit: 0 };
    return { ...c.stats, cachedBytes: c.bytes, limit: c.limit };
  }
  write(h) { this.readOnly('write', `handle ${h}`); }
  sync() {}
  handleSize(h) { return this.h(h).size; }
  size(p) { return this.src(p).size; }
  stat(p) {
    const n = norm(p);
    if (this.files.has(n)) return 'file';
    return this.dirs.has(n) ? 'dir' : 'missing';
  }
  list(dir) {
    const d = norm(dir);
    if (!this.dirs.has(d)) throw hostError('not_found', `no such directory: ${dir}`);
    const prefix = d ? d + '/' : '';
    const out = new Set();
    for (const p of [...this.files.keys(), ...this.dirs]) {
      if (p.length > prefix.length && p.startsWith(prefix)) out.add(p.slice(prefix.length).split('/')[0]);
    }
    return [...out];
  }
  mkdir(p) { if (this.stat(p) !== 'dir') this.readOnly('mkdir', p); }
  rmdir(p) { this.readOnly('rmdir', p); }
  remove(p) { this.readOnly('remove', p); }
  rename(from) { this.readOnly('rename', from); }
  truncate(p) { this.readOnly('truncate', p); }
  syncdir() {}
  lock() { return this.nextId++; }
  unlock() {}
}
