#include "util/coding.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace t4dx {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

TEST(CodingTest, FixedWidthIsLittleEndian) {
  std::string s;
  PutFixed16(&s, 0x0102);
  EXPECT_EQ(s, Bytes({0x02, 0x01}));
  s.clear();
  PutFixed32(&s, 0x01020304u);
  EXPECT_EQ(s, Bytes({0x04, 0x03, 0x02, 0x01}));
  s.clear();
  PutFixed64(&s, 0x0102030405060708ull);
  EXPECT_EQ(s, Bytes({0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01}));
}

TEST(CodingTest, FloatsAreIeeeLittleEndian) {
  std::string s;
  PutFloat32(&s, 1.0f);  // 0x3f800000
  EXPECT_EQ(s, Bytes({0x00, 0x00, 0x80, 0x3f}));
  s.clear();
  PutFloat64(&s, -2.0);  // 0xc000000000000000
  EXPECT_EQ(s, Bytes({0, 0, 0, 0, 0, 0, 0x00, 0xc0}));
  s.clear();
  const float v[2] = {1.0f, -0.5f};  // -0.5f = 0xbf000000
  PutFloats(&s, v, 2);
  EXPECT_EQ(s, Bytes({0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xbf}));
}

TEST(CodingTest, RoundTrips) {
  const uint64_t values[] = {0,
                             1,
                             0xff,
                             0x100,
                             0xffffffffull,
                             0x123456789abcdef0ull,
                             std::numeric_limits<uint64_t>::max()};
  for (uint64_t v : values) {
    std::string s;
    PutFixed16(&s, static_cast<uint16_t>(v));
    PutFixed32(&s, static_cast<uint32_t>(v));
    PutFixed64(&s, v);
    ASSERT_EQ(s.size(), 14u);
    EXPECT_EQ(DecodeFixed16(s.data()), static_cast<uint16_t>(v));
    EXPECT_EQ(DecodeFixed32(s.data() + 2), static_cast<uint32_t>(v));
    EXPECT_EQ(DecodeFixed64(s.data() + 6), v);
  }
  std::string s;
  PutFloat32(&s, 3.25f);
  PutFloat64(&s, -1e300);
  EXPECT_EQ(DecodeFloat32(s.data()), 3.25f);
  EXPECT_EQ(DecodeFloat64(s.data() + 4), -1e300);

  const std::vector<float> in = {0.0f,
                                 -0.0f,
                                 1.5f,
                                 std::numeric_limits<float>::denorm_min(),
                                 std::numeric_limits<float>::max(),
                                 -123.456f};
  std::string f;
  PutFloats(&f, in.data(), in.size());
  std::vector<float> out;
  DecodeFloats(f.data(), in.size(), &out);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(std::signbit(out[i]), std::signbit(in[i]));
    EXPECT_EQ(out[i], in[i]);
  }
}

TEST(CodingTest, DecoderStopsAtTheEnd) {
  std::string s;
  PutFixed32(&s, 7);
  s.push_back('x');
  Decoder d(s);
  uint32_t v32;
  uint8_t v8;
  uint64_t v64;
  ASSERT_TRUE(d.GetFixed32(&v32));
  EXPECT_EQ(v32, 7u);
  EXPECT_EQ(d.offset(), 4u);
  EXPECT_EQ(d.remaining(), 1u);
  EXPECT_FALSE(d.GetFixed64(&v64));
  EXPECT_TRUE(d.failed());
  EXPECT_FALSE(d.GetFixed8(&v8));  // stays failed
  EXPECT_EQ(d.offset(), 4u);
}

TEST(CodingTest, DecoderBytes) {
  Decoder d("abcdef");
  std::string_view v;
  ASSERT_TRUE(d.GetBytes(2, &v));
  EXPECT_EQ(v, "ab");
  ASSERT_TRUE(d.GetBytes(4, &v));
  EXPECT_EQ(v, "cdef");
  EXPECT_FALSE(d.GetBytes(1, &v));
  double dv;
  EXPECT_FALSE(d.GetFloat64(&dv));
}

}  // namespace
}  // namespace t4dx
