// Shared harness of the reliability suites (crash cycles, disk full, load and soak, hostile
// input): start the real t4dm-service on a free loopback port, talk to it over real HTTP
// (node:http with a keep-alive agent, so load figures measure the server, not connection
// set-up), kill it, run the t4dx CLI on its stores, read its resident memory.
//
// Binaries: $T4DM_SERVICE_BIN (else build/bin/t4dm-service) and $T4DX_BIN (else
// build/bin/t4dx). Everything listens on and connects to 127.0.0.1 only.
import path from 'node:path';
import * as harness from '../lib/harness.mjs';

// The shared harness (tests/lib/harness.mjs) provides these unchanged.
export {
  REPO, SERVICE_BIN, T4DX_BIN, tempDir, removeDir, childEnv, rssKiB, listTree, rawRequest,
  sleep, isJsonError,
} from '../lib/harness.mjs';
export const ADMIN_KEY = 'rel-admin-key-7c1e9a40d2b35f68';

// A deterministic PRNG (mulberry32): every random choice of a suite comes from its seed, so a
// failing run can be replayed with the seed it printed.
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));  // inclusive
  next.pick = (arr) => arr[Math.floor(next() * arr.length)];
  return next;
}

// A random unit vector whose components are exact float32 values, so what the store gives
// back (float32, normalized for cosine) can be compared closely.
export function unitVector(random, dim) {
  const v = new Array(dim);
  let n = 0;
  for (let d = 0; d < dim; d++) { v[d] = random() * 2 - 1; n += v[d] * v[d]; }
  n = Math.sqrt(n) || 1;
  for (let d = 0; d < dim; d++) v[d] = Math.fround(v[d] / n);
  return v;
}

export function sameVector(a, b, tol = 1e-5) {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= tol)) return false;
  return true;
}

// One HTTP exchange (harness.httpRequest; key defaults to ADMIN_KEY). Resolves {status,
// text, json, ms} or, when the connection failed or was cut (the server was killed),
// {status: 0, error}. A request on a reused keep-alive connection the server had just
// closed as idle is sent once more.
export function request(port, method, urlPath, opts = {}) {
  return harness.httpRequest(port, method, urlPath, { key: ADMIN_KEY, ...opts });
}

// A running service. Options: dataDir (required), key (T4DM_API_KEY; null: none), env,
// args, cwd (default: the data root's parent, so a relative path the service might create
// by mistake lands where a test looks).
export function startService({ dataDir, key = ADMIN_KEY, env = {}, args = [], cwd } = {}) {
  return harness.startService({
    dataDir, key, args, cwd: cwd || path.dirname(dataDir), env: { T4DM_ACCESS_LOG: 'false', ...env },
  });
}

// Runs the t4dx CLI; resolves {code, stdout, stderr, json}.
export function t4dx(args, env = {}) {
  return harness.runT4dx(args, { env });
}

// `t4dx --data storeDir verify --json` (read-only: works beside a running service).
export function verifyStore(storeDir) {
  return t4dx(['--data', storeDir, 'verify', '--json']);
}

// Percentile (0..100) of an unsorted array of numbers.
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}
