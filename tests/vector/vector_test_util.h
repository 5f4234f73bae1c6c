// Shared helpers of the vector tests: deterministic data sets and exact search.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "util/checksum.h"
#include "util/coding.h"
#include "vector/distance.h"
#include "vector/hnsw_index.h"

namespace t4dx {
namespace testing_util {

// n row-major vectors of dim floats.
struct Dataset {
  size_t n = 0;
  uint32_t dim = 0;
  std::vector<float> v;
  const float* row(size_t i) const { return v.data() + i * dim; }
};

inline void NormalizeRows(Dataset* d) {
  for (size_t i = 0; i < d->n; ++i) NormalizeInPlace(d->v.data() + i * d->dim, d->dim);
}

// Independent standard normal components.
inline Dataset RandomData(size_t n, uint32_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Dataset d{n, dim, std::vector<float>(n * dim)};
  for (float& x : d.v) x = normal(rng);
  return d;
}

// Gaussian clusters: `clusters` centers with standard normal components, points at
// standard deviation `spread` around a random center.
inline Dataset ClusteredData(size_t n, uint32_t dim, size_t clusters, float spread, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> centers(clusters * dim);
  for (float& x : centers) x = normal(rng);
  std::uniform_int_distribution<size_t> pick(0, clusters - 1);
  Dataset d{n, dim, std::vector<float>(n * dim)};
  for (size_t i = 0; i < n; ++i) {
    const size_t c = pick(rng);
    for (uint32_t j = 0; j < dim; ++j)
      d.v[i * dim + j] = centers[c * dim + j] + spread * normal(rng);
  }
  return d;
}

// Exact top-k labels (label = row index + label_base) by Score, best first.
inline std::vector<uint64_t> BruteForce(const Dataset& d, Metric metric, const float* q, size_t k,
                                        uint64_t label_base = 0,
                                        const std::function<bool(uint64_t)>& allowed = {}) {
  std::vector<std::pair<float, uint64_t>> all;
  all.reserve(d.n);
  for (size_t i = 0; i < d.n; ++i) {
    const uint64_t label = label_base + i;
    if (allowed && !allowed(label)) continue;
    all.emplace_back(Score(metric, q, d.row(i), d.dim), label);
  }
  const size_t kk = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + kk, all.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<uint64_t> out;
  for (size_t i = 0; i < kk; ++i) out.push_back(all[i].second);
  return out;
}

inline double Overlap(const std::vector<HnswHit>& got, const std::vector<uint64_t>& truth) {
  std::set<uint64_t> t(truth.begin(), truth.end());
  size_t hit = 0;
  for (const auto& h : got) hit += t.count(h.label);
  return truth.empty() ? 1.0 : static_cast<double>(hit) / truth.size();
}

inline std::unique_ptr<HnswIndex> Build(const Dataset& d, Metric metric, uint64_t label_base = 0,
                                        size_t initial_capacity = 0, size_t m = 16) {
  HnswParams p;
  p.dim = d.dim;
  p.metric = metric;
  p.m = m;
  p.initial_capacity = initial_capacity ? initial_capacity : d.n;
  std::unique_ptr<HnswIndex> index;
  EXPECT_TRUE(HnswIndex::Create(p, &index).ok());
  for (size_t i = 0; i < d.n; ++i) {
    Status s = index->Add(label_base + i, d.row(i));
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  return index;
}

// The recall workloads, built once per test binary and shared read-only by the tests
// that only search (building 5000-vector graphs dominates the suite's time, more so
// under ASan). Random: n = 5000 standard normal; clustered: n = 2000 around 50 centers.
// Queries are drawn the same way but are not in the data. Cosine data is normalized.
struct SharedWorkload {
  Dataset data;
  Dataset queries;
  std::unique_ptr<HnswIndex> index;
};

inline const SharedWorkload& Shared(Metric metric, bool clustered) {
  static SharedWorkload cache[3][2];
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  SharedWorkload& w = cache[static_cast<int>(metric)][clustered ? 1 : 0];
  if (w.index) return w;
  constexpr uint32_t kDim = 32;
  constexpr size_t kQueries = 100;
  const size_t n = clustered ? 2000 : 5000;
  Dataset all = clustered ? ClusteredData(n + kQueries, kDim, 50, 0.3f, 1)
                          : RandomData(n + kQueries, kDim, 1);
  w.data = Dataset{n, kDim, std::vector<float>(all.v.begin(), all.v.begin() + n * kDim)};
  w.queries = Dataset{kQueries, kDim, std::vector<float>(all.v.begin() + n * kDim, all.v.end())};
  if (metric == Metric::kCosine) {
    NormalizeRows(&w.data);
    NormalizeRows(&w.queries);
  }
  w.index = Build(w.data, metric);
  return w;
}

// Rewrites the trailing XXH64 so that structural checks, not the checksum, see a change.
inline void FixChecksum(std::string* data) {
  if (data->size() < 8) return;
  const uint64_t h = Hash64(data->data(), data->size() - 8);
  data->resize(data->size() - 8);
  PutFixed64(data, h);
}

}  // namespace testing_util
}  // namespace t4dx
