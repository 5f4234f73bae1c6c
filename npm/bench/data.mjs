// The benchmark data set in the big-ann-benchmarks layout (base.fbin, queries.fbin,
// gt100.ibin, base.jsonl), read the way core/tools/bench/dataset.cc reads it: the first n
// rows, items with the same ids, kind, content, timestamps and metadata, and recall@10
// against gt100.ibin when every row is used, else against an exact (brute-force cosine)
// answer computed here and cached under the system's temp directory.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** {n, dim, data: Float32Array} of the first `limit` rows (all when limit is 0). */
export function readFbin(file, limit = 0) {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(8);
    fs.readSync(fd, head, 0, 8, 0);
    const rows = head.readUInt32LE(0);
    const dim = head.readUInt32LE(4);
    const n = limit ? Math.min(limit, rows) : rows;
    if (limit && limit > rows) throw new Error(`${file}: ${rows} rows, fewer than the ${limit} asked for`);
    const buf = Buffer.alloc(n * dim * 4);
    fs.readSync(fd, buf, 0, buf.length, 8);
    return { n, dim, rows, data: new Float32Array(buf.buffer, buf.byteOffset, n * dim) };
  } finally {
    fs.closeSync(fd);
  }
}

/** {nq, k, data: Int32Array} of an .ibin ground-truth file. */
export function readIbin(file) {
  const buf = fs.readFileSync(file);
  const nq = buf.readUInt32LE(0);
  const k = buf.readUInt32LE(4);
  return { nq, k, data: new Int32Array(buf.buffer.slice(buf.byteOffset + 8, buf.byteOffset + 8 + nq * k * 4)) };
}

// dataset.cc FromJson: strings, booleans, numbers as they are; lists as string lists;
// anything else as its JSON text.
function metaValue(v) {
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (Array.isArray(v)) return v.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
  return JSON.stringify(v);
}

/** The first n items of base.jsonl without embeddings: [{id, kind, content, timestamp, metadata}]. */
export function readItems(file, n) {
  const out = [];
  const text = fs.readFileSync(file, 'utf8');
  let start = 0;
  while (out.length < n && start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const j = JSON.parse(text.slice(start, end));
    const i = out.length;
    const metadata = {};
    if (j.metadata && typeof j.metadata === 'object') {
      for (const [k, v] of Object.entries(j.metadata)) metadata[k] = metaValue(v);
    }
    out.push({ id: j.id ?? `row-${i}`, kind: 'episode', content: j.content ?? '',
      timestamp: j.timestamp ?? 1735689600000 + i * 1000, metadata });
    start = end + 1;
  }
  if (out.length < n) throw new Error(`${file}: ${out.length} lines, fewer than the ${n} rows used`);
  return out;
}

/** Logical bytes of an item, as dataset.cc ItemBytes counts them. */
export function itemBytes(item, dim) {
  const len = (s) => Buffer.byteLength(s, 'utf8');
  let b = len(item.id) + len(item.kind) + len(item.content) + 8 + dim * 4;
  for (const [k, v] of Object.entries(item.metadata)) {
    b += len(k);
    if (typeof v === 'string') b += len(v);
    else if (typeof v === 'number') b += 8;
    else if (typeof v === 'boolean') b += 1;
    else for (const s of v) b += len(s);
  }
  return b;
}

function normalized(data, n, dim) {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += data[i * dim + d] * data[i * dim + d];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < dim; d++) out[i * dim + d] = data[i * dim + d] * inv;
  }
  return out;
}

/** Exact top-k rows by cosine similarity for every query: Int32Array nq*k. */
function bruteForce(base, queries, dim, k) {
  const nb = base.length / dim;
  const nq = queries.length / dim;
  const b = normalized(base, nb, dim);
  const q = normalized(queries, nq, dim);
  const out = new Int32Array(nq * k);
  const bestS = new Float64Array(k);
  const bestI = new Int32Array(k);
  for (let qi = 0; qi < nq; qi++) {
    bestS.fill(-Infinity);
    bestI.fill(-1);
    const qo = qi * dim;
    for (let r = 0; r < nb; r++) {
      const ro = r * dim;
      let s = 0;
      for (let d = 0; d < dim; d++) s += q[qo + d] * b[ro + d];
      if (s <= bestS[k - 1]) continue;
      let p = k - 1;
      while (p > 0 && bestS[p - 1] < s) {
        bestS[p] = bestS[p - 1];
        bestI[p] = bestI[p - 1];
        p--;
      }
      bestS[p] = s;
      bestI[p] = r;
    }
    out.set(bestI, qi * k);
  }
  return out;
}

/**
 * Loads the data set: {dim, nAll, n, nq, base, queries, items, gt: {k, data}, gtSource}.
 * Rows [0, nAll) are read (base vectors and items); the ground truth is over rows [0, n).
 * @param {{dir: string, n: number, nAll: number, nq: number, k: number, log: (s: string) => void}} o
 */
export function loadDataset({ dir, n, nAll, nq, k, log }) {
  const all = readFbin(path.join(dir, 'base.fbin'), Math.max(n, nAll));
  const queries = readFbin(path.join(dir, 'queries.fbin'), nq);
  const items = readItems(path.join(dir, 'base.jsonl'), all.n);
  const dim = all.dim;
  let gt;
  let gtSource;
  const gtFile = path.join(dir, 'gt100.ibin');
  if (n === all.rows && fs.existsSync(gtFile)) {
    const g = readIbin(gtFile);
    gt = { k: g.k, data: g.data.subarray(0, queries.n * g.k) };
    gtSource = 'gt100.ibin';
  } else {
    const st = fs.statSync(path.join(dir, 'base.fbin'));
    const key = crypto.createHash('sha256')
      .update(`${path.resolve(dir)}|${st.size}|${st.mtimeMs}|${n}|${queries.n}|${k}`).digest('hex').slice(0, 16);
    const cache = path.join(os.tmpdir(), `t4dx-bench-gt-${key}.i32`);
    let data;
    if (fs.existsSync(cache)) {
      const b = fs.readFileSync(cache);
      data = new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    } else {
      const t0 = performance.now();
      data = bruteForce(all.data.subarray(0, n * dim), queries.data, dim, k);
      log(`ground truth: exact top-${k} of ${queries.n} queries over ${n} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      fs.writeFileSync(cache, Buffer.from(data.buffer));
    }
    gt = { k, data };
    gtSource = `exact over the first ${n} rows`;
  }
  return { dim, nAll: all.n, n, nq: queries.n, base: all.data, queries: queries.data, items, gt, gtSource };
}

/** Mean |found ∩ exact top k| / k; found[q] are row numbers (-1 for unknown ids). */
export function recallAtK(found, gt, k) {
  let sum = 0;
  for (let q = 0; q < found.length; q++) {
    const truth = new Set(gt.data.subarray(q * gt.k, q * gt.k + k));
    let hit = 0;
    for (const r of found[q].slice(0, k)) if (truth.has(r)) hit++;
    sum += hit / k;
  }
  return found.length ? sum / found.length : 0;
}

/** The largest qps among points with recall >= target (0 and ef 0 when none): {qps, ef}. */
export function qpsAtRecall(points, target) {
  let best = { qps: 0, ef: 0 };
  for (const p of points) if (p.recall >= target && p.qps > best.qps) best = { qps: p.qps, ef: p.ef };
  return best;
}
