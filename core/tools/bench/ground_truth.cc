#include "ground_truth.h"

#include <algorithm>
#include <limits>
#include <thread>
#include <utility>

namespace t4dx_bench {

namespace {

float Dot(const float* a, const float* b, uint32_t dim) {
  float s = 0;
  for (uint32_t i = 0; i < dim; i++) s += a[i] * b[i];
  return s;
}

}  // namespace

std::vector<uint32_t> ExactTopK(const Dataset& d, size_t k, const std::vector<bool>& allowed) {
  std::vector<uint32_t> out(d.nq * k, std::numeric_limits<uint32_t>::max());
  auto work = [&](size_t q0, size_t q1) {
    std::vector<std::pair<float, uint32_t>> heap;  // min-heap of the best k by score
    auto worse = [](const std::pair<float, uint32_t>& a, const std::pair<float, uint32_t>& b) {
      // "a is better than b": higher score, then smaller id.
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    for (size_t q = q0; q < q1; q++) {
      heap.clear();
      const float* qv = d.query(q);
      for (size_t i = 0; i < d.n; i++) {
        if (!allowed.empty() && !allowed[i]) continue;
        std::pair<float, uint32_t> c{Dot(qv, d.row(i), d.dim), uint32_t(i)};
        if (heap.size() < k) {
          heap.push_back(c);
          std::push_heap(heap.begin(), heap.end(), worse);
        } else if (worse(c, heap.front())) {
          std::pop_heap(heap.begin(), heap.end(), worse);
          heap.back() = c;
          std::push_heap(heap.begin(), heap.end(), worse);
        }
      }
      std::sort(heap.begin(), heap.end(), worse);
      for (size_t j = 0; j < heap.size(); j++) out[q * k + j] = heap[j].second;
    }
  };
  std::thread t([&] { work(0, d.nq / 2); });
  work(d.nq / 2, d.nq);
  t.join();
  return out;
}

void EnsureGroundTruth(Dataset* d, size_t k) {
  if (!d->gt.empty() && d->gt_k >= k) return;
  d->gt = ExactTopK(*d, k);
  d->gt_k = k;
}

double RecallAtK(const std::vector<std::vector<int64_t>>& found, const std::vector<uint32_t>& gt,
                 size_t gt_k, size_t k) {
  size_t hit = 0, total = 0;
  for (size_t q = 0; q < found.size(); q++) {
    const uint32_t* g = gt.data() + q * gt_k;
    for (size_t j = 0; j < k && j < gt_k; j++) {
      if (g[j] == std::numeric_limits<uint32_t>::max()) continue;
      total++;
      for (size_t r = 0; r < found[q].size() && r < k; r++) {
        if (found[q][r] == int64_t(g[j])) {
          hit++;
          break;
        }
      }
    }
  }
  return total ? double(hit) / double(total) : 1.0;
}

}  // namespace t4dx_bench
