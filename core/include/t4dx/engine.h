// Engine: one T4DX store (one directory).
//
//   std::unique_ptr<t4dx::Engine> db;
//   t4dx::Status s = t4dx::Engine::Open(options, "/path/to/store", &db);
//   s = db->Put(item);
//
// A store is a directory holding wal.jsonl (+ sealed WAL files), seg_NNNNNN/ segments,
// global_index.json (the manifest), the HNSW container and compaction history; see
// core/doc/. One process holds a store at a time (a second Open fails with kLocked).
//
// Thread safety: all methods may be called concurrently from any threads. Writes are
// serialized and group-committed; reads see every write acknowledged before they began.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "t4dx/item.h"
#include "t4dx/options.h"
#include "t4dx/query.h"
#include "t4dx/status.h"

namespace t4dx {

// Progress of long work: done out of total units (total 0 = unknown).
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

// How Engine::MaintenanceStep chooses its work.
struct MaintenanceStepOptions {
  // Start a merge only once the segments have piled up: more than 8 * compaction_fanout
  // of them (32 by default). For a host without threads to pass while writes keep
  // coming: there a merge holds up every call for as long as it runs, so merges are better
  // left for when the writes pause. Flushes, index steps and index saves are never
  // deferred; neither are Compact(), Flush() nor a background compactor's merges.
  bool defer_merges = false;
};

// The diagnostic views. Each renders one JSON document; the service, the CLI and the WASM
// API all print exactly these, so every tool shows the same figures.
enum class View : uint8_t {
  kStatus,             // health verdict, problems, recovery report, compactor state
  kStats,              // every counter of the store
  kSegments,           // list of segments
  kSegment,            // one segment (arg: id as "000001")
  kSegmentMetadata,    // its meta.json
  kSegmentVerify,      // whole-segment checksum check
  kSegmentCount,       // items in one segment
  kMemTable,
  kWalStatus,
  kHnswStats,
  kGlobalIndex,        // manifest summary + consistency check
  kCompactionHistory,
  kReplayEstimate,     // estimate_replay_time
  kRecoveryReport,
};

class Engine {
 public:
  static Status Open(const Options& options, const std::string& dir,
                     std::unique_ptr<Engine>* engine);

  Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  // Closes the store if Close() was not called (errors are logged).
  virtual ~Engine() = default;

  // ---- data plane ----
  // Inserts or replaces item.id. With item.timestamp == Item::kNow the clock stamps it.
  // On OK the write is durable per Options::wal_sync and visible to every later read.
  virtual Status Put(const Item& item, uint64_t* lsn = nullptr) = 0;
  // All items or none; validated as a whole before anything is written.
  virtual Status PutBatch(const std::vector<Item>& items, uint64_t* last_lsn = nullptr) = 0;
  // kNotFound (nothing written) when the id is not stored.
  virtual Status Delete(const std::string& id, uint64_t* lsn = nullptr) = 0;
  virtual Status Get(const std::string& id, Item* item) = 0;
  // Live items in timestamp order (ties by id). fn returns false to stop.
  virtual Status Scan(const ScanOptions& options, const std::function<bool(const Item&)>& fn) = 0;
  virtual Status Count(uint64_t* count) = 0;
  virtual Status Search(const std::vector<float>& query, const SearchOptions& options,
                        SearchResult* result) = 0;
  // The plan of a search (with explain set), as JSON.
  virtual Status Explain(const std::vector<float>& query, const SearchOptions& options,
                         std::string* plan_json) = 0;

  // ---- maintenance ----
  // Writes the MemTables to segments and waits until they are durable. With a compactor
  // thread running, waits for its step in progress (a flush, merge or index step), not
  // for the rest of its work; the new segments are indexed in the background.
  virtual Status Flush() = 0;
  // Flushes, then merges all segments into one, dropping old versions and deletes.
  virtual Status Compact() = 0;
  // One bounded unit of background work, the first there is of: flush a full MemTable,
  // an index step, one merge, an index rebuild or save. For hosts without threads
  // (WebAssembly). *did_work tells whether there was any. The first form defers nothing.
  virtual Status MaintenanceStep(bool* did_work) = 0;
  virtual Status MaintenanceStep(bool* did_work, const MaintenanceStepOptions& options) = 0;
  virtual Status StartCompactor() = 0;  // no-op without threads
  virtual Status StopCompactor() = 0;

  // Checks every segment checksum, the WAL line checksums, the global index and the HNSW
  // indexed set against the stored live set. *report_json lists every problem with file
  // and offset; *healthy is false when there is any.
  virtual Status Verify(std::string* report_json, bool* healthy, ProgressFn progress = {}) = 0;

  // Deletes sealed WAL files that are already flushed, keeping at least the newest
  // keep_entries flushed entries. Never drops an unflushed entry.
  virtual Status CompactWal(uint64_t keep_entries, std::string* result_json) = 0;
  // Copies the WAL files aside (the copy's path is reported), then empties the WAL. The
  // unflushed entries dropped are counted in the result (and stay in the copy).
  virtual Status TruncateWal(std::string* result_json) = 0;
  virtual Status RebuildHnsw(ProgressFn progress, std::string* result_json) = 0;
  // Rebuilds global_index.json from the segments on disk.
  virtual Status RebuildGlobalIndex(std::string* result_json) = 0;

  virtual Status Describe(View view, const std::string& arg, std::string* json) = 0;

  // Stops the compactor, syncs the WAL, saves the index, releases the lock. Idempotent.
  virtual Status Close() = 0;

  virtual const std::string& dir() const = 0;
  virtual uint32_t dim() const = 0;  // 0 until the first vector
};

// Parses a segment id ("000001", "1", "seg_000001") into a number.
Status ParseSegmentId(const std::string& text, uint64_t* id);

}  // namespace t4dx
