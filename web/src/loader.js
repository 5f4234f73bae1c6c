// Turning what the user gave (a picked folder, dropped folder or files, a .tar, an OPFS
// store) into the Worker's `load` parameters. Files are passed as File objects (the Worker
// reads them lazily); nothing is read here.

/** Splits "a/b/c" into parts without empty ones. */
function parts(p) {
  return p.split('/').filter((s) => s && s !== '.');
}

const STORE_MARKERS = [/^global_index\.json$/, /^wal\.jsonl$/, /^wal_\d+\.jsonl$/, /^hnsw\.idx$/];

/**
 * The store directories among the given paths (each "dir/.../name"): directories that hold
 * global_index.json, a WAL file, hnsw.idx or a seg_NNNNNN/ folder, shallowest first,
 * ignoring anything under quarantine/.
 */
export function findStoreRoots(paths) {
  const roots = new Map();
  for (const p of paths) {
    const ps = parts(p);
    if (ps.includes('quarantine')) continue;
    for (let i = 0; i < ps.length; i++) {
      const name = ps[i];
      const isMarker = i === ps.length - 1 && STORE_MARKERS.some((re) => re.test(name));
      const isSeg = i < ps.length - 1 && /^seg_\d{6,}$/.test(name);
      if (isMarker || isSeg) {
        const dir = ps.slice(0, i).join('/');
        roots.set(dir, (roots.get(dir) || 0) + 1);
        break;
      }
    }
  }
  const list = [...roots.keys()];
  // A store's own subfolders never look like stores, so drop roots nested in another root.
  const top = list.filter((r) => !list.some((o) => o !== r && (o === '' || r.startsWith(o + '/'))));
  return top.sort((a, b) => parts(a).length - parts(b).length || a.localeCompare(b));
}

/**
 * What each store under a data root holds, from the file names and sizes alone (nothing is
 * read): [{root, name, files, bytes, segments, walFiles, walBytes, manifest, hnsw}], in the
 * order of roots. name is the store's folder name (the service's session id).
 */
export function storeSummaries(entries, roots) {
  const out = roots.map((root) => ({
    root, name: root ? parts(root).pop() : '', files: 0, bytes: 0, segments: 0, walFiles: 0, walBytes: 0, manifest: false, hnsw: false,
  }));
  const segs = out.map(() => new Set());
  // Longest root first, so a file counts for the store that holds it.
  const order = out.map((_, i) => i).sort((a, b) => parts(out[b].root).length - parts(out[a].root).length);
  for (const e of entries) {
    const p = parts(e.path);
    const i = order.find((k) => {
      const r = parts(out[k].root);
      return r.length < p.length && r.every((x, j) => p[j] === x);
    });
    if (i === undefined) continue;
    const rel = p.slice(parts(out[i].root).length);
    if (rel[0] === 'quarantine') continue;
    const s = out[i];
    const size = (e.data && (e.data.size ?? e.data.byteLength)) || 0;
    s.files++;
    s.bytes += size;
    if (rel.length === 1 && rel[0] === 'global_index.json') s.manifest = true;
    if (rel.length === 1 && rel[0] === 'hnsw.idx') s.hnsw = true;
    if (rel.length === 1 && /^wal(_\d+)?\.jsonl$/.test(rel[0])) {
      s.walFiles++;
      s.walBytes += size;
    }
    if (rel.length > 1 && /^seg_\d{6,}$/.test(rel[0])) segs[i].add(rel[0]);
  }
  out.forEach((s, i) => { s.segments = segs[i].size; });
  return out;
}

/** [{path, data}] of the files under root, with store-relative paths. */
export function filesUnder(entries, root) {
  const prefix = root ? root + '/' : '';
  const out = [];
  for (const e of entries) {
    const p = parts(e.path).join('/');
    if (prefix && !p.startsWith(prefix)) continue;
    out.push({ path: p.slice(prefix.length), data: e.data });
  }
  return out;
}

/** Entries [{path, data: File}] from an <input webkitdirectory> FileList. */
export function entriesFromInput(fileList) {
  const out = [];
  for (const f of fileList) out.push({ path: f.webkitRelativePath || f.name, data: f });
  return out;
}

function readAllEntries(reader) {
  return new Promise((resolve, reject) => {
    const all = [];
    const next = () => reader.readEntries((batch) => {
      if (batch.length === 0) resolve(all);
      else {
        all.push(...batch);
        next();
      }
    }, reject);
    next();
  });
}

function fileOf(entry) {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry, prefix, out) {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    out.push({ path, data: await fileOf(entry) });
  } else if (entry.isDirectory) {
    for (const child of await readAllEntries(entry.createReader())) await walk(child, path, out);
  }
}

/**
 * What was dropped: {kind: 'archive', file} for one .tar, else {kind: 'folder', entries}.
 * Must be called inside the drop event (entries are only available then).
 */
export function droppedItems(dataTransfer) {
  const roots = [];
  for (const item of dataTransfer.items || []) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    if (entry) roots.push(entry);
  }
  const files = [...(dataTransfer.files || [])];
  return async () => {
    if (roots.length === 1 && roots[0].isFile && /\.tar$/i.test(roots[0].name)) {
      return { kind: 'archive', file: await fileOf(roots[0]), name: roots[0].name };
    }
    if (roots.length === 0 && files.length === 1 && /\.tar$/i.test(files[0].name)) {
      return { kind: 'archive', file: files[0], name: files[0].name };
    }
    const entries = [];
    for (const r of roots) await walk(r, '', entries);
    if (roots.length === 0) for (const f of files) entries.push({ path: f.name, data: f });
    const name = roots.length === 1 && roots[0].isDirectory ? roots[0].name : 'dropped files';
    return { kind: 'folder', entries, name };
  };
}
