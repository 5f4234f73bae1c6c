// Shared helpers of the package tests (node --test).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const NPM_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = path.resolve(NPM_DIR, '..');
export const DIST = path.join(NPM_DIR, 'dist');

/** A fresh temporary directory, removed by the returned cleanup(). */
export function tempDir(prefix = 't4dx-npm-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic pseudo-random vectors (mulberry32). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function vector(dim, seed) {
  const r = rng(seed);
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = r() * 2 - 1;
  return v;
}

export function item(i, dim, extra = {}) {
  return {
    id: `item-${i}`,
    kind: i % 2 ? 'episode' : 'note',
    content: `content number ${i}`,
    embedding: vector(dim, i + 1),
    timestamp: 1700000000000 + i,
    metadata: { n: i, tag: `t${i % 5}` },
    ...extra,
  };
}

/** The native CLI (build/bin/t4dx) if it was built, else null. */
export function nativeCli() {
  const candidates = [process.env.T4DX_CLI, path.join(REPO_DIR, 'build', 'bin', 't4dx')];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  return null;
}
