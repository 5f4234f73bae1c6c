// System "rocksdb": RocksDB 7.8 (Debian), default options, key = item id, value =
// EncodeItemValue. One WriteBatch per write call; WriteOptions::sync per durability mode.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "store.h"
#include "sysstat.h"

namespace t4dx_bench {

namespace {

class RocksDbStore final : public Store {
 public:
  const char* name() const override { return "rocksdb"; }

  Status Open(const StoreConfig& c) override {
    config_ = c;
    clock_ = std::make_unique<SyncClock>(c.interval_ms);
    MakeDirs(c.dir);
    rocksdb::Options o;
    o.create_if_missing = true;
    if (c.keep_in_log) {
      o.write_buffer_size = size_t(2) << 30;
      o.max_total_wal_size = uint64_t(8) << 30;
    }
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(o, c.dir, &db);
    if (!s.ok()) return Status::IOError("rocksdb open " + c.dir + ": " + s.ToString());
    db_.reset(db);
    return Status::OK();
  }
  Status Write(const std::vector<t4dx::Item>& items) override {
    rocksdb::WriteBatch b;
    thread_local std::string value;
    for (const auto& it : items) {
      EncodeItemValue(it, &value);
      b.Put(it.id, value);
    }
    return Apply(&b);
  }
  Status Delete(const std::string& id) override {
    rocksdb::WriteBatch b;
    b.Delete(id);
    return Apply(&b);
  }
  Status Get(const std::string& id, bool* found) override {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), id, &v);
    *found = s.ok();
    if (!s.ok() && !s.IsNotFound()) return Status::IOError("rocksdb get: " + s.ToString());
    return Status::OK();
  }
  Status Finish() override { return Status::OK(); }
  Status Close() override {
    if (db_) db_->Close();
    db_.reset();
    return Status::OK();
  }

 private:
  Status Apply(rocksdb::WriteBatch* b) {
    rocksdb::WriteOptions w;
    w.sync = SyncThisWrite(config_.sync, clock_.get());
    rocksdb::Status s = db_->Write(w, b);
    if (!s.ok()) return Status::IOError("rocksdb write: " + s.ToString());
    return Status::OK();
  }

  StoreConfig config_;
  std::unique_ptr<SyncClock> clock_;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace

std::unique_ptr<Store> NewRocksDbStore() { return std::make_unique<RocksDbStore>(); }

}  // namespace t4dx_bench
