// The Node host of the WebAssembly engine: the host functions of wasm/host_env.h over
// synchronous `fs` calls (the engine's calls are synchronous; Node's sync fs calls are
// the same system calls the native POSIX Env makes).
//
// Durability: sync() is fsyncSync; a created file, a new directory and both sides of a
// rename are followed by an fsync of the parent directory, so an entry that the engine
// saw created survives a machine crash even before the engine's own SyncDir.
//
// Store lock (compatible with the native POSIX Env, which takes an fcntl lock on
// <store>/LOCK and writes its pid there): Node cannot take fcntl locks, so the LOCK file's
// pid is the lock. lock() refuses ("locked ... by process N") when the file names a live
// process other than this one (process.kill(pid, 0)), then writes "<pid> node\n", syncs,
// and reads it back. unlock() empties the file. Remaining races, documented in README.md:
//   - two processes that check at the same instant can both see the file free; the
//     read-back catches most, not all, of these interleavings;
//   - a native process that takes its fcntl lock does not look at the pid a Node holder
//     wrote (unless the native Env checks it), so native-then-Node is refused but
//     Node-then-native relies on the native side checking the pid;
//   - a stale pid reused by an unrelated live process makes lock() refuse (delete LOCK).
import fs from 'node:fs';
import path from 'node:path';

function hostError(code, message) {
  const e = new Error(message);
  e.t4dxCode = code;
  return e;
}

// Node fs errors -> Status code names (wasm/host_env.h).
function mapFsError(e) {
  if (e && e.t4dxCode) return e;
  const code = e && e.code;
  const name =
    code === 'ENOENT' ? 'not_found'
    : code === 'ENOSPC' || code === 'EDQUOT' ? 'no_space'
    : code === 'EROFS' ? 'failed_precondition'
    : 'io_error';
  return hostError(name, e && e.message ? e.message : String(e));
}

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

const { O_RDONLY, O_RDWR, O_CREAT, O_TRUNC } = fs.constants;
const O_DIRECTORY = fs.constants.O_DIRECTORY || 0;

export class NodeHost {
  constructor() {
    this.files = new Map();  // handle -> {fd, path}
    this.locks = new Map();  // lock id -> {fd, path}
    this.nextId = 1;
    this.syncs = 0;
  }

  wrap(fn) {
    try {
      return fn();
    } catch (e) {
      throw mapFsError(e);
    }
  }

  fd(h) {
    const f = this.files.get(h);
    if (!f) throw hostError('invalid_argument', `bad handle ${h}`);
    return f.fd;
  }

  syncDirOf(p) {
    this.syncdir(path.dirname(p));
  }

  open(p, mode) {
    return this.wrap(() => {
      let fd;
      if (mode === 'r') {
        fd = fs.openSync(p, O_RDONLY);
      } else {
        const existed = fs.existsSync(p);
        fd = fs.openSync(p, O_RDWR | O_CREAT | (mode === 'w' ? O_TRUNC : 0), 0o644);
        if (!existed) {
          try {
            this.syncDirOf(p);
          } catch (e) {
            fs.closeSync(fd);
            throw e;
          }
        }
      }
      const h = this.nextId++;
      this.files.set(h, { fd, path: p });
      return h;
    });
  }

  close(h) {
    const fd = this.fd(h);
    this.files.delete(h);
    this.wrap(() => fs.closeSync(fd));
  }

  read(h, offset, dest) {
    const fd = this.fd(h);
    return this.wrap(() => {
      let got = 0;
      while (got < dest.length) {
        const n = fs.readSync(fd, dest, got, dest.length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      return got;
    });
  }

  write(h, offset, src) {
    const fd = this.fd(h);
    return this.wrap(() => {
      let done = 0;
      while (done < src.length) {
        done += fs.writeSync(fd, src, done, src.length - done, offset + done);
      }
      return done;
    });
  }

  sync(h) {
    const fd = this.fd(h);
    this.syncs++;
    this.wrap(() => fs.fsyncSync(fd));
  }

  handleSize(h) {
    const fd = this.fd(h);
    return this.wrap(() => fs.fstatSync(fd).size);
  }

  size(p) {
    return this.wrap(() => fs.statSync(p).size);
  }

  stat(p) {
    return this.wrap(() => {
      const st = fs.statSync(p, { throwIfNoEntry: false });
      if (!st) return 'missing';
      return st.isDirectory() ? 'dir' : 'file';
    });
  }

  list(dir) {
    return this.wrap(() => fs.readdirSync(dir));
  }

  mkdir(p) {
    this.wrap(() => {
      try {
        fs.mkdirSync(p, 0o755);
      } catch (e) {
        if (e.code === 'EEXIST' && fs.statSync(p).isDirectory()) return;
        throw e;
      }
      this.syncDirOf(p);
    });
  }

  rmdir(p) {
    this.wrap(() => fs.rmdirSync(p));
  }

  remove(p) {
    this.wrap(() => fs.unlinkSync(p));
  }

  rename(from, to) {
    this.wrap(() => {
      fs.renameSync(from, to);
      this.syncDirOf(to);
      if (path.dirname(from) !== path.dirname(to)) this.syncDirOf(from);
    });
  }

  truncate(p, size) {
    this.wrap(() => fs.truncateSync(p, size));
  }

  syncdir(p) {
    this.wrap(() => {
      const fd = fs.openSync(p === '' ? '.' : p, O_RDONLY | O_DIRECTORY);
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    });
  }

  lock(p) {
    const key = path.resolve(p);
    for (const l of this.locks.values()) {
      if (l.key === key) {
        throw hostError('locked',
          `store ${path.dirname(p)} is locked by process ${process.pid} (this process)`);
      }
    }
    return this.wrap(() => {
      const fd = fs.openSync(p, O_RDWR | O_CREAT, 0o644);
      try {
        const holder = this.holderOf(fd);
        if (holder && holder !== process.pid && processAlive(holder)) {
          throw hostError('locked', `store ${path.dirname(p)} is locked by process ${holder}`);
        }
        const mine = Buffer.from(`${process.pid} node\n`);
        fs.ftruncateSync(fd, 0);
        fs.writeSync(fd, mine, 0, mine.length, 0);
        fs.fsyncSync(fd);
        const back = this.holderOf(fd);
        if (back !== process.pid) {
          throw hostError('locked', `store ${path.dirname(p)} is locked by process ${back}`);
        }
      } catch (e) {
        fs.closeSync(fd);
        throw e;
      }
      const id = this.nextId++;
      this.locks.set(id, { fd, key });
      return id;
    });
  }

  // The pid at the start of the lock file, or 0.
  holderOf(fd) {
    const buf = Buffer.alloc(64);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const m = /^(\d+)/.exec(buf.subarray(0, n).toString('latin1'));
    return m ? Number(m[1]) : 0;
  }

  unlock(id) {
    const l = this.locks.get(id);
    if (!l) throw hostError('invalid_argument', `bad lock id ${id}`);
    this.locks.delete(id);
    this.wrap(() => {
      try {
        if (this.holderOf(l.fd) === process.pid) fs.ftruncateSync(l.fd, 0);
      } finally {
        fs.closeSync(l.fd);
      }
    });
  }

  /** Releases every lock this host holds (process exit). */
  releaseAll() {
    for (const id of [...this.locks.keys()]) {
      try {
        this.unlock(id);
      } catch {
        // exiting: nothing more to do
      }
    }
  }
}
