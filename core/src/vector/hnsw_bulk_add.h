// Adding many vectors to an HnswIndex at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "t4dx/status.h"
#include "vector/hnsw_index.h"

namespace t4dx {

struct HnswAddJob {
  uint64_t label;
  const float* vector;  // params().dim floats, alive for the call
};

// Adds every job to index and returns when all are added or one failed; *added (may be
// null) receives the labels added, in job order.
//
// Native builds add from up to HnswBulkAddThreads(jobs.size()) threads (the calling thread
// and helpers it starts and joins): hnswlib's insertion is thread-safe, and a graph built so
// searches as well as one built by one thread (measured in BENCHMARKS.md). WebAssembly
// builds add on the calling thread, in order.
//
// On the first error the remaining jobs are not started and that error is returned. Every
// job before the failing one is added; jobs after it that another thread had already
// started are added too (listed in *added). The failing job's label is not added.
Status HnswBulkAdd(HnswIndex* index, const std::vector<HnswAddJob>& jobs,
                   std::vector<uint64_t>* added);

// Threads HnswBulkAdd uses for `jobs` jobs: 1 in WebAssembly or for fewer than 2 *
// kHnswBulkAddMinJobsPerThread jobs; else one per core, at most 4, each with at least
// kHnswBulkAddMinJobsPerThread jobs.
constexpr size_t kHnswBulkAddMinJobsPerThread = 32;
size_t HnswBulkAddThreads(size_t jobs);

}  // namespace t4dx
