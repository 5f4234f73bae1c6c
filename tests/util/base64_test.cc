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

}  // namespace
}  // namespace t4dx
