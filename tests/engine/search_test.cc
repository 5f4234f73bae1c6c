// Vector search through the engine: recall against brute force with data spread over
// the HNSW, unindexed segments and the MemTables; filtered search against exact filtered
// search at several selectivities; read-your-writes under concurrent writers; the index
// container's persistence and its rebuild when damaged; deletes and overwrites never
// returned; the plan that Explain prints.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "engine/engine_test_util.h"
#include "vector/hnsw_index.h"

namespace t4dx {
namespace {

using testutil::json;

// The store's content as the test knows it, for exact (brute-force) answers.
struct Truth {
  Metric metric = Metric::kCosine;
  std::map<std::string, Item> items;  // embeddings as stored (normalized for cosine)

  void Put(Item it) {
    if (metric == Metric::kCosine) it.embedding = testutil::Normalized(it.embedding);
    items[it.id] = std::move(it);
  }
  std::vector<std::string> TopK(const std::vector<float>& query, size_t k,
                                const Filter& f = {}) const {
    std::vector<float> q = query;
    if (metric == Metric::kCosine) q = testutil::Normalized(q);
    std::vector<std::pair<float, std::string>> all;
    for (auto& kv : items) {
      if (!f.Matches(kv.second)) continue;
      all.push_back({-Score(metric, q.data(), kv.second.embedding.data(), q.size()), kv.first});
    }
    size_t n = std::min(k, all.size());
    std::partial_sort(all.begin(), all.begin() + n, all.end());
    std::vector<std::string> out;
    for (size_t i = 0; i < n; i++) out.push_back(all[i].second);
    return out;
  }
};

double Recall(const std::vector<SearchHit>& hits, const std::vector<std::string>& exact) {
  if (exact.empty()) return hits.empty() ? 1.0 : 0.0;
  std::set<std::string> want(exact.begin(), exact.end());
  size_t found = 0;
  for (auto& h : hits) found += want.count(h.id);
  return double(found) / double(exact.size());
}

std::vector<float> Gaussian(uint32_t dim, std::mt19937_64& rng, float sigma = 1.0f) {
  std::normal_distribution<float> nd(0, sigma);
  std::vector<float> v(dim);
  for (auto& x : v) x = nd(rng);
  return v;
}

// Options for a test store on env: MemTables of flush_threshold_items items; with
// background_compaction false, nothing is indexed until Flush() (segments flushed by
// writers stay unindexed).
Options StoreOptions(Env* env, size_t flush_threshold_items, bool background_compaction) {
  Options o;
  o.env = env;
  o.flush_threshold_items = flush_threshold_items;
  o.background_compaction = background_compaction;
  return o;
}

// ---------------------------------------------------------------------------------------
// Recall with the data in every place a search must cover.

class RecallTest : public ::testing::TestWithParam<bool> {};  // param: clustered

TEST_P(RecallTest, RecallAt10AtDefaultEf) {
  const bool clustered = GetParam();
  constexpr uint32_t kDim = 32;
  auto env = NewMemEnv();
  Options o = StoreOptions(env.get(), 300, false);
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Engine::Open(o, "/recall", &db).ok());
  Truth truth;
  std::mt19937_64 rng(clustered ? 77 : 55);
  std::vector<std::vector<float>> centers;
  for (int c = 0; c < 50; c++) centers.push_back(Gaussian(kDim, rng));
  auto next_vector = [&] {
    if (!clustered) return Gaussian(kDim, rng);
    std::vector<float> v = centers[rng() % centers.size()];
    std::vector<float> noise = Gaussian(kDim, rng, 0.15f);
    for (uint32_t i = 0; i < kDim; i++) v[i] += noise[i];
    return v;
  };
  int next_id = 0;
  auto put_batch = [&](int n) {
    std::vector<Item> batch;
    for (int i = 0; i < n; i++) {
      Item it;
      it.id = "r" + std::to_string(next_id++);
      it.kind = "episode";
      it.content = it.id;
      it.timestamp = 1000 + next_id;
      it.embedding = next_vector();
      batch.push_back(it);
      truth.Put(it);
    }
    ASSERT_TRUE(db->PutBatch(batch).ok());
  };
  // 4200 items flushed and indexed (2100 in a reduced run), then 800 more: one unindexed
  // segment (flushed on the writer's thread), one frozen MemTable and the mutable one.
  const int indexed_batches = testutil::ReducedRun() ? 21 : 42;
  for (int b = 0; b < indexed_batches; b++) put_batch(100);
  ASSERT_TRUE(db->Flush().ok());
  for (int b = 0; b < 8; b++) put_batch(100);

