#include "util/base64.h"

#include <gtest/gtest.h>

namespace t4dx {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Test, RoundTripsEveryByteAndLength) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 7) {
    std::string in = all.substr(0, n);
    std::string out = "garbage";
    ASSERT_TRUE(Base64Decode(Base64Encode(in), &out)) << n;
    EXPECT_EQ(out, in);
  }
}

TEST(Base64Test, RejectsNonCanonicalText) {
  std::string out = "unchanged";
  EXPECT_FALSE(Base64Decode("Zg=", &out));       // bad length
  EXPECT_FALSE(Base64Decode("Zg", &out));        // missing padding
  EXPECT_FALSE(Base64Decode("Z===", &out));      // too much padding
  EXPECT_FALSE(Base64Decode("Zm9v!A==", &out));  // bad character
  EXPECT_FALSE(Base64Decode("Zg==Zg==", &out));  // padding in the middle
  EXPECT_FALSE(Base64Decode("Zh==", &out));      // non-zero unused bits
  EXPECT_FALSE(Base64Decode("Zm9=", &out));      // non-zero unused bits
  EXPECT_FALSE(Base64Decode("Zm9v\n", &out));    // whitespace
  EXPECT_FALSE(Base64Decode("Zm-_", &out));      // URL alphabet
  EXPECT_EQ(out, "unchanged");
}

TEST(Base64Test, DecodeToMatchesDecode) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i * 7 + 3));
  for (size_t n = 0; n <= 64; ++n) {
    const std::string text = Base64Encode(all.substr(0, n));
    size_t size = 0;
    ASSERT_TRUE(Base64DecodedSize(text, &size));
    ASSERT_EQ(size, n);
    // Guard bytes after the output: DecodeTo writes exactly `size` bytes.
    std::string out(size + 8, '#');
    ASSERT_TRUE(Base64DecodeTo(text, &out[0])) << n;
    EXPECT_EQ(out.substr(0, size), all.substr(0, n));
    EXPECT_EQ(out.substr(size), std::string(8, '#')) << n;
  }
  size_t size = 0;
  EXPECT_FALSE(Base64DecodedSize("abc", &size));
}

TEST(Base64Test, EveryBadByteAtEveryPositionIsRefused) {
  const std::string good = Base64Encode("0123456789abcdef");  // 24 characters, no padding
  std::string out;
  ASSERT_TRUE(Base64Decode(good, &out));
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int c = 0; c < 256; ++c) {
    if (alphabet.find(static_cast<char>(c)) != std::string::npos) continue;
    for (size_t at = 0; at < good.size(); ++at) {
      if (c == '=' && at + 2 >= good.size()) continue;  // may be valid padding there
      std::string bad = good;
      bad[at] = static_cast<char>(c);
      std::string o = "unchanged";
      EXPECT_FALSE(Base64Decode(bad, &o)) << c << " at " << at;
      EXPECT_EQ(o, "unchanged");
      std::string buf(18, '\0');
      EXPECT_FALSE(Base64DecodeTo(bad, &buf[0])) << c << " at " << at;
    }
  }
}

}  // namespace
}  // namespace t4dx
