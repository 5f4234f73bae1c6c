// Unit tests of t4dm-service's pure parts (no HTTP, no store): identifiers, keys, config,
// request bodies, routing, metrics text. The HTTP behaviour is tested end to end by
// tests/service/*.test.mjs against the real binary.
#include <gtest/gtest.h>

#include "api_keys.h"
#include "config.h"
#include "ids.h"
#include "json_body.h"
#include "metrics.h"
#include "request_deadline.h"
#include "request_framing.h"
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

TEST(JsonBody, ElementLimitsStopTheParseEarly) {
  JsonLimits limits;
  limits.max_depth = 32;
  limits.max_elements = 4;
  limits.counted_field = "items";
  limits.counted_max = 2;
  limits.counted_code = "batch_too_large";
  limits.counted_hint = " (--max-batch-items)";
  Json j;
  EXPECT_TRUE(ParseJsonObject(R"({"items":[{},{}],"v":[1,2,3,4]})", limits, &j).ok());
  EXPECT_EQ(j["v"].size(), 4u);
  // The counted array has its own limit, with its own code and a message naming the flag.
  ApiStatus s = ParseJsonObject(R"({"items":[{},{},{}]})", limits, &j);
  EXPECT_EQ(s.code(), "batch_too_large");
  EXPECT_NE(s.message().find("--max-batch-items"), std::string::npos) << s.message();
  // Only the top-level field: "items" deeper down is an ordinary array.
  EXPECT_TRUE(ParseJsonObject(R"({"x":{"items":[1,2,3]}})", limits, &j).ok());
  // Any other array or object over max_elements.
  EXPECT_EQ(ParseJsonObject(R"({"v":[1,2,3,4,5]})", limits, &j).code(), "too_many_elements");
  EXPECT_EQ(ParseJsonObject(R"({"m":{"a":1,"b":2,"c":3,"d":4,"e":5}})", limits, &j).code(),
            "too_many_elements");
  EXPECT_EQ(ParseJsonObject(R"({"a":1,"b":2,"c":3,"d":4,"e":5})", limits, &j).code(),
            "too_many_elements");
  // A huge array is refused although the text after the limit is not even valid JSON: the
  // parse stopped at the first value over the limit, before building the rest.
  std::string huge = R"({"items":[)";
  for (int i = 0; i < 100000; ++i) huge += "{},";
  huge += "oops";
  EXPECT_EQ(ParseJsonObject(huge, limits, &j).code(), "batch_too_large");
  // Errors of the JSON itself are still malformed_json; depth still too_deep.
  EXPECT_EQ(ParseJsonObject(R"({"v":[1,2,)", limits, &j).code(), "malformed_json");
  EXPECT_EQ(ParseJsonObject(R"({"v":NaN})", limits, &j).code(), "malformed_json");
  limits.max_depth = 3;
  EXPECT_TRUE(ParseJsonObject(R"({"a":{"b":[1]}})", limits, &j).ok());
  EXPECT_EQ(ParseJsonObject(R"({"a":{"b":[[1]]}})", limits, &j).code(), "too_deep");
  // A failed parse leaves *out untouched.
  j = Json::object({{"kept", true}});
  EXPECT_FALSE(ParseJsonObject(R"({"v":[1,2,3,4,5]})", limits, &j).ok());
  EXPECT_EQ(j, Json::object({{"kept", true}}));
}

