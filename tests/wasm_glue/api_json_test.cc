// The JSON argument checking and constants of the WebAssembly API (wasm/api_json.cc).
#include "api_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "host_env.h"

namespace t4dx {
namespace wasm {
namespace {

TEST(ApiJsonTest, OptionsFromJsonSetsEveryField) {
  Options o;
  o.background_compaction = true;
  Status s = OptionsFromJson(
      R"({"dim":8,"metric":"l2","flushThreshold":50,"sync":"none","recovery":"strict",
          "readOnly":true,"createIfMissing":false,"efSearch":99,"hnswM":12,
          "syncIntervalMs":5,"maxK":20})",
      &o);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(o.dim, 8u);
  EXPECT_EQ(o.metric, Metric::kL2);
  EXPECT_EQ(o.flush_threshold_items, 50u);
  EXPECT_EQ(o.wal_sync, WalSync::kNone);
  EXPECT_TRUE(o.recovery_strict);
  EXPECT_TRUE(o.read_only);
  EXPECT_FALSE(o.create_if_missing);
  EXPECT_EQ(o.hnsw_ef_search, 99u);
  EXPECT_EQ(o.hnsw_m, 12u);
  EXPECT_EQ(o.wal_sync_interval_ms, 5u);
  EXPECT_EQ(o.max_k, 20u);
  EXPECT_FALSE(o.background_compaction);  // no threads in WebAssembly
}

TEST(ApiJsonTest, OptionsDefaultsAndNulls) {
  Options o;
  ASSERT_TRUE(OptionsFromJson("", &o).ok());
  ASSERT_TRUE(OptionsFromJson(R"({"dim":null,"sync":true})", &o).ok());
  EXPECT_EQ(o.dim, 0u);
  EXPECT_EQ(o.wal_sync, WalSync::kAlways);
  ASSERT_TRUE(OptionsFromJson(R"({"sync":false})", &o).ok());
  EXPECT_EQ(o.wal_sync, WalSync::kNone);
}

TEST(ApiJsonTest, BadOptionsAreRejectedNamingTheKey) {
  struct Case {
    const char* json;
    const char* needle;
  } cases[] = {
      {R"({"dimm":3})", "unknown option \"dimm\""},
      {R"({"dim":-1})", "options.dim"},
      {R"({"dim":5000})", "options.dim"},
      {R"({"metric":"hamming"})", "options.metric"},
      {R"({"flushThreshold":0})", "options.flushThreshold"},
      {R"({"sync":"sometimes"})", "options.sync"},
      {R"({"recovery":"maybe"})", "options.recovery"},
      {R"({"readOnly":"yes"})", "options.readOnly"},
      {R"([1,2])", "expected an object"},
      {R"({"dim":)", "options: parse error at line 1"},
  };
  for (const Case& c : cases) {
    Options o;
    Status s = OptionsFromJson(c.json, &o);
    EXPECT_TRUE(s.IsInvalidArgument()) << c.json;
    EXPECT_NE(s.message().find(c.needle), std::string::npos) << c.json << " -> " << s.message();
  }
}

TEST(ApiJsonTest, SearchOptions) {
  SearchOptions o;
  Status s = SearchOptionsFromJson(
      R"({"k":3,"ef":100,"includeItems":false,"filter":{"kind":"episode","time_from":10}})", &o);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(o.k, 3u);
  EXPECT_EQ(o.ef, 100u);
  EXPECT_FALSE(o.include_items);
  ASSERT_EQ(o.filter.kinds.size(), 1u);
  EXPECT_EQ(o.filter.kinds[0], "episode");
  EXPECT_EQ(*o.filter.time_from, 10);
  EXPECT_TRUE(SearchOptionsFromJson(R"({"k":0})", &o).IsInvalidArgument());
  EXPECT_TRUE(SearchOptionsFromJson(R"({"top":3})", &o).IsInvalidArgument());
  s = SearchOptionsFromJson(R"({"filter":{"kindd":"x"}})", &o);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("search options.filter"), std::string::npos) << s.message();
}

TEST(ApiJsonTest, ScanOptions) {
  ScanOptions o;
  ASSERT_TRUE(ScanOptionsFromJson(
                  R"({"timeFrom":5,"timeTo":1700000000000,"limit":7,"includeEmbedding":false})", &o)
                  .ok());
  EXPECT_EQ(*o.time_from, 5);
  EXPECT_EQ(*o.time_to, 1700000000000);
  EXPECT_EQ(o.limit, 7u);
  EXPECT_FALSE(o.include_embedding);
  EXPECT_TRUE(ScanOptionsFromJson(R"({"from":1})", &o).IsInvalidArgument());
}

TEST(ApiJsonTest, ViewNames) {
  View v;
  ASSERT_TRUE(ViewFromName("wal_status", &v).ok());
  EXPECT_EQ(v, View::kWalStatus);
  ASSERT_TRUE(ViewFromName("recovery_report", &v).ok());
  EXPECT_EQ(v, View::kRecoveryReport);
  Status s = ViewFromName("walstatus", &v);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("wal_status"), std::string::npos);
}