  std::vector<float> probe = next_vector();
  std::string plan;
  SearchOptions so;
  so.k = 10;
  ASSERT_TRUE(db->Explain(probe, so, &plan).ok());
  json p = json::parse(plan);
  std::map<std::string, json> stages;
  for (auto& st : p["stages"]) stages[st["stage"].get<std::string>()] = st;
  ASSERT_TRUE(stages.count("memtable")) << plan;
  ASSERT_TRUE(stages.count("unindexed_segments")) << plan;
  ASSERT_TRUE(stages.count("hnsw")) << plan;
  EXPECT_EQ(stages["memtable"]["candidates"].get<uint64_t>(), 500u) << plan;
  EXPECT_EQ(stages["unindexed_segments"]["candidates"].get<uint64_t>(), 300u) << plan;
  EXPECT_EQ(stages["hnsw"]["method"], "graph") << plan;
  EXPECT_EQ(stages["hnsw"]["ef"].get<uint64_t>(), o.hnsw_ef_search) << plan;

  const int kQueries = testutil::ReducedRun() ? 60 : 200;
  double total = 0;
  for (int qi = 0; qi < kQueries; qi++) {
    std::vector<float> q = next_vector();
    SearchResult r;
    ASSERT_TRUE(db->Search(q, so, &r).ok());
    ASSERT_EQ(r.hits.size(), 10u);
    for (size_t i = 1; i < r.hits.size(); i++) EXPECT_GE(r.hits[i - 1].score, r.hits[i].score);
    total += Recall(r.hits, truth.TopK(q, 10));
  }
  double recall = total / kQueries;
  std::cout << "[ recall ] " << (clustered ? "clustered" : "random") << " recall@10 = " << recall
            << std::endl;
  EXPECT_GE(recall, 0.95);
}

INSTANTIATE_TEST_SUITE_P(Data, RecallTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "Clustered" : "Random";
                         });

// ---------------------------------------------------------------------------------------
// Filtered search against exact filtered search.

class FilteredSearchTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kDim = 16;
  static void SetUpTestSuite() {
    env_ = NewMemEnv().release();
    Options o = StoreOptions(env_, 2500, false);
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(Engine::Open(o, "/filtered", &db).ok());
    truth_ = new Truth();
    std::mt19937_64 rng(11);
    int n = 0;
    auto put = [&](int count) {
      std::vector<Item> batch;
      for (int i = 0; i < count; i++, n++) {
        Item it;
        it.id = "f" + std::to_string(n);
        it.kind = n % 3 == 0 ? "note" : "episode";
        it.content = it.id;
        it.timestamp = 100000 + n;
        it.embedding = Gaussian(kDim, rng);
        it.metadata["p"] = MetaValue::String(std::to_string(n % 100));
        it.metadata["tags"] = MetaValue::StringList({"t" + std::to_string(n % 7), "all"});
        batch.push_back(it);
        truth_->Put(it);
      }
      ASSERT_TRUE(db->PutBatch(batch).ok());
    };
    for (int b = 0; b < 20; b++) put(500);  // 10000 in 4 segments, indexed by Flush
    ASSERT_TRUE(db->Flush().ok());
    put(150);  // and some in the MemTable
    db_ = db.release();
  }
  static void TearDownTestSuite() {
    delete db_;
    delete truth_;
    delete env_;
  }

  static Filter AnyOfP(int values) {
    Filter f;
    MetaCondition c;
    c.key = "p";
    c.op = MetaCondition::Op::kAnyOf;
    for (int v = 0; v < values; v++) c.values.push_back(MetaValue::String(std::to_string(v)));
    f.metadata.push_back(c);
    return f;
  }

  // Runs queries with f; checks exactness (or recall where the graph is walked) and
  // returns the hnsw stage's method.
  std::string Check(const Filter& f, double expected_selectivity) {
    std::mt19937_64 rng(99);
    SearchOptions so;
    so.k = 10;
    so.filter = f;
    std::string plan;
    EXPECT_TRUE(db_->Explain(Gaussian(kDim, rng), so, &plan).ok());
    json p = json::parse(plan);
    std::string method;
    for (auto& st : p["stages"])
      if (st["stage"] == "hnsw") method = st["method"].get<std::string>();
    if (expected_selectivity > 0) {
      double est = p["selectivity"]["estimated"].get<double>();
      EXPECT_NEAR(est, expected_selectivity, expected_selectivity * 0.5 + 0.01) << plan;
    }
    double total = 0;
    const int kQueries = 40;
    for (int qi = 0; qi < kQueries; qi++) {
      std::vector<float> q = Gaussian(kDim, rng);
      SearchResult r;
      EXPECT_TRUE(db_->Search(q, so, &r).ok());
      for (auto& h : r.hits) EXPECT_TRUE(f.Matches(h.item)) << h.id << " does not match the filter";
      std::vector<std::string> exact = truth_->TopK(q, 10, f);
      double rec = Recall(r.hits, exact);
      if (method != "filtered_graph") {
        EXPECT_EQ(r.hits.size(), exact.size());
        EXPECT_GE(rec, 1.0) << "exact stage must equal exact filtered search; plan " << plan;
      }
      total += rec;
    }
    double recall = total / kQueries;
    EXPECT_GE(recall, 0.95) << plan;
    std::cout << "[ filtered ] selectivity ~" << expected_selectivity << ": method " << method
              << ", recall@10 " << recall << std::endl;
    return method;
  }

  static Env* env_;
  static Engine* db_;
  static Truth* truth_;
};
Env* FilteredSearchTest::env_ = nullptr;
Engine* FilteredSearchTest::db_ = nullptr;
Truth* FilteredSearchTest::truth_ = nullptr;

TEST_F(FilteredSearchTest, LowSelectivityScansCandidatesExactly) {
  EXPECT_EQ(Check(AnyOfP(1), 0.01), "exact_candidates");
}

TEST_F(FilteredSearchTest, MediumSelectivity) {
  EXPECT_EQ(Check(AnyOfP(10), 0.10), "exact_candidates");
}

TEST_F(FilteredSearchTest, HighSelectivityWalksTheGraph) {
  EXPECT_EQ(Check(AnyOfP(50), 0.50), "filtered_graph");
}

TEST_F(FilteredSearchTest, KindTagsAndTimeRange) {
  Filter kind;
  kind.kinds = {"note"};
  Check(kind, 1.0 / 3);  // kinds are counted exactly per segment
  Filter tags;
  MetaCondition c;
  c.key = "tags";
  c.op = MetaCondition::Op::kAllOf;
  c.values = {MetaValue::String("t3"), MetaValue::String("all")};
  tags.metadata.push_back(c);
  Check(tags, -1);
  Filter time;
  time.time_from = 100000 + 2000;
  time.time_to = 100000 + 3000;
  Check(time, -1);  // estimated over the segments not pruned
  // A time range outside every segment prunes them, with the reason in the plan.
  Filter none;
  none.time_from = 5;
  none.time_to = 6;
  std::string plan;
  SearchOptions so;
  so.filter = none;
  std::mt19937_64 rng(1);
  ASSERT_TRUE(db_->Explain(Gaussian(kDim, rng), so, &plan).ok());
  json p = json::parse(plan);
  EXPECT_EQ(p["segments_skipped"].size(), p["segments_total"].get<size_t>()) << plan;
  EXPECT_TRUE(
      testutil::Contains(p["segments_skipped"][0]["reason"].get<std::string>(), "time range"))
      << plan;
}

