// Exact nearest neighbours by brute force (inner product over normalized rows).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dataset.h"

namespace t4dx_bench {

// Top-k row ids (best first, ties to the smaller id) of every query among the rows for
// which allowed[row] is true (all rows when allowed is empty). Runs on 2 threads.
std::vector<uint32_t> ExactTopK(const Dataset& data, size_t k,
                                const std::vector<bool>& allowed = {});

// Fills data->gt with the top-k over all rows when the file's ground truth does not apply.
void EnsureGroundTruth(Dataset* data, size_t k);

// recall@k of found[q] (row ids; -1 = none) against gt (gt_k per query, first k used).
double RecallAtK(const std::vector<std::vector<int64_t>>& found, const std::vector<uint32_t>& gt,
                 size_t gt_k, size_t k);

}  // namespace t4dx_bench
