// Unit tests of t4dm-service's pure parts (no HTTP, no store): identifiers, keys, config,
// request bodies, routing, metrics text. The HTTP behaviour is tested end to end by
// tests/service/*.test.mjs against the real binary.
#include <gtest/gtest.h>

#include "api_keys.h"
#include "config.h"
#include "ids.h"
#include "json_body.h"
#include "metrics.h"
#include "request_parsing.h"
#include "router.h"

namespace t4dm {
namespace {

TEST(Ids, SessionIds) {
  EXPECT_TRUE(IsValidSessionId("default"));
  EXPECT_TRUE(IsValidSessionId("a-B_9"));
  EXPECT_TRUE(IsValidSessionId(std::string(64, 'x')));
  const std::vector<std::string> bad_ids = {
      "", "..", ".", "a/b", "a\\b", "a.b", "é", " a", std::string(65, 'x'), std::string("a\0b", 3)};
  for (const std::string& bad : bad_ids) {
    EXPECT_FALSE(IsValidSessionId(bad)) << bad;
  }
}

TEST(Ids, SegmentIds) {
  std::string c;
  ASSERT_TRUE(NormalizeSegmentId("000001", &c));
  EXPECT_EQ(c, "000001");
  ASSERT_TRUE(NormalizeSegmentId("1", &c));
  EXPECT_EQ(c, "000001");
  ASSERT_TRUE(NormalizeSegmentId("seg_000042", &c));
  EXPECT_EQ(c, "000042");
  ASSERT_TRUE(NormalizeSegmentId("1234567", &c));
  EXPECT_EQ(c, "1234567");
  for (const char* bad :
       {"", "seg_", "..", "-1", "1e3", "0x1", "000001/..", "1234567890123456789"}) {
    EXPECT_FALSE(NormalizeSegmentId(bad, &c)) << bad;
  }
}

TEST(Ids, GeneratedItemIdsAreValidAndDistinct) {
  const std::string a = GenerateItemId(), b = GenerateItemId();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '7');  // UUID version 7
  EXPECT_TRUE(t4dx::ValidateId(a).ok());
  const std::string k = GenerateApiKey();
  EXPECT_EQ(k.size(), 45u);
  EXPECT_NE(k, GenerateApiKey());
}

TEST(ApiKeys, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(ApiKeys, FileRolesAndScopes) {
  ApiKeys keys;
  ASSERT_TRUE(keys.AddFromJson(R"({"keys":[
      {"key":"k1","role":"read-only","sessions":"*","name":"ro"},
      {"key":"k2","role":"read-write","sessions":["alice","team-*"]}]})",
                               "keys.json")
                  .ok());
  const ApiKey* ro = keys.Find("k1");
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(ro->name, "ro");
  EXPECT_TRUE(ro->HasRole(Role::kReadOnly));
  EXPECT_FALSE(ro->HasRole(Role::kReadWrite));
  EXPECT_TRUE(ro->AllowsSession("anything"));
  const ApiKey* rw = keys.Find("k2");
  ASSERT_NE(rw, nullptr);
  EXPECT_TRUE(rw->AllowsSession("alice"));
  EXPECT_TRUE(rw->AllowsSession("team-red"));
  EXPECT_TRUE(rw->AllowsSession("team-"));
  EXPECT_FALSE(rw->AllowsSession("alice2"));
  EXPECT_FALSE(rw->AllowsSession("team"));
  EXPECT_EQ(keys.Find("k3"), nullptr);
  EXPECT_EQ(keys.Find(""), nullptr);
}

TEST(ApiKeys, BadFilesNameTheEntry) {
  const char* bad[] = {
      "not json",
      "[]",
      R"({"keys":[{"key":"a","role":"root","sessions":"*"}]})",
      R"({"keys":[{"key":"a","role":"admin"}]})",
      R"({"keys":[{"role":"admin","sessions":"*"}]})",
      R"({"keys":[{"key":"a","role":"admin","sessions":["../x"]}]})",
      R"({"keys":[{"key":"a","role":"admin","sessions":"*","extra":1}]})",
      R"({"keys":[{"key":"a","role":"admin","sessions":"*"},{"key":"a","role":"admin","sessions":"*"}]})",
  };
  for (const char* text : bad) {
    ApiKeys keys;
    const t4dx::Status s = keys.AddFromJson(text, "keys.json");
    EXPECT_TRUE(s.IsInvalidArgument()) << text;
    EXPECT_NE(s.message().find("keys.json"), std::string::npos) << s.message();
  }
}

