// Shared harness of the reliability suites (crash cycles, disk full, load and soak, hostile
// input): start the real t4dm-service on a free loopback port, talk to it over real HTTP
// (node:http with a keep-alive agent, so load figures measure the server, not connection
// set-up), kill it, run the t4dx CLI on its stores, read its resident memory.
//
// Binaries: $T4DM_SERVICE_BIN (else build/bin/t4dm-service) and $T4DX_BIN (else
// build/bin/t4dx). Everything listens on and connects to 127.0.0.1 only.
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SERVICE_BIN = process.env.T4DM_SERVICE_BIN || path.join(REPO, 'build/bin/t4dm-service');
export const T4DX_BIN = process.env.T4DX_BIN || path.join(REPO, 'build/bin/t4dx');
export const ADMIN_KEY = 'rel-admin-key-7c1e9a40d2b35f68';

export function tempDir(prefix = 't4dm-rel-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

// The environment of a child: this process's without any T4DM_ variable (a developer's own
// settings never leak into a test), plus extra.
export function childEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('T4DM_')) env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v !== undefined && v !== null) env[k] = String(v);
  }
  return env;
}

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

// One HTTP exchange. Resolves {status, text, json, ms} or, when the connection failed or was
// cut (the server was killed), {status: 0, error}. body: object (JSON-encoded) or string.
// A request sent on a reused keep-alive connection that the server had just closed as idle
// (ECONNRESET before any answer: the server never read it) is sent once more, as HTTP
// clients do.
export async function request(port, method, urlPath, opts = {}) {
  const r = await requestOnce(port, method, urlPath, opts);
  if (r.status === 0 && r.reusedSocket && r.error && r.error.code === 'ECONNRESET') {
    return requestOnce(port, method, urlPath, opts);
  }
  return r;
}

function requestOnce(port, method, urlPath, { body, key = ADMIN_KEY, agent, headers = {},
  timeoutMs = 60000 } = {}) {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined
      : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const h = { ...headers };
    if (key !== null && key !== undefined) h['X-API-Key'] = key;
    if (payload) {
      h['Content-Type'] = 'application/json';
      h['Content-Length'] = payload.length;
    }
    const start = process.hrtime.bigint();
    let done = false;
    const finish = (r) => { if (!done) { done = true; resolve(r); } };
    let req;
    try {
      req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers: h, agent },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('error', (error) => finish({ status: 0, error }));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json;
            try { json = JSON.parse(text); } catch { json = undefined; }
            const ms = Number(process.hrtime.bigint() - start) / 1e6;
            finish({ status: res.statusCode, headers: res.headers, text, json, ms });
          });
        });
    } catch (error) {
      finish({ status: -1, error });  // the client refused to send it (invalid header or path)
      return;
    }
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (error) => finish({ status: 0, error, reusedSocket: req.reusedSocket }));
    req.end(payload);
  });
}

// A running service. Options: dataDir (required), key (T4DM_API_KEY; null: none), env,
// args, cwd (default: the data root's parent, so a relative path the service might create
// by mistake lands where a test looks).
export async function startService({ dataDir, key = ADMIN_KEY, env = {}, args = [], cwd } = {}) {
  const child = spawn(SERVICE_BIN, ['--port', '0', ...args], {
    env: childEnv({ T4DM_DATA_DIR: dataDir, T4DM_API_KEY: key, T4DM_ACCESS_LOG: 'false', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: cwd || path.dirname(dataDir),
  });
  let stdout = '';
  let stderr = '';
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  child.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.length > (4 << 20)) stderr = stderr.slice(-(2 << 20));  // bounded
  });
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(stdout);
      if (m) resolve(Number(m[1]));
    });
    exited.then(({ code, signal }) =>
      reject(new Error(`t4dm-service exited (${code ?? signal}) before listening:\n${stderr}`)));
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const svc = {
    port, key, dataDir, child, exited, agent, pid: child.pid,
    stderr: () => stderr,
    alive: () => child.exitCode === null && child.signalCode === null,
    request(method, urlPath, opts = {}) {
      return request(port, method, urlPath, { key: svc.key, agent, ...opts });
    },
    get(urlPath, opts) { return this.request('GET', urlPath, opts); },
    post(urlPath, body, opts = {}) { return this.request('POST', urlPath, { ...opts, body }); },
    del(urlPath, opts) { return this.request('DELETE', urlPath, opts); },
    async kill(signal = 'SIGKILL') {
      if (svc.alive()) child.kill(signal);
      const r = await exited;
      agent.destroy();
      return r;
    },
    // SIGTERM, waits; SIGKILL after timeoutMs. Resolves {code, signal}.
    async stop(timeoutMs = 30000) {
      if (svc.alive()) child.kill('SIGTERM');
      const timer = setTimeout(() => { if (svc.alive()) child.kill('SIGKILL'); }, timeoutMs);
      const r = await exited;
      clearTimeout(timer);
      agent.destroy();
      return r;
    },
  };
  return svc;
}

// Resident memory of a process in KiB (VmRSS of /proc/<pid>/status), 0 when gone.
export function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

// Runs the t4dx CLI; resolves {code, stdout, stderr, json}.
export function t4dx(args, env = {}) {
  return new Promise((resolve) => {
    execFile(T4DX_BIN, args, { env: childEnv(env), maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      let json;
      try { json = JSON.parse(stdout); } catch { json = undefined; }
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr, json });
    });
  });
}

// `t4dx --data storeDir verify --json` (read-only: works beside a running service).
export function verifyStore(storeDir) {
  return t4dx(['--data', storeDir, 'verify', '--json']);
}

// Every path below dir (relative), sorted.
export function listTree(dir) {
  const out = [];
  const walk = (d, rel) => {
    let entries;
    try { entries = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory()) walk(path.join(d, e.name), r);
    }
  };
  walk(dir, '');
  return out.sort();
}

// A raw HTTP exchange on a fresh connection, bytes exactly as given. Resolves {status, text,
// body, json, ms}; status 0 when the server closed without answering.
export function rawRequest(port, bytes, { timeoutMs = 30000 } = {}) {
  return new Promise((resolve) => {
    const start = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let timedOut = false;
    sock.on('data', (d) => { data = Buffer.concat([data, d]); });
    sock.on('error', () => {});
    sock.on('close', () => {
      const text = data.toString('utf8');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const i = text.indexOf('\r\n\r\n');
      const body = i >= 0 ? text.slice(i + 4) : '';
      let json;
      try { json = JSON.parse(body); } catch { json = undefined; }
      resolve({ status: m ? Number(m[1]) : 0, text, body, json, ms: Date.now() - start, timedOut });
    });
    sock.setTimeout(timeoutMs, () => { timedOut = true; sock.destroy(); });
    sock.write(bytes);
  });
}

// Percentile (0..100) of an unsorted array of numbers.
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Checks an error answer's shape: {"error": {"code": string, "message": string}}.
export function isJsonError(res) {
  return !!(res.json && typeof res.json.error === 'object' && res.json.error !== null &&
    typeof res.json.error.code === 'string' && typeof res.json.error.message === 'string');
}
