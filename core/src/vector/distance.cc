// Exact scoring with plain loops. Every sum uses eight independent float accumulators
// (lane j takes the elements i with i % 8 == j of each full block of 8), then combines
// them in a fixed tree, then adds the tail: the compiler turns the lanes into SIMD
// registers (AVX natively, simd128 in WebAssembly) without -ffast-math, and because
// the order of the additions is written down, not left to the vectorizer, and
// multiply-add contraction is switched off, every host computes the same bits.
#include "vector/distance.h"

#include <cmath>

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

#if defined(__GNUC__) && !defined(__clang__)
// GCC contracts a*b+c into FMA across statements by default (-ffp-contract=fast);
// that would give natively built scores different bits from the WebAssembly build.
#pragma GCC optimize("fp-contract=off")
#endif

namespace t4dx {
namespace {

constexpr size_t kLanes = 8;

inline float CombineLanes(const float* acc) {
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

}  // namespace

float DotProduct(const float* a, const float* b, size_t dim) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
  float acc[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
#if defined(__wasm_simd128__)
  // The same lanes, written with simd128 (clang's vectorizer assembles them one float at a
  // time here): lanes 0-3 and 4-7 in two registers, the same operations per lane.
  v128_t lo = wasm_f32x4_splat(0), hi = wasm_f32x4_splat(0);
  for (; i + kLanes <= dim; i += kLanes) {
    lo = wasm_f32x4_add(lo, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    hi = wasm_f32x4_add(hi, wasm_f32x4_mul(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4)));
  }
  wasm_v128_store(acc, lo);
  wasm_v128_store(acc + 4, hi);
#else
  for (; i + kLanes <= dim; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) {
      float p = a[i + j] * b[i + j];
      acc[j] += p;
    }
  }
#endif
  float tail = 0;
  for (; i < dim; ++i) {
    float p = a[i] * b[i];
    tail += p;
  }
  return CombineLanes(acc) + tail;
}

float SquaredL2(const float* a, const float* b, size_t dim) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
  float acc[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
#if defined(__wasm_simd128__)
  v128_t lo = wasm_f32x4_splat(0), hi = wasm_f32x4_splat(0);
  for (; i + kLanes <= dim; i += kLanes) {
    const v128_t d0 = wasm_f32x4_sub(wasm_v128_load(a + i), wasm_v128_load(b + i));
    const v128_t d1 = wasm_f32x4_sub(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4));
    lo = wasm_f32x4_add(lo, wasm_f32x4_mul(d0, d0));
    hi = wasm_f32x4_add(hi, wasm_f32x4_mul(d1, d1));
  }
  wasm_v128_store(acc, lo);
  wasm_v128_store(acc + 4, hi);
#else
  for (; i + kLanes <= dim; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) {
      float d = a[i + j] - b[i + j];
      float p = d * d;
      acc[j] += p;
    }
  }
#endif
  float tail = 0;
  for (; i < dim; ++i) {
    float d = a[i] - b[i];
    float p = d * d;
    tail += p;
  }
  return CombineLanes(acc) + tail;
}

float Score(Metric metric, const float* a, const float* b, size_t dim) {
  switch (metric) {
    case Metric::kCosine:
    case Metric::kInnerProduct:
      return DotProduct(a, b, dim);
    case Metric::kL2:
      return -SquaredL2(a, b, dim);
  }
  return DotProduct(a, b, dim);
}

bool NormalizeInPlace(float* v, size_t dim) {
  // The norm is summed in double: no overflow for any finite float vector. A vector
  // holding NaN or infinity has no direction either and is left unchanged as well.
  // kLanes partial sums, added up in a fixed order (the same bits on every host): one
  // running sum made the additions wait on each other (~0.5 us of a 384-dim search).
  double partial[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= dim; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) partial[j] += static_cast<double>(v[i + j]) * v[i + j];
  }
  for (; i < dim; ++i) partial[0] += static_cast<double>(v[i]) * v[i];
  double sum = 0;
  for (size_t j = 0; j < kLanes; ++j) sum += partial[j];
  double norm = std::sqrt(sum);
  if (norm == 0 || !std::isfinite(norm)) return false;
  // Each element is divided on its own (correctly rounded, so every host gets the same
  // bits); blocks of eight let the compiler use SIMD divisions (a search normalizes its
  // query, and scalar divisions were most of that time).
  i = 0;
  for (; i + kLanes <= dim; i += kLanes) {
    double block[kLanes];
    for (size_t j = 0; j < kLanes; ++j) block[j] = static_cast<double>(v[i + j]) / norm;
    for (size_t j = 0; j < kLanes; ++j) v[i + j] = static_cast<float>(block[j]);
  }
  for (; i < dim; ++i) v[i] = static_cast<float>(v[i] / norm);
  return true;
}

}  // namespace t4dx
