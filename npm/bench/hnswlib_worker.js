// The npm package hnswlib-wasm (pinned in package-lock.json; its build targets browsers
// only) in a dedicated Worker, so that each query crosses one postMessage like a t4dx
// browser search does. Messages: {id, op: 'build'|'search', args} -> {id, result|error}.
import { loadHnswlib } from '/node_modules/hnswlib-wasm/dist/hnswlib.js';

let lib = null;
let index = null;
let curEf = 0;

onmessage = async (ev) => {
  const { id, op, args } = ev.data;
  try {
    let result;
    if (op === 'build') {
      lib = lib || await loadHnswlib();
      const { base, n, dim, m, efConstruction } = args;
      index = new lib.HierarchicalNSW('cosine', dim, '');
      index.initIndex(n, m, efConstruction, 100);
      const t0 = performance.now();
      for (let i = 0; i < n; i++) index.addPoint(base.subarray(i * dim, (i + 1) * dim), i, false);
      result = { build_s: (performance.now() - t0) / 1000, count: index.getCurrentCount() };
    } else if (op === 'search') {
      const { q, k, ef } = args;
      if (ef !== curEf) {
        index.setEfSearch(ef);
        curEf = ef;
      }
      result = index.searchKnn(q, k, undefined).neighbors;
    } else if (op === 'searchBatch') {
      const { flat, dim, k, ef } = args;
      if (ef !== curEf) {
        index.setEfSearch(ef);
        curEf = ef;
      }
      const n = flat.length / dim;
      result = new Array(n);
      for (let i = 0; i < n; i++) result[i] = index.searchKnn(flat.subarray(i * dim, (i + 1) * dim), k, undefined).neighbors;
    } else {
      throw new Error(`unknown op ${op}`);
    }
    postMessage({ id, result });
  } catch (e) {
    postMessage({ id, error: String((e && e.message) || e) });
  }
};
