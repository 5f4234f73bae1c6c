#include "util/item_codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "util/base64.h"

namespace t4dx {
namespace {

Item Sample() {
  Item item;
  item.id = "ep:1";
  item.kind = "episode";
  item.content = "line1\n\"quoted\" \\ tab\t \x01 caf\xc3\xa9";
  item.embedding = {1.0f, -0.5f, 0.1f};
  item.timestamp = 1700000000123;
  item.metadata["b"] = MetaValue::Bool(true);
  item.metadata["n"] = MetaValue::Number(3);
  item.metadata["f"] = MetaValue::Number(0.1);
  item.metadata["s"] = MetaValue::String("x");
  item.metadata["tags"] = MetaValue::StringList({"t1", "t2"});
  return item;
}

TEST(ItemJsonExactTest, FieldOrderAndExactBytes) {
  Item item;
  item.id = "a";
  item.kind = "k";
  item.content = "c";
  item.timestamp = 5;
  item.embedding = {1.0f};
  std::string out;
  AppendItemJsonExact(item, true, &out);
  EXPECT_EQ(out,
            "{\"id\":\"a\",\"kind\":\"k\",\"content\":\"c\",\"timestamp\":5,\"metadata\":{},"
            "\"embedding_b64\":\"AACAPw==\"}");
  out.clear();
  AppendItemJsonExact(item, false, &out);
  EXPECT_EQ(out, "{\"id\":\"a\",\"kind\":\"k\",\"content\":\"c\",\"timestamp\":5,\"metadata\":{}}");
}

TEST(ItemJsonExactTest, RoundTripsExactlyAndIsValidJson) {
  const Item item = Sample();
  std::string out;
  AppendItemJsonExact(item, true, &out);
  EXPECT_EQ(out.find('\n'), std::string::npos);  // one line
  EXPECT_TRUE(nlohmann::json::accept(out));
  Item back;
  std::string reason;
  ASSERT_TRUE(ParseItemJsonExact(out, &back, &reason)) << reason;
  EXPECT_EQ(back, item);
  // Deterministic: the same item always gives the same bytes.
  std::string again;
  AppendItemJsonExact(back, true, &again);
  EXPECT_EQ(again, out);
  EXPECT_NE(out.find("\"n\":3,"), std::string::npos) << out;
}

TEST(ItemJsonExactTest, EmbeddingsAreBitExact) {
  Item item = Sample();
  item.embedding = {0.1f, 1e-40f /* denormal */, -0.0f, 3.4028235e38f, 1.0f / 3};
  std::string out;
  AppendItemJsonExact(item, true, &out);
  Item back;
  std::string reason;
  ASSERT_TRUE(ParseItemJsonExact(out, &back, &reason)) << reason;
  ASSERT_EQ(back.embedding.size(), item.embedding.size());
  for (size_t i = 0; i < item.embedding.size(); ++i) {
    EXPECT_EQ(std::memcmp(&back.embedding[i], &item.embedding[i], 4), 0) << i;
  }
}

TEST(ItemJsonExactTest, Rejections) {
  Item item;
  std::string reason;
  EXPECT_FALSE(ParseItemJsonExact("{\"id\":\"a\"", &item, &reason));
  EXPECT_EQ(reason.rfind("invalid JSON: ", 0), 0u) << reason;
  EXPECT_FALSE(ParseItemJsonExact("[]", &item, &reason));
  EXPECT_EQ(reason, "expected an object, got array");
  EXPECT_FALSE(ParseItemJsonExact("{\"timestamp\":1}", &item, &reason));
  EXPECT_EQ(reason, "missing id");
  EXPECT_FALSE(ParseItemJsonExact("{\"id\":\"a\"}", &item, &reason));
  EXPECT_EQ(reason, "missing timestamp");
  EXPECT_FALSE(ParseItemJsonExact("{\"id\":\"a\",\"timestamp\":1,\"embedding_b64\":\"!!\"}", &item,
                                  &reason));
  EXPECT_EQ(reason, "embedding_b64 is not base64");
  EXPECT_FALSE(ParseItemJsonExact("{\"id\":\"a\",\"timestamp\":1,\"embedding_b64\":\"AAA=\"}",
                                  &item, &reason));
  EXPECT_EQ(reason, "embedding_b64 holds 2 bytes, not a whole number of float32 values");
  EXPECT_FALSE(ParseItemJsonExact("{\"id\":\"a\",\"timestamp\":1.5}", &item, &reason));
  EXPECT_EQ(reason, "timestamp is not a 64-bit integer");
  EXPECT_FALSE(ParseItemJsonExact("{\"id\":\"a\",\"timestamp\":1,\"x\":1}", &item, &reason));
  EXPECT_EQ(reason, "unknown field \"x\"");
  EXPECT_FALSE(ParseItemJsonExact("{\"id\":7,\"timestamp\":1}", &item, &reason));
  EXPECT_EQ(reason, "id is not a string");
  EXPECT_FALSE(
      ParseItemJsonExact("{\"id\":\"a\",\"timestamp\":1,\"metadata\":{\"k\":{}}}", &item, &reason));
  EXPECT_EQ(reason,
            "metadata.k: expected a string, number, boolean or array of strings, got object");
  EXPECT_TRUE(item.id.empty());  // untouched on failure
}

TEST(MetadataCodecTest, RoundTrip) {
  const Metadata m = Sample().metadata;
  std::string enc;
  EncodeMetadata(m, &enc);
  Metadata back;
  ASSERT_TRUE(DecodeMetadata(enc, &back));
  EXPECT_EQ(back, m);

  std::string empty;
  EncodeMetadata(Metadata(), &empty);
  EXPECT_EQ(empty, std::string(4, '\0'));
  ASSERT_TRUE(DecodeMetadata(empty, &back));
  EXPECT_TRUE(back.empty());
}

TEST(MetadataCodecTest, ExactBytes) {
  Metadata m;
  m["a"] = MetaValue::Bool(true);
  m["s"] = MetaValue::String("xy");
  std::string enc;
  EncodeMetadata(m, &enc);
  const std::string want(
      "\x02\x00\x00\x00"  // count 2
      "\x01\x00\x00\x00"
      "a"  // key "a"
      "\x02"
      "\x01"  // bool true
      "\x01\x00\x00\x00"
      "s"  // key "s"
      "\x00"
      "\x02\x00\x00\x00"
      "xy",  // string "xy"
      4 + 5 + 2 + 5 + 1 + 6);
  EXPECT_EQ(enc, want);
}

TEST(MetadataCodecTest, RejectsDamagedInput) {
  Metadata m = Sample().metadata;
  std::string enc;
  EncodeMetadata(m, &enc);
  Metadata back;
  for (size_t n = 0; n < enc.size(); ++n) {
    EXPECT_FALSE(DecodeMetadata(std::string_view(enc).substr(0, n), &back)) << n;
  }
  EXPECT_FALSE(DecodeMetadata(enc + "x", &back));  // trailing bytes
  std::string huge_count = enc;
  huge_count[3] = '\x7f';
  EXPECT_FALSE(DecodeMetadata(huge_count, &back));
  Metadata one;
  one["k"] = MetaValue::Bool(false);
  std::string bad_type;
  EncodeMetadata(one, &bad_type);
  bad_type[9] = '\x09';  // type byte
  EXPECT_FALSE(DecodeMetadata(bad_type, &back));
  std::string bad_bool;
  EncodeMetadata(one, &bad_bool);
  bad_bool[10] = '\x02';
  EXPECT_FALSE(DecodeMetadata(bad_bool, &back));
  EXPECT_TRUE(back.empty());  // untouched
}

}  // namespace
}  // namespace t4dx
