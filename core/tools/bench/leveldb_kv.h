// LevelDbKv: LevelDB 1.23 (Debian) holding items by id — the one file pair of t4dx-bench
// that includes LevelDB. Used by the "leveldb" system and by "leveldb_hnswlib" (which adds
// plain hnswlib for search). Key = item id, value = EncodeItemValue (store.h); one
// WriteBatch per Write call, WriteOptions::sync per the durability mode (SyncThisWrite).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store.h"

namespace t4dx_bench {

class LevelDbKv {
 public:
  LevelDbKv();
  ~LevelDbKv();

  // Opens (creating) the database in `path` with `config`'s durability mode; with
  // config.keep_in_log every write stays in LevelDB's log and memtable (recovery workload).
  Status Open(const std::string& path, const StoreConfig& config);
  // One atomic batch of upserts. Safe to call from several threads.
  Status Write(const std::vector<t4dx::Item>& items);
  Status Delete(const std::string& id);
  Status Get(const std::string& id, bool* found);
  // Calls fn(id, value) for every stored item in key order; returns fn's first error.
  Status ForEach(const std::function<Status(const std::string& id, const std::string& value)>& fn);
  // LevelDB's "approximate-memory-usage" property (0 when not open).
  uint64_t MemoryBytes();
  bool is_open() const;
  void Close();

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace t4dx_bench
