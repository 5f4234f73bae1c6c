// Inspect entry for browsers: read-only forensics over files the user picked (see
// inspect_core.js). Runs in a page or in a Worker; in a Worker, Files are read lazily.
import createT4dxModule from './wasm/t4dx_web.mjs';
import { makeInspector, T4dxError } from './inspect_core.js';

function createModule(host) {
  const wasmUrl = new URL('./wasm/t4dx.wasm', import.meta.url).href;
  return createT4dxModule({ t4dxHost: host, locateFile: () => wasmUrl });
}

/** @param {{files?: Array<{path: string, data: Uint8Array|ArrayBuffer|Blob}>, archive?: Uint8Array|ArrayBuffer|Blob}} input */
export function inspect(input) {
  return makeInspector(createModule, input);
}

export { T4dxError };
