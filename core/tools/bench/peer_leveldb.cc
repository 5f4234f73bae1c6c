// System "leveldb": LevelDB 1.23 (Debian) through LevelDbKv (leveldb_kv.h): key = item id,
// value = EncodeItemValue, one WriteBatch per write call, WriteOptions::sync per mode.
#include "leveldb_kv.h"
#include "store.h"
#include "sysstat.h"

namespace t4dx_bench {

namespace {

class LevelDbStore final : public Store {
 public:
  const char* name() const override { return "leveldb"; }

  Status Open(const StoreConfig& c) override {
    MakeDirs(c.dir);
    return kv_.Open(c.dir, c);
  }
  Status Write(const std::vector<t4dx::Item>& items) override { return kv_.Write(items); }
  Status Delete(const std::string& id) override { return kv_.Delete(id); }
  Status Get(const std::string& id, bool* found) override { return kv_.Get(id, found); }
  Status Finish() override { return Status::OK(); }
  Status Close() override {
    kv_.Close();
    return Status::OK();
  }
  json Extra() override {
    json j;
    if (kv_.is_open()) j["memtable_bytes"] = kv_.MemoryBytes();
    return j;
  }

 private:
  LevelDbKv kv_;
};

}  // namespace

std::unique_ptr<Store> NewLevelDbStore() { return std::make_unique<LevelDbStore>(); }

}  // namespace t4dx_bench
