// The touching level-0 walk (HnswParams::touching_walk, the default in WebAssembly) must
// return what hnswlib's walk returns over the same graph: same labels, same scores, same
// order, for every metric, at small and large ef, with and without deleted marks (which
// send both to hnswlib's filtered walk) and with a filter.
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

INSTANTIATE_TEST_SUITE_P(AllMetrics, HnswWalkTest,
                         ::testing::Values(Metric::kCosine, Metric::kInnerProduct, Metric::kL2),
                         [](const ::testing::TestParamInfo<Metric>& info) {
                           return std::string(MetricName(info.param));
                         });

}  // namespace
}  // namespace t4dx
