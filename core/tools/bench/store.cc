#include "store.h"

#include <chrono>
#include <cstring>

namespace t4dx_bench {

const std::vector<std::string>& StoreNames() {
  static const std::vector<std::string> names = {"t4dx",   "leveldb",         "rocksdb",
                                                 "sqlite", "leveldb_hnswlib", "hnswlib"};
  return names;
}

std::unique_ptr<Store> NewStore(const std::string& name) {
  if (name == "t4dx") return NewT4dxStore();
  if (name == "leveldb") return NewLevelDbStore();
  if (name == "rocksdb") return NewRocksDbStore();
  if (name == "sqlite") return NewSqliteStore();
  if (name == "leveldb_hnswlib") return NewLevelDbHnswStore();
  if (name == "hnswlib") return NewHnswOnlyStore();
  return nullptr;
}

bool SyncClock::Due() {
  int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  int64_t last = last_us_.load();
  if (now - last < interval_us_) return false;
  return last_us_.compare_exchange_strong(last, now);
}

bool SyncThisWrite(SyncMode mode, SyncClock* clock) {
  return mode == SyncMode::kAlways || (mode == SyncMode::kInterval && clock->Due());
}

std::string MetadataJson(const t4dx::Metadata& m) {
  json j = json::object();
  for (const auto& kv : m) {
    const t4dx::MetaValue& v = kv.second;
    switch (v.type) {
      case t4dx::MetaValue::Type::kString: j[kv.first] = v.str; break;
      case t4dx::MetaValue::Type::kNumber: j[kv.first] = v.num; break;
      case t4dx::MetaValue::Type::kBool: j[kv.first] = v.boolean; break;
      case t4dx::MetaValue::Type::kStringList: j[kv.first] = v.list; break;
    }
  }
  return j.dump();
}

namespace {

template <typename T>
void PutRaw(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

}  // namespace

void EncodeItemValue(const t4dx::Item& item, std::string* out) {
  out->clear();
  out->reserve(32 + item.embedding.size() * 4 + item.content.size() + item.kind.size());
  PutRaw<uint32_t>(out, uint32_t(item.embedding.size()));
  out->append(reinterpret_cast<const char*>(item.embedding.data()), item.embedding.size() * 4);
  PutRaw<int64_t>(out, item.timestamp);
  PutRaw<uint16_t>(out, uint16_t(item.kind.size()));
  out->append(item.kind);
  PutRaw<uint32_t>(out, uint32_t(item.content.size()));
  out->append(item.content);
  out->append(MetadataJson(item.metadata));
}

bool DecodeItemEmbedding(const std::string& value, std::vector<float>* embedding) {
  if (value.size() < 4) return false;
  uint32_t dim;
  std::memcpy(&dim, value.data(), 4);
  if (value.size() < 4 + size_t(dim) * 4) return false;
  embedding->resize(dim);
  std::memcpy(embedding->data(), value.data() + 4, size_t(dim) * 4);
  return true;
}

}  // namespace t4dx_bench
