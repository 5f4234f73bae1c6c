// DecodeWalRecord and ReadWalFile on hostile input: random bytes, mutated real lines (with
// and without a re-computed checksum, so the JSON and field checks are reached) and
// crafted structures. Nothing may crash, hang or throw; a result is either a valid record
// or a reason. Deterministic (fixed seeds) and fast enough for ASan/UBSan.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "wal/wal_reader.h"
#include "wal/wal_record.h"
#include "wal_test_util.h"

namespace t4dx {
namespace {

using namespace wal_test;

// How far hostile lines got, to show the checks behind the JSON parser are reached.
struct Outcomes {
  int valid = 0;
  int bad_json = 0;
  int bad_fields = 0;  // valid JSON, refused by a field or item check
};

// Decodes; on success the record must re-encode to a line that decodes to the same thing.
void Check(const std::string& line, Outcomes* outcomes = nullptr) {
  WalRecord r;
  std::string reason;
  const bool ok = DecodeWalRecord(line, &r, &reason);
  if (outcomes != nullptr) {
    if (ok) {
      ++outcomes->valid;
    } else if (reason.rfind("invalid JSON", 0) == 0) {
      ++outcomes->bad_json;
    } else if (reason.rfind("checksum", 0) != 0) {
      ++outcomes->bad_fields;
    }
  }
  if (ok) {
    // Whatever is accepted is JSON that jq would read.
    EXPECT_TRUE(nlohmann::json::accept(line)) << line;
    EXPECT_GE(r.lsn, 1u);
    if (r.op != WalOp::kDelete) {
      EXPECT_FALSE(r.items.empty());
    }
    WalRecord again;
    const std::string re = Bare(r);
    EXPECT_TRUE(DecodeWalRecord(re, &again, &reason)) << reason;
    EXPECT_EQ(again.last_lsn(), r.last_lsn());
  } else {
    EXPECT_FALSE(reason.empty());
  }
}

std::vector<std::string> Samples() {
  return {Bare(PutRecord(1, 8)), Bare(DeleteRecord(2, "gone")), Bare(BatchRecord(3, 3, 4)),
          Bare(PutRecord(99, 0))};
}

TEST(WalHostileInputTest, RandomBytes) {
  std::mt19937 rng(12345);
  static const char kAlphabet[] = "{}[]\":,0123456789abcdef-.eE \\u\ntrufalsn\x00\xff\xc3\xa9";
  const std::string alphabet(kAlphabet, sizeof(kAlphabet) - 1);
  for (int i = 0; i < 20000; ++i) {
    const size_t n = rng() % 200;
    std::string s(n, '\0');
    const bool structured = i % 2 == 0;
    for (char& c : s) {
      c = structured ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng());
    }
    if (i % 4 == 0) s = "{" + s;
    Check(s);
    if (i % 8 == 0 && !s.empty() && s[0] == '{') Check(Seal(s));  // valid checksum
  }
}

TEST(WalHostileInputTest, MutatedRealLines) {
  std::mt19937 rng(777);
  const std::vector<std::string> samples = Samples();
  Outcomes outcomes;
  for (int i = 0; i < 8000; ++i) {
    std::string body = Body(samples[i % samples.size()]);
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !body.empty(); ++e) {
      const size_t at = rng() % body.size();
      switch (rng() % 5) {
        case 0:
          body[at] = static_cast<char>(rng());
          break;  // replace
        case 1:
          body[at] ^= static_cast<char>(1u << (rng() % 8));
          break;  // flip a bit
        case 2:
          body.erase(at, 1 + rng() % 8);
          break;  // delete
        case 3:
          body.insert(at, 1, "{}[]\",:\\0-e"[rng() % 11]);
          break;  // insert
        case 4:
          body.resize(at);
          break;  // truncate
      }
    }
    // With the checksum re-computed the mutation reaches JSON and field checks; without,
    // it must be refused by the checksum.
    if (!body.empty() && body[0] == '{') Check(Seal(body), &outcomes);
    WalRecord r;
    std::string reason;
    const std::string stale = body + std::string(kWalChecksumField) + "0123456789abcdef\"}";
    if (Hash64(body) != 0x0123456789abcdefull) {
      EXPECT_FALSE(DecodeWalRecord(stale, &r, &reason));
    }
  }
  printf("mutated lines: %d valid, %d invalid JSON, %d refused by field checks\n", outcomes.valid,
         outcomes.bad_json, outcomes.bad_fields);
  EXPECT_GT(outcomes.valid, 100);
  EXPECT_GT(outcomes.bad_fields, 300);
}

