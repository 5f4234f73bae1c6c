// Exact scoring: values, the summation order that makes them host-independent, and
// normalization.
#include "vector/distance.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "gtest/gtest.h"
#include "vector/vector_test_util.h"

namespace t4dx {
namespace {

using testing_util::RandomData;

// The documented order of distance.cc, evaluated without multiply-add contraction
// (this file is built without -march=native, so no FMA is available to the compiler).
float ReferenceSum(const std::vector<float>& terms) {
  float acc[16] = {};
  size_t i = 0;
  for (; i + 16 <= terms.size(); i += 16) {
    for (size_t j = 0; j < 16; ++j) acc[j] += terms[i + j];
  }
  float tail = 0;
  for (; i < terms.size(); ++i) tail += terms[i];
  float a[8];
  for (size_t j = 0; j < 8; ++j) a[j] = acc[j] + acc[j + 8];
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])) + tail;
}

uint32_t Bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

TEST(DistanceTest, SmallExactValues) {
  const float a[3] = {1, 2, 3};
  const float b[3] = {4, -5, 6};
  EXPECT_EQ(DotProduct(a, b, 3), 4 - 10 + 18);
  EXPECT_EQ(SquaredL2(a, b, 3), 9 + 49 + 9);
  EXPECT_EQ(Score(Metric::kInnerProduct, a, b, 3), 12);
  EXPECT_EQ(Score(Metric::kCosine, a, b, 3), 12);
  EXPECT_EQ(Score(Metric::kL2, a, b, 3), -67);
  EXPECT_EQ(Score(Metric::kL2, a, a, 3), 0);
  EXPECT_EQ(DotProduct(a, b, 0), 0);
  EXPECT_EQ(SquaredL2(a, b, 0), 0);
}

TEST(DistanceTest, BitIdenticalToDocumentedOrderForAllTailLengths) {
  for (uint32_t dim : {1u, 7u, 8u, 9u, 15u, 16u, 17u, 31u, 32u, 33u, 100u, 384u, 1023u}) {
    auto d = RandomData(2, dim, dim);
    const float* a = d.row(0);
    const float* b = d.row(1);
    std::vector<float> prod(dim), sq(dim);
    for (uint32_t i = 0; i < dim; ++i) {
      prod[i] = a[i] * b[i];
      const float diff = a[i] - b[i];
      sq[i] = diff * diff;
    }
    EXPECT_EQ(Bits(DotProduct(a, b, dim)), Bits(ReferenceSum(prod))) << "dim " << dim;
    EXPECT_EQ(Bits(SquaredL2(a, b, dim)), Bits(ReferenceSum(sq))) << "dim " << dim;
  }
}

TEST(DistanceTest, CloseToDoublePrecision) {
  auto d = RandomData(2, 768, 5);
  double dot = 0, l2 = 0;
  for (uint32_t i = 0; i < 768; ++i) {
    dot += static_cast<double>(d.row(0)[i]) * d.row(1)[i];
    const double diff = static_cast<double>(d.row(0)[i]) - d.row(1)[i];
    l2 += diff * diff;
  }
  EXPECT_NEAR(DotProduct(d.row(0), d.row(1), 768), dot, 1e-3);
  EXPECT_NEAR(SquaredL2(d.row(0), d.row(1), 768), l2, 1e-2);
}

TEST(DistanceTest, NormalizeInPlace) {
  float v[4] = {3, 0, 4, 0};
  ASSERT_TRUE(NormalizeInPlace(v, 4));
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[2], 0.8f);
  EXPECT_NEAR(DotProduct(v, v, 4), 1.0f, 1e-6);

  float zero[3] = {0, 0, 0};
  EXPECT_FALSE(NormalizeInPlace(zero, 3));
  EXPECT_EQ(zero[0], 0);

  // Components whose squares overflow float still normalize (the norm is in double).
  float big[2] = {3e30f, 4e30f};
  ASSERT_TRUE(NormalizeInPlace(big, 2));
  EXPECT_FLOAT_EQ(big[0], 0.6f);
  EXPECT_FLOAT_EQ(big[1], 0.8f);

  float nan[2] = {std::numeric_limits<float>::quiet_NaN(), 1};
  EXPECT_FALSE(NormalizeInPlace(nan, 2));
  EXPECT_EQ(nan[1], 1);
  float inf[2] = {std::numeric_limits<float>::infinity(), 1};
  EXPECT_FALSE(NormalizeInPlace(inf, 2));
  EXPECT_EQ(inf[1], 1);
}

}  // namespace
}  // namespace t4dx
