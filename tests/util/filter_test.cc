#include <gtest/gtest.h>

#include "t4dx/item_json.h"
#include "t4dx/query.h"

namespace t4dx {
namespace {

Item MakeItem(const std::string& kind, int64_t ts, Metadata m = {}) {
  Item item;
  item.id = "i";
  item.kind = kind;
  item.timestamp = ts;
  item.metadata = std::move(m);
  return item;
}

Filter Parse(const std::string& json) {
  Filter f;
  Status s = FilterFromJson(json, &f);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return f;
}

TEST(FilterTest, EmptyKeepsEverything) {
  Filter f = Parse("{}");
  EXPECT_TRUE(f.empty());
  EXPECT_TRUE(f.Matches(MakeItem("", 0)));
}

TEST(FilterTest, TimeRangeIsHalfOpen) {
  Filter f = Parse(R"({"time_from":100,"time_to":200})");
  EXPECT_FALSE(f.Matches(MakeItem("", 99)));
  EXPECT_TRUE(f.Matches(MakeItem("", 100)));
  EXPECT_TRUE(f.Matches(MakeItem("", 199)));
  EXPECT_FALSE(f.Matches(MakeItem("", 200)));
}

TEST(FilterTest, Kinds) {
  Filter one = Parse(R"({"kind":"episode"})");
  EXPECT_TRUE(one.Matches(MakeItem("episode", 0)));
  EXPECT_FALSE(one.Matches(MakeItem("fact", 0)));
  Filter any = Parse(R"({"kind":["episode","fact"]})");
  EXPECT_TRUE(any.Matches(MakeItem("fact", 0)));
  EXPECT_FALSE(any.Matches(MakeItem("note", 0)));
}

TEST(FilterTest, MetadataEquality) {
  Metadata m;
  m["user"] = MetaValue::String("ann");
  m["n"] = MetaValue::Number(3);
  m["ok"] = MetaValue::Bool(true);
  m["tags"] = MetaValue::StringList({"a", "b"});
  EXPECT_TRUE(
      Parse(R"({"metadata":{"user":"ann","n":3.0,"ok":true}})").Matches(MakeItem("", 0, m)));
  EXPECT_TRUE(Parse(R"({"metadata":{"user":{"eq":"ann"}}})").Matches(MakeItem("", 0, m)));
  EXPECT_FALSE(Parse(R"({"metadata":{"user":"bob"}})").Matches(MakeItem("", 0, m)));
  EXPECT_FALSE(Parse(R"({"metadata":{"n":"3"}})").Matches(MakeItem("", 0, m)));  // types differ
  EXPECT_FALSE(Parse(R"({"metadata":{"missing":"x"}})").Matches(MakeItem("", 0, m)));
  EXPECT_TRUE(Parse(R"({"metadata":{"tags":["a","b"]}})").Matches(MakeItem("", 0, m)));
  EXPECT_FALSE(Parse(R"({"metadata":{"tags":["a"]}})").Matches(MakeItem("", 0, m)));
}

TEST(FilterTest, AnyOfAndAllOf) {
  Metadata m;
  m["user"] = MetaValue::String("ann");
  m["tags"] = MetaValue::StringList({"a", "b"});
  const Item item = MakeItem("", 0, m);
  EXPECT_TRUE(Parse(R"({"metadata":{"user":{"any_of":["bob","ann"]}}})").Matches(item));
  EXPECT_FALSE(Parse(R"({"metadata":{"user":{"any_of":["bob"]}}})").Matches(item));
  EXPECT_TRUE(Parse(R"({"metadata":{"tags":{"any_of":["z","b"]}}})").Matches(item));
  EXPECT_FALSE(Parse(R"({"metadata":{"tags":{"any_of":["z"]}}})").Matches(item));
  EXPECT_TRUE(Parse(R"({"metadata":{"tags":{"all_of":["b","a"]}}})").Matches(item));
  EXPECT_FALSE(Parse(R"({"metadata":{"tags":{"all_of":["a","z"]}}})").Matches(item));
  EXPECT_TRUE(Parse(R"({"metadata":{"user":{"all_of":["ann"]}}})").Matches(item));
  // All conditions must hold.
  EXPECT_FALSE(Parse(R"({"kind":"x","metadata":{"tags":{"any_of":["a"]}}})").Matches(item));
}

TEST(FilterTest, ParseRejections) {
  auto err = [](const std::string& json) {
    Filter f;
    f.kinds = {"untouched"};
    Status s = FilterFromJson(json, &f);
    EXPECT_EQ(f.kinds, std::vector<std::string>{"untouched"});
    return s.ok() ? std::string("OK") : s.message();
  };
  EXPECT_EQ(err(R"({"kinds":"x"})"),
            "filter: unknown field \"kinds\" (expected time_from, time_to, kind, metadata)");
  EXPECT_EQ(err(R"({"time_from":"x"})"),
            "filter.time_from: expected an integer (ms since the epoch), got string");
  EXPECT_EQ(err(R"({"kind":5})"),
            "filter.kind: expected a string or an array of strings, got number");
  EXPECT_EQ(err(R"({"kind":["a",1]})"), "filter.kind[1]: expected a string, got number");
  EXPECT_EQ(err(R"({"metadata":{"k":{"like":"x"}}})"),
            "filter.metadata.k: unknown operator \"like\" (expected eq, any_of or all_of)");
  EXPECT_EQ(err(R"({"metadata":{"k":{"any_of":[]}}})"),
            "filter.metadata.k.any_of: expected a non-empty array of strings, numbers or booleans, "
            "got array");
  EXPECT_EQ(err(R"({"metadata":{"k":{"all_of":["a",2]}}})"),
            "filter.metadata.k.all_of[1]: expected a string, got number");
  EXPECT_EQ(err(R"({"metadata":{"k":{"eq":1,"any_of":[1]}}})"),
            "filter.metadata.k: expected an object with exactly one of eq, any_of, all_of");
  EXPECT_EQ(err("[]"), "filter: expected an object, got array");
  EXPECT_EQ(err("{").rfind("filter: invalid JSON: ", 0), 0u);
}

TEST(FilterTest, JsonRoundTrip) {
  const std::string json =
      R"({"time_from":1,"time_to":2,"kind":["a","b"],"metadata":{"k":{"eq":"v"},)"
      R"("n":{"any_of":[1,true,"x"]},"t":{"all_of":["p","q"]}}})";
  Filter f = Parse(json);
  EXPECT_EQ(FilterToJson(f), json);
  Filter back = Parse(FilterToJson(f));
  EXPECT_EQ(FilterToJson(back), json);
  EXPECT_EQ(FilterToJson(Filter()), "{}");
}

}  // namespace
}  // namespace t4dx
