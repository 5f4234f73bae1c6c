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

// Adds every job to index, in order, on the calling thread. Stops at the first error and
// returns it; the jobs added before it stay added. *added (may be null) receives the
// labels added.
//
// One thread on purpose: hnswlib's addPoint may run concurrently, but its level generator
// is then shared without a lock (a data race), and a graph built by two threads searched
// 25-65% slower at equal recall in our measurements (BENCHMARKS.md) for no faster build
// on this 2-core machine.
Status HnswBulkAdd(HnswIndex* index, const std::vector<HnswAddJob>& jobs,
                   std::vector<uint64_t>* added);

}  // namespace t4dx