TEST(WalHostileInputTest, CraftedStructures) {
  const std::string head = "{\"v\":1,\"lsn\":1,\"timestamp\":1,\"op_type\":\"put\",\"item\":";
  std::vector<std::string> bodies = {
      head + std::string(100000, '[') + std::string(100000, ']'),  // deep nesting
      head + "{\"id\":\"a\",\"timestamp\":1,\"metadata\":" + std::string(50000, '[') + "}",
      head + "{\"id\":\"a\",\"timestamp\":1,\"metadata\":{\"k\":" + std::string(50000, '{'),
      head + "{\"id\":\"a\",\"timestamp\":1,\"embedding_b64\":\"====\"}",
      head + "{\"id\":\"a\",\"timestamp\":1,\"embedding_b64\":\"" + std::string(4000, 'A') + "\"}",
      head + "{\"id\":\"a\",\"timestamp\":1e400}",
      head + "{\"id\":\"a\",\"timestamp\":-9223372036854775809}",
      head + "{\"id\":\"a\",\"timestamp\":1,\"metadata\":{\"n\":1e309}}",
      head + "{\"id\":\"\\ud800\",\"timestamp\":1}",
      head + "null",
      head + "\"string\"",
      "{\"v\":1,\"lsn\":1,\"timestamp\":1,\"op_type\":\"batch\",\"lsn_last\":1,\"items\":[" +
          std::string(30000, '{'),
      "{\"v\":18446744073709551616",
      "{\"v\":1.5",
      "{\"v\":1,\"v\":1",
      "{\"\":1",
      "{",
  };
  for (const std::string& body : bodies) Check(Seal(body));
}

TEST(WalHostileInputTest, RandomFiles) {
  std::unique_ptr<Env> env = NewMemEnv();
  ASSERT_TRUE(env->CreateDir("/db").ok());
  std::mt19937 rng(99);
  const std::string good = PutLines(1, 6, 4);
  for (int i = 0; i < 300; ++i) {
    std::string data = good;
    for (int e = 0; e < 3; ++e) {
      const size_t at = rng() % data.size();
      switch (rng() % 3) {
        case 0:
          data[at] = static_cast<char>(rng() % 3 == 0 ? '\n' : rng());
          break;
        case 1:
          data.resize(at);
          break;
        case 2:
          data.insert(at, std::string(rng() % 64, '\0'));
          break;
      }
      if (data.empty()) break;
    }
    ASSERT_TRUE(WriteFile(env.get(), "/db/wal.jsonl", data).ok());
    WalFileSummary summary;
    WalReadOptions options;
    options.read_chunk_bytes = 1 + rng() % 300;
    uint64_t records = 0;
    const Status st = ReadWalFile(
        env.get(), "/db/wal.jsonl", options,
        [&records](const WalRecord&, const WalPosition&) {
          ++records;
          return Status::OK();
        },
        &summary);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(records, summary.good_records);
    EXPECT_LE(summary.good_bytes, data.size());
    EXPECT_EQ(summary.file_bytes, data.size());
    if (summary.has_problem) {
      EXPECT_EQ(summary.problem.offset, summary.good_bytes);
      EXPECT_EQ(summary.problem.length, data.size() - summary.good_bytes);
      EXPECT_EQ(summary.problem.line, summary.good_records + 1);
      EXPECT_FALSE(summary.problem.reason.empty());
    } else {
      EXPECT_EQ(summary.good_bytes, data.size());
    }
  }
}

}  // namespace
}  // namespace t4dx
