// FilesHost: a read-only host (wasm/host_env.h) over files the user supplies: Uint8Arrays,
// ArrayBuffers, or Blobs/Files. Used by the inspect entry (the web inspector opens a data
// directory or a snapshot archive the user picked, without a server and without copying
// it into OPFS).
//
// Blobs are read lazily with FileReaderSync where it exists (Workers) through a cache of
// 1 MiB blocks: each FileReaderSync call costs about 1 ms whatever its size, so small
// engine reads must not map to one call each. Where FileReaderSync does not exist (the
// page's main thread, Node) Blobs are read whole up front by FilesHost.create().
//
// Every mutating call fails with not_supported: the engine opens these stores read_only.
const BLOCK = 1 << 20;
const CACHE_BLOCKS = 64;

function hostError(code, message) {
  const e = new Error(message);
  e.t4dxCode = code;
  return e;
}

function norm(p) {
  return p.split('/').filter((s) => s !== '' && s !== '.').join('/');
}

class BlobSource {
  constructor(blob) {
    this.blob = blob;
    this.size = blob.size;
    this.cache = new Map();  // block index -> Uint8Array (insertion order = LRU order)
    this.reader = new FileReaderSync();
  }
  block(i) {
    let b = this.cache.get(i);
    if (b) {
      this.cache.delete(i);
      this.cache.set(i, b);
      return b;
    }
    const start = i * BLOCK;
    b = new Uint8Array(this.reader.readAsArrayBuffer(this.blob.slice(start, Math.min(this.size, start + BLOCK))));
    this.cache.set(i, b);
    if (this.cache.size > CACHE_BLOCKS) this.cache.delete(this.cache.keys().next().value);
    return b;
  }
  read(offset, dest) {
    let done = 0;
    while (done < dest.length && offset + done < this.size) {
      const pos = offset + done;
      const i = Math.floor(pos / BLOCK);
      const b = this.block(i);
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
  static async create(root, files) {
    const lazy = typeof FileReaderSync === 'function';
    const sources = [];
    for (const f of files) {
      if (!f || typeof f.path !== 'string') throw hostError('invalid_argument', 'files[]: expected {path, data}');
      let src;
      const bytes = toBytes(f.data);
      if (bytes) src = new BytesSource(bytes);
      else if (f.data && typeof f.data.arrayBuffer === 'function') {
        src = lazy ? new BlobSource(f.data) : new BytesSource(new Uint8Array(await f.data.arrayBuffer()));
      } else {
        throw hostError('invalid_argument', `files[${f.path}]: data must be bytes or a Blob`);
      }
      sources.push([norm(f.path), src]);
    }
    return new FilesHost(root, sources);
  }

  constructor(root, sources) {
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
