#include "t4dx/item_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace t4dx {
namespace {

std::string Err(std::string_view json, const std::string& where = "item") {
  Item item;
  item.id = "untouched";
  Status s = ItemFromJson(json, &item, where);
  if (s.ok()) return "OK";
  EXPECT_EQ(item.id, "untouched");  // bad input changes nothing
  EXPECT_TRUE(s.IsInvalidArgument());
  return s.message();
}

TEST(ItemJsonTest, ParsesAllFields) {
  Item item;
  ASSERT_TRUE(ItemFromJson(R"({"id":"e1","kind":"episode","content":"hi","embedding":[1,0.5,-2e-3],
      "timestamp":1700000000000,"metadata":{"s":"x","n":2,"b":false,"tags":["a","b"]}})",
                           &item)
                  .ok());
  EXPECT_EQ(item.id, "e1");
  EXPECT_EQ(item.kind, "episode");
  EXPECT_EQ(item.content, "hi");
  EXPECT_EQ(item.embedding, (std::vector<float>{1.0f, 0.5f, -2e-3f}));
  EXPECT_EQ(item.timestamp, 1700000000000);
  EXPECT_EQ(item.metadata.at("s"), MetaValue::String("x"));
  EXPECT_EQ(item.metadata.at("n"), MetaValue::Number(2));
  EXPECT_EQ(item.metadata.at("b"), MetaValue::Bool(false));
  EXPECT_EQ(item.metadata.at("tags"), MetaValue::StringList({"a", "b"}));
}

TEST(ItemJsonTest, OptionalFields) {
  Item item;
  ASSERT_TRUE(ItemFromJson(R"({"id":"e1"})", &item).ok());
  EXPECT_EQ(item.timestamp, Item::kNow);
  EXPECT_TRUE(item.embedding.empty());
  ASSERT_TRUE(
      ItemFromJson(R"({"id":"e1","timestamp":null,"embedding":null,"metadata":null})", &item).ok());
  EXPECT_EQ(item.timestamp, Item::kNow);
}

TEST(ItemJsonTest, RoundTrip) {
  Item item;
  item.id = "x.1";
  item.kind = "note";
  item.content = "multi\nline \"quoted\" caf\xc3\xa9";
  item.embedding = {0.1f, -1.0f / 3, 1e-30f, 123456.789f, 0.0f};
  item.timestamp = -5;
  item.metadata["tags"] = MetaValue::StringList({"t"});
  item.metadata["pi"] = MetaValue::Number(3.14159);
  item.metadata["big"] = MetaValue::Number(1e300);
  const std::string json = ItemToJson(item);
  EXPECT_TRUE(nlohmann::json::accept(json)) << json;
  Item back;
  ASSERT_TRUE(ItemFromJson(json, &back).ok()) << json;
  EXPECT_EQ(back, item);  // floats printed as shortest text that reads back exactly
  EXPECT_NE(json.find("[0.1,"), std::string::npos) << json;

  const std::string no_vec = ItemToJson(item, false);
  EXPECT_EQ(no_vec.find("embedding"), std::string::npos);
  Item now;
  now.id = "n";
  EXPECT_EQ(ItemToJson(now), R"({"id":"n","kind":"","content":"","embedding":[],"metadata":{}})");
}

TEST(ItemJsonTest, RejectsUnknownFieldsAndWrongTypes) {
  EXPECT_EQ(Err(R"({"id":"a","embeding":[1]})", "items[3]"),
            "items[3]: unknown field \"embeding\" (expected id, kind, content, embedding, "
            "timestamp, metadata)");
  EXPECT_EQ(Err(R"({"id":5})"), "item.id: expected a string, got number");
  EXPECT_EQ(Err(R"({"id":"a","kind":["x"]})"), "item.kind: expected a string, got array");
  EXPECT_EQ(Err(R"({"id":"a","embedding":"1,2"})"),
            "item.embedding: expected an array of numbers, got string");
  EXPECT_EQ(Err(R"({"id":"a","embedding":[1,"2"]})"),
            "item.embedding[1]: expected a number, got string");
  EXPECT_EQ(Err(R"({"id":"a","timestamp":"yesterday"})"),
            "item.timestamp: expected an integer (ms since the epoch), got string");
  EXPECT_EQ(Err(R"({"id":"a","timestamp":1.5})"),
            "item.timestamp: 1.5 is not a 64-bit integer (ms since the epoch)");
  EXPECT_EQ(Err(R"({"id":"a","metadata":[]})"), "item.metadata: expected an object, got array");
  EXPECT_EQ(Err(R"({"id":"a","metadata":{"m":{"x":1}}})"),
            "item.metadata.m: expected a string, number, boolean or array of strings, got object");
  EXPECT_EQ(Err(R"({"id":"a","metadata":{"tags":["a",1]}})"),
            "item.metadata.tags[1]: expected a string (metadata arrays are lists of strings), got "
            "number");
  EXPECT_EQ(Err(R"([1])"), "item: expected an object, got array");
  EXPECT_EQ(Err(R"({"id":"a",)").rfind("item: invalid JSON: ", 0), 0u);
}

TEST(ItemJsonTest, RejectsNumbersOutOfRange) {
  // NaN cannot be written in JSON; huge numbers are the way to get a non-finite float.
  EXPECT_EQ(Err(R"({"id":"a","embedding":[0,1e39]})"),
            "item.embedding[1]: 1e+39 is out of float32 range");
  EXPECT_NE(Err(R"({"id":"a","embedding":[1e999]})"), "OK");
  EXPECT_NE(Err(R"({"id":"a","metadata":{"n":1e999}})"), "OK");
  EXPECT_NE(Err(R"({"id":"a","timestamp":99999999999999999999})"), "OK");
  EXPECT_EQ(Err(R"({"id":"a","embedding":[3.4e38]})"), "OK");
}

}  // namespace
}  // namespace t4dx
