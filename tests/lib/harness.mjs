// The one test harness of the Node suites (tests/service, tests/cli, tests/reliability):
// temporary directories, the child environment, the real t4dm-service on a free loopback
// port (start, talk to it over real HTTP, wait for health, stop or kill it), raw HTTP
// exchanges, the t4dx CLI, and small process helpers. Suite helper files re-export what
// they use and add their own data helpers.
//
// Binaries: $T4DM_SERVICE_BIN (else build/bin/t4dm-service) and $T4DX_BIN (else
// build/bin/t4dx) of this repository. Everything listens on and connects to 127.0.0.1.
import { spawn, spawnSync, execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SERVICE_BIN = process.env.T4DM_SERVICE_BIN || path.join(REPO, 'build/bin/t4dm-service');
export const T4DX_BIN = process.env.T4DX_BIN || path.join(REPO, 'build/bin/t4dx');
export const DEFAULT_ADMIN_KEY = 'test-admin-key-3f9a1c7e5b2d4680';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ files and processes

export function tempDir(prefix = 't4dm-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

// The environment of a child: this process's without any T4DM_ variable (a developer's own
// settings never leak into a test), plus extra (undefined / null values left out).
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

// Runs a binary to completion; resolves {code, signal, stdout, stderr}.
export function runToExit(bin, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

// Waits until a child process exits; resolves {code, signal}.
export function exited(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
    } else {
      child.on('exit', (code, signal) => resolve({ code, signal }));
    }
  });
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

// Every path below dir (relative, '/'-separated), sorted; [] when dir is unreadable.
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

// ------------------------------------------------------------------------------ t4dx

function parseJson(text) {
  try { return JSON.parse(text); } catch { return undefined; }
}

// Runs t4dx to completion (async); resolves {code, stdout, stderr, json} (json: stdout
// parsed when it is one JSON document).
export function runT4dx(args, { env = {}, input } = {}) {
  return new Promise((resolve) => {
    const child = execFile(T4DX_BIN, args, { env: childEnv(env), maxBuffer: 256 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr, json: parseJson(stdout) });
      });
    if (input !== undefined) child.stdin.end(input);
  });
}

// Runs t4dx to completion (synchronously); {code, signal, stdout, stderr, json}.
export function runT4dxSync(args, { env = {}, input } = {}) {
  const r = spawnSync(T4DX_BIN, args, { input, env: childEnv(env), encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, json: parseJson(r.stdout) };
}

// Starts t4dx in the background (stdio piped).
export function spawnT4dx(args, { env = {} } = {}) {
  return spawn(T4DX_BIN, args, { env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
}

// ------------------------------------------------------------------------------ HTTP

// One HTTP exchange (node:http). Resolves {status, headers (a Headers), text, json, ms} or,
// when the connection failed or was cut, {status: 0, error}; {status: -1, error} when the
// client refused to send it (an invalid header or path). body: object (JSON-encoded) or
// string or Buffer. key: the X-API-Key (null: none). A request sent on a reused keep-alive
// connection that the server had just closed as idle (ECONNRESET before any answer: the
// server never read it) is sent once more, as HTTP clients do.
export async function httpRequest(port, method, urlPath, opts = {}) {
  const r = await requestOnce(port, method, urlPath, opts);
  if (r.status === 0 && r.reusedSocket && r.error && r.error.code === 'ECONNRESET') {
    return requestOnce(port, method, urlPath, opts);
  }
  return r;
}

function requestOnce(port, method, urlPath, { body, key = null, agent, headers = {},
  timeoutMs = 60000 } = {}) {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined
      : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const h = { ...headers };
    if (key !== null && key !== undefined) h['X-API-Key'] = key;
    if (payload) {
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
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
            const hs = new Headers();
            for (const [k, v] of Object.entries(res.headers)) {
              for (const x of Array.isArray(v) ? v : [v]) hs.append(k, x);
            }
            const ms = Number(process.hrtime.bigint() - start) / 1e6;
            finish({ status: res.statusCode, headers: hs, text, json: parseJson(text), ms });
          });
        });
    } catch (error) {
      finish({ status: -1, error });
      return;
    }
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (error) => finish({ status: 0, error, reusedSocket: req.reusedSocket }));
    req.end(payload);
  });
}

// A raw HTTP exchange on a fresh connection, bytes exactly as given (paths a client would
// normalize, bad framing, ...). Resolves when the server closes (or after timeoutMs):
// {status (0: closed without answering), text, body, json, ms, timedOut}.
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
      resolve({ status: m ? Number(m[1]) : 0, text, body, json: parseJson(body), ms: Date.now() - start, timedOut });
    });
    sock.setTimeout(timeoutMs, () => { timedOut = true; sock.destroy(); });
    sock.write(bytes);
  });
}