TEST(ApiJsonTest, ConstantsNameEveryCodeAndView) {
  auto c = nlohmann::json::parse(ConstantsJson());
  EXPECT_EQ(c["statusCodes"]["locked"], 6);
  EXPECT_EQ(c["statusCodes"]["corruption"], 2);
  EXPECT_EQ(c["statusCodes"].size(), 11u);
  EXPECT_EQ(c["views"].size(), 14u);
  for (const auto& name : c["views"]) {
    View v;
    EXPECT_TRUE(ViewFromName(name.get<std::string>(), &v).ok()) << name;
  }
  EXPECT_EQ(c["defaults"]["flushThreshold"], 1000);
  EXPECT_EQ(c["host"]["openMode"]["append"], T4DX_HOST_OPEN_APPEND);
  EXPECT_EQ(c["host"]["kind"]["directory"], T4DX_HOST_DIRECTORY);
  EXPECT_EQ(c["limits"]["maxDimension"], kMaxDimension);
}

TEST(ApiJsonTest, HitsToJson) {
  SearchResult r;
  SearchHit h;
  h.id = "a\"b";
  h.score = 0.5f;
  h.item.id = "a\"b";
  h.item.content = "text";
  h.item.timestamp = 7;
  h.item.embedding = {1, 2};
  r.hits.push_back(h);
  auto j = nlohmann::json::parse(HitsToJson(r, true));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["id"], "a\"b");
  EXPECT_EQ(j[0]["score"], 0.5);
  EXPECT_EQ(j[0]["item"]["content"], "text");
  EXPECT_FALSE(j[0]["item"].contains("embedding"));
  j = nlohmann::json::parse(HitsToJson(r, false));
  EXPECT_FALSE(j[0].contains("item"));
}

TEST(ApiJsonTest, ItemsFromJsonTakesEmbeddingsFromTheFlatBuffer) {
  std::vector<Item> items;
  Status s = ItemsFromJson(R"([{"id":"a","content":"x"},{"id":"b"},{"id":"c","timestamp":5}])",
                           {1, 2, 3, 4}, {2, 0, 2}, true, &items);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].embedding, (std::vector<float>{1, 2}));
  EXPECT_TRUE(items[1].embedding.empty());
  EXPECT_EQ(items[2].embedding, (std::vector<float>{3, 4}));
  EXPECT_EQ(items[2].timestamp, 5);
  EXPECT_EQ(items[0].content, "x");

  ASSERT_TRUE(ItemsFromJson(R"({"id":"one","embedding":[0.5]})", {}, {}, false, &items).ok());
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].embedding, (std::vector<float>{0.5f}));
}

TEST(ApiJsonTest, ItemsFromJsonRejectsMismatches) {
  std::vector<Item> items;
  EXPECT_TRUE(ItemsFromJson(R"({"id":"a"})", {}, {}, true, &items).IsInvalidArgument());
  EXPECT_TRUE(ItemsFromJson(R"([{"id":"a"}])", {1}, {2}, true, &items).IsInvalidArgument());
  EXPECT_TRUE(ItemsFromJson(R"([{"id":"a"}])", {1, 2, 3}, {2}, true, &items).IsInvalidArgument());
  EXPECT_TRUE(
      ItemsFromJson(R"([{"id":"a"},{"id":"b"}])", {1}, {1}, true, &items).IsInvalidArgument());
  Status s = ItemsFromJson(R"([{"id":"a"},{"id":"b","colour":1}])", {}, {}, true, &items);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("items[1]"), std::string::npos) << s.message();
  s = ItemsFromJson(R"([{"id":"a","embedding":[1]}])", {1}, {1}, true, &items);
  EXPECT_NE(s.message().find("given twice"), std::string::npos) << s.message();
}

TEST(ApiJsonTest, WalInspectOptions) {
  WalInspectOptions o;
  double limit = 10, skip = 0;
  ASSERT_TRUE(WalInspectOptionsFromJson(
                  R"({"fromLsn":5,"summaries":false,"maxContentChars":0,"limit":3,"skip":2})", &o,
                  &limit, &skip)
                  .ok());
  EXPECT_EQ(o.from_lsn, 5u);
  EXPECT_FALSE(o.summaries);
  EXPECT_EQ(o.max_content_chars, 0u);
  EXPECT_EQ(limit, 3);
  EXPECT_EQ(skip, 2);
  EXPECT_TRUE(WalInspectOptionsFromJson(R"({"max":1})", &o, &limit, &skip).IsInvalidArgument());
}

TEST(ApiJsonTest, StoreCheckOptions) {
  StoreCheckOptions o;
  ASSERT_TRUE(StoreCheckOptionsFromJson(R"({"segmentBlocks":false,"wal":false})", &o).ok());
  EXPECT_FALSE(o.segment_blocks);
  EXPECT_FALSE(o.wal);
  EXPECT_TRUE(StoreCheckOptionsFromJson(R"({"blocks":true})", &o).IsInvalidArgument());
}

}  // namespace
}  // namespace wasm
}  // namespace t4dx
