// HnswIndex in memory: recall against brute force, filters, deletes, 64-bit labels,
// capacity growth, per-search ef, bookkeeping.
#include "vector/hnsw_index.h"

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <vector>

#include "gtest/gtest.h"
#include "vector/distance.h"
#include "vector/vector_test_util.h"

namespace t4dx {
namespace {

using testing_util::BruteForce;
using testing_util::Build;
using testing_util::ClusteredData;
using testing_util::Dataset;
using testing_util::NormalizeRows;
using testing_util::Overlap;
using testing_util::RandomData;

constexpr size_t kK = 10;

struct RecallCase {
  Metric metric;
  bool clustered;
};

class HnswRecallTest : public ::testing::TestWithParam<RecallCase> {};

TEST_P(HnswRecallTest, RecallAt10AtDefaultEf) {
  const RecallCase c = GetParam();
  const testing_util::SharedWorkload& w = testing_util::Shared(c.metric, c.clustered);
  ASSERT_EQ(w.index->size(), w.data.n);
  double sum = 0;
  std::vector<HnswHit> hits;
  for (size_t q = 0; q < w.queries.n; ++q) {
    Status s = w.index->Search(w.queries.row(q), kK, 0, {}, &hits);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(hits.size(), kK);
    sum += Overlap(hits, BruteForce(w.data, c.metric, w.queries.row(q), kK));
  }
  const double recall = sum / w.queries.n;
  std::printf("recall@10 at ef 64, %s %s (n %zu, dim 32): %.3f\n", MetricName(c.metric),
              c.clustered ? "clustered" : "random", w.data.n, recall);
  EXPECT_GE(recall, 0.95);
}

INSTANTIATE_TEST_SUITE_P(
    AllMetrics, HnswRecallTest,
    ::testing::Values(RecallCase{Metric::kCosine, false}, RecallCase{Metric::kCosine, true},
                      RecallCase{Metric::kInnerProduct, false},
                      RecallCase{Metric::kInnerProduct, true}, RecallCase{Metric::kL2, false},
                      RecallCase{Metric::kL2, true}),
    [](const ::testing::TestParamInfo<RecallCase>& info) {
      return std::string(info.param.metric == Metric::kCosine         ? "Cosine"
                         : info.param.metric == Metric::kInnerProduct ? "InnerProduct"
                                                                      : "L2") +
             (info.param.clustered ? "Clustered" : "Random");
    });

TEST(HnswIndexTest, ScoresEqualDistanceFunctionsAndAreSortedBestFirst) {
  for (Metric metric : {Metric::kCosine, Metric::kInnerProduct, Metric::kL2}) {
    Dataset data = RandomData(300, 12, 3);
    if (metric == Metric::kCosine) NormalizeRows(&data);
    auto index = Build(data, metric);
    std::vector<HnswHit> hits;
    ASSERT_TRUE(index->Search(data.row(7), 20, 0, {}, &hits).ok());
    ASSERT_EQ(hits.size(), 20u);
    EXPECT_EQ(hits[0].label, 7u);  // a stored vector finds itself first
    for (size_t i = 0; i < hits.size(); ++i) {
      EXPECT_EQ(hits[i].score, Score(metric, data.row(7), data.row(hits[i].label), 12));
      if (i > 0) {
        EXPECT_GE(hits[i - 1].score, hits[i].score);
      }
    }
  }
}

TEST(HnswIndexTest, FilteredSearchReturnsOnlyAllowedLabels) {
  Dataset data = ClusteredData(1000, 16, 20, 0.3f, 4);
  auto index = Build(data, Metric::kL2);
  auto allowed = [](uint64_t label) { return label % 7 == 3; };
  std::vector<HnswHit> hits;
  double recall = 0;
  for (size_t q = 0; q < 20; ++q) {
    ASSERT_TRUE(index->Search(data.row(q * 13), 10, 200, allowed, &hits).ok());
    ASSERT_EQ(hits.size(), 10u);
    for (const auto& h : hits) EXPECT_TRUE(allowed(h.label)) << h.label;
    recall += Overlap(hits, BruteForce(data, Metric::kL2, data.row(q * 13), 10, 0, allowed));
  }
  EXPECT_GE(recall / 20, 0.9);

  // A filter that allows nothing returns nothing.
  ASSERT_TRUE(index
                  ->Search(
                      data.row(0), 10, 0, [](uint64_t) { return false; }, &hits)
                  .ok());
  EXPECT_TRUE(hits.empty());
  // A filter allowing one label finds it.
  ASSERT_TRUE(index
                  ->Search(
                      data.row(0), 10, 0, [](uint64_t l) { return l == 1234; }, &hits)
                  .ok());
  ASSERT_LE(hits.size(), 1u);
}

TEST(HnswIndexTest, MarkDeletedIsNeverReturned) {
  Dataset data = RandomData(1000, 8, 5);
  auto index = Build(data, Metric::kInnerProduct);
  std::set<uint64_t> deleted;
  for (uint64_t l = 0; l < 1000; l += 3) {
    ASSERT_TRUE(index->MarkDeleted(l).ok());
    deleted.insert(l);
  }
  EXPECT_EQ(index->deleted_count(), deleted.size());
  EXPECT_EQ(index->size(), 1000u);
  // Marking twice is fine; an unknown label is NotFound.
  EXPECT_TRUE(index->MarkDeleted(0).ok());
  EXPECT_EQ(index->deleted_count(), deleted.size());
  EXPECT_TRUE(index->MarkDeleted(5000).IsNotFound());
  EXPECT_TRUE(index->IsMarkedDeleted(0));
  EXPECT_FALSE(index->Contains(0));
  EXPECT_TRUE(index->Contains(1));
  EXPECT_FALSE(index->IsMarkedDeleted(1));
  EXPECT_FALSE(index->Contains(5000));
  EXPECT_FALSE(index->IsMarkedDeleted(5000));

  std::vector<HnswHit> hits;
  for (size_t q = 0; q < 1000; q += 10) {
    ASSERT_TRUE(index->Search(data.row(q), 50, 0, {}, &hits).ok());
    EXPECT_EQ(hits.size(), 50u);
    for (const auto& h : hits) EXPECT_EQ(deleted.count(h.label), 0u) << h.label;
    // With a filter too.
    ASSERT_TRUE(index
                    ->Search(
                        data.row(q), 50, 0, [](uint64_t) { return true; }, &hits)
                    .ok());
    for (const auto& h : hits) EXPECT_EQ(deleted.count(h.label), 0u) << h.label;
  }
  // A deleted label cannot be added again.
  EXPECT_TRUE(index->Add(0, data.row(0)).IsInvalidArgument());
}

TEST(HnswIndexTest, LabelsAbove32BitsWork) {
  Dataset data = RandomData(500, 8, 6);
  HnswParams p;
  p.dim = 8;
  p.metric = Metric::kL2;
  std::unique_ptr<HnswIndex> index;
  ASSERT_TRUE(HnswIndex::Create(p, &index).ok());
  // Labels that are equal modulo 2^32 must stay distinct.
  auto label_of = [](size_t i) -> uint64_t {
    if (i == 499) return std::numeric_limits<uint64_t>::max();
    return (i % 2 == 0) ? i : (uint64_t{1} << 32) + (i - 1);
  };
  for (size_t i = 0; i < 500; ++i) ASSERT_TRUE(index->Add(label_of(i), data.row(i)).ok());
  EXPECT_EQ(index->size(), 500u);
  std::vector<HnswHit> hits;
  for (size_t i = 0; i < 500; i += 7) {
    ASSERT_TRUE(index->Search(data.row(i), 1, 0, {}, &hits).ok());
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].label, label_of(i));
    EXPECT_EQ(hits[0].score, 0.0f);
  }
  ASSERT_TRUE(index->MarkDeleted(uint64_t{1} << 32).ok());
  EXPECT_TRUE(index->IsMarkedDeleted(uint64_t{1} << 32));
  EXPECT_TRUE(index->Contains(0));
  EXPECT_TRUE(index->Contains(std::numeric_limits<uint64_t>::max()));
  ASSERT_TRUE(index->Search(data.row(1), 1, 0, {}, &hits).ok());
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_NE(hits[0].label, uint64_t{1} << 32);
  // The filter sees the 64-bit labels.
  ASSERT_TRUE(index
                  ->Search(
                      data.row(0), 5, 0, [](uint64_t l) { return l > (uint64_t{1} << 32); }, &hits)
                  .ok());
  ASSERT_EQ(hits.size(), 5u);
  for (const auto& h : hits) EXPECT_GT(h.label, uint64_t{1} << 32);
}

