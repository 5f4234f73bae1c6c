// DecodeWalRecord reads lines exactly as EncodeWalRecord writes them without the JSON
// DOM (its replay fast path); every other line goes through the JSON parser. Both must
// give the same record, or fail with the same reason: checked against
// DecodeWalRecordGeneral (the parser path alone) on canonical lines, on other spellings
// of their fields, and on random mutations (all re-checksummed, so the decoders see them).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "util/item_codec.h"
#include "wal/wal_record.h"
#include "wal_test_util.h"

namespace t4dx {
namespace {

using namespace wal_test;

// The record as comparable text (items in their exact JSON).
std::string Describe(const WalRecord& r) {
  std::string s = std::to_string(r.lsn) + "|" + std::to_string(r.timestamp) + "|" +
                  WalOpName(r.op) + "|" + r.id;
  for (const Item& item : r.items) {
    s += "|";
    AppendItemJsonExact(item, true, &s);
  }
  return s;
}

void ExpectSameAsGeneralPath(const std::string& bare) {
  WalRecord fast, general;
  std::string fast_reason, general_reason;
  const bool fast_ok = DecodeWalRecord(bare, &fast, &fast_reason);
  const bool general_ok = DecodeWalRecordGeneral(bare, &general, &general_reason);
  ASSERT_EQ(fast_ok, general_ok) << bare << "\n" << fast_reason << "\n" << general_reason;
  if (!fast_ok) {
    EXPECT_EQ(fast_reason, general_reason) << bare;
    return;
  }
  EXPECT_EQ(Describe(fast), Describe(general)) << bare;
}

// The body with `from` replaced by `to` once, sealed with a correct checksum.
std::string Variant(const std::string& body, const std::string& from, const std::string& to) {
  std::string b = body;
  const size_t at = b.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) b.replace(at, from.size(), to);
  return Seal(b);
}

TEST(WalLineDecodeTest, CanonicalLinesOfEveryOp) {
  std::vector<WalRecord> records = {PutRecord(1), PutRecord(77, 0), DeleteRecord(9, "gone-1"),
                                    BatchRecord(100, 1), BatchRecord(200, 5, 3)};
  WalRecord negative = PutRecord(3);
  negative.timestamp = -12;
  records.push_back(negative);
  WalRecord huge = PutRecord(UINT64_MAX);
  records.push_back(huge);
  for (const WalRecord& r : records) {
    const std::string bare = Bare(r);
    ExpectSameAsGeneralPath(bare);
    WalRecord out;
    std::string reason;
    ASSERT_TRUE(DecodeWalRecord(bare, &out, &reason)) << reason;
    EXPECT_EQ(Describe(out), Describe(r));
  }
}

TEST(WalLineDecodeTest, OtherSpellingsOfTheFields) {
  const std::string put = Body(Bare(PutRecord(42, 2)));
  const std::string del = Body(Bare(DeleteRecord(43, "x-1")));
  const std::string batch = Body(Bare(BatchRecord(50, 2, 2)));
  const std::vector<std::string> lines = {
      Variant(put, "{\"v\":1,", "{ \"v\":1,"),
      Variant(put, "\"v\":1,", "\"v\": 1,"),
      Variant(put, "\"v\":1,", "\"v\":2,"),
      Variant(put, "\"v\":1,", "\"v\":1.0,"),
      Variant(put, "\"v\":1,", ""),
      Variant(put, "\"lsn\":42,", "\"lsn\":042,"),
      Variant(put, "\"lsn\":42,", "\"lsn\":0,"),
      Variant(put, "\"lsn\":42,", "\"lsn\":-42,"),
      Variant(put, "\"lsn\":42,", "\"lsn\":42.0,"),
      Variant(put, "\"lsn\":42,", "\"lsn\":4e1,"),
      Variant(put, "\"lsn\":42,", "\"lsn\":18446744073709551615,"),
      Variant(put, "\"lsn\":42,", "\"lsn\":18446744073709551616,"),
      Variant(put, "\"lsn\":42,", "\"lsn\":\"42\","),
      Variant(put, "\"lsn\":42,", "\"lsn\":42 ,"),
      Variant(put, "\"lsn\":42,", ""),
      Variant(put, "\"lsn\":42,", "\"lsn\":42,\"lsn\":42,"),
      Variant(put, "\"timestamp\":1700000000042,", "\"timestamp\":-0,"),
      Variant(put, "\"timestamp\":1700000000042,", "\"timestamp\":9223372036854775807,"),
      Variant(put, "\"timestamp\":1700000000042,", "\"timestamp\":9223372036854775808,"),
      Variant(put, "\"timestamp\":1700000000042,", "\"timestamp\":-9223372036854775808,"),
      Variant(put, "\"timestamp\":1700000000042,", "\"timestamp\":-9223372036854775809,"),
      Variant(put, "\"timestamp\":1700000000042,", "\"timestamp\":1e3,"),
      Variant(put, "\"timestamp\":1700000000042,", "\"timestamp\":null,"),
      Variant(put, "\"timestamp\":1700000000042,", ""),
      Variant(put, "\"op_type\":\"put\"", "\"op_type\":\"Put\""),
      Variant(put, "\"op_type\":\"put\"", "\"op_type\":\"p\\u0075t\""),
      Variant(put, "\"op_type\":\"put\"", "\"op_type\":\"delete\""),
      Variant(put, "\"op_type\":\"put\"", "\"op_type\":\"batch\""),
      Variant(put, "\"op_type\":\"put\",", ""),
      Variant(put, "\"op_type\":\"put\",", "\"op_type\":\"put\",\"id\":\"a\","),
      Variant(put, "\"item\":{", "\"item\": {"),
      Variant(put, "\"item\":{", "\"it\\u0065m\":{"),
      Variant(put, "\"item\":{", "\"items\":{"),
      Variant(put, "\"item\":{", "\"item\":[{"),
      Variant(put, "\"item\":{", "\"extra\":1,\"item\":{"),
      Variant(put, "\"item\":{\"id\":\"item-42\"", "\"item\":{\"id\":\"item 42\""),
      Variant(put, "\"item\":{\"id\":\"item-42\"", "\"item\":{\"id\":\"item-4\\u0032\""),
      Variant(put, "\"item\":{\"id\":\"item-42\"", "\"item\":{\"id\":7"),
      Variant(put, "{\"v\":1,\"lsn\":42,", "{\"lsn\":42,\"v\":1,"),
      put + " ",
      put + "}",
      put.substr(0, put.size() - 1),
      put + ",\"extra\":1",
      Variant(del, "\"id\":\"x-1\"", "\"id\":\"x-\\u0031\""),
      Variant(del, "\"id\":\"x-1\"", "\"id\":\"x 1\""),
      Variant(del, "\"id\":\"x-1\"", "\"id\":\"\""),
      Variant(del, "\"id\":\"x-1\"", "\"id\":1"),
      Variant(del, "\"id\":\"x-1\"", "\"id\":\"x-1\",\"id\":\"x-2\""),
      Variant(del, "\"id\":\"x-1\"", "\"id\":\"x-1\",\"item\":{}"),
      Variant(del, "\"id\":\"x-1\"", "\"id\":\"x-1\" "),
      Variant(del, "\"id\":\"x-1\"", "\"id\":\"x-1\\\""),
      Variant(del, "\"id\":\"x-1\"", "\"id\":\"a\",\"b\":\"c\""),
      Variant(batch, "\"lsn_last\":51,", "\"lsn_last\":52,"),
      Variant(batch, "\"lsn_last\":51,", "\"lsn_last\":50,"),
      Variant(batch, "\"lsn_last\":51,", "\"lsn_last\":49,"),
      Variant(batch, "\"lsn_last\":51,", "\"lsn_last\":051,"),
      Variant(batch, "\"lsn_last\":51,", ""),
      Variant(batch, "\"items\":[", "\"items\": ["),
      Variant(batch, "\"items\":[", "\"items\":[ "),
      Variant(batch, "\"items\":[{", "\"items\":[1,{"),
      Variant(batch, "\"items\":[{", "\"items\":[{},{"),
      Variant(batch, "},{", "} , {"),
      Variant(batch, "},{", "},,{"),
      Variant(batch, "},{", "}{"),
      Variant(batch, "\"lsn_last\":51,\"items\":[", "\"items\":["),
      batch.substr(0, batch.find("\"items\":[") + 9) + "]",
      batch + " ",
  };
  for (const std::string& line : lines) ExpectSameAsGeneralPath(line);
}

TEST(WalLineDecodeTest, RandomMutations) {
  std::mt19937 rng(20261127);
  const std::vector<std::string> bodies = {
      Body(Bare(PutRecord(42, 3))), Body(Bare(DeleteRecord(43, "x-1"))),
      Body(Bare(BatchRecord(50, 3, 2))), Body(Bare(PutRecord(7, 0)))};
  const std::string alphabet = "{}[]\",:0123456789-. \\ueE+tfnaA=/\x01\xc3";
  for (int n = 0; n < 4000; ++n) {
    std::string b = bodies[rng() % bodies.size()];
    for (int k = 1 + rng() % 3; k > 0; --k) {
      const size_t at = rng() % b.size();
      switch (rng() % 3) {
        case 0:
          b[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          b.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          b.erase(at, 1);
          break;
      }
    }
    ExpectSameAsGeneralPath(Seal(b));
  }
}

}  // namespace
}  // namespace t4dx
