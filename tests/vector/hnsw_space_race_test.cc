// Creating an index while another one searches (two stores opening at once). hnswlib's
// space constructors write process-wide kernel pointers that its residual kernels (dims not
// a multiple of 4 or 16) read on every distance; the adapter must not construct them per
// index. A plain run checks the results; under ThreadSanitizer (scripts/tsan.sh) a data
// race between the two threads fails the run.
#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "vector/hnsw_index.h"
#include "vector/vector_test_util.h"

namespace t4dx {
namespace {

using testing_util::Dataset;
using testing_util::RandomData;

TEST(HnswConcurrencyTest, CreatingIndexesWhileAnotherSearches) {
  constexpr uint32_t kDim = 21;  // > 16, not a multiple of 4: hnswlib's residual kernels
  constexpr size_t kRows = 200;
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
    Dataset data = RandomData(kRows, kDim, 7);
    HnswParams p;
    p.dim = kDim;
    p.metric = metric;
    std::unique_ptr<HnswIndex> index;
    ASSERT_TRUE(HnswIndex::Create(p, &index).ok());
    for (size_t i = 0; i < kRows; ++i) ASSERT_TRUE(index->Add(i, data.row(i)).ok());

    std::atomic<bool> failed{false};
    std::thread creator([&] {
      for (int round = 0; round < 20; ++round) {
        for (uint32_t dim : {kDim, 5u, 16u, 8u, 3u}) {
          HnswParams q;
          q.dim = dim;
          q.metric = round % 2 ? Metric::kL2 : Metric::kInnerProduct;
          std::unique_ptr<HnswIndex> other;
          if (!HnswIndex::Create(q, &other).ok()) failed = true;
        }
      }
    });
    std::thread searcher([&] {
      std::vector<HnswHit> hits;
      for (size_t q = 0; q < 200; ++q) {
        if (!index->Search(data.row(q % kRows), 5, 32, {}, &hits).ok() || hits.empty()) {
          failed = true;
        }
      }
    });
    creator.join();
    searcher.join();
    EXPECT_FALSE(failed.load());

    // The kernel an index borrows is the one hnswlib would have chosen: its own vector is
    // its nearest neighbour under L2.
    if (metric == Metric::kL2) {
      std::vector<HnswHit> hits;
      ASSERT_TRUE(index->Search(data.row(3), 1, 64, {}, &hits).ok());
      ASSERT_EQ(hits.size(), 1u);
      EXPECT_EQ(hits[0].label, 3u);
    }
  }
}

}  // namespace
}  // namespace t4dx
