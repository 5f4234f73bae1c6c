// System "leveldb_hnswlib": what a user assembles by hand. LevelDB holds the items (as the
// "leveldb" system does); plain hnswlib (through peer_hnswlib.h) answers searches, labels
// mapped to ids in memory; an upsert marks the old label deleted and adds a new one.
// The index is saved on Close (hnsw.bin + hnsw.ids) and loaded by the next Open, which
// then deletes the files: after a crash they are missing and the index is rebuilt from
// every value in LevelDB.
#include <fstream>

#include "label_map.h"
#include "leveldb_kv.h"
#include "peer_hnswlib.h"
#include "store.h"
#include "sysstat.h"

namespace t4dx_bench {

namespace {

class LevelDbHnswStore final : public Store {
 public:
  const char* name() const override { return "leveldb_hnswlib"; }

  Status Open(const StoreConfig& c) override {
    config_ = c;
    MakeDirs(c.dir);
    double t0 = Now();
    T4DX_RETURN_IF_ERROR(kv_.Open(c.dir + "/db", c));
    db_open_s_ = Now() - t0;
    labels_.Reserve(c.capacity);
    std::string idx = c.dir + "/hnsw.bin", ids = c.dir + "/hnsw.ids";
    std::string error;
    t0 = Now();
    std::ifstream probe(idx);
    if (probe && labels_.Load(ids)) {
      index_ = HnswPeer::Load(idx, c.dim, c.capacity, &error);
      if (!index_) return Status::Corruption(error);
      RemoveAll(idx);
      RemoveAll(ids);
      index_load_s_ = Now() - t0;
      return Status::OK();
    }
    index_ = HnswPeer::Create(c.dim, std::max<size_t>(c.capacity, 1024), c.m, c.ef_construction);
    if (!index_) return Status::IOError("hnswlib: cannot allocate the index");
    // Rebuild from every stored value (empty on a fresh store).
    std::vector<float> v;
    size_t rebuilt = 0;
    T4DX_RETURN_IF_ERROR(kv_.ForEach([&](const std::string& id, const std::string& value) {
      if (!DecodeItemEmbedding(value, &v)) return Status::Corruption("leveldb value of " + id + " is malformed");
      int64_t old;
      uint64_t label = labels_.Assign(id, &old);
      if (!index_->Add(v.data(), label, &error)) return Status::IOError(error);
      rebuilt++;
      return Status::OK();
    }));
    if (rebuilt) index_rebuild_s_ = Now() - t0;
    index_rebuilt_vectors_ = rebuilt;
    return Status::OK();
  }

  Status Write(const std::vector<t4dx::Item>& items) override {
    T4DX_RETURN_IF_ERROR(kv_.Write(items));
    std::string error;
    for (const auto& it : items) {
      if (it.embedding.empty()) continue;  // nothing to index (ingest --no-vectors)
      int64_t old;
      uint64_t label = labels_.Assign(it.id, &old);
      if (!index_->Add(it.embedding.data(), label, &error)) return Status::IOError(error);
      if (old >= 0) index_->MarkDeleted(uint64_t(old));
    }
    return Status::OK();
  }
  Status Delete(const std::string& id) override {
    T4DX_RETURN_IF_ERROR(kv_.Delete(id));
    int64_t label = labels_.Remove(id);
    if (label >= 0) index_->MarkDeleted(uint64_t(label));
    return Status::OK();
  }
  Status Get(const std::string& id, bool* found) override { return kv_.Get(id, found); }
  Status Finish() override { return Status::OK(); }
  bool can_search() const override { return true; }
  Status Search(const float* q, size_t k, size_t ef, std::vector<std::string>* ids) override {
    if (ef != ef_) {  // hnswlib's ef is one shared value
      index_->SetEf(ef);
      ef_ = ef;
    }
    thread_local std::vector<uint64_t> labels;
    index_->Search(q, k, &labels);
    labels_.Ids(labels, ids);
    return Status::OK();
  }
  Status Close() override {
    if (!kv_.is_open()) return Status::OK();
    double t0 = Now();
    std::string error;
    if (index_ && (!index_->Save(config_.dir + "/hnsw.bin", &error) ||
                   !labels_.Save(config_.dir + "/hnsw.ids"))) {
      return Status::IOError("saving the index: " + error);
    }
    index_save_s_ = Now() - t0;
    kv_.Close();
    return Status::OK();
  }
  json Extra() override {
    json j;
    j["db_open_s"] = db_open_s_;
    j["index_load_s"] = index_load_s_;
    j["index_rebuild_s"] = index_rebuild_s_;
    j["index_rebuilt_vectors"] = index_rebuilt_vectors_;
    j["index_save_s"] = index_save_s_;
    if (index_) j["hnsw_memory_bytes"] = index_->memory_bytes();
    return j;
  }

 private:
  StoreConfig config_;
  LevelDbKv kv_;
  std::unique_ptr<HnswPeer> index_;
  LabelMap labels_;
  size_t ef_ = 0;
  double db_open_s_ = 0, index_load_s_ = 0, index_rebuild_s_ = 0, index_save_s_ = 0;
  size_t index_rebuilt_vectors_ = 0;
};

}  // namespace

std::unique_ptr<Store> NewLevelDbHnswStore() { return std::make_unique<LevelDbHnswStore>(); }

}  // namespace t4dx_bench
