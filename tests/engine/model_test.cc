// Model test: seeded random sequences of put, batch put, delete, flush, compact,
// maintenance steps and close+reopen, checked after every step against an in-memory
// std::map model through Get, Count and Scan (order and time ranges), plus a search for
// the exact vector of a random live item, which must come back first.
#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <random>
#include <set>

#include "engine/engine_test_util.h"

namespace t4dx {
namespace {

constexpr uint32_t kDim = 12;
const char kStore[] = "/model";

struct ModelParam {
  uint64_t seed;
  bool background;  // compactor thread on (results must not depend on it)
  Metric metric;
};

class ModelTest : public ::testing::TestWithParam<ModelParam> {
 protected:
  void SetUp() override {
    env_ = NewMemEnv();
    opts_.env = env_.get();
    opts_.flush_threshold_items = 7;
    opts_.compaction_fanout = 3;
    opts_.background_compaction = GetParam().background;
    opts_.metric = GetParam().metric;
    Open();
  }
  void Open() {
    Status s = Engine::Open(opts_, kStore, &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  Item Stored(Item it) const {
    if (GetParam().metric == Metric::kCosine) it.embedding = testutil::Normalized(it.embedding);
    return it;
  }

  // Checks the whole store against the model; returns "" or the first difference.
  std::string Check(std::mt19937_64& rng, int pool) {
    for (int i = 0; i < pool; i++) {
      std::string id = "m" + std::to_string(i);
      Item got;
      Status s = db_->Get(id, &got);
      auto it = model_.find(id);
      if (it == model_.end()) {
        if (!s.IsNotFound()) return "Get(" + id + ") should be NotFound: " + s.ToString();
      } else {
        if (!s.ok()) return "Get(" + id + "): " + s.ToString();
        if (!(got == it->second))
          return "Get(" + id + ") returned '" + got.content + "', model '" + it->second.content +
                 "'";
      }
    }
    uint64_t n = 0;
    Status s = db_->Count(&n);
    if (!s.ok() || n != model_.size())
      return "Count " + std::to_string(n) + ", model " + std::to_string(model_.size());
    // Scan: timestamp order, ties by id.
    std::vector<std::pair<int64_t, std::string>> want;
    for (auto& kv : model_) want.push_back({kv.second.timestamp, kv.first});
    std::sort(want.begin(), want.end());
    std::vector<std::pair<int64_t, std::string>> got;
    std::string bad;
    ScanOptions so;
    s = db_->Scan(so, [&](const Item& item) {
      got.push_back({item.timestamp, item.id});
      auto it = model_.find(item.id);
      if (bad.empty() && (it == model_.end() || !(it->second == item)))
        bad = "Scan item " + item.id + " differs";
      return true;
    });
    if (!s.ok()) return "Scan: " + s.ToString();
    if (!bad.empty()) return bad;
    if (got != want) return "Scan order differs from the model";
    // A time range and a limit.
    int64_t from = 100 + int64_t(rng() % 20), to = from + int64_t(rng() % 20);
    ScanOptions ranged;
    ranged.time_from = from;
    ranged.time_to = to;
    ranged.limit = 1 + rng() % 5;
    ranged.include_embedding = false;
    std::vector<std::string> rids, want_r;
    for (auto& w : want)
      if (w.first >= from && w.first < to && want_r.size() < ranged.limit)
        want_r.push_back(w.second);
    s = db_->Scan(ranged, [&](const Item& item) {
      rids.push_back(item.id);
      return true;
    });
    if (!s.ok() || rids != want_r)
      return "ranged Scan [" + std::to_string(from) + "," + std::to_string(to) + ") differs";
    // Search for the exact vector of a random live item: it is the best hit.
    if (!model_.empty()) {
      auto it = model_.begin();
      std::advance(it, rng() % model_.size());
      SearchOptions q;
      q.k = 3;
      SearchResult r;
      s = db_->Search(it->second.embedding, q, &r);
      if (!s.ok()) return "Search: " + s.ToString();
      // The exact best by brute force over the model: the item itself for cosine and L2;
      // for inner product a longer vector may beat it.
      std::string best;
      float best_score = -std::numeric_limits<float>::infinity();
      for (auto& kv : model_) {
        float sc =
            Score(GetParam().metric, it->second.embedding.data(), kv.second.embedding.data(), kDim);
        if (sc > best_score) {
          best_score = sc;
          best = kv.first;
        }
      }
      if (GetParam().metric != Metric::kInnerProduct && best != it->first)
        return "model best is not the item itself";
      if (r.hits.empty() || r.hits[0].id != best) {
        return "Search for the vector of " + it->first + " returned " +
               (r.hits.empty() ? std::string("nothing") : r.hits[0].id) + ", exact best " + best;
      }
      for (auto& h : r.hits)
        if (!model_.count(h.id)) return "Search returned " + h.id + ", which is not live";
      if (!(r.hits[0].item.content == model_[best].content)) return "Search hit content differs";
    }
    return "";
  }

  std::unique_ptr<Env> env_;
  Options opts_;
  std::unique_ptr<Engine> db_;
  std::map<std::string, Item> model_;
};

TEST_P(ModelTest, RandomOperationsMatchTheModel) {
  std::mt19937_64 rng(GetParam().seed);
  const int kPool = 40;
  const int steps = testutil::CyclesFromEnv(0) > 0 ? 120 : 400;
  int version = 0;
  auto random_item = [&](const std::string& id) {
    Item it = testutil::MakeItem(id, kDim, rng(), 100 + int64_t(rng() % 40));
    it.content = id + " v" + std::to_string(version++);
    if (rng() % 5 == 0) it.metadata["n"] = MetaValue::Number(double(rng() % 100));
    return it;
  };
  for (int step = 0; step < steps; step++) {
    uint32_t op = rng() % 100;
    std::string what;
    if (op < 40) {
      std::string id = "m" + std::to_string(rng() % kPool);
      Item it = random_item(id);
      what = "put " + id;
      ASSERT_TRUE(db_->Put(it).ok()) << what;
      model_[id] = Stored(it);
    } else if (op < 50) {
      size_t n = 2 + rng() % 5;
      std::vector<Item> items;
      std::set<std::string> ids;
      while (ids.size() < n) ids.insert("m" + std::to_string(rng() % kPool));
      for (auto& id : ids) items.push_back(random_item(id));
      what = "batch of " + std::to_string(n);
      ASSERT_TRUE(db_->PutBatch(items).ok()) << what;
      for (auto& it : items) model_[it.id] = Stored(it);
    } else if (op < 72) {
      std::string id = "m" + std::to_string(rng() % kPool);
      what = "delete " + id;
      Status s = db_->Delete(id);
      if (model_.count(id)) {
        ASSERT_TRUE(s.ok()) << what << ": " << s.ToString();
        model_.erase(id);
      } else {
        ASSERT_TRUE(s.IsNotFound()) << what << ": " << s.ToString();
      }
    } else if (op < 80) {
      what = "flush";
      ASSERT_TRUE(db_->Flush().ok());
    } else if (op < 84) {
      what = "compact";
      ASSERT_TRUE(db_->Compact().ok());
    } else if (op < 92) {
      what = "maintenance step";
      bool did = false;
      ASSERT_TRUE(db_->MaintenanceStep(&did).ok());
    } else {
      what = "close+reopen";
      ASSERT_TRUE(db_->Close().ok());
      db_.reset();
      Open();
    }
    std::string err = Check(rng, kPool);
    ASSERT_EQ(err, "") << "after step " << step << " (" << what << ")";
  }
  std::string report;
  bool healthy = false;
  ASSERT_TRUE(db_->Verify(&report, &healthy).ok());
  EXPECT_TRUE(healthy) << report;
}

INSTANTIATE_TEST_SUITE_P(Seeds, ModelTest,
                         ::testing::Values(ModelParam{1, false, Metric::kCosine},
                                           ModelParam{2, false, Metric::kCosine},
                                           ModelParam{3, false, Metric::kL2},
                                           ModelParam{4, false, Metric::kInnerProduct},
                                           ModelParam{5, true, Metric::kCosine},
                                           ModelParam{6, true, Metric::kL2}),
                         [](const ::testing::TestParamInfo<ModelParam>& i) {
                           return "Seed" + std::to_string(i.param.seed) +
                                  (i.param.background ? "Background" : "") +
                                  MetricName(i.param.metric);
                         });

}  // namespace
}  // namespace t4dx