TEST(Config, FlagsOverrideEnvironment) {
  const EnvLookup env = [](const char* name, std::string* v) {
    if (std::string(name) == "T4DM_PORT") {
      *v = "9000";
      return true;
    }
    if (std::string(name) == "T4DM_DATA_DIR") {
      *v = "/srv/t4dm";
      return true;
    }
    return false;
  };
  const char* argv[] = {"t4dm-service", "--port", "9100", "--max-k=50", "--recovery-strict"};
  ServiceConfig c;
  ASSERT_TRUE(ParseConfig(5, argv, env, &c).ok());
  EXPECT_EQ(c.port, 9100);
  EXPECT_EQ(c.data_dir, "/srv/t4dm");
  EXPECT_EQ(c.engine.max_k, 50u);
  EXPECT_TRUE(c.engine.recovery_strict);
}

TEST(Config, ErrorsNameTheFlagOrVariable) {
  const EnvLookup none = [](const char*, std::string*) { return false; };
  const EnvLookup bad_port = [](const char* name, std::string* v) {
    if (std::string(name) != "T4DM_PORT") return false;
    *v = "eighty";
    return true;
  };
  ServiceConfig c;
  const char* a1[] = {"x", "--port", "70000"};
  t4dx::Status s = ParseConfig(3, a1, none, &c);
  EXPECT_NE(s.message().find("--port"), std::string::npos) << s.message();
  const char* a2[] = {"x", "--nope"};
  EXPECT_FALSE(ParseConfig(2, a2, none, &c).ok());
  const char* a3[] = {"x"};
  s = ParseConfig(1, a3, bad_port, &c);
  EXPECT_NE(s.message().find("T4DM_PORT"), std::string::npos) << s.message();
  EXPECT_NE(HelpText().find("T4DM_WAL_SYNC"), std::string::npos);
}

TEST(Config, Loopback) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.1.evil.com"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
}

TEST(JsonBody, ObjectsOnlyBoundedDepth) {
  Json j;
  EXPECT_TRUE(ParseJsonObject("", 32, &j).ok());
  EXPECT_TRUE(j.is_object());
  EXPECT_TRUE(ParseJsonObject(" \n", 32, &j).ok());
  EXPECT_EQ(ParseJsonObject("[1]", 32, &j).code(), "expected_object");
  EXPECT_EQ(ParseJsonObject("{\"a\":", 32, &j).code(), "malformed_json");
  EXPECT_EQ(ParseJsonObject(std::string(1000, '[') + std::string(1000, ']'), 32, &j).code(),
            "too_deep");
  // Brackets inside strings do not count.
  EXPECT_TRUE(ParseJsonObject("{\"a\":\"" + std::string(100, '[') + "\"}", 32, &j).ok());
}

TEST(RequestParsing, Search) {
  RequestLimits limits;
  limits.max_k = 100;
  SearchRequest r;
  Json body =
      Json::parse(R"({"query_vector":[1,0.5],"k":5,"filter":{"kind":"note"},"explain":true})");
  ASSERT_TRUE(ParseSearch(body, limits, &r).ok());
  EXPECT_EQ(r.options.k, 5u);
  EXPECT_TRUE(r.options.explain);
  EXPECT_EQ(r.options.filter.kinds, std::vector<std::string>{"note"});
  EXPECT_EQ(r.query.size(), 2u);
  const char* bad[] = {R"({"k":5})",
                       R"({"query_vector":[]})",
                       R"({"query_vector":[1],"k":101})",
                       R"({"query_vector":[1],"k":0})",
                       R"({"query_vector":[1],"k":"5"})",
                       R"({"query_vector":[1e39]})",
                       R"({"query_vector":[1],"kk":1})",
                       R"({"query_vector":["1"]})",
                       R"({"query_vector":[1],"filter":[]})"};
  for (const char* text : bad) {
    SearchRequest out;
    const ApiStatus s = ParseSearch(Json::parse(text), limits, &out);
    EXPECT_EQ(s.http_status(), 400) << text;
  }
}

