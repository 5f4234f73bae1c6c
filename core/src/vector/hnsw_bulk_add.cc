// HnswBulkAdd: the jobs in order, stopping at the first error.
#include "vector/hnsw_bulk_add.h"

namespace t4dx {

Status HnswBulkAdd(HnswIndex* index, const std::vector<HnswAddJob>& jobs,
                   std::vector<uint64_t>* added) {
  for (const HnswAddJob& j : jobs) {
    T4DX_RETURN_IF_ERROR(index->Add(j.label, j.vector));
    if (added) added->push_back(j.label);
  }
  return Status::OK();
}

}  // namespace t4dx
