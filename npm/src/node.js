// Node entry of the package: the engine in this process, files on Node `fs`.
//
//   import { open } from 't4dx';
//   const store = await open({ path: './data/agent-1', dim: 384 });
//   await store.put({ id: 'e1', content: 'hello', embedding: vec });
//   const hits = await store.search(vec, { k: 5 });
//   await store.close();
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { SyncStore, T4dxError, installConstants, invalidArgument } from './core.js';
import { NodeHost } from './node_host.js';
import { Store } from './store.js';

const require = createRequire(import.meta.url);
let modulePromise = null;
let host = null;

/** Loads the WebAssembly module once per process (shared by every store). */
export function loadModule() {
  if (!modulePromise) {
    const createT4dxModule = require('./wasm/t4dx_node.cjs');
    const wasmPath = fileURLToPath(new URL('./wasm/t4dx.wasm', import.meta.url));
    host = new NodeHost();
    modulePromise = createT4dxModule({
      t4dxHost: host,
      wasmBinary: fs.readFileSync(wasmPath),
      locateFile: () => wasmPath,
    }).then((Module) => {
      installConstants(Module);
      return { Module };
    });
  }
  return modulePromise.then((m) => m.Module);
}

/**
 * Opens (creating if missing) the store in directory options.path.
 * @param {import('./index').OpenOptions} options
 * @returns {Promise<import('./index').Store>}
 */
export async function open(options) {
  if (!options || typeof options.path !== 'string' || options.path === '') {
    throw invalidArgument('options.path: expected a directory path');
  }
  const Module = await loadModule();
  const dir = path.resolve(options.path);
  const sync = new SyncStore(Module, dir, options);
  return new Store(sync, { defer: setImmediate, idleMs: options.idleMs });
}

/** The constants exported by the engine (status codes, views, limits, defaults). */
export async function constants() {
  const Module = await loadModule();
  return installConstants(Module);
}

/** Number of fsyncs the Node host made (tests and benchmarks). */
export function hostStats() {
  return { syncs: host ? host.syncs : 0 };
}

export { T4dxError };
