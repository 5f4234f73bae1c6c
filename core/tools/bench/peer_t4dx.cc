// System "t4dx": the engine, through core/include/t4dx/ only.
#include "peer_t4dx.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "sysstat.h"

namespace t4dx_bench {

t4dx::Options T4dxOptions(const StoreConfig& c) {
  t4dx::Options o;
  o.dim = c.dim;
  o.metric = t4dx::Metric::kCosine;
  o.wal_sync = c.sync == SyncMode::kAlways     ? t4dx::WalSync::kAlways
               : c.sync == SyncMode::kInterval ? t4dx::WalSync::kInterval
                                               : t4dx::WalSync::kNone;
  o.wal_sync_interval_ms = c.interval_ms;
  o.hnsw_m = c.m;
  o.hnsw_ef_construction = c.ef_construction;
  o.hnsw_ef_search = c.ef_search;
  o.background_compaction = c.background;
  o.flush_threshold_items = c.flush_threshold;
  o.max_batch_items = 100000;
  if (c.keep_in_log) {
    o.flush_threshold_items = size_t(1) << 40;
    o.memtable_max_bytes = size_t(1) << 40;
  }
  return o;
}

json T4dxView(t4dx::Engine* e, t4dx::View v) {
  std::string s;
  Status st = e->Describe(v, "", &s);
  if (!st.ok()) return json{{"error", st.ToString()}};
  json j = json::parse(s, nullptr, false);
  if (j.is_discarded()) return json{{"error", "view is not JSON"}};
  return j;
}

Status T4dxWaitSearchable(t4dx::Engine* e, double* index_wait_s, double timeout_s) {
  Status s = e->Flush();
  if (!s.ok()) return s;
  double t0 = Now();
  while (true) {
    json h = T4dxView(e, t4dx::View::kHnswStats);
    if (h.contains("error")) return Status::IOError(h["error"].get<std::string>());
    if (h.value("lag_vectors", uint64_t(1)) == 0 && h.value("in_sync", false) &&
        h.value("unindexed_segments", uint64_t(1)) == 0 &&
        h.value("memtable_vectors", uint64_t(1)) == 0) {
      break;
    }
    if (Now() - t0 > timeout_s) {
      return Status::Aborted("index not in sync after " + std::to_string(timeout_s) +
                             " s: " + h.dump());
    }
    // Describe(kHnswStats) walks every label: poll about 1% of the time waited so far
    // (5..50 ms), so the poll itself takes no noticeable CPU from the indexing it waits for.
    const double pause_ms = std::min(50.0, std::max(5.0, (Now() - t0) * 10.0));
    std::this_thread::sleep_for(std::chrono::microseconds(int64_t(pause_ms * 1000)));
  }
  if (index_wait_s) *index_wait_s = Now() - t0;
  return Status::OK();
}

json T4dxCounters(t4dx::Engine* e) {
  json st = T4dxView(e, t4dx::View::kStats);
  json c;
  if (st.contains("error")) return json{{"stats_error", st["error"]}};
  c["flushes"] = st["memtable"].value("flushes", 0);
  c["merges"] = st["compactor"].value("merges", 0);
  c["segments"] = st["segments"].value("count", 0);
  c["wal_syncs"] = st["wal"].value("syncs", 0);
  c["write_groups"] = st["operations"].value("write_groups", 0);
  c["write_stalls"] = st["memtable"].value("write_stalls", 0);
  c["write_stall_ms"] = st["memtable"].value("write_stall_ms", 0);
  c["hnsw_memory_bytes"] = st["hnsw"].value("memory_bytes", 0);
  c["hnsw_saves"] = st["hnsw"].value("saves", 0);
  c["wal_bytes"] = st["wal"].value("total_bytes", 0);
  // Flush rate from the compaction history: entries written per second of flushing.
  json h = T4dxView(e, t4dx::View::kCompactionHistory);
  uint64_t flushed = 0, flush_us = 0;
  if (h.contains("records") && h["records"].is_array()) {
    for (const json& r : h["records"]) {
      if (!r.is_object() || r.value("kind", std::string()) != "flush") continue;
      flushed += r.value("items_out", uint64_t(0));
      flush_us += r.value("duration_us", uint64_t(0));
    }
  }
  if (flush_us > 0) {
    c["flush_items_per_s"] = double(flushed) / (double(flush_us) / 1e6);
    const uint64_t flushes = c["flushes"].get<uint64_t>();
    c["flush_ms_mean"] = double(flush_us) / 1e3 / double(flushes ? flushes : 1);
  }
  return c;
}

namespace {

class T4dxStore final : public Store {
 public:
  const char* name() const override { return "t4dx"; }

  Status Open(const StoreConfig& c) override {
    config_ = c;
    MakeDirs(c.dir);
    return t4dx::Engine::Open(T4dxOptions(c), c.dir, &db_);
  }
  Status Write(const std::vector<t4dx::Item>& items) override {
    if (items.size() == 1) return db_->Put(items[0]);
    return db_->PutBatch(items);
  }
  Status Delete(const std::string& id) override { return db_->Delete(id); }
  Status Get(const std::string& id, bool* found) override {
    t4dx::Item it;
    Status s = db_->Get(id, &it);
    *found = s.ok();
    return s.IsNotFound() ? Status::OK() : s;
  }
  Status Finish() override { return T4dxWaitSearchable(db_.get(), &index_wait_s_); }
  bool can_search() const override { return true; }
  Status Search(const float* q, size_t k, size_t ef, std::vector<std::string>* ids) override {
    thread_local std::vector<float> query;
    query.assign(q, q + config_.dim);
    t4dx::SearchOptions o;
    o.k = k;
    o.ef = ef;
    o.include_items = false;
    t4dx::SearchResult r;
    Status s = db_->Search(query, o, &r);
    ids->clear();
    for (auto& h : r.hits) ids->push_back(h.id);
    return s;
  }
  Status Close() override {
    if (!db_) return Status::OK();
    Status s = db_->Close();
    db_.reset();
    return s;
  }
  json Extra() override {
    if (!db_) return json::object();
    json c = T4dxCounters(db_.get());
    c["index_wait_s"] = index_wait_s_;
    json rep = T4dxView(db_.get(), t4dx::View::kRecoveryReport);
    if (rep.value("entries_replayed", uint64_t(0)) > 0) {
      c["engine_replay_entries"] = rep["entries_replayed"];
      c["engine_replay_wal_bytes"] = rep.value("wal_bytes_read", uint64_t(0));
      c["engine_replay_ms"] = rep.value("duration_ms", 0.0);
    }
    return c;
  }
  t4dx::Engine* engine() { return db_.get(); }

 private:
  StoreConfig config_;
  std::unique_ptr<t4dx::Engine> db_;
  double index_wait_s_ = 0;
};

}  // namespace

std::unique_ptr<Store> NewT4dxStore() { return std::make_unique<T4dxStore>(); }

}  // namespace t4dx_bench
