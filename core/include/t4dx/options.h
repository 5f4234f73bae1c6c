// Options of a store, with the defaults a user gets without asking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "t4dx/status.h"

namespace t4dx {

class Env;
class Clock;

// Serialized in global_index.json: never renumber.
enum class Metric : uint8_t { kCosine = 0, kInnerProduct = 1, kL2 = 2 };
const char* MetricName(Metric m);  // "cosine", "ip", "l2"
Status ParseMetric(const std::string& s, Metric* m);

// When an acknowledged write is durable (compare LevelDB's WriteOptions::sync).
enum class WalSync : uint8_t {
  // fdatasync before every acknowledgement (concurrent writers share one sync). A
  // write that returned OK survives a crash of the process or of the machine. Default.
  kAlways = 0,
  // fdatasync at most every wal_sync_interval_ms. A process crash loses nothing; a
  // machine crash may lose the writes of the last interval.
  kInterval = 1,
  // Never fdatasync the WAL (the OS writes it back). A process crash loses nothing that
  // was written; a machine crash may lose any write not yet flushed to a segment.
  kNone = 2,
};
const char* WalSyncName(WalSync s);  // "always", "interval", "none"
Status ParseWalSync(const std::string& s, WalSync* out);

enum class LogLevel : uint8_t { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
// Receives the engine's log lines (one event each). May be called from the compactor
// thread. The runbook's messages ("segment checksum mismatch", "WAL replay", "HNSW refresh
// failed", "WAL size exceeded") are used verbatim.
using LogFn = std::function<void(LogLevel level, const std::string& message)>;

struct Options {
  Env* env = nullptr;      // null: Env::Default()
  Clock* clock = nullptr;  // null: Clock::Default()
  LogFn log;               // null: no logging

  bool create_if_missing = true;
  // Open without taking the lock and without changing a byte on disk (forensics, the
  // inspector, read-only CLI commands on a store a service holds). The WAL is replayed
  // into memory; a torn tail is ignored; writes fail with kFailedPrecondition. Beside a
  // running writer the open shows one state the store was in: when the writer merged
  // segments, removed WAL files or sealed wal.jsonl under it, it starts again (up to 5
  // times), then lists what the view may miss among its problems (View::kStatus).
  bool read_only = false;

  uint32_t dim = 0;  // 0: the store's dimension, or taken from the first item with a vector
  Metric metric = Metric::kCosine;  // fixed when the store is created

  size_t flush_threshold_items = 1000;          // T4DM_FLUSH_THRESHOLD
  size_t memtable_max_bytes = 64u << 20;        // a MemTable is also frozen at this size

  WalSync wal_sync = WalSync::kAlways;          // T4DM_WAL_SYNC
  uint32_t wal_sync_interval_ms = 100;
  bool recovery_strict = false;                 // T4DM_RECOVERY_STRICT
  uint64_t wal_retention_entries = 10000;       // flushed entries kept to rebuild segments
  uint64_t wal_retention_bytes = 256ull << 20;  // ...and at most this many bytes of them
  uint64_t wal_size_warning_bytes = 512ull << 20;  // logs "WAL size exceeded" above it

  size_t hnsw_m = 16;
  size_t hnsw_ef_construction = 200;
  size_t hnsw_ef_search = 64;
  double hnsw_rebuild_deleted_fraction = 0.3;  // rebuild when this share is deleted marks

  bool background_compaction = true;  // a compactor thread (native builds only)
  size_t compaction_fanout = 4;       // merge when this many segments share a size tier

  size_t max_k = 10000;
  size_t max_batch_items = 10000;
  size_t max_content_bytes = 1u << 20;
  size_t max_metadata_bytes = 64u << 10;
};

// Applies T4DM_FLUSH_THRESHOLD, T4DM_RECOVERY_STRICT and T4DM_WAL_SYNC from the process
// environment. InvalidArgument naming the variable when one is malformed.
Status ApplyEnvironment(Options* options);

}  // namespace t4dx
