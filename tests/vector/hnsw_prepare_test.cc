// The prepare hint of HnswIndex::Search (kAfterWalk): it sees the labels `allowed` is asked
// about first, before they are asked, and never changes the result.
#include <gtest/gtest.h>

#include <vector>

#include "vector/hnsw_index.h"
#include "vector_test_util.h"

namespace t4dx {
namespace {

using namespace testing_util;
using P = HnswIndex::FilterPlacement;

TEST(HnswPrepareTest, SeesTheFirstAskedLabelsBeforeAllowedAndChangesNothing) {
  Dataset data = ClusteredData(1500, 16, 15, 0.3f, 21);
  auto index = Build(data, Metric::kInnerProduct);
  for (size_t q = 0; q < 20; ++q) {
    const float* query = data.row(q * 17);
    for (size_t k : {1, 10, 100}) {
      std::vector<uint64_t> prepared, asked;
      size_t prepare_calls = 0;
      size_t asked_before_prepare = 0;
      auto prepare = [&](const uint64_t* labels, size_t n) {
        prepare_calls++;
        asked_before_prepare += asked.size();
        prepared.assign(labels, labels + n);
      };
      auto allowed = [&](uint64_t l) {
        asked.push_back(l);
        return l % 9 != 4;  // rejects a few: the walk's list is read past the first k
      };
      std::vector<HnswHit> with, without;
      ASSERT_TRUE(index->Search(query, k, 150, allowed, &with, P::kAfterWalk, prepare).ok());
      EXPECT_EQ(prepare_calls, 1u);
      EXPECT_EQ(asked_before_prepare, 0u);
      ASSERT_FALSE(prepared.empty());
      ASSERT_LE(prepared.size(), k);
      ASSERT_GE(asked.size(), prepared.size());
      for (size_t i = 0; i < prepared.size(); ++i) EXPECT_EQ(asked[i], prepared[i]) << i;

      ASSERT_TRUE(index->Search(query, k, 150, allowed, &without, P::kAfterWalk).ok());
      ASSERT_EQ(with.size(), without.size());
      for (size_t i = 0; i < with.size(); ++i) {
        EXPECT_EQ(with[i].label, without[i].label);
        EXPECT_EQ(with[i].score, without[i].score);
        EXPECT_NE(with[i].label % 9, 4u);
      }
    }
  }
}

TEST(HnswPrepareTest, NotCalledForInGraphFilteringOrWithoutAFilter) {
  Dataset data = RandomData(300, 8, 22);
  auto index = Build(data, Metric::kL2);
  size_t calls = 0;
  auto prepare = [&](const uint64_t*, size_t) { calls++; };
  std::vector<HnswHit> hits;
  ASSERT_TRUE(
      index
          ->Search(
              data.row(3), 10, 50, [](uint64_t) { return true; }, &hits, P::kInGraph, prepare)
          .ok());
  ASSERT_TRUE(index->Search(data.row(3), 10, 50, {}, &hits, P::kAfterWalk, prepare).ok());
  EXPECT_EQ(hits.size(), 10u);
  EXPECT_EQ(calls, 0u);
}

}  // namespace
}  // namespace t4dx
