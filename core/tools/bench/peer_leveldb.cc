// System "leveldb": LevelDB 1.23 (Debian), key = item id, value = EncodeItemValue.
// One WriteBatch per write call; WriteOptions::sync per durability mode.
#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include "store.h"
#include "sysstat.h"

namespace t4dx_bench {

namespace {

class LevelDbStore final : public Store {
 public:
  const char* name() const override { return "leveldb"; }

  Status Open(const StoreConfig& c) override {
    config_ = c;
    clock_ = std::make_unique<SyncClock>(c.interval_ms);
    MakeDirs(c.dir);
    leveldb::Options o;
    o.create_if_missing = true;
    if (c.keep_in_log) {
      // LevelDB clips both to 1 GiB (through an int: larger values wrap to the minimum).
      o.write_buffer_size = size_t(1) << 30;  // everything stays in the log + memtable
      o.max_file_size = size_t(1) << 30;
    }
    leveldb::DB* db = nullptr;
    leveldb::Status s = leveldb::DB::Open(o, c.dir, &db);
    if (!s.ok()) return Status::IOError("leveldb open " + c.dir + ": " + s.ToString());
    db_.reset(db);
    return Status::OK();
  }
  Status Write(const std::vector<t4dx::Item>& items) override {
    leveldb::WriteBatch b;
    thread_local std::string value;
    for (const auto& it : items) {
      EncodeItemValue(it, &value);
      b.Put(it.id, value);
    }
    return Apply(&b);
  }
  Status Delete(const std::string& id) override {
    leveldb::WriteBatch b;
    b.Delete(id);
    return Apply(&b);
  }
  Status Get(const std::string& id, bool* found) override {
    std::string v;
    leveldb::Status s = db_->Get(leveldb::ReadOptions(), id, &v);
    *found = s.ok();
    if (!s.ok() && !s.IsNotFound()) return Status::IOError("leveldb get: " + s.ToString());
    return Status::OK();
  }
  Status Finish() override { return Status::OK(); }
  Status Close() override {
    db_.reset();
    return Status::OK();
  }
  json Extra() override {
    json j;
    if (db_) {
      std::string v;
      if (db_->GetProperty("leveldb.approximate-memory-usage", &v)) j["memtable_bytes"] = std::stoull(v);
    }
    return j;
  }

 private:
  Status Apply(leveldb::WriteBatch* b) {
    leveldb::WriteOptions w;
    w.sync = config_.sync == SyncMode::kAlways ||
             (config_.sync == SyncMode::kInterval && clock_->Due());
    leveldb::Status s = db_->Write(w, b);
    if (!s.ok()) return Status::IOError("leveldb write: " + s.ToString());
    return Status::OK();
  }

  StoreConfig config_;
  std::unique_ptr<SyncClock> clock_;
  std::unique_ptr<leveldb::DB> db_;
};

}  // namespace

std::unique_ptr<Store> NewLevelDbStore() { return std::make_unique<LevelDbStore>(); }

}  // namespace t4dx_bench
