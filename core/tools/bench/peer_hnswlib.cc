// The one file of the bench that includes hnswlib (0.8.0, from the pinned hnswlib-node
// package): the plain-hnswlib peer, and system "hnswlib" of the ingest workload (the
// vectors alone into plain hnswlib, nothing durable).
#include "peer_hnswlib.h"

#include "label_map.h"
#include "store.h"

#include <atomic>
#include <hnswlib/hnswlib.h>
#include <mutex>
#include <thread>

namespace t4dx_bench {

namespace {

class AllowedRows : public hnswlib::BaseFilterFunctor {
 public:
  explicit AllowedRows(const std::vector<bool>& allowed) : allowed_(allowed) {}
  bool operator()(hnswlib::labeltype id) override {
    return id < allowed_.size() && allowed_[id];
  }

 private:
  const std::vector<bool>& allowed_;
};

class HnswPeerImpl final : public HnswPeer {
 public:
  HnswPeerImpl(uint32_t dim) : space_(dim) {}

  bool Init(size_t capacity, size_t m, size_t efc, uint64_t seed, std::string* error) {
    try {
      index_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space_, capacity, m, efc, seed);
      return true;
    } catch (const std::exception& e) {
      *error = std::string("hnswlib: ") + e.what();
      return false;
    }
  }
  bool InitLoad(const std::string& path, size_t capacity, std::string* error) {
    try {
      index_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space_, path, false, capacity);
      return true;
    } catch (const std::exception& e) {
      *error = "hnswlib load " + path + ": " + e.what();
      return false;
    }
  }

  bool Add(const float* v, uint64_t label, std::string* error) override {
    try {
      index_->addPoint(v, label);
      return true;
    } catch (const std::exception& e) {
      *error = std::string("hnswlib addPoint: ") + e.what();
      return false;
    }
  }
  void MarkDeleted(uint64_t label) override {
    try {
      index_->markDelete(label);
    } catch (const std::exception&) {
      // already deleted or absent: nothing to do
    }
  }
  void SetEf(size_t ef) override { index_->setEf(ef); }
  void Search(const float* q, size_t k, std::vector<uint64_t>* labels) const override {
    auto pq = index_->searchKnn(q, k);
    Drain(&pq, labels);
  }
  void SearchFiltered(const float* q, size_t k, const std::vector<bool>& allowed,
                      std::vector<uint64_t>* labels) const override {
    AllowedRows f(allowed);
    auto pq = index_->searchKnn(q, k, &f);
    Drain(&pq, labels);
  }
  bool Save(const std::string& path, std::string* error) const override {
    try {
      index_->saveIndex(path);
      return true;
    } catch (const std::exception& e) {
      *error = "hnswlib save " + path + ": " + e.what();
      return false;
    }
  }
  size_t size() const override { return index_->getCurrentElementCount(); }
  size_t memory_bytes() const override {
    size_t n = index_->getCurrentElementCount();
    size_t upper = 0;
    for (size_t i = 0; i < n; i++) {
      upper += size_t(index_->element_levels_[i]) * index_->size_links_per_element_;
    }
    return n * index_->size_data_per_element_ + upper +
           n * (sizeof(hnswlib::labeltype) + sizeof(hnswlib::tableint) + 16);  // label map
  }

 private:
  static void Drain(std::priority_queue<std::pair<float, hnswlib::labeltype>>* pq,
                    std::vector<uint64_t>* labels) {
    labels->resize(pq->size());
    for (size_t i = pq->size(); i-- > 0;) {
      (*labels)[i] = pq->top().second;
      pq->pop();
    }
  }

  hnswlib::InnerProductSpace space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index_;
};

class HnswOnlyStore final : public Store {
 public:
  const char* name() const override { return "hnswlib"; }
  Status Open(const StoreConfig& c) override {
    index_ = HnswPeer::Create(c.dim, std::max<size_t>(c.capacity, 1024), c.m, c.ef_construction);
    labels_.Reserve(c.capacity);
    return index_ ? Status::OK() : Status::IOError("hnswlib: cannot allocate the index");
  }
  Status Write(const std::vector<t4dx::Item>& items) override {
    std::string error;
    for (const auto& it : items) {
      int64_t old;
      uint64_t label = labels_.Assign(it.id, &old);
      if (!index_->Add(it.embedding.data(), label, &error)) return Status::IOError(error);
      if (old >= 0) index_->MarkDeleted(uint64_t(old));
    }
    return Status::OK();
  }
  Status Delete(const std::string& id) override {
    int64_t label = labels_.Remove(id);
    if (label >= 0) index_->MarkDeleted(uint64_t(label));
    return Status::OK();
  }
  Status Get(const std::string& id, bool* found) override {
    *found = false;
    return Status::OK();
  }
  Status Finish() override { return Status::OK(); }
  bool can_search() const override { return true; }
  Status Search(const float* q, size_t k, size_t ef, std::vector<std::string>* ids) override {
    if (ef != ef_) {
      index_->SetEf(ef);
      ef_ = ef;
    }
    thread_local std::vector<uint64_t> labels;
    index_->Search(q, k, &labels);
    labels_.Ids(labels, ids);
    return Status::OK();
  }
  Status Close() override { return Status::OK(); }
  json Extra() override {
    return index_ ? json{{"hnsw_memory_bytes", index_->memory_bytes()}} : json::object();
  }

 private:
  std::unique_ptr<HnswPeer> index_;
  LabelMap labels_;
  size_t ef_ = 0;
};

}  // namespace

std::unique_ptr<HnswPeer> HnswPeer::Create(uint32_t dim, size_t capacity, size_t m,
                                           size_t ef_construction, uint64_t seed) {
  auto p = std::make_unique<HnswPeerImpl>(dim);
  std::string error;
  if (!p->Init(capacity, m, ef_construction, seed, &error)) return nullptr;
  return p;
}

std::unique_ptr<HnswPeer> HnswPeer::Load(const std::string& path, uint32_t dim, size_t capacity,
                                         std::string* error) {
  auto p = std::make_unique<HnswPeerImpl>(dim);
  if (!p->InitLoad(path, capacity, error)) return nullptr;
  return p;
}

bool HnswPeer::AddRange(const float* data, size_t begin, size_t end, uint32_t dim, size_t threads,
                        std::string* error) {
  std::atomic<size_t> next{begin};
  std::atomic<bool> failed{false};
  std::mutex mu;
  auto work = [&] {
    std::string e;
    for (size_t i = next++; i < end && !failed; i = next++) {
      if (!Add(data + i * dim, i, &e)) {
        std::lock_guard<std::mutex> l(mu);
        *error = e;
        failed = true;
      }
    }
  };
  std::vector<std::thread> ts;
  for (size_t t = 1; t < threads; t++) ts.emplace_back(work);
  work();
  for (auto& t : ts) t.join();
  return !failed;
}

std::unique_ptr<Store> NewHnswOnlyStore() { return std::make_unique<HnswOnlyStore>(); }

}  // namespace t4dx_bench
