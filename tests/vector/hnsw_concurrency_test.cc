// HnswIndex under concurrent Add, MarkDeleted, Search and Serialize.
#include <atomic>
#include <string>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "vector/hnsw_index.h"
#include "vector/vector_test_util.h"

namespace t4dx {
namespace {

using testing_util::BruteForce;
using testing_util::ClusteredData;
using testing_util::Dataset;
using testing_util::Overlap;
using testing_util::RandomData;

// With hnswlib's insertion walk and with the touching one (HnswParams::touching_walk).
class HnswConcurrencyAddTest : public ::testing::TestWithParam<bool> {};

TEST_P(HnswConcurrencyAddTest, AddSearchAndMarkDeletedFromFourThreads) {
  constexpr size_t kFirst = 600, kSecond = 900;
  Dataset data = ClusteredData(kFirst + kSecond, 16, 15, 0.3f, 31);
  HnswParams p;
  p.dim = 16;
  p.metric = Metric::kL2;
  p.initial_capacity = 64;  // the adders grow the capacity while others search
  p.touching_walk = GetParam();
  std::unique_ptr<HnswIndex> index;
  ASSERT_TRUE(HnswIndex::Create(p, &index).ok());
  for (size_t i = 0; i < kFirst; ++i) ASSERT_TRUE(index->Add(i, data.row(i)).ok());

  std::atomic<bool> failed{false};
  auto add_every_other = [&](size_t first) {
    for (size_t i = first; i < kFirst + kSecond; i += 2) {
      if (!index->Add(i, data.row(i)).ok()) failed = true;
    }
  };
  std::thread adder(add_every_other, kFirst);
  std::thread adder2(add_every_other, kFirst + 1);
  std::thread deleter([&] {
    for (size_t i = 0; i < kFirst; i += 2) {
      if (!index->MarkDeleted(i).ok()) failed = true;
    }
  });
  std::thread searcher([&] {
    std::vector<HnswHit> hits;
    for (size_t q = 0; q < 300; ++q) {
      const size_t ef = q % 2 ? 16 : 128;
      if (!index->Search(data.row((q * 7) % (kFirst + kSecond)), 10, ef, {}, &hits).ok()) {
        failed = true;
      }
      for (const auto& h : hits) {
        if (h.label >= kFirst + kSecond) failed = true;
      }
    }
  });
  adder.join();
  adder2.join();
  deleter.join();
  searcher.join();
  ASSERT_FALSE(failed.load());

  EXPECT_EQ(index->size(), kFirst + kSecond);
  EXPECT_EQ(index->deleted_count(), kFirst / 2);
  std::vector<HnswHit> hits;
  auto alive = [&](uint64_t l) { return l >= kFirst || l % 2 == 1; };
  double recall = 0;
  for (size_t q = 0; q < 50; ++q) {
    const float* query = data.row(q * 29);
    ASSERT_TRUE(index->Search(query, 10, 0, {}, &hits).ok());
    for (const auto& h : hits) EXPECT_TRUE(alive(h.label)) << h.label;
    recall += Overlap(hits, BruteForce(data, Metric::kL2, query, 10, 0, alive));
  }
  EXPECT_GE(recall / 50, 0.9);
  for (size_t i = 0; i < kFirst + kSecond; ++i) {
    EXPECT_EQ(index->Contains(i), alive(i)) << i;
    EXPECT_EQ(index->IsMarkedDeleted(i), !alive(i)) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Walks, HnswConcurrencyAddTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "touching" : "hnswlib");
                         });

TEST(HnswConcurrencyTest, ConcurrentSearchesWithDifferentEfDoNotInterfere) {
  const testing_util::SharedWorkload& w = testing_util::Shared(Metric::kInnerProduct, false);
  const HnswIndex* index = w.index.get();
  const Dataset& queries = w.queries;
  constexpr size_t kQueries = 40;
  const size_t efs[2] = {10, 400};
  // Expected results, one search at a time.
  std::vector<std::vector<HnswHit>> expected[2];
  for (int t = 0; t < 2; ++t) {
    expected[t].resize(kQueries);
    for (size_t q = 0; q < kQueries; ++q) {
      ASSERT_TRUE(index->Search(queries.row(q), 10, efs[t], {}, &expected[t][q]).ok());
    }
  }
  std::atomic<int> mismatches{0};
  auto run = [&](int t) {
    std::vector<HnswHit> hits;
    for (int round = 0; round < 2; ++round) {
      for (size_t q = 0; q < kQueries; ++q) {
        if (!index->Search(queries.row(q), 10, efs[t], {}, &hits).ok()) ++mismatches;
        if (hits.size() != expected[t][q].size()) {
          ++mismatches;
          continue;
        }
        for (size_t i = 0; i < hits.size(); ++i) {
          if (hits[i].label != expected[t][q][i].label) ++mismatches;
        }
      }
    }
  };
  std::thread a(run, 0), b(run, 1);
  a.join();
  b.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(HnswConcurrencyTest, SerializeWhileAddingGivesALoadableSnapshot) {
  Dataset data = RandomData(1200, 8, 34);
  HnswParams p;
  p.dim = 8;
  p.metric = Metric::kL2;
  p.initial_capacity = 32;
  std::unique_ptr<HnswIndex> index;
  ASSERT_TRUE(HnswIndex::Create(p, &index).ok());
  for (size_t i = 0; i < 200; ++i) ASSERT_TRUE(index->Add(i, data.row(i)).ok());
  std::atomic<bool> failed{false};
  std::thread adder([&] {
    for (size_t i = 200; i < 1200; ++i) {
      if (!index->Add(i, data.row(i)).ok()) failed = true;
      if (i % 3 == 0 && !index->MarkDeleted(i - 100).ok()) failed = true;
    }
  });
  std::vector<std::string> snapshots;
  for (int s = 0; s < 5; ++s) {
    std::string bytes;
    ASSERT_TRUE(index->Serialize(s, &bytes).ok());
    snapshots.push_back(std::move(bytes));
  }
  adder.join();
  ASSERT_FALSE(failed.load());
  for (const std::string& bytes : snapshots) {
    std::unique_ptr<HnswIndex> loaded;
    uint64_t lsn = 0;
    Status s = HnswIndex::Deserialize(bytes, p, &loaded, &lsn);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_GE(loaded->size(), 200u);
  }
}

}  // namespace
}  // namespace t4dx