TEST(RequestDeadline, WholeRequestBoundExtendedByTheBytesReceived) {
  using std::chrono::milliseconds;
  const RequestDeadline::Clock::time_point t0{};
  RequestDeadline d(milliseconds(5000), 1000);  // 5 s, plus 1 s per 1000 bytes
  d.Start(t0);
  EXPECT_EQ(d.deadline(), t0 + milliseconds(5000));
  EXPECT_FALSE(d.Expired(t0 + milliseconds(4999)));
  EXPECT_TRUE(d.Expired(t0 + milliseconds(5000)));
  // A dribbling client gains almost nothing: one byte is one millisecond.
  d.Received(1);
  EXPECT_EQ(d.deadline(), t0 + milliseconds(5001));
  // A body arriving at the minimum rate keeps extending it.
  d.Received(1999);
  EXPECT_EQ(d.deadline(), t0 + milliseconds(7000));
  EXPECT_EQ(d.bytes(), 2000u);
  // Remaining time: capped (by the per-read timeout), 0 once passed.
  EXPECT_EQ(d.RemainingMs(t0 + milliseconds(1000), 250), 250);
  EXPECT_EQ(d.RemainingMs(t0 + milliseconds(6900), 250), 100);
  EXPECT_EQ(d.RemainingMs(t0 + milliseconds(7000), 250), 0);
  EXPECT_EQ(d.RemainingMs(t0 + milliseconds(9000), 250), 0);
  // A new request starts afresh.
  d.Start(t0 + milliseconds(10000));
  EXPECT_EQ(d.bytes(), 0u);
  EXPECT_EQ(d.deadline(), t0 + milliseconds(15000));
  // No rate: a fixed deadline.
  RequestDeadline fixed(milliseconds(100), 0);
  fixed.Start(t0);
  fixed.Received(1 << 30);
  EXPECT_EQ(fixed.deadline(), t0 + milliseconds(100));
}

TEST(RequestFraming, ContentLengthAndTransferEncodingFromTheHead) {
  using Headers = std::vector<std::pair<std::string, std::string>>;
  const size_t max = 1000;
  BodyFraming f = CheckBodyFraming({}, max);
  EXPECT_TRUE(f.ok());
  EXPECT_FALSE(f.has_body());
  f = CheckBodyFraming(Headers{{"content-length", " 12 "}}, max);
  EXPECT_TRUE(f.ok());
  EXPECT_EQ(f.content_length, 12u);
  EXPECT_TRUE(f.has_body());
  EXPECT_FALSE(CheckBodyFraming(Headers{{"content-length", "0"}}, max).has_body());
  // Repeated with the same value: accepted.
  EXPECT_TRUE(
      CheckBodyFraming(Headers{{"content-length", "5"}, {"content-length", "5"}}, max).ok());
  // Over the limit: 413 from the head alone, whatever the size (also beyond 64 bits of digits
  // is a 400, not an overflow).
  f = CheckBodyFraming(Headers{{"content-length", "4294967296"}}, max);
  EXPECT_EQ(f.status, 413);
  EXPECT_EQ(f.code, "payload_too_large");
  EXPECT_NE(f.message.find("--max-body-bytes"), std::string::npos);
  EXPECT_EQ(CheckBodyFraming(Headers{{"content-length", "1001"}}, max).status, 413);
  EXPECT_TRUE(CheckBodyFraming(Headers{{"content-length", "1000"}}, max).ok());
  for (const char* bad : {"", "-1", "+5", "1e3", "0x10", "5, 5", "5 5", "abc",
                          "18446744073709551617", "99999999999999999999"}) {
    f = CheckBodyFraming(Headers{{"content-length", bad}}, max);
    EXPECT_EQ(f.status, 400) << bad;
    EXPECT_EQ(f.code, "invalid_content_length") << bad;
  }
  f = CheckBodyFraming(Headers{{"content-length", "5"}, {"content-length", "45"}}, max);
  EXPECT_EQ(f.status, 400);
  EXPECT_NE(f.message.find("different values"), std::string::npos) << f.message;
  // Transfer-Encoding: chunked alone.
  f = CheckBodyFraming(Headers{{"transfer-encoding", "Chunked"}}, max);
  EXPECT_TRUE(f.ok());
  EXPECT_TRUE(f.chunked);
  EXPECT_TRUE(f.has_body());
  for (const Headers& bad :
       {Headers{{"transfer-encoding", "gzip, chunked"}}, Headers{{"transfer-encoding", "gzip"}},
        Headers{{"transfer-encoding", "chunked"}, {"transfer-encoding", "chunked"}},
        Headers{{"transfer-encoding", "chunked"}, {"content-length", "5"}}}) {
    f = CheckBodyFraming(bad, max);
    EXPECT_EQ(f.status, 400);
    EXPECT_EQ(f.code, "invalid_transfer_encoding");
  }
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
