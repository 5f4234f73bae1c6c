// The touching walks (HnswParams::touching_walk, the default in WebAssembly) must do what
// hnswlib's walks do. Searches: the same labels, scores and order over the same graph, for
// every metric, at small and large ef, with and without deleted marks (which send both to
// hnswlib's filtered walk) and with a filter. Insertions: the same graph, byte for byte,
// including insertions that walk over deleted elements and a deleted entry point.
#include <vector>

#include "gtest/gtest.h"
#include "vector/hnsw_index.h"
#include "vector/vector_test_util.h"

namespace t4dx {
namespace {

// The shared workload's graph loaded twice from one container: once per walk.
void LoadBoth(const testing_util::SharedWorkload& w, std::unique_ptr<HnswIndex>* hnswlib_walk,
              std::unique_ptr<HnswIndex>* touching) {
  std::string bytes;
  ASSERT_TRUE(w.index->Serialize(7, &bytes).ok());
  HnswParams p = w.index->params();
  uint64_t lsn = 0;
  p.touching_walk = false;
  ASSERT_TRUE(HnswIndex::Deserialize(bytes, p, hnswlib_walk, &lsn).ok());
  p.touching_walk = true;
  ASSERT_TRUE(HnswIndex::Deserialize(bytes, p, touching, &lsn).ok());
}

void ExpectSameHits(const HnswIndex& a, const HnswIndex& b, const testing_util::Dataset& queries,
                    const std::function<bool(uint64_t)>& allowed) {
  std::vector<HnswHit> ha, hb;
  for (size_t ef : {10, 40, 200}) {
    for (size_t q = 0; q < queries.n; ++q) {
      ASSERT_TRUE(a.Search(queries.row(q), 10, ef, allowed, &ha).ok());
      ASSERT_TRUE(b.Search(queries.row(q), 10, ef, allowed, &hb).ok());
      ASSERT_EQ(ha.size(), hb.size()) << "query " << q << " ef " << ef;
      for (size_t i = 0; i < ha.size(); ++i) {
        EXPECT_EQ(ha[i].label, hb[i].label) << "query " << q << " ef " << ef << " hit " << i;
        EXPECT_EQ(ha[i].score, hb[i].score) << "query " << q << " ef " << ef << " hit " << i;
      }
    }
  }
}

class HnswWalkTest : public ::testing::TestWithParam<Metric> {};

TEST_P(HnswWalkTest, TouchingWalkReturnsWhatHnswlibsWalkReturns) {
  const testing_util::SharedWorkload& w = testing_util::Shared(GetParam(), true);
  std::unique_ptr<HnswIndex> plain, touching;
  LoadBoth(w, &plain, &touching);
  ASSERT_TRUE(plain && touching);
  ExpectSameHits(*plain, *touching, w.queries, {});
  // A filter, then deleted marks: both indexes take hnswlib's filtered walk.
  auto even = [](uint64_t label) { return label % 2 == 0; };
  ExpectSameHits(*plain, *touching, w.queries, even);
  std::vector<uint64_t> labels;
  plain->ForEach([&](uint64_t label, bool deleted) {
    if (!deleted) labels.push_back(label);
  });
  ASSERT_GT(labels.size(), 20u);
  for (size_t i = 0; i < labels.size(); i += 10) {
    ASSERT_TRUE(plain->MarkDeleted(labels[i]).ok());
    ASSERT_TRUE(touching->MarkDeleted(labels[i]).ok());
  }
  ExpectSameHits(*plain, *touching, w.queries, {});
}

TEST_P(HnswWalkTest, TouchingInsertionBuildsTheGraphHnswlibBuilds) {
  const testing_util::Dataset data = testing_util::ClusteredData(1500, 24, 12, 0.2f, 5);
  HnswParams p;
  p.dim = data.dim;
  p.metric = GetParam();
  p.m = 8;
  p.ef_construction = 40;
  p.initial_capacity = 256;  // grows on the way: insertions before and after a resize
  std::unique_ptr<HnswIndex> plain, touching;
  p.touching_walk = false;
  ASSERT_TRUE(HnswIndex::Create(p, &plain).ok());
  p.touching_walk = true;
  ASSERT_TRUE(HnswIndex::Create(p, &touching).ok());
  for (size_t i = 0; i < data.n; ++i) {
    ASSERT_TRUE(plain->Add(1000 + i, data.row(i)).ok());
    ASSERT_TRUE(touching->Add(1000 + i, data.row(i)).ok());
    // Deleted elements are expanded but never linked to: the first one (hnswlib's entry
    // point until a higher level is drawn) and every seventh from the 300th on.
    if (i == 0 || (i >= 300 && i % 7 == 0)) {
      ASSERT_TRUE(plain->MarkDeleted(1000 + i).ok());
      ASSERT_TRUE(touching->MarkDeleted(1000 + i).ok());
    }
  }
  std::string a, b;
  ASSERT_TRUE(plain->Serialize(1, &a).ok());
  ASSERT_TRUE(touching->Serialize(1, &b).ok());
  ASSERT_EQ(a.size(), b.size());
  EXPECT_TRUE(a == b) << "the touching insertion built a different graph";
}

INSTANTIATE_TEST_SUITE_P(AllMetrics, HnswWalkTest,
                         ::testing::Values(Metric::kCosine, Metric::kInnerProduct, Metric::kL2),
                         [](const ::testing::TestParamInfo<Metric>& info) {
                           return std::string(MetricName(info.param));
                         });

}  // namespace
}  // namespace t4dx
