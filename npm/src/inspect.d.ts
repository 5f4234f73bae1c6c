// Types of t4dx/inspect: read-only forensics over files the caller supplies.
import type { OpenOptions, Store } from './index.js';
export { T4dxError } from './index.js';

export type FileData = Uint8Array | ArrayBuffer | Blob;

export interface InspectInput {
  /** The files of one store directory, with store-relative paths ("seg_000001/meta.json"). */
  files?: Array<{ path: string; data: FileData }>;
  /** Or one snapshot archive (ustar, written by `t4dx snapshot`). */
  archive?: FileData;
  /** Bytes of the block cache that all lazily read Blobs of this inspector share (default
   * 64 MiB; Blobs are read in 1 MiB blocks inside a Worker, whole elsewhere). */
  cacheBytes?: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** Calls to the underlying file API (FileReaderSync) and the bytes they returned. */
  reads: number;
  bytesRead: number;
  evictions: number;
  cachedBytes: number;
  limit: number;
}

export interface WalInspectOptions {
  fromLsn?: number;
  summaries?: boolean;
  maxContentChars?: number;
  /** Entries to return (default 10000) after skipping `skip`. */
  limit?: number;
  skip?: number;
  /** Called while the engine reads, with the bytes of the WAL files read and their total. */
  onProgress?: ProgressCallback;
}

/** Progress of a long engine call: done of total (units named by each method). */
export type ProgressCallback = (done: number, total: number) => void;

export interface WalEntry {
  file: string;
  line: number;
  offset: number;
  length: number;
  lsn: number;
  last_lsn: number;
  timestamp: number;
  op_type: string;
  ids: string[];
  summary?: any;
}

export interface Inspector {
  inspectWal(options?: WalInspectOptions): Promise<{ report: any; entries: WalEntry[]; entriesSeen: number }>;
  /** onProgress: segment directories checked (+ 1 for the WAL, + 1 for the rest). */
  checkFiles(options?: { segmentBlocks?: boolean; wal?: boolean; onProgress?: ProgressCallback }): Promise<any>;
  /** onProgress: bytes hashed, of twice the members' bytes (the digests, then the checks of
   * the store inside). */
  verifySnapshot(options?: { onProgress?: ProgressCallback }): Promise<{ healthy: boolean; info: any }>;
  /** The store, read-only (writes fail with failed_precondition). */
  open(options?: Omit<OpenOptions, 'path'>): Promise<Store>;
  /** The shared block cache's counters (synchronous). */
  cacheStats(): CacheStats;
  close(): Promise<void>;
}

export function inspect(input: InspectInput): Promise<Inspector>;