TEST_F(FilteredSearchTest, ExplainNamesEveryPart) {
  SearchOptions so;
  so.k = 5;
  so.ef = 80;
  so.filter = AnyOfP(50);
  std::mt19937_64 rng(3);
  std::string plan;
  ASSERT_TRUE(db_->Explain(Gaussian(kDim, rng), so, &plan).ok());
  json p = json::parse(plan, nullptr, false);
  ASSERT_FALSE(p.is_discarded()) << plan;
  for (const char* k : {"stages", "segments_skipped", "selectivity", "ef", "total_time_us", "k",
                        "filter", "segments_total"}) {
    EXPECT_TRUE(p.contains(k)) << k << " missing in " << plan;
  }
  EXPECT_EQ(p["ef"].get<uint64_t>(), 80u);
  EXPECT_TRUE(p["selectivity"].contains("estimated")) << plan;
  EXPECT_TRUE(p["selectivity"].contains("actual")) << plan;
  ASSERT_GE(p["stages"].size(), 2u);
  for (auto& st : p["stages"]) {
    EXPECT_TRUE(st.contains("stage")) << st;
    EXPECT_TRUE(st.contains("method")) << st;
    EXPECT_TRUE(st.contains("time_us")) << st;
    EXPECT_TRUE(st.contains("candidates") || st.contains("visited_checked")) << st;
    if (st["method"] == "filtered_graph") {
      EXPECT_GE(st["ef"].get<uint64_t>(), 80u) << st;
    }
  }
  // Search with explain fills plan_json too.
  SearchResult r;
  so.explain = true;
  ASSERT_TRUE(db_->Search(Gaussian(kDim, rng), so, &r).ok());
  EXPECT_FALSE(r.plan_json.empty());
  EXPECT_EQ(r.hits.size(), 5u);
}

// ---------------------------------------------------------------------------------------
// Read-your-writes: three writers and a reader; every acknowledged item is found by the
// next search for its vector, wherever it sits (MemTable, frozen MemTable, unindexed
// segment, HNSW) while the compactor moves it.

TEST(ReadYourWritesTest, ConcurrentWritersAndReader) {
  constexpr uint32_t kDim = 24;
  auto env = NewMemEnv();
  Options o = StoreOptions(env.get(), 64, true);
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Engine::Open(o, "/ryw", &db).ok());
  // 1500 items in all: past the planner's small-store size, so the graph is used too.
  const int kPerWriter = testutil::ReducedRun() ? 120 : 500;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Item> acked;
  bool writers_done = false;
  std::atomic<int> misses{0}, reader_checked{0};
  std::vector<std::string> errors;
  auto note = [&](const std::string& e) {
    std::lock_guard<std::mutex> l(mu);
    if (errors.size() < 10) errors.push_back(e);
  };
  auto find_first = [&](const Item& it, const std::string& who) {
    SearchOptions so;
    so.k = 5;
    SearchResult r;
    Status s = db->Search(it.embedding, so, &r);
    if (!s.ok()) {
      note(who + ": search failed: " + s.ToString());
      misses++;
    } else if (r.hits.empty() || r.hits[0].id != it.id) {
      note(who + ": search for " + it.id + " returned " +
           (r.hits.empty() ? "nothing" : r.hits[0].id));
      misses++;
    }
  };
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; w++) {
    writers.emplace_back([&, w] {
      std::mt19937_64 rng(1000 + w);
      for (int i = 0; i < kPerWriter; i++) {
        Item it;
        it.id = "w" + std::to_string(w) + "_" + std::to_string(i);
        it.content = it.id;
        it.timestamp = 1;
        it.embedding = Gaussian(kDim, rng);
        Status s = db->Put(it);
        if (!s.ok()) {
          note("put " + it.id + ": " + s.ToString());
          continue;
        }
        find_first(it, "writer " + std::to_string(w));
        {
          std::lock_guard<std::mutex> l(mu);
          acked.push_back(it);
        }
        cv.notify_one();
      }
    });
  }
  std::thread reader([&] {
    while (true) {
      Item it;
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait(l, [&] { return !acked.empty() || writers_done; });
        if (acked.empty()) return;
        it = acked.front();
        acked.pop_front();
      }
      find_first(it, "reader");
      reader_checked++;
    }
  });
  for (auto& t : writers) t.join();
  {
    std::lock_guard<std::mutex> l(mu);
    writers_done = true;
  }
  cv.notify_all();
  reader.join();
  for (auto& e : errors) ADD_FAILURE() << e;
  EXPECT_EQ(misses.load(), 0);
  EXPECT_EQ(reader_checked.load(), 3 * kPerWriter);
  uint64_t n = 0;
  ASSERT_TRUE(db->Count(&n).ok());
  EXPECT_EQ(n, uint64_t(3 * kPerWriter));
  ASSERT_TRUE(db->Close().ok());
}

