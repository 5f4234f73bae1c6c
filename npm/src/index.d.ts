// Types of the t4dx package (Node entry, browser entry: the same Promise API).

/** A metadata value: string, number, boolean or a list of strings (tags). */
export type MetaValue = string | number | boolean | string[];

/** One memory item. Field names are the engine's (item_json.h). */
export interface Item {
  /** 1..128 characters of [A-Za-z0-9._:-] */
  id: string;
  kind?: string;
  content?: string;
  /** Exactly the store's dimension; returned as a Float32Array. */
  embedding?: Float32Array | number[];
  /** ms since the Unix epoch; stamped by the engine when omitted. */
  timestamp?: number;
  metadata?: Record<string, MetaValue>;
}

/** An item as read back: embedding is a Float32Array when requested. */
export interface StoredItem extends Item {
  embedding?: Float32Array;
  timestamp: number;
}

export type Metric = 'cosine' | 'ip' | 'inner_product' | 'l2';
export type SyncMode = 'always' | 'interval' | 'none';

export interface OpenOptions {
  /** Node: a directory. Browser: the store's name in the Origin Private File System. */
  path: string;
  /** Vector dimension (0/omitted: the store's, or the first embedding's). */
  dim?: number;
  metric?: Metric;
  /** Items per MemTable before it is flushed to a segment (T4DM_FLUSH_THRESHOLD). */
  flushThreshold?: number;
  /** When an acknowledged write is durable: "always" (default, true), "interval", "none" (false). */
  sync?: SyncMode | boolean;
  syncIntervalMs?: number;
  /** "strict" refuses to open on WAL corruption (T4DM_RECOVERY_STRICT); "lenient" (default) quarantines. */
  recovery?: 'strict' | 'lenient';
  readOnly?: boolean;
  createIfMissing?: boolean;
  memtableMaxBytes?: number;
  walRetentionEntries?: number;
  walRetentionBytes?: number;
  hnswM?: number;
  efConstruction?: number;
  efSearch?: number;
  compactionFanout?: number;
  maxK?: number;
  maxBatchItems?: number;
  /**
   * ms between idle maintenance looks after writes (default 1000; 0 = only after writes).
   * Merges wait until writes pause this long (unless segments pile up); 0: they never wait.
   */
  idleMs?: number;
  /** Engine log lines (Node and inspect only: functions cannot reach a Worker). */
  onLog?: (line: { level: number; message: string }) => void;
}

/** Filter object with the engine's field names (item_json.h). */
export interface Filter {
  time_from?: number;
  time_to?: number;
  kind?: string | string[];
  metadata?: Record<string, MetaValue | { eq: MetaValue } | { any_of: MetaValue[] } | { all_of: string[] }>;
}

export interface SearchOptions {
  k?: number;
  ef?: number;
  filter?: Filter;
  includeItems?: boolean;
  includeEmbedding?: boolean;
}

export interface SearchHit {
  id: string;
  /** Higher is better: cosine similarity, dot product, or minus squared L2 distance. */
  score: number;
  item?: StoredItem;
}

export interface ScanOptions {
  timeFrom?: number;
  timeTo?: number;
  limit?: number;
  includeEmbedding?: boolean;
}

export type View =
  | 'status' | 'stats' | 'segments' | 'segment' | 'segment_metadata' | 'segment_verify'
  | 'segment_count' | 'memtable' | 'wal_status' | 'hnsw_stats' | 'global_index'
  | 'compaction_history' | 'replay_estimate' | 'recovery_report';

export interface VerifyResult {
  healthy: boolean;
  report: any;
}

export interface Store {
  readonly path: string;
  /** Inserts or replaces item.id. Resolves to the write's LSN once durable (per `sync`). */
  put(item: Item): Promise<number>;
  /** All items or none. Resolves to the last LSN. */
  putBatch(items: Item[]): Promise<number>;
  get(id: string, options?: { includeEmbedding?: boolean }): Promise<StoredItem | null>;
  /** false when the id was not stored (nothing written). */
  delete(id: string): Promise<boolean>;
  /** Best first. */
  search(vector: Float32Array | number[], options?: SearchOptions): Promise<SearchHit[]>;
  /**
   * search() of each vector in one call (in the browser, one message to the Worker): one
   * array of hits per vector, in order, each as search() returns it. The options apply to
   * every query; one bad query rejects the whole call.
   */
  searchBatch(vectors: Array<Float32Array | number[]>, options?: SearchOptions): Promise<SearchHit[][]>;
  /** The query plan (candidates per stage, pruning, ef, timings) as JSON. */
  explain(vector: Float32Array | number[], options?: SearchOptions): Promise<any>;
  /** Live items in timestamp order. */
  scan(options?: ScanOptions): Promise<StoredItem[]>;
  count(): Promise<number>;
  flush(): Promise<void>;
  compact(): Promise<void>;
  verify(): Promise<VerifyResult>;
  stats(): Promise<any>;
  describe(view: View, arg?: string): Promise<any>;
  compactWal(keepEntries?: number): Promise<any>;
  truncateWal(): Promise<any>;
  rebuildHnsw(): Promise<any>;
  rebuildGlobalIndex(): Promise<any>;
  /** Runs pending background work (flushes, merges, index saves) now. Resolves to the steps run. */
  maintain(): Promise<number>;
  close(): Promise<void>;
}

/** Every rejection is a T4dxError. */
export class T4dxError extends Error {
  /** "not_found", "corruption", "invalid_argument", "io_error", "no_space", "locked",
   * "not_supported", "aborted", "busy", "failed_precondition" */
  code: string;
  codeNumber?: number;
  /** For corruption: where it was found. */
  file?: string;
  line?: number;
  offset?: number;
}

export interface Constants {
  statusCodes: Record<string, number>;
  metrics: string[];
  syncModes: string[];
  views: View[];
  limits: Record<string, number>;
  defaults: Record<string, string | number>;
}

export function open(options: OpenOptions): Promise<Store>;

/** Node entry only. */
export function constants(): Promise<Constants>;

/** Browser entry only: copy files in or out of an OPFS store (which must not be open). */
export function importFiles(path: string, files: Array<{ path: string; data: Uint8Array }>): Promise<void>;
export function exportFiles(path: string): Promise<Array<{ path: string; data: Uint8Array }>>;
export function destroy(path: string): Promise<void>;
