#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "t4dx/item.h"
#include "util/item_codec.h"

namespace t4dx {
namespace {

Item Good() {
  Item item;
  item.id = "ep-1";
  item.kind = "episode";
  item.content = "hello";
  item.embedding = {0.1f, 0.2f, 0.3f};
  item.timestamp = 1700000000000;
  item.metadata["tags"] = MetaValue::StringList({"a", "b"});
  item.metadata["score"] = MetaValue::Number(2.5);
  return item;
}

std::string Check(const Item& item, uint32_t dim = 3, const Options& options = Options(),
                  const std::string& where = "item") {
  Status s = ValidateItem(item, dim, options, where);
  if (s.ok()) return "OK";
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  return s.message();
}

TEST(ValidateIdTest, AcceptsTheAllowedAlphabet) {
  EXPECT_TRUE(ValidateId("a").ok());
  EXPECT_TRUE(ValidateId("Az09._:-").ok());
  EXPECT_TRUE(ValidateId(std::string(kMaxIdLength, 'x')).ok());
}

TEST(ValidateIdTest, RejectsWithAReason) {
  EXPECT_EQ(ValidateId("").message(), "id: empty; must be 1..128 characters of [A-Za-z0-9._:-]");
  EXPECT_EQ(ValidateId(std::string(129, 'x')).message(), "id: 129 characters, at most 128");
  EXPECT_EQ(ValidateId("a b").message(),
            "id: \"a b\" has an invalid character ' ' at position 1 (allowed: A-Za-z0-9._:-)");
  EXPECT_EQ(ValidateId("a/b").code(), Status::Code::kInvalidArgument);
  EXPECT_FALSE(ValidateId(std::string("a\0b", 3)).ok());
  EXPECT_FALSE(ValidateId("\xc3\xa9").ok());  // non-ASCII
}

TEST(ValidateItemTest, AcceptsAGoodItem) {
  EXPECT_EQ(Check(Good()), "OK");
  Item no_vector = Good();
  no_vector.embedding.clear();
  EXPECT_EQ(Check(no_vector), "OK");
  EXPECT_EQ(Check(Good(), 0), "OK");  // dim 0: any positive size
}

TEST(ValidateItemTest, Id) {
  Item item = Good();
  item.id = "bad id";
  EXPECT_EQ(Check(item, 3, Options(), "items[3]"),
            "items[3].id: \"bad id\" has an invalid character ' ' at position 3 "
            "(allowed: A-Za-z0-9._:-)");
}

TEST(ValidateItemTest, KindLength) {
  Item item = Good();
  item.kind = std::string(kMaxKindLength, 'k');
  EXPECT_EQ(Check(item), "OK");
  item.kind += "k";
  EXPECT_EQ(Check(item), "item.kind: 65 bytes, at most 64");
}

TEST(ValidateItemTest, ContentSizeAndUtf8) {
  Options options;
  options.max_content_bytes = 10;
  Item item = Good();
  item.content = std::string(10, 'c');
  EXPECT_EQ(Check(item, 3, options), "OK");
  item.content += "c";
  EXPECT_EQ(Check(item, 3, options), "item.content: 11 bytes, at most 10");
  item.content = "ok \xff tail";
  EXPECT_EQ(Check(item), "item.content: not valid UTF-8 (bad byte at offset 3)");
  item.content = "\xed\xa0\x80";  // a UTF-16 surrogate
  EXPECT_EQ(Check(item), "item.content: not valid UTF-8 (bad byte at offset 0)");
  item.content = "\xc0\xaf";  // overlong '/'
  EXPECT_NE(Check(item), "OK");
  item.content = "caf\xc3\xa9 \xf0\x9f\x98\x80";  // é and an emoji
  EXPECT_EQ(Check(item), "OK");
}

TEST(ValidateItemTest, EmbeddingDimension) {
  Item item = Good();
  item.embedding.assign(12, 0.5f);
  EXPECT_EQ(Check(item, 384, Options(), "items[3]"),
            "items[3].embedding: dimension 12, store has 384");
  item.embedding.assign(kMaxDimension + 1, 0.5f);
  EXPECT_EQ(Check(item, 0), "item.embedding: dimension 4097, at most 4096");
  item.embedding.assign(kMaxDimension, 0.5f);
  EXPECT_EQ(Check(item, 0), "OK");
}

TEST(ValidateItemTest, EmbeddingFinite) {
  Item item = Good();
  item.embedding = {0, 1, 2, 3, 4, std::nanf(""), 6};
  EXPECT_EQ(Check(item, 7), "item.embedding[5] is NaN");
  item.embedding[5] = 5;
  item.embedding[2] = -std::numeric_limits<float>::infinity();
  EXPECT_EQ(Check(item, 7), "item.embedding[2] is infinite");
}

TEST(ValidateItemTest, MetadataKeys) {
  Item item = Good();
  item.metadata.clear();
  for (size_t i = 0; i < kMaxMetadataKeys; ++i) {
    item.metadata["k" + std::to_string(i)] = MetaValue::Bool(true);
  }
  EXPECT_EQ(Check(item), "OK");
  item.metadata["one_more"] = MetaValue::Bool(true);
  EXPECT_EQ(Check(item), "item.metadata: 65 keys, at most 64");

  item = Good();
  item.metadata[""] = MetaValue::String("x");
  EXPECT_EQ(Check(item), "item.metadata: empty key");

  item = Good();
  item.metadata[std::string(kMaxMetadataKeyLength, 'k')] = MetaValue::String("x");
  EXPECT_EQ(Check(item), "OK");
  item.metadata[std::string(kMaxMetadataKeyLength + 1, 'k')] = MetaValue::String("x");
  EXPECT_EQ(Check(item), "item.metadata: key of 129 bytes, at most 128");
}

TEST(ValidateItemTest, MetadataValues) {
  Item item = Good();
  item.metadata["n"] = MetaValue::Number(std::nan(""));
  EXPECT_EQ(Check(item), "item.metadata.n: number is not finite");
  item = Good();
  item.metadata["s"] = MetaValue::String("\xfe");
  EXPECT_EQ(Check(item), "item.metadata.s: not valid UTF-8 (bad byte at offset 0)");
  item = Good();
  item.metadata["tags"] = MetaValue::StringList({"ok", "\xfe"});
  EXPECT_EQ(Check(item), "item.metadata.tags[1]: not valid UTF-8 (bad byte at offset 0)");
}

TEST(ValidateItemTest, MetadataSerializedSize) {
  Options options;
  options.max_metadata_bytes = 20;
  Item item = Good();
  item.metadata.clear();
  item.metadata["k"] = MetaValue::String("0123456789");  // {"k":"0123456789"} = 18 bytes
  EXPECT_EQ(Check(item, 3, options), "OK");
  item.metadata["k"] = MetaValue::String("0123456789abc");  // 21 bytes
  EXPECT_EQ(Check(item, 3, options), "item.metadata: 21 bytes as JSON, at most 20");
}

}  // namespace
}  // namespace t4dx