// ---------------------------------------------------------------------------------------
// Persistence of the index, and its rebuild when the container is damaged.

class HnswPersistenceTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kDim = 16;
  void SetUp() override {
    env_ = NewMemEnv();
    opts_.env = env_.get();
    opts_.flush_threshold_items = 400;
    opts_.background_compaction = false;
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(Engine::Open(opts_, kStore, &db).ok());
    std::mt19937_64 rng(5);
    std::vector<Item> batch;
    for (uint64_t i = 0; i < items_; i++) {
      Item it;
      it.id = "h" + std::to_string(i);
      it.content = it.id;
      it.timestamp = int64_t(i);
      it.embedding = Gaussian(kDim, rng);
      truth_.Put(it);
      batch.push_back(it);
      if (batch.size() == 250 || i + 1 == items_) {
        ASSERT_TRUE(db->PutBatch(batch).ok());
        batch.clear();
      }
    }
    ASSERT_TRUE(db->Flush().ok());
    ASSERT_TRUE(db->Delete("h7").ok());
    truth_.items.erase("h7");
    for (int i = 0; i < 30; i++) queries_.push_back(Gaussian(kDim, rng));
    before_ = Results(db.get());
    ASSERT_TRUE(db->Close().ok());
    ASSERT_TRUE(env_->FileExists(JoinPath(kStore, kHnswContainerFile)));
  }
  std::vector<std::vector<std::string>> Results(Engine* db) {
    std::vector<std::vector<std::string>> out;
    for (auto& q : queries_) {
      SearchOptions so;
      SearchResult r;
      EXPECT_TRUE(db->Search(q, so, &r).ok());
      std::vector<std::string> ids;
      for (auto& h : r.hits) ids.push_back(h.id);
      out.push_back(ids);
    }
    return out;
  }
  double RecallOf(Engine* db) {
    double total = 0;
    for (auto& q : queries_) {
      SearchOptions so;
      SearchResult r;
      EXPECT_TRUE(db->Search(q, so, &r).ok());
      total += Recall(r.hits, truth_.TopK(q, 10));
    }
    return total / queries_.size();
  }
  void ExpectRebuildAfterDamage() {
    std::unique_ptr<Engine> db;
    Status s = Engine::Open(opts_, kStore, &db);
    ASSERT_TRUE(s.ok()) << "a damaged index must not stop the store from opening: " << s.ToString();
    json h = testutil::Describe(db.get(), View::kHnswStats);
    EXPECT_TRUE(testutil::Contains(h["load_note"].get<std::string>(), "rejected")) << h.dump();
    json rr = testutil::Describe(db.get(), View::kRecoveryReport);
    EXPECT_FALSE(rr["hnsw_loaded"].get<bool>());
    // The rejected file is kept aside.
    bool kept = false;
    for (auto& n : testutil::Children(env_.get(), JoinPath(kStore, "quarantine")))
      kept = kept || n.rfind(kHnswContainerFile, 0) == 0;
    EXPECT_TRUE(kept);
    // Until the index has caught up the planner searches exactly: still correct.
    EXPECT_GE(RecallOf(db.get()), 0.999);
    // The rebuild (maintenance steps here; the compactor thread natively).
    bool did = true;
    for (int i = 0; i < 100 && did; i++) ASSERT_TRUE(db->MaintenanceStep(&did).ok());
    h = testutil::Describe(db.get(), View::kHnswStats);
    EXPECT_TRUE(h["in_sync"].get<bool>()) << h.dump();
    EXPECT_EQ(h["indexed_vectors"].get<uint64_t>(), items_)
        << h.dump();  // h7: deleted in the MemTable
    EXPECT_GE(RecallOf(db.get()), 0.95);
    std::string report;
    bool healthy = false;
    ASSERT_TRUE(db->Verify(&report, &healthy).ok());
    EXPECT_TRUE(healthy) << report;
    ASSERT_TRUE(db->Close().ok());
    db.reset();
    // The rebuilt index was saved: the next open loads it.
    ASSERT_TRUE(Engine::Open(opts_, kStore, &db).ok());
    EXPECT_TRUE(testutil::Describe(db.get(), View::kRecoveryReport)["hnsw_loaded"].get<bool>());
  }

  const std::string kStore = "/persist";
  // Above the planner's small-store size (1024), under which it scans exactly.
  const uint64_t items_ = testutil::ReducedRun() ? 1200 : 1500;
  std::unique_ptr<Env> env_;
  Options opts_;
  Truth truth_;
  std::vector<std::vector<float>> queries_;
  std::vector<std::vector<std::string>> before_;
};

