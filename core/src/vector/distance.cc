// Exact scoring with plain loops. Every sum uses sixteen independent float accumulators
// (lane j takes the elements i with i % 16 == j of each full block of 16), then folds
// lane j + 8 into lane j, then combines the eight in a fixed tree, then adds the tail:
// the compiler turns the lanes into SIMD registers (SSE/AVX natively, simd128 in
// WebAssembly) without -ffast-math, and because the order of the additions is written
// down, not left to the vectorizer, and multiply-add contraction is switched off, every
// host computes the same bits. Sixteen lanes rather than eight: each lane's additions
// wait on each other, and with two 4-float registers a 384-dim distance was bound by that
// chain, not by the loads (BENCHMARKS.md, note 19).
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

constexpr size_t kLanes = 16;
constexpr size_t kNormLanes = 8;  // NormalizeInPlace's partial sums (in double)

inline float CombineLanes(const float* acc) {
  float a[8];
  for (size_t j = 0; j < 8; ++j) a[j] = acc[j] + acc[j + 8];
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

}  // namespace

float DotProduct(const float* a, const float* b, size_t dim) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
  float acc[kLanes] = {};
  size_t i = 0;
#if defined(__wasm_simd128__)
  // The same lanes, written with simd128 (clang's vectorizer assembles them one float at a
  // time here): lanes 0-3, 4-7, 8-11 and 12-15 in four registers, the same operations per
  // lane.
  v128_t l0 = wasm_f32x4_splat(0), l1 = l0, l2 = l0, l3 = l0;
  for (; i + kLanes <= dim; i += kLanes) {
    l0 = wasm_f32x4_add(l0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    l1 = wasm_f32x4_add(l1, wasm_f32x4_mul(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4)));
    l2 = wasm_f32x4_add(l2, wasm_f32x4_mul(wasm_v128_load(a + i + 8), wasm_v128_load(b + i + 8)));
    l3 = wasm_f32x4_add(l3,
                        wasm_f32x4_mul(wasm_v128_load(a + i + 12), wasm_v128_load(b + i + 12)));
  }
  wasm_v128_store(acc, l0);
  wasm_v128_store(acc + 4, l1);
  wasm_v128_store(acc + 8, l2);
  wasm_v128_store(acc + 12, l3);
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
  float acc[kLanes] = {};
  size_t i = 0;
#if defined(__wasm_simd128__)
  v128_t l0 = wasm_f32x4_splat(0), l1 = l0, l2 = l0, l3 = l0;
  for (; i + kLanes <= dim; i += kLanes) {
    const v128_t d0 = wasm_f32x4_sub(wasm_v128_load(a + i), wasm_v128_load(b + i));
    const v128_t d1 = wasm_f32x4_sub(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4));
    const v128_t d2 = wasm_f32x4_sub(wasm_v128_load(a + i + 8), wasm_v128_load(b + i + 8));
    const v128_t d3 = wasm_f32x4_sub(wasm_v128_load(a + i + 12), wasm_v128_load(b + i + 12));
    l0 = wasm_f32x4_add(l0, wasm_f32x4_mul(d0, d0));
    l1 = wasm_f32x4_add(l1, wasm_f32x4_mul(d1, d1));
    l2 = wasm_f32x4_add(l2, wasm_f32x4_mul(d2, d2));
    l3 = wasm_f32x4_add(l3, wasm_f32x4_mul(d3, d3));
  }
  wasm_v128_store(acc, l0);
  wasm_v128_store(acc + 4, l1);
  wasm_v128_store(acc + 8, l2);
  wasm_v128_store(acc + 12, l3);
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
  // kNormLanes partial sums, added up in a fixed order (the same bits on every host): one
  // running sum made the additions wait on each other (~0.5 us of a 384-dim search).
  double partial[kNormLanes] = {};
  size_t i = 0;
  for (; i + kNormLanes <= dim; i += kNormLanes) {
    for (size_t j = 0; j < kNormLanes; ++j) partial[j] += static_cast<double>(v[i + j]) * v[i + j];
  }
  for (; i < dim; ++i) partial[0] += static_cast<double>(v[i]) * v[i];
  double sum = 0;
  for (size_t j = 0; j < kNormLanes; ++j) sum += partial[j];
  double norm = std::sqrt(sum);
  if (norm == 0 || !std::isfinite(norm)) return false;
  // Each element is divided on its own (correctly rounded, so every host gets the same
  // bits); blocks of eight let the compiler use SIMD divisions (a search normalizes its
  // query, and scalar divisions were most of that time).
  i = 0;
  for (; i + kNormLanes <= dim; i += kNormLanes) {
    double block[kNormLanes];
    for (size_t j = 0; j < kNormLanes; ++j) block[j] = static_cast<double>(v[i + j]) / norm;
    for (size_t j = 0; j < kNormLanes; ++j) v[i + j] = static_cast<float>(block[j]);
  }
  for (; i < dim; ++i) v[i] = static_cast<float>(v[i] / norm);
  return true;
}

}  // namespace t4dx
