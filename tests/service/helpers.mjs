// Helpers of the t4dm-service tests: the shared harness (tests/lib/harness.mjs: the real
// binary on a free loopback port with a fresh data directory, real HTTP, signals) with this
// suite's defaults, plus its data helpers.
//
// The binary: $T4DM_SERVICE_BIN, else build/bin/t4dm-service of this repository.
import { execFile } from 'node:child_process';
import {
  REPO, SERVICE_BIN, DEFAULT_ADMIN_KEY, tempDir as harnessTempDir, removeDir, childEnv, listTree,
  runToExit as harnessRunToExit, startService as harnessStartService, rawRequest as harnessRawRequest,
} from '../lib/harness.mjs';

export { REPO, removeDir, childEnv, listTree };
export const BIN = SERVICE_BIN;
export const ADMIN_KEY = DEFAULT_ADMIN_KEY;

export function tempDir(prefix = 't4dm-svc-') {
  return harnessTempDir(prefix);
}

// Runs the binary to completion (for --help, refused starts...). Resolves {code, signal,
// stdout, stderr}.
export function runToExit(args, env) {
  return harnessRunToExit(BIN, args, env);
}

// A running service (tests/lib/harness.mjs startService). Options:
//   dataDir  data root (default: a fresh temp dir, removed by cleanup())
//   key      T4DM_API_KEY (default ADMIN_KEY; null: none)
//   env      extra environment; args: extra flags
// request(method, path, {body, apiKey, headers}) answers {status, headers, text, json}.
export function startService(opts = {}) {
  return harnessStartService(opts);
}

// One raw HTTP/1.1 exchange on a fresh connection, bytes exactly as given (for paths that
// a client would normalize, bad framing, ...). Resolves {status, text, json} or {status: 0}
// when the server closed without answering; rejects after 20 s without a close.
export async function rawRequest(port, requestText) {
  const r = await harnessRawRequest(port, requestText, { timeoutMs: 20000 });
  if (r.timedOut) throw new Error('raw request timed out');
  return r;
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