TEST(HnswIndexTest, DuplicateLabelIsRejected) {
  Dataset data = RandomData(2, 4, 7);
  HnswParams p;
  p.dim = 4;
  std::unique_ptr<HnswIndex> index;
  ASSERT_TRUE(HnswIndex::Create(p, &index).ok());
  ASSERT_TRUE(index->Add(42, data.row(0)).ok());
  EXPECT_TRUE(index->Add(42, data.row(1)).IsInvalidArgument());
  EXPECT_EQ(index->size(), 1u);
}

TEST(HnswIndexTest, CapacityGrowsPastInitialCapacity) {
  Dataset data = ClusteredData(1000, 16, 10, 0.3f, 8);
  auto index = Build(data, Metric::kL2, 1000, /*initial_capacity=*/4);
  ASSERT_EQ(index->size(), 1000u);
  for (size_t i = 0; i < 1000; ++i) ASSERT_TRUE(index->Contains(1000 + i));
  std::vector<HnswHit> hits;
  double recall = 0;
  for (size_t q = 0; q < 50; ++q) {
    ASSERT_TRUE(index->Search(data.row(q * 20), 10, 0, {}, &hits).ok());
    recall += Overlap(hits, BruteForce(data, Metric::kL2, data.row(q * 20), 10, 1000));
  }
  EXPECT_GE(recall / 50, 0.95);
  EXPECT_GT(index->memory_bytes(), 1000u * 16 * 4);
}

