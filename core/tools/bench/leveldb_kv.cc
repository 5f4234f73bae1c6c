#include "leveldb_kv.h"

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

namespace t4dx_bench {

struct LevelDbKv::Rep {
  StoreConfig config;
  std::unique_ptr<SyncClock> clock;
  std::unique_ptr<leveldb::DB> db;

  Status Apply(leveldb::WriteBatch* b) {
    leveldb::WriteOptions w;
    w.sync = SyncThisWrite(config.sync, clock.get());
    leveldb::Status s = db->Write(w, b);
    if (!s.ok()) return Status::IOError("leveldb write: " + s.ToString());
    return Status::OK();
  }
};

LevelDbKv::LevelDbKv() : rep_(std::make_unique<Rep>()) {}
LevelDbKv::~LevelDbKv() = default;

Status LevelDbKv::Open(const std::string& path, const StoreConfig& c) {
  rep_->config = c;
  rep_->clock = std::make_unique<SyncClock>(c.interval_ms);
  leveldb::Options o;
  o.create_if_missing = true;
  if (c.keep_in_log) {
    // LevelDB clips both to 1 GiB (through an int: larger values wrap to the minimum).
    o.write_buffer_size = size_t(1) << 30;  // everything stays in the log + memtable
    o.max_file_size = size_t(1) << 30;
  }
  leveldb::DB* db = nullptr;
  leveldb::Status s = leveldb::DB::Open(o, path, &db);
  if (!s.ok()) return Status::IOError("leveldb open " + path + ": " + s.ToString());
  rep_->db.reset(db);
  return Status::OK();
}

Status LevelDbKv::Write(const std::vector<t4dx::Item>& items) {
  leveldb::WriteBatch b;
  thread_local std::string value;
  for (const auto& it : items) {
    EncodeItemValue(it, &value);
    b.Put(it.id, value);
  }
  return rep_->Apply(&b);
}

Status LevelDbKv::Delete(const std::string& id) {
  leveldb::WriteBatch b;
  b.Delete(id);
  return rep_->Apply(&b);
}

Status LevelDbKv::Get(const std::string& id, bool* found) {
  std::string v;
  leveldb::Status s = rep_->db->Get(leveldb::ReadOptions(), id, &v);
  *found = s.ok();
  if (!s.ok() && !s.IsNotFound()) return Status::IOError("leveldb get: " + s.ToString());
  return Status::OK();
}

Status LevelDbKv::ForEach(const std::function<Status(const std::string&, const std::string&)>& fn) {
  std::unique_ptr<leveldb::Iterator> it(rep_->db->NewIterator(leveldb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    T4DX_RETURN_IF_ERROR(fn(it->key().ToString(), it->value().ToString()));
  }
  if (!it->status().ok()) return Status::IOError("leveldb scan: " + it->status().ToString());
  return Status::OK();
}

uint64_t LevelDbKv::MemoryBytes() {
  std::string v;
  if (rep_->db && rep_->db->GetProperty("leveldb.approximate-memory-usage", &v)) return std::stoull(v);
  return 0;
}

bool LevelDbKv::is_open() const { return rep_->db != nullptr; }

void LevelDbKv::Close() { rep_->db.reset(); }

}  // namespace t4dx_bench
