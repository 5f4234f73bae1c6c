// Shared helpers of the t4dm-service tests: start the real binary on a free loopback port
// with a fresh data directory, talk to it over real HTTP, stop it with a signal.
//
// The binary: $T4DM_SERVICE_BIN, else build/bin/t4dm-service of this repository.
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.T4DM_SERVICE_BIN || path.join(REPO, 'build/bin/t4dm-service');
export const ADMIN_KEY = 'test-admin-key-3f9a1c7e5b2d4680';

export function tempDir(prefix = 't4dm-svc-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

// The environment of a child: this process's, without any T4DM_ variable (so a developer's
// own settings never leak into a test), plus extra.
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

// Runs the binary to completion (for --help, refused starts...). Resolves {code, signal,
// stdout, stderr}.
export function runToExit(args, env) {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

// A running service. Options:
//   dataDir  data root (default: a fresh temp dir, removed by cleanup())
//   key      T4DM_API_KEY (default ADMIN_KEY; null: none)
//   env      extra environment; args: extra flags
export async function startService({ dataDir, key = ADMIN_KEY, env = {}, args = [] } = {}) {
  const ownDir = !dataDir;
  dataDir = dataDir || tempDir();
  const child = spawn(BIN, ['--port', '0', ...args], {
    env: childEnv({ T4DM_DATA_DIR: dataDir, T4DM_API_KEY: key, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  child.stderr.on('data', (d) => { stderr += d; });
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(stdout);
      if (m) resolve(Number(m[1]));
    });
    exited.then(({ code, signal }) =>
      reject(new Error(`t4dm-service exited (${code ?? signal}) before listening:\n${stderr}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const svc = {
    port, base, key, dataDir, child, exited,
    stdout: () => stdout,
    stderr: () => stderr,
    // Structured log lines written so far.
    logs: () => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)),
    // fetch wrapper: {status, headers, text, json}. body: object (JSON-encoded) or string.
    async request(method, urlPath, { body, apiKey = key, headers = {} } = {}) {
      const h = { ...headers };
      if (apiKey !== null && apiKey !== undefined) h['X-API-Key'] = apiKey;
      const init = { method, headers: h };
      if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
      const res = await fetch(base + urlPath, init);
      const text = await res.text();
      let json;
      try { json = JSON.parse(text); } catch { json = undefined; }
      return { status: res.status, headers: res.headers, text, json };
    },
    get(urlPath, opts) { return this.request('GET', urlPath, opts); },
    post(urlPath, body, opts = {}) { return this.request('POST', urlPath, { ...opts, body }); },
    del(urlPath, opts) { return this.request('DELETE', urlPath, opts); },
    // Sends a signal and waits for the exit.
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    async cleanup() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      if (ownDir) removeDir(dataDir);
    },
  };
  return svc;
}

// One raw HTTP/1.1 exchange on a fresh connection, bytes exactly as given (for paths that
// fetch would normalize, bad framing, ...). Resolves {status, text, json} or {status: 0}
// when the server closed without answering.
export function rawRequest(port, requestText) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    sock.on('data', (d) => { data = Buffer.concat([data, d]); });
    sock.on('error', () => {});
    sock.on('close', () => {
      const text = data.toString('utf8');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const bodyStart = text.indexOf('\r\n\r\n');
      const body = bodyStart >= 0 ? text.slice(bodyStart + 4) : '';
      let json;
      try { json = JSON.parse(body); } catch { json = undefined; }
      resolve({ status: m ? Number(m[1]) : 0, text, body, json });
    });
    sock.write(requestText);
    sock.setTimeout(20000, () => { sock.destroy(); reject(new Error('raw request timed out')); });
  });
}

// A GET over a raw connection, path sent byte for byte.
export function rawGet(port, rawPath, apiKey = ADMIN_KEY) {
  return rawRequest(port,
    `GET ${rawPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${apiKey}\r\nConnection: close\r\n\r\n`);
}

// Runs a shell command line with bash; resolves {code, stdout, stderr}.
export function bash(command, env) {
  return new Promise((resolve) => {
    execFile('bash', ['-c', command], { env: childEnv(env), maxBuffer: 64 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

// A deterministic unit vector of dimension dim for seed i.
export function vec(i, dim = 8) {
  const v = [];
  for (let d = 0; d < dim; d++) v.push(Math.sin((i + 1) * (d + 1) * 0.7) + (d === i % dim ? 2 : 0));
  const n = Math.hypot(...v);
  return v.map((x) => Number((x / n).toFixed(6)));
}

// Asserts the error shape and returns the code.
export function errorCode(res) {
  if (!res.json || typeof res.json.error !== 'object') {
    throw new Error(`expected a JSON error body, got ${res.status}: ${res.text}`);
  }
  if (typeof res.json.error.code !== 'string' || typeof res.json.error.message !== 'string') {
    throw new Error(`error body lacks code/message: ${res.text}`);
  }
  return res.json.error.code;
}

// Every path below dir (relative), for "nothing created outside / nothing written" checks.
export function listTree(dir) {
  const out = [];
  const walk = (d, rel) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory()) walk(path.join(d, e.name), r);
    }
  };
  walk(dir, '');
  return out.sort();
}
