// Exact vector scoring for brute-force stages of the planner (no hnswlib here).
// Scores are "higher is better" and equal what the HNSW adapter reports for the same pair:
// cosine and inner product: the dot product (cosine vectors are normalized on write);
// L2: minus the squared Euclidean distance.
#pragma once

#include <cstddef>

#include "t4dx/options.h"

namespace t4dx {

float DotProduct(const float* a, const float* b, size_t dim);
float SquaredL2(const float* a, const float* b, size_t dim);
float Score(Metric metric, const float* a, const float* b, size_t dim);
// Scales v to unit length in place; false (v unchanged) when its norm is 0.
bool NormalizeInPlace(float* v, size_t dim);

}  // namespace t4dx
