// HnswBulkAdd: jobs handed out one at a time from a shared counter, so a slow insert
// (a vector landing in a dense region) never leaves the other threads idle.
#include "vector/hnsw_bulk_add.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#if !defined(__EMSCRIPTEN__)
#include <thread>
#endif

namespace t4dx {
namespace {

// Below this many jobs per thread, starting threads costs more than it saves.
constexpr size_t kMinJobsPerThread = 256;

Status AddInOrder(HnswIndex* index, const std::vector<HnswAddJob>& jobs,
                  std::vector<uint64_t>* added) {
  for (const HnswAddJob& j : jobs) {
    T4DX_RETURN_IF_ERROR(index->Add(j.label, j.vector));
    if (added) added->push_back(j.label);
  }
  return Status::OK();
}

}  // namespace

Status HnswBulkAdd(HnswIndex* index, const std::vector<HnswAddJob>& jobs, size_t threads,
                   std::vector<uint64_t>* added) {
#if defined(__EMSCRIPTEN__)
  (void)threads;
  return AddInOrder(index, jobs, added);
#else
  if (threads == 0) threads = std::min<size_t>(4, std::max(1u, std::thread::hardware_concurrency()));
  threads = std::min(threads, std::max<size_t>(1, jobs.size() / kMinJobsPerThread));
  if (threads <= 1) return AddInOrder(index, jobs, added);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;  // guards first_error and added
  Status first_error;
  auto work = [&] {
    std::vector<uint64_t> mine;
    for (;;) {
      if (failed.load()) break;
      const size_t i = next.fetch_add(1);
      if (i >= jobs.size()) break;
      Status s = index->Add(jobs[i].label, jobs[i].vector);
      if (!s.ok()) {
        std::lock_guard<std::mutex> l(mu);
        if (!failed.exchange(true)) first_error = s;
        break;
      }
      mine.push_back(jobs[i].label);
    }
    if (added) {
      std::lock_guard<std::mutex> l(mu);
      added->insert(added->end(), mine.begin(), mine.end());
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  return first_error;
#endif
}

}  // namespace t4dx