TEST_F(HnswPersistenceTest, RoundTripLoadsTheSavedIndex) {
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Engine::Open(opts_, kStore, &db).ok());
  json h = testutil::Describe(db.get(), View::kHnswStats);
  EXPECT_TRUE(testutil::Contains(h["load_note"].get<std::string>(), "loaded")) << h.dump();
  EXPECT_TRUE(h["in_sync"].get<bool>()) << h.dump();
  EXPECT_EQ(h["indexed_vectors"].get<uint64_t>(), items_)
      << h.dump();  // h7: deleted in the MemTable
  EXPECT_EQ(h["deleted_marked"].get<uint64_t>(), 0u) << "h7 was deleted in the MemTable only";
  EXPECT_TRUE(testutil::Describe(db.get(), View::kRecoveryReport)["hnsw_loaded"].get<bool>());
  // The segments are indexed: the HNSW answers, not an exact scan.
  std::string plan;
  ASSERT_TRUE(db->Explain(queries_[0], SearchOptions(), &plan).ok());
  EXPECT_TRUE(testutil::Contains(plan, "\"method\":\"graph\"")) << plan;
  EXPECT_FALSE(testutil::Contains(plan, "unindexed_segments")) << plan;
  EXPECT_EQ(Results(db.get()), before_);
  for (auto& r : Results(db.get()))
    for (auto& id : r) EXPECT_NE(id, "h7");
}

TEST_F(HnswPersistenceTest, CorruptContainerIsRebuilt) {
  std::string path = JoinPath(kStore, kHnswContainerFile);
  std::string data = testutil::ReadAll(env_.get(), path);
  ASSERT_GT(data.size(), 1000u);
  data[data.size() / 2] ^= 0x5a;
  ASSERT_TRUE(testutil::WriteAll(env_.get(), path, data).ok());
  ExpectRebuildAfterDamage();
}

TEST_F(HnswPersistenceTest, TruncatedContainerIsRebuilt) {
  std::string path = JoinPath(kStore, kHnswContainerFile);
  std::string data = testutil::ReadAll(env_.get(), path);
  ASSERT_TRUE(testutil::WriteAll(env_.get(), path, data.substr(0, data.size() / 3)).ok());
  ExpectRebuildAfterDamage();
}

