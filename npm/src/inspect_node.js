// Inspect entry for Node: read-only forensics over supplied files (see inspect_core.js).
//   import { inspect } from 't4dx/inspect';
//   const ins = await inspect({ files: [{ path: 'wal.jsonl', data: fs.readFileSync(p) }] });
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { makeInspector, T4dxError } from './inspect_core.js';

const require = createRequire(import.meta.url);
let wasmBinary = null;

function createModule(host) {
  const createT4dxModule = require('./wasm/t4dx_node.cjs');
  const wasmPath = fileURLToPath(new URL('./wasm/t4dx.wasm', import.meta.url));
  if (!wasmBinary) wasmBinary = fs.readFileSync(wasmPath);
  return createT4dxModule({ t4dxHost: host, wasmBinary, locateFile: () => wasmPath });
}

/** @param {{files?: Array<{path: string, data: Uint8Array|ArrayBuffer|Blob}>, archive?: Uint8Array|ArrayBuffer|Blob}} input */
export function inspect(input) {
  return makeInspector(createModule, input);
}

export { T4dxError };
