#include "util/checksum.h"

#include <gtest/gtest.h>

namespace t4dx {
namespace {

TEST(ChecksumTest, KnownValues) {
  EXPECT_EQ(Hash64(""), 0xef46db3751d8e999ull);
  EXPECT_EQ(HashHex(Hash64("")), "ef46db3751d8e999");
  EXPECT_EQ(Hash64("a"), 0xd24ec4f1a98c6e5bull);
}

TEST(ChecksumTest, HexRoundTrip) {
  EXPECT_EQ(HashHex(0), "0000000000000000");
  EXPECT_EQ(HashHex(0x0123456789abcdefull), "0123456789abcdef");
  uint64_t h = 1;
  ASSERT_TRUE(ParseHashHex("0123456789abcdef", &h));
  EXPECT_EQ(h, 0x0123456789abcdefull);
  EXPECT_FALSE(ParseHashHex("0123456789abcde", &h));    // too short
  EXPECT_FALSE(ParseHashHex("0123456789abcdef0", &h));  // too long
  EXPECT_FALSE(ParseHashHex("0123456789abcdeg", &h));   // not hex
  EXPECT_EQ(h, 0x0123456789abcdefull);
}

TEST(ChecksumTest, IncrementalEqualsOneShot) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7));
  Hasher h;
  h.Update(data.substr(0, 1));
  h.Update(data.substr(1, 300));
  h.Update(data.data() + 301, data.size() - 301);
  EXPECT_EQ(h.Digest(), Hash64(data));
  EXPECT_NE(Hash64(data), Hash64(data.substr(1)));
}

}  // namespace
}  // namespace t4dx