TEST_F(HnswPersistenceTest, MissingContainerIsRebuilt) {
  ASSERT_TRUE(env_->RemoveFile(JoinPath(kStore, kHnswContainerFile)).ok());
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Engine::Open(opts_, kStore, &db).ok());
  EXPECT_GE(RecallOf(db.get()), 0.999);
  bool did = true;
  for (int i = 0; i < 100 && did; i++) ASSERT_TRUE(db->MaintenanceStep(&did).ok());
  json h = testutil::Describe(db.get(), View::kHnswStats);
  EXPECT_TRUE(h["in_sync"].get<bool>()) << h.dump();
  EXPECT_GE(RecallOf(db.get()), 0.95);
}

TEST_F(HnswPersistenceTest, ExplicitRebuildReportsProgress) {
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Engine::Open(opts_, kStore, &db).ok());
  uint64_t last_done = 0, last_total = 0;
  std::string result;
  ASSERT_TRUE(db->RebuildHnsw(
                    [&](uint64_t d, uint64_t t) {
                      last_done = d;
                      last_total = t;
                    },
                    &result)
                  .ok());
  EXPECT_EQ(last_done, last_total);
  EXPECT_GT(last_total, 0u);
  EXPECT_EQ(json::parse(result)["vectors"].get<uint64_t>(), items_) << result;
  EXPECT_GE(RecallOf(db.get()), 0.95);
}

// ---------------------------------------------------------------------------------------
// Deletes and overwrites are never returned, wherever the versions live.

// An item of the visibility tests: its content tells versions of one id apart.
Item VisibilityItem(const std::string& id, const std::string& content, std::vector<float> v) {
  Item it;
  it.id = id;
  it.content = content;
  it.timestamp = 5;
  it.embedding = std::move(v);
  return it;
}

// Exact scans of unindexed segments keep, per segment, which entries are the current
// versions of their ids (SegState::current). A newer segment superseding some of them, or a
// deletion flushed into one, must show in the very next search.
TEST(SearchVisibilityTest, UnindexedSegmentsNeverReturnSupersededVersions) {
  constexpr uint32_t kDim = 16;
  auto env = NewMemEnv();
  Options o = StoreOptions(env.get(), 100, false);  // writers flush; nothing indexed
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Engine::Open(o, "/cur", &db).ok());
  std::mt19937_64 rng(5);
  std::map<std::string, std::vector<float>> old_vectors;
  auto put = [&](const std::string& id, const std::string& content) {
    Item it = VisibilityItem(id, content, Gaussian(kDim, rng));
    Status s = db->Put(it);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return it.embedding;
  };
  int filler = 0;
  auto push_out = [&] {  // enough writes that the earlier ones are flushed
    for (int i = 0; i < 250; i++) put("f" + std::to_string(filler++), "filler");
  };
  for (int i = 0; i < 100; i++) old_vectors["x" + std::to_string(i)] = put("x" + std::to_string(i), "old");
  push_out();
  auto search = [&](const std::vector<float>& q, SearchResult* r) {
    SearchOptions so;
    so.k = 5;
    ASSERT_TRUE(db->Search(q, so, r).ok());
  };
  std::string plan;
  ASSERT_TRUE(db->Explain(old_vectors["x0"], SearchOptions(), &plan).ok());
  ASSERT_TRUE(testutil::Contains(plan, "unindexed_segments")) << plan;
  for (auto& kv : old_vectors) {  // the old versions, found in unindexed segments
    SearchResult r;
    search(kv.second, &r);
    ASSERT_FALSE(r.hits.empty());
    EXPECT_EQ(r.hits[0].id, kv.first);
    EXPECT_EQ(r.hits[0].item.content, "old");
  }
  // Overwrite x0..x29, delete x30..x59, and flush both into newer unindexed segments.
  for (int i = 0; i < 30; i++) put("x" + std::to_string(i), "new");
  for (int i = 30; i < 60; i++) ASSERT_TRUE(db->Delete("x" + std::to_string(i)).ok());
  push_out();
  ASSERT_TRUE(db->Explain(old_vectors["x0"], SearchOptions(), &plan).ok());
  ASSERT_TRUE(testutil::Contains(plan, "unindexed_segments")) << plan;
  for (int i = 0; i < 100; i++) {
    const std::string id = "x" + std::to_string(i);
    SearchResult r;
    search(old_vectors[id], &r);
    for (const SearchHit& h : r.hits) {
      if (h.id != id) continue;
      EXPECT_FALSE(i >= 30 && i < 60) << id << " was deleted and is returned";
      EXPECT_EQ(h.item.content, i < 30 ? "new" : "old") << "an old version of " << id;
    }
    if (i >= 60) {
      ASSERT_FALSE(r.hits.empty());
      EXPECT_EQ(r.hits[0].id, id);
    }
  }
}

