// Store: one system under test for the write workloads (ingest, mixed, recovery), behind
// the same calls so every system gets the same items, batching and durability:
//   t4dx             the engine, through its public API only
//   leveldb          LevelDB (Debian libleveldb-dev), WriteOptions::sync per mode
//   rocksdb          RocksDB (Debian librocksdb-dev), WriteOptions::sync per mode
//   sqlite           SQLite in WAL mode, synchronous=FULL / NORMAL / OFF per mode
//   leveldb_hnswlib  what a user assembles by hand: LevelDB for the items, plain hnswlib
//                    for search, its index saved on Finish/Close
//   hnswlib          plain hnswlib, vectors only, nothing durable (ingest only)
// Durability modes for the key-value peers: always = sync every write; interval = a write
// syncs when --interval-ms passed since the last sync (the same bound as T4DX's interval
// mode); none = never sync.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flags.h"
#include "report.h"
#include "t4dx/item.h"
#include "t4dx/status.h"

namespace t4dx_bench {

using t4dx::Status;

struct StoreConfig {
  std::string dir;
  SyncMode sync = SyncMode::kAlways;
  uint32_t interval_ms = 100;
  uint32_t dim = 0;
  size_t m = 16;
  size_t ef_construction = 200;
  size_t ef_search = 64;
  size_t capacity = 0;         // most vectors ever added (hnswlib needs it up front)
  bool keep_in_log = false;    // recovery: leave every write in the log (no table flush)
  bool background = true;      // t4dx: compactor thread
  size_t flush_threshold = 1000;  // t4dx: items per MemTable
};

class Store {
 public:
  virtual ~Store() = default;
  virtual const char* name() const = 0;
  virtual Status Open(const StoreConfig& config) = 0;
  // Writes the items as one atomic batch (a single put when there is one item). On OK the
  // items are durable per the sync mode. Safe to call from several threads.
  virtual Status Write(const std::vector<t4dx::Item>& items) = 0;
  virtual Status Delete(const std::string& id) = 0;
  // Reads one item by id (*found tells whether it is stored).
  virtual Status Get(const std::string& id, bool* found) = 0;
  // Returns when everything written is durable and searchable (flushes, index work).
  virtual Status Finish() = 0;
  virtual bool can_search() const { return false; }
  // Top k ids, best first. Safe to call from several threads (one ef for all of them).
  virtual Status Search(const float* q, size_t k, size_t ef, std::vector<std::string>* ids) {
    return Status::NotSupported(std::string(name()) + " has no vector search");
  }
  virtual Status Close() = 0;
  // System-specific figures (engine counters, log sizes, ...).
  virtual json Extra() { return json::object(); }
};

// Names accepted by NewStore, in report order.
const std::vector<std::string>& StoreNames();
// nullptr for an unknown name.
std::unique_ptr<Store> NewStore(const std::string& name);

std::unique_ptr<Store> NewT4dxStore();
std::unique_ptr<Store> NewLevelDbStore();
std::unique_ptr<Store> NewRocksDbStore();
std::unique_ptr<Store> NewSqliteStore();
std::unique_ptr<Store> NewLevelDbHnswStore();
std::unique_ptr<Store> NewHnswOnlyStore();

// The interval rule of the key-value peers: Due() is true for the first write after
// interval_ms since the last sync (one writer claims it).
class SyncClock {
 public:
  explicit SyncClock(uint32_t interval_ms) : interval_us_(int64_t(interval_ms) * 1000) {}
  bool Due();

 private:
  int64_t interval_us_;
  std::atomic<int64_t> last_us_{0};
};

// Whether a key-value peer's write syncs: every write for kAlways, the first write after the
// interval for kInterval (`clock`), never for kNone.
bool SyncThisWrite(SyncMode mode, SyncClock* clock);

// Binary value of an item for the key-value peers: u32 dim, dim float32, i64 timestamp,
// u16 kind length + kind, u32 content length + content, metadata as compact JSON.
void EncodeItemValue(const t4dx::Item& item, std::string* out);
// The embedding back out of such a value. False when the value is malformed.
bool DecodeItemEmbedding(const std::string& value, std::vector<float>* embedding);
// The metadata as compact JSON (also SQLite's metadata column).
std::string MetadataJson(const t4dx::Metadata& m);

}  // namespace t4dx_bench