TEST(RequestParsing, ItemsAndBatches) {
  RequestLimits limits;
  limits.max_content_bytes = 10;
  limits.max_batch_items = 2;
  t4dx::Item item;
  bool generated = false;
  ASSERT_TRUE(
      ParseItem(Json::parse(R"({"content":"hi"})"), limits, "item", &item, &generated).ok());
  EXPECT_TRUE(generated);
  EXPECT_TRUE(t4dx::ValidateId(item.id).ok());
  ASSERT_TRUE(
      ParseItem(Json::parse(R"({"id":"x1","content":"hi"})"), limits, "item", &item, &generated)
          .ok());
  EXPECT_FALSE(generated);
  EXPECT_EQ(item.id, "x1");
  EXPECT_EQ(
      ParseItem(Json::parse(R"({"content":"01234567890"})"), limits, "item", &item, &generated)
          .code(),
      "content_too_large");
  EXPECT_EQ(ParseItem(Json::parse(R"({"contnet":"x"})"), limits, "item", &item, &generated).code(),
            "unknown_field");
  EXPECT_EQ(
      ParseItem(Json::parse(R"({"id":"a b"})"), limits, "item", &item, &generated).http_status(),
      400);
  std::vector<t4dx::Item> items;
  EXPECT_TRUE(ParseBatch(Json::parse(R"({"items":[{"id":"a"},{"id":"b"}]})"), limits, &items).ok());
  EXPECT_EQ(items.size(), 2u);
  EXPECT_EQ(ParseBatch(Json::parse(R"({"items":[{},{},{}]})"), limits, &items).code(),
            "batch_too_large");
  const ApiStatus s =
      ParseBatch(Json::parse(R"({"items":[{"id":"a"},{"idd":"b"}]})"), limits, &items);
  EXPECT_NE(s.message().find("items[1]"), std::string::npos) << s.message();
}

TEST(Router, MatchesPatternsAndReportsAllowedMethods) {
  Router router;
  for (const char* p : {"/storage/segment/{segment_id}", "/storage/segment/{segment_id}/verify"}) {
    Route r;
    r.method = "GET";
    r.pattern = p;
    router.Add(r);
  }
  Route post;
  post.method = "POST";
  post.pattern = "/episodes";
  router.Add(post);
  Route files;
  files.method = "GET";
  files.pattern = "/inspector/*";
  router.Add(files);
  std::map<std::string, std::string> params;
  std::string allow;
  const Route* r = router.Match("GET", "/storage/segment/000001/verify", &params, &allow);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->pattern, "/storage/segment/{segment_id}/verify");
  EXPECT_EQ(params["segment_id"], "000001");
  EXPECT_NE(router.Match("HEAD", "/storage/segment/1", &params, &allow), nullptr);
  EXPECT_EQ(router.Match("GET", "/storage/segment//verify", &params, &allow), nullptr);
  EXPECT_EQ(router.Match("GET", "/episodes", &params, &allow), nullptr);
  EXPECT_EQ(allow, "POST");
  ASSERT_NE(router.Match("GET", "/inspector/assets/app.js", &params, &allow), nullptr);
  EXPECT_EQ(params["*"], "assets/app.js");
  ASSERT_NE(router.Match("GET", "/inspector/", &params, &allow), nullptr);
  EXPECT_EQ(params["*"], "");
  EXPECT_EQ(router.Match("GET", "/inspector", &params, &allow), nullptr);
}

TEST(Metrics, FamiliesAreGroupedAndLabelsEscaped) {
  HttpMetrics http;
  http.Observe("/storage/status", "GET", 200, 0.002);
  http.Observe("/storage/status", "GET", 200, 20);
  PromText out;
  http.AddTo(&out);
  ASSERT_TRUE(
      AddStoreGauges("s\"1", R"({"memtable":{"items":3},"dir":"x","ok":true,"l":[1]})", &out));
  EXPECT_FALSE(AddStoreGauges("s", "[]", &out));
  const std::string text = out.Render();
  EXPECT_NE(
      text.find(
          "t4dm_http_requests_total{route=\"/storage/status\",method=\"GET\",status=\"200\"} 2\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("le=\"0.0025\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("le=\"+Inf\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t4dm_store_memtable_items{session=\"s\\\"1\"} 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("t4dm_store_ok{session=\"s\\\"1\"} 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("t4dm_store_dir"), std::string::npos);
  size_t types = 0;
  for (size_t p = text.find("# TYPE t4dm_http_request_duration_seconds "); p != std::string::npos;
       p = text.find("# TYPE t4dm_http_request_duration_seconds ", p + 1)) {
    ++types;
  }
  EXPECT_EQ(types, 1u);
}

}  // namespace
}  // namespace t4dm