TEST(HnswIndexTest, PerSearchEfIsHonoured) {
  const testing_util::SharedWorkload& w = testing_util::Shared(Metric::kL2, false);
  const HnswIndex* index = w.index.get();
  const Dataset& data = w.data;
  // The number of candidates the filter is asked about grows with ef.
  auto calls_with_ef = [&](size_t ef) {
    size_t calls = 0;
    std::vector<HnswHit> hits;
    EXPECT_TRUE(index
                    ->Search(
                        data.row(17), 1, ef,
                        [&calls](uint64_t) {
                          ++calls;
                          return true;
                        },
                        &hits)
                    .ok());
    return calls;
  };
  const size_t small = calls_with_ef(1);
  const size_t large = calls_with_ef(500);
  EXPECT_LT(small * 5, large) << small << " vs " << large;
  // ef 0 means params().ef_search; ef below k is raised to k.
  EXPECT_EQ(calls_with_ef(0), calls_with_ef(index->params().ef_search));
  EXPECT_NE(calls_with_ef(0), calls_with_ef(65));
  std::vector<HnswHit> hits;
  ASSERT_TRUE(index->Search(data.row(3), 100, 1, {}, &hits).ok());
  EXPECT_EQ(hits.size(), 100u);
  // A larger ef finds more of the exact answer, and a very large one finds nearly all.
  double recall_low = 0, recall_high = 0;
  for (size_t q = 0; q < 30; ++q) {
    auto truth = BruteForce(data, Metric::kL2, w.queries.row(q), 10);
    ASSERT_TRUE(index->Search(w.queries.row(q), 10, 10, {}, &hits).ok());
    recall_low += Overlap(hits, truth);
    ASSERT_TRUE(index->Search(w.queries.row(q), 10, 1000, {}, &hits).ok());
    recall_high += Overlap(hits, truth);
  }
  EXPECT_GT(recall_high, recall_low);
  EXPECT_GE(recall_high / 30, 0.99);
}

TEST(HnswIndexTest, ForEachSizeAndDeletedCount) {
  Dataset data = RandomData(100, 4, 11);
  auto index = Build(data, Metric::kCosine, 7);
  EXPECT_EQ(index->size(), 100u);
  EXPECT_EQ(index->deleted_count(), 0u);
  for (uint64_t l = 7; l < 107; l += 10) ASSERT_TRUE(index->MarkDeleted(l).ok());
  std::map<uint64_t, bool> seen;
  index->ForEach([&](uint64_t label, bool deleted) { seen[label] = deleted; });
  ASSERT_EQ(seen.size(), 100u);
  for (uint64_t l = 7; l < 107; ++l) {
    ASSERT_EQ(seen.count(l), 1u);
    EXPECT_EQ(seen[l], (l - 7) % 10 == 0) << l;
  }
  EXPECT_EQ(index->size(), 100u);
  EXPECT_EQ(index->deleted_count(), 10u);
}