TEST(SearchVisibilityTest, DeletesAndOverwritesNeverReturned) {
  constexpr uint32_t kDim = 16;
  auto env = NewMemEnv();
  Options o = StoreOptions(env.get(), 200, false);
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Engine::Open(o, "/vis", &db).ok());
  std::mt19937_64 rng(21);
  Truth truth;
  std::map<std::string, std::vector<float>> old_vectors;  // of deleted / overwritten ids
  auto put = [&](const std::string& id, const std::string& content) {
    Item it = VisibilityItem(id, content, Gaussian(kDim, rng));
    ASSERT_TRUE(db->Put(it).ok());
    truth.Put(it);
  };
  // More items than the planner scans exactly for a small store: the graph is walked.
  const int kItems = 1500;
  for (int i = 0; i < kItems; i++) put("v" + std::to_string(i), "v" + std::to_string(i) + " old");
  ASSERT_TRUE(db->Flush().ok());
  std::string plan;
  ASSERT_TRUE(db->Explain(truth.items.begin()->second.embedding, SearchOptions(), &plan).ok());
  EXPECT_TRUE(testutil::Contains(plan, "\"method\":\"graph\"")) << plan;
  int round = 0;
  auto churn = [&] {
    // Overwrite 40 ids with new vectors, delete 40.
    for (int i = 0; i < 40; i++) {
      std::string id = "v" + std::to_string((round * 97 + i * 13) % kItems);
      if (!truth.items.count(id)) continue;
      old_vectors[id] = truth.items[id].embedding;
      put(id, id + " new " + std::to_string(round));
    }
    for (int i = 0; i < 40; i++) {
      std::string id = "v" + std::to_string((round * 89 + i * 7 + 3) % kItems);
      if (!truth.items.count(id)) continue;
      old_vectors[id] = truth.items[id].embedding;
      ASSERT_TRUE(db->Delete(id).ok());
      truth.items.erase(id);
    }
    round++;
  };
  auto check = [&](const std::string& when) {
    for (auto& kv : old_vectors) {
      SearchOptions so;
      so.k = 10;
      SearchResult r;
      ASSERT_TRUE(db->Search(kv.second, so, &r).ok());
      for (auto& h : r.hits) {
        auto it = truth.items.find(h.id);
        ASSERT_NE(it, truth.items.end()) << when << ": deleted " << h.id << " returned";
        EXPECT_EQ(h.item.content, it->second.content) << when << ": an old version of " << h.id;
        std::vector<float> q = testutil::Normalized(kv.second);
        float want = Score(Metric::kCosine, q.data(), it->second.embedding.data(), kDim);
        EXPECT_NEAR(h.score, want, 1e-4) << when << ": score of an old version of " << h.id;
      }
    }
  };
  churn();
  check("in the MemTable");
  ASSERT_TRUE(db->Flush().ok());
  check("after flush");
  churn();
  ASSERT_TRUE(db->Flush().ok());
  check("after a second flush");
  ASSERT_TRUE(db->Compact().ok());
  check("after compaction");
  churn();
  check("after compaction, newer versions in the MemTable");
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  ASSERT_TRUE(Engine::Open(o, "/vis", &db).ok());
  check("after reopen");
  json h = testutil::Describe(db.get(), View::kHnswStats);
  EXPECT_GT(h["deleted_marked"].get<uint64_t>(), 0u) << h.dump();
  std::string report;
  bool healthy = false;
  ASSERT_TRUE(db->Verify(&report, &healthy).ok());
  EXPECT_TRUE(healthy) << report;
}

}  // namespace
}  // namespace t4dx
