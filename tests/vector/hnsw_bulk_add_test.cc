// HnswBulkAdd: every job added (from several threads in native builds), the labels
// reported in job order, the earliest error returned with every job before it added. Also
// FilterPlacement::kAfterWalk of HnswIndex::Search.
#include "vector/hnsw_bulk_add.h"

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "vector/vector_test_util.h"

namespace t4dx {
namespace {

using testing_util::BruteForce;
using testing_util::ClusteredData;
using testing_util::Dataset;
using testing_util::Overlap;

std::unique_ptr<HnswIndex> Empty(uint32_t dim, Metric metric) {
  HnswParams p;
  p.dim = dim;
  p.metric = metric;
  p.initial_capacity = 64;  // forces growth while threads add
  std::unique_ptr<HnswIndex> index;
  EXPECT_TRUE(HnswIndex::Create(p, &index).ok());
  return index;
}

std::vector<HnswAddJob> Jobs(const Dataset& d, uint64_t base) {
  std::vector<HnswAddJob> jobs;
  for (size_t i = 0; i < d.n; ++i) jobs.push_back({base + i, d.row(i)});
  return jobs;
}

double Recall(const HnswIndex& index, const Dataset& d, Metric metric, uint64_t base) {
  double sum = 0;
  std::vector<HnswHit> hits;
  for (size_t q = 0; q < 30; ++q) {
    EXPECT_TRUE(index.Search(d.row(q * 31), 10, 64, {}, &hits).ok());
    std::vector<uint64_t> truth = BruteForce(d, metric, d.row(q * 31), 10, base);
    sum += Overlap(hits, truth);
  }
  return sum / 30;
}

TEST(HnswBulkAddTest, AddsEveryJobInOrder) {
  Dataset data = ClusteredData(3000, 16, 30, 0.3f, 11);
  auto index = Empty(16, Metric::kL2);
  std::vector<uint64_t> added;
  Status s = HnswBulkAdd(index.get(), Jobs(data, 1000), &added);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(index->size(), data.n);
  ASSERT_EQ(added.size(), data.n);
  for (size_t i = 0; i < added.size(); ++i) EXPECT_EQ(added[i], 1000 + i);
  for (uint64_t l = 1000; l < 1000 + data.n; l += 97) EXPECT_TRUE(index->Contains(l));
  EXPECT_GE(Recall(*index, data, Metric::kL2, 1000), 0.9);
}

TEST(HnswBulkAddTest, StopsAtTheFirstError) {
  Dataset data = ClusteredData(2000, 8, 10, 0.3f, 12);
  auto index = Empty(8, Metric::kL2);
  std::vector<HnswAddJob> jobs = Jobs(data, 0);
  jobs[1500].label = 3;  // already added
  std::vector<uint64_t> added;
  Status s = HnswBulkAdd(index.get(), jobs, &added);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("label 3"), std::string::npos) << s.ToString();
  // Every job before the failing one is added; jobs another thread had already started
  // after it may be too. Nothing else: the index holds exactly what *added lists.
  ASSERT_GE(added.size(), 1500u);
  for (uint64_t l = 0; l < 1500; ++l) EXPECT_EQ(added[l], l);
  for (size_t i = 1500; i < added.size(); ++i) EXPECT_GT(added[i], 1500u);
  EXPECT_LE(added.size(), 1500u + HnswBulkAddThreads(jobs.size()));
  EXPECT_EQ(index->size(), added.size());
}

TEST(HnswBulkAddTest, ThreadsFollowTheWork) {
  EXPECT_EQ(HnswBulkAddThreads(0), 1u);
  EXPECT_EQ(HnswBulkAddThreads(2 * kHnswBulkAddMinJobsPerThread - 1), 1u);
  EXPECT_GE(HnswBulkAddThreads(100000), 1u);
  EXPECT_LE(HnswBulkAddThreads(100000), 4u);
}

TEST(HnswBulkAddTest, ConcurrentBulkAddsAndSearchesKeepEveryLabel) {
  // Two bulk adds at once (the compactor's step and a rebuild never overlap in one index,
  // but the index must not care), with searches running beside them.
  Dataset data = ClusteredData(4000, 16, 40, 0.3f, 14);
  auto index = Empty(16, Metric::kInnerProduct);
  std::vector<HnswAddJob> all = Jobs(data, 0);
  std::vector<HnswAddJob> a(all.begin(), all.begin() + 2000), b(all.begin() + 2000, all.end());
  std::vector<uint64_t> added_a, added_b;
  Status sa, sb;
  std::thread ta([&] { sa = HnswBulkAdd(index.get(), a, &added_a); });
  std::thread tb([&] { sb = HnswBulkAdd(index.get(), b, &added_b); });
  std::vector<HnswHit> hits;
  for (size_t q = 0; q < 50; ++q) EXPECT_TRUE(index->Search(data.row(q), 5, 32, {}, &hits).ok());
  ta.join();
  tb.join();
  ASSERT_TRUE(sa.ok()) << sa.ToString();
  ASSERT_TRUE(sb.ok()) << sb.ToString();
  EXPECT_EQ(index->size(), data.n);
  for (size_t i = 0; i < 2000; ++i) {
    EXPECT_EQ(added_a[i], i);
    EXPECT_EQ(added_b[i], 2000 + i);
  }
  EXPECT_GE(Recall(*index, data, Metric::kInnerProduct, 0), 0.9);
}

TEST(HnswSearchPlacementTest, AfterWalkMatchesInGraphAndFallsBackWhenMostAreRejected) {
  Dataset data = ClusteredData(2000, 16, 20, 0.3f, 13);
  auto index = Empty(16, Metric::kInnerProduct);
  ASSERT_TRUE(HnswBulkAdd(index.get(), Jobs(data, 0), nullptr).ok());
  using P = HnswIndex::FilterPlacement;
  std::vector<HnswHit> after, in_graph, none;
  // Rarely rejects: the same hits as the unfiltered search minus the rejected label.
  for (size_t q = 0; q < 20; ++q) {
    const float* query = data.row(q * 7);
    ASSERT_TRUE(index->Search(query, 10, 100, {}, &none).ok());
    ASSERT_EQ(none.size(), 10u);
    const uint64_t rejected = none[3].label;
    auto allowed = [&](uint64_t l) { return l != rejected; };
    ASSERT_TRUE(index->Search(query, 10, 100, allowed, &after, P::kAfterWalk).ok());
    ASSERT_EQ(after.size(), 10u);
    for (const HnswHit& h : after) EXPECT_NE(h.label, rejected);
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(after[i].label, none[i].label);
    EXPECT_TRUE(std::is_sorted(after.begin(), after.end(), [](const HnswHit& a, const HnswHit& b) {
      return a.score > b.score;
    }));
  }
  // Rejects almost everything: falls back to the walk with the filter inside the graph,
  // so it still finds the allowed labels an unfiltered walk would miss.
  auto rare = [](uint64_t l) { return l % 50 == 7; };
  double overlap = 0;
  for (size_t q = 0; q < 20; ++q) {
    const float* query = data.row(q * 11);
    ASSERT_TRUE(index->Search(query, 10, 100, rare, &after, P::kAfterWalk).ok());
    ASSERT_TRUE(index->Search(query, 10, 100, rare, &in_graph, P::kInGraph).ok());
    ASSERT_EQ(after.size(), 10u);
    for (const HnswHit& h : after) EXPECT_TRUE(rare(h.label));
    overlap += Overlap(after, BruteForce(data, Metric::kInnerProduct, query, 10, 0, rare));
  }
  EXPECT_GE(overlap / 20, 0.9);
}

}  // namespace
}  // namespace t4dx