// Polls GET /healthz until it answers 200; false after timeoutMs.
export async function waitForHealth(port, { timeoutMs = 10000 } = {}) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const r = await httpRequest(port, 'GET', '/healthz', { timeoutMs: 2000, agent: false });
    if (r.status === 200) return true;
    await sleep(50);
  }
  return false;
}

// Checks an error answer's shape: {"error": {"code": string, "message": string}}.
export function isJsonError(res) {
  return !!(res.json && typeof res.json.error === 'object' && res.json.error !== null &&
    typeof res.json.error.code === 'string' && typeof res.json.error.message === 'string');
}

// ------------------------------------------------------------------------- the service

// Starts the real service on a free port and resolves once it listens. Options:
//   dataDir   data root (default: a fresh temp dir, removed by cleanup())
//   key       T4DM_API_KEY, also the key svc.request sends (null: none; set svc.key later)
//   env       extra environment; args: extra flags; cwd: working directory
//   keepAlive requests share a keep-alive agent (default true; false: a connection each)
// The returned object: port, base, key, dataDir, child, pid, exited (a promise),
// stdout(), stderr(), logs() (the JSON log lines), waitForLog(pred), alive(), request(method, path,
// {body, key|apiKey, headers, agent, timeoutMs}), get, post(path, body, opts), del,
// kill(signal = SIGKILL), stop(signal = SIGTERM | timeoutMs: SIGTERM then SIGKILL after
// it), cleanup() (SIGKILL if running, removes an own data dir).
export async function startService({ dataDir, key = DEFAULT_ADMIN_KEY, env = {}, args = [], cwd,
  keepAlive = true } = {}) {
  const ownDir = !dataDir;
  dataDir = dataDir || tempDir('t4dm-svc-');
  const child = spawn(SERVICE_BIN, ['--port', '0', ...args], {
    env: childEnv({ T4DM_DATA_DIR: dataDir, T4DM_API_KEY: key, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd,
  });
  let stdout = '';
  let stderr = '';
  // Resolves once the process ended and its output is all read ('close', not 'exit').
  const done = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
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
    done.then(({ code, signal }) =>
      reject(new Error(`t4dm-service exited (${code ?? signal}) before listening:\n${stderr}`)));
  });
  const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: 64 }) : false;
  const svc = {
    port, key, dataDir, child, agent, pid: child.pid, exited: done,
    base: `http://127.0.0.1:${port}`,
    stdout: () => stdout,
    stderr: () => stderr,
    logs: () => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => parseJson(l)).filter(Boolean),
    alive: () => child.exitCode === null && child.signalCode === null,
    // The first log line matching pred, waiting for it (stderr arrives asynchronously, after
    // the answer that caused it may have); undefined after timeoutMs.
    async waitForLog(pred, { timeoutMs = 5000 } = {}) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const found = svc.logs().find(pred);
        if (found || Date.now() > end) return found;
        await sleep(20);
      }
    },
    request(method, urlPath, opts = {}) {
      const o = { agent, ...opts };
      o.key = 'apiKey' in opts ? opts.apiKey : ('key' in opts ? opts.key : svc.key);
      return httpRequest(port, method, urlPath, o);
    },
    get(urlPath, opts) { return svc.request('GET', urlPath, opts); },
    post(urlPath, body, opts = {}) { return svc.request('POST', urlPath, { ...opts, body }); },
    del(urlPath, opts) { return svc.request('DELETE', urlPath, opts); },
    async kill(signal = 'SIGKILL') {
      if (svc.alive()) child.kill(signal);
      const r = await done;
      if (agent) agent.destroy();
      return r;
    },
    // stop('SIGINT') sends that signal and waits; stop(ms) sends SIGTERM, then SIGKILL after
    // ms; stop() sends SIGTERM and waits up to 30 s.
    async stop(signalOrTimeout = 30000) {
      const signal = typeof signalOrTimeout === 'string' ? signalOrTimeout : 'SIGTERM';
      const timeoutMs = typeof signalOrTimeout === 'number' ? signalOrTimeout : 30000;
      if (svc.alive()) child.kill(signal);
      const timer = setTimeout(() => { if (svc.alive()) child.kill('SIGKILL'); }, timeoutMs);
      const r = await done;
      clearTimeout(timer);
      if (agent) agent.destroy();
      return r;
    },
    async cleanup() {
      await svc.kill('SIGKILL');
      if (ownDir) removeDir(dataDir);
    },
  };
  return svc;
}
