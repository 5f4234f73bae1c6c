// Found by hnsw_container_fuzzer (tests/fuzz/regressions/hnsw_container/nan_score): finite
// vectors whose inner product overflows float (components around 1e20 and up, which every
// write accepts) score +inf and -inf in one sum, that is NaN. NaN scores went into the
// search's top-k heap and std::sort, whose comparator is then no strict weak ordering
// (undefined behaviour; libstdc++'s unguarded insertion sort can run off the array), and
// came back to clients. A NaN score ranks nothing: such candidates are left out, on every
// path (MemTable, unindexed segments, the HNSW index).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "t4dx/engine.h"
#include "t4dx/env.h"
#include "vector/hnsw_index.h"

namespace t4dx {
namespace {

constexpr uint32_t kDim = 4;

std::vector<float> Big(int i) {
  const float s = i % 2 ? 1e30f : -1e30f;
  return {s, -s, 1e25f * static_cast<float>(i + 1), 0.5f};
}

void ExpectFiniteSorted(Engine* db, const std::string& when) {
  SearchOptions so;
  so.k = 50;
  SearchResult r;
  Status s = db->Search({1e30f, 1e30f, 1e30f, 1e30f}, so, &r);
  ASSERT_TRUE(s.ok()) << when << ": " << s.ToString();
  for (size_t i = 0; i < r.hits.size(); ++i) {
    EXPECT_FALSE(std::isnan(r.hits[i].score)) << when << ": " << r.hits[i].id;
    if (i > 0) {
      EXPECT_GE(r.hits[i - 1].score, r.hits[i].score) << when;
    }
  }
  // An ordinary query still finds the ordinary item.
  s = db->Search({0.f, 0.f, 0.f, 1.f}, so, &r);
  ASSERT_TRUE(s.ok()) << when << ": " << s.ToString();
  bool found = false;
  for (const SearchHit& h : r.hits) {
    EXPECT_FALSE(std::isnan(h.score)) << when << ": " << h.id;
    found = found || h.id == "plain";
  }
  EXPECT_TRUE(found) << when;
}

TEST(NanScoreTest, InnerProductOverflowNeverReachesResults) {
  std::unique_ptr<Env> env = NewMemEnv();
  ASSERT_TRUE(env->CreateDir("/s").ok());
  Options o;
  o.env = env.get();
  o.metric = Metric::kInnerProduct;
  o.dim = kDim;
  o.background_compaction = false;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Engine::Open(o, "/s", &db).ok());
  for (int i = 0; i < 40; ++i) {
    Item it;
    it.id = "big" + std::to_string(i);
    it.timestamp = 1000 + i;
    it.embedding = Big(i);
    ASSERT_TRUE(db->Put(it).ok());
  }
  Item plain;
  plain.id = "plain";
  plain.timestamp = 1;
  plain.embedding = {0.f, 0.f, 0.f, 1.f};
  ASSERT_TRUE(db->Put(plain).ok());
  ExpectFiniteSorted(db.get(), "MemTable");
  ASSERT_TRUE(db->Flush().ok());
  ExpectFiniteSorted(db.get(), "segment");
  std::string out;
  ASSERT_TRUE(db->RebuildHnsw({}, &out).ok());
  ExpectFiniteSorted(db.get(), "HNSW");
  ASSERT_TRUE(db->Close().ok());
}

TEST(NanScoreTest, HnswSearchLeavesOutNanScores) {
  HnswParams p;
  p.dim = kDim;
  p.metric = Metric::kInnerProduct;
  std::unique_ptr<HnswIndex> index;
  ASSERT_TRUE(HnswIndex::Create(p, &index).ok());
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(index->Add(i, Big(i).data()).ok());
  const float q[kDim] = {1e30f, 1e30f, 1e30f, 1e30f};
  std::vector<HnswHit> hits;
  ASSERT_TRUE(index->Search(q, 40, 64, nullptr, &hits).ok());
  for (const HnswHit& h : hits) EXPECT_FALSE(std::isnan(h.score)) << h.label;
}

}  // namespace
}  // namespace t4dx
