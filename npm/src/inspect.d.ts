// Types of t4dx/inspect: read-only forensics over files the caller supplies.
import type { OpenOptions, Store } from './index.js';
export { T4dxError } from './index.js';

export type FileData = Uint8Array | ArrayBuffer | Blob;

export interface InspectInput {
  /** The files of one store directory, with store-relative paths ("seg_000001/meta.json"). */
  files?: Array<{ path: string; data: FileData }>;
  /** Or one snapshot archive (ustar, written by `t4dx snapshot`). */
  archive?: FileData;
}

export interface WalInspectOptions {
  fromLsn?: number;
  summaries?: boolean;
  maxContentChars?: number;
  /** Entries to return (default 10000) after skipping `skip`. */
  limit?: number;
  skip?: number;
}

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
  checkFiles(options?: { segmentBlocks?: boolean; wal?: boolean }): Promise<any>;
  verifySnapshot(): Promise<{ healthy: boolean; info: any }>;
  /** The store, read-only (writes fail with failed_precondition). */
  open(options?: Omit<OpenOptions, 'path'>): Promise<Store>;
  close(): Promise<void>;
}

export function inspect(input: InspectInput): Promise<Inspector>;
