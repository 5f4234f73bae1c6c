// DecodeWalRecord decodes items as the engine writes them without the JSON DOM, and any
// other spelling of an item through nlohmann: both must give the same item, or both fail.
// Checked against ParseItemJsonGeneral (the general path) on lines crafted with valid
// checksums.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "util/checksum.h"
#include "util/item_codec.h"
#include "wal/wal_format.h"
#include "wal/wal_record.h"

namespace t4dx {
namespace {

// A put line around the item text `item_json`, with a valid checksum.
std::string PutLine(const std::string& item_json) {
  std::string body =
      "{\"v\":1,\"lsn\":7,\"timestamp\":1718000000123,\"op_type\":\"put\",\"item\":" + item_json;
  body.push_back('}');
  const std::string covered = body.substr(0, body.size() - 1);
  return covered + std::string(kWalChecksumField) + HashHex(Hash64(covered.data(), covered.size())) +
         "\"}";
}

void ExpectSameAsGeneralPath(const std::string& item_json) {
  WalRecord r;
  std::string reason;
  const bool fast_ok = DecodeWalRecord(PutLine(item_json), &r, &reason);
  Item general;
  std::string why;
  bool general_ok = ParseItemJsonGeneral(item_json, &general, &why);
  if (general_ok) {
    const Status st = ValidateItem(general, 0, Options(), "item");
    // Limits that Options can raise are not applied to WAL records.
    general_ok = st.ok() || st.message().find("at most") != std::string::npos;
  }
  ASSERT_EQ(fast_ok, general_ok) << item_json << "\n" << reason << "\n" << why;
  if (!fast_ok) return;
  ASSERT_EQ(r.items.size(), 1u);
  const Item& got = r.items[0];
  EXPECT_EQ(got.id, general.id) << item_json;
  EXPECT_EQ(got.kind, general.kind) << item_json;
  EXPECT_EQ(got.content, general.content) << item_json;
  EXPECT_EQ(got.timestamp, general.timestamp) << item_json;
  EXPECT_EQ(got.embedding, general.embedding) << item_json;
  std::string a, b;
  AppendItemJsonExact(got, true, &a);
  AppendItemJsonExact(general, true, &b);
  EXPECT_EQ(a, b) << item_json;
}

TEST(WalItemDecodeTest, EscapesAndSpellings) {
  const std::vector<std::string> cases = {
      R"({"id":"a","timestamp":1,"metadata":{}})",
      R"({"id":"a","kind":"k","content":"say \"hi\"\n\t\\ \/ \b\f\r","timestamp":-5,"metadata":{}})",
      R"({"id":"caf\u00e9","timestamp":0,"metadata":{"x":"\u20ac"}})",
      R"({"id":"g\ud83d\ude00","timestamp":0,"metadata":{}})",       // surrogate pair
      R"({"id":"lone\ud83d","timestamp":0,"metadata":{}})",           // lone high surrogate
      R"({"id":"lone\ude00x","timestamp":0,"metadata":{}})",          // lone low surrogate
      R"({"id":"bad\q","timestamp":0,"metadata":{}})",                // unknown escape
      R"({"id":"short\u12","timestamp":0,"metadata":{}})",
      "{\"id\":\"ctl\x01\",\"timestamp\":0,\"metadata\":{}}",         // raw control char
      "{\"id\":\"utf\xff\",\"timestamp\":0,\"metadata\":{}}",         // invalid UTF-8
      R"({"id":"nul\u0000","timestamp":0,"metadata":{}})",
      R"({"id":"a","timestamp":1.0,"metadata":{}})",                  // not an integer
      R"({"id":"a","timestamp":1e3,"metadata":{}})",
      R"({"id":"a","timestamp":-0,"metadata":{}})",
      R"({"id":"a","timestamp":01,"metadata":{}})",
      R"({"id":"a","timestamp":9223372036854775807,"metadata":{}})",
      R"({"id":"a","timestamp":9223372036854775808,"metadata":{}})",
      R"({"id":"a","timestamp":-9223372036854775808,"metadata":{}})",
      R"({"id":"a","id":"b","timestamp":1,"metadata":{}})",           // repeated field
      R"({"i\u0064":"a","timestamp":1,"metadata":{}})",               // escaped key
      R"({"id":"a","timestamp":1,"metadata":{},"extra":1})",
      R"({"id":"a","timestamp":1})",
      R"({"timestamp":1,"metadata":{}})",
      R"({"id":"a","timestamp":1,"metadata":{"n":1.5,"b":true,"t":["x","y"]}})",
      R"({"id":"a","timestamp":1,"metadata":[]})",
      R"({"id":"a","timestamp":1,"metadata":{},"embedding_b64":"AACAPwAAAL8AAIA+"})",
      R"({"id":"a","timestamp":1,"metadata":{},"embedding_b64":"AACAPwAAAL8AAIA"})",
      R"({"id":"a","timestamp":1,"metadata":{},"embedding_b64":"AACAP\u0077AAAL8AAIA+"})",
      R"({"id":"a","timestamp":1,"metadata":{},"embedding_b64":"AAAA"})",
      R"({"id":"a","timestamp":1,"metadata":{},"embedding_b64":"AAA="})",
      R"({"id":"a","timestamp":1,"metadata":{},"embedding_b64":5})",
      R"({ "id" : "a" , "timestamp" : 1 , "metadata" : { } })",       // whitespace
      R"({"id":"a","timestamp":1,"metadata":{"s":"x\"y\u00e9","t":"","u":"\n"}})",
      R"({"id":"a","timestamp":1,"metadata":{"s":"x","s":"y"}})",     // repeated key
      R"({"id":"a","timestamp":1,"metadata":{"k\u0065y":"x"}})",      // escaped key
      R"({"id":"a","timestamp":1,"metadata":{"":"x"}})",               // empty key
      R"({"id":"a","timestamp":1,"metadata":{"s":"x","n":null}})",
      R"({"id":"a","timestamp":1,"metadata":{"s":"\ud800"}})",
  };
  for (const std::string& c : cases) ExpectSameAsGeneralPath(c);
}

TEST(WalItemDecodeTest, RandomStringsRoundTrip) {
  std::mt19937 rng(12345);
  const std::vector<std::string> pieces = {"a", "\"", "\\", "/", "\n", "\t", "\x01", "\x1f",
                                           "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", " "};
  for (int n = 0; n < 2000; ++n) {
    Item item;
    item.id = "id-" + std::to_string(n);
    for (int k = rng() % 12; k > 0; --k) item.content += pieces[rng() % pieces.size()];
    for (int k = rng() % 4; k > 0; --k) item.kind += pieces[rng() % pieces.size()];
    item.timestamp = static_cast<int64_t>(rng()) - (1ll << 31);
    item.metadata["k"] = MetaValue::String(item.content);
    item.embedding = {float(rng() % 100) / 7.0f, -1.25f};
    std::string text;
    AppendItemJsonExact(item, true, &text);
    ExpectSameAsGeneralPath(text);
  }
}

}  // namespace
}  // namespace t4dx
