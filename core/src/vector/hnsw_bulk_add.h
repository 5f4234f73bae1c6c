// Adding many vectors to an HnswIndex at once, on several threads where the build has them.
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

// Adds every job to index using up to `threads` threads (HnswIndex::Add is thread safe;
// 0 = one per hardware thread, at most 4). WebAssembly builds, and threads == 1, add in
// order on the calling thread. With more than one thread the graph's shape depends on
// scheduling (its quality does not). Stops at the first error and returns it; the jobs
// added before it stay added. *added (may be null) receives the labels added, in no order.
Status HnswBulkAdd(HnswIndex* index, const std::vector<HnswAddJob>& jobs, size_t threads,
                   std::vector<uint64_t>* added);

}  // namespace t4dx
