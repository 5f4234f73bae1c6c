// HnswBulkAdd: jobs handed out one at a time from a shared counter to the calling thread
// and its helpers; the first error stops the hand-out.
#include "vector/hnsw_bulk_add.h"

#include <algorithm>
#include <atomic>

#if !defined(__EMSCRIPTEN__)
#include <thread>
#endif

namespace t4dx {

namespace {

constexpr size_t kMaxThreads = 4;

Status AddInOrder(HnswIndex* index, const std::vector<HnswAddJob>& jobs,
                  std::vector<uint64_t>* added) {
  for (const HnswAddJob& j : jobs) {
    T4DX_RETURN_IF_ERROR(index->Add(j.label, j.vector));
    if (added) added->push_back(j.label);
  }
  return Status::OK();
}

}  // namespace

size_t HnswBulkAddThreads(size_t jobs) {
#if defined(__EMSCRIPTEN__)
  (void)jobs;
  return 1;
#else
  size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  size_t by_work = jobs / kHnswBulkAddMinJobsPerThread;
  return std::max<size_t>(1, std::min({cores, kMaxThreads, by_work}));
#endif
}

Status HnswBulkAdd(HnswIndex* index, const std::vector<HnswAddJob>& jobs,
                   std::vector<uint64_t>* added) {
  const size_t threads = HnswBulkAddThreads(jobs.size());
  if (threads <= 1) return AddInOrder(index, jobs, added);
#if defined(__EMSCRIPTEN__)
  return AddInOrder(index, jobs, added);
#else
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::vector<char> done(jobs.size(), 0);  // each element written by the one thread that took it
  std::vector<Status> errors(threads);
  std::vector<size_t> failed_at(threads, jobs.size());
  auto work = [&](size_t t) {
    while (!stop.load(std::memory_order_relaxed)) {
      const size_t i = next.fetch_add(1);
      if (i >= jobs.size()) return;
      Status s = index->Add(jobs[i].label, jobs[i].vector);
      if (!s.ok()) {
        errors[t] = std::move(s);
        failed_at[t] = i;
        stop.store(true);
        return;
      }
      done[i] = 1;
    }
  };
  std::vector<std::thread> helpers;
  helpers.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(work, t);
  work(0);
  for (std::thread& h : helpers) h.join();
  if (added) {
    for (size_t i = 0; i < jobs.size(); ++i)
      if (done[i]) added->push_back(jobs[i].label);
  }
  // The error of the earliest failing job (the one a sequential run would have met).
  size_t first = threads;
  for (size_t t = 0; t < threads; ++t)
    if (!errors[t].ok() && (first == threads || failed_at[t] < failed_at[first])) first = t;
  return first == threads ? Status::OK() : errors[first];
#endif
}

}  // namespace t4dx