TEST(HnswIndexTest, EmptyIndexAndEdgeCases) {
  HnswParams p;
  p.dim = 3;
  std::unique_ptr<HnswIndex> index;
  ASSERT_TRUE(HnswIndex::Create(p, &index).ok());
  const float q[3] = {1, 0, 0};
  std::vector<HnswHit> hits = {{1, 1}};
  ASSERT_TRUE(index->Search(q, 10, 0, {}, &hits).ok());
  EXPECT_TRUE(hits.empty());
  EXPECT_EQ(index->size(), 0u);
  ASSERT_TRUE(index->Add(9, q).ok());
  ASSERT_TRUE(index->Search(q, 0, 0, {}, &hits).ok());
  EXPECT_TRUE(hits.empty());
  ASSERT_TRUE(index->Search(q, 10, 0, {}, &hits).ok());
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].label, 9u);
  EXPECT_FLOAT_EQ(hits[0].score, 1.0f);

  const float bad[3] = {1, std::nanf(""), 0};
  EXPECT_TRUE(index->Add(10, bad).IsInvalidArgument());
  EXPECT_FALSE(index->Contains(10));
  EXPECT_TRUE(index->Search(bad, 1, 0, {}, &hits).IsInvalidArgument());
  EXPECT_TRUE(index->Add(11, nullptr).IsInvalidArgument());
  // After a refused Add the label is free.
  ASSERT_TRUE(index->Add(10, q).ok());
}

TEST(HnswIndexTest, ThrowingFilterBecomesAStatus) {
  Dataset data = RandomData(200, 4, 12);
  auto index = Build(data, Metric::kL2);
  std::vector<HnswHit> hits;
  Status s = index->Search(
      data.row(0), 5, 0, [](uint64_t) -> bool { throw std::runtime_error("boom"); }, &hits);
  EXPECT_EQ(s.code(), Status::Code::kAborted) << s.ToString();
  EXPECT_NE(s.message().find("boom"), std::string::npos);
  EXPECT_TRUE(hits.empty());
  s = index->Search(
      data.row(0), 5, 0, [](uint64_t) -> bool { throw 7; }, &hits);
  EXPECT_FALSE(s.ok());
  // The index is still usable.
  ASSERT_TRUE(index->Search(data.row(0), 5, 0, {}, &hits).ok());
  EXPECT_EQ(hits.size(), 5u);
  EXPECT_EQ(hits[0].label, 0u);
}

TEST(HnswIndexTest, CreateRejectsBadParams) {
  std::unique_ptr<HnswIndex> index;
  HnswParams p;
  p.dim = 0;
  EXPECT_TRUE(HnswIndex::Create(p, &index).IsInvalidArgument());
  p.dim = 4;
  p.m = 1;
  EXPECT_TRUE(HnswIndex::Create(p, &index).IsInvalidArgument());
  p.m = 100000;
  EXPECT_TRUE(HnswIndex::Create(p, &index).IsInvalidArgument());
  p.m = 16;
  p.ef_construction = 0;
  EXPECT_TRUE(HnswIndex::Create(p, &index).IsInvalidArgument());
  p.ef_construction = 200;
  p.metric = static_cast<Metric>(9);
  EXPECT_TRUE(HnswIndex::Create(p, &index).IsInvalidArgument());
  p.metric = Metric::kL2;
  p.initial_capacity = std::numeric_limits<size_t>::max();
  EXPECT_TRUE(HnswIndex::Create(p, &index).IsInvalidArgument());
  EXPECT_EQ(index, nullptr);
  p.initial_capacity = 0;  // treated as 1
  ASSERT_TRUE(HnswIndex::Create(p, &index).ok());
  EXPECT_EQ(index->params().dim, 4u);
}

}  // namespace
}  // namespace t4dx
