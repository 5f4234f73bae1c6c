// compaction_history.jsonl: append, read, damaged lines, torn tails, rotation, faults.
#include "manifest/compaction_history.h"

#include <gtest/gtest.h>

#include <memory>

#include "env/fault_env.h"
#include "util/checksum.h"

namespace t4dx {
namespace {

constexpr char kDir[] = "/store";
constexpr char kPath[] = "/store/compaction_history.jsonl";

std::string ReadAll(Env* env, const std::string& path) {
  std::string data;
  EXPECT_TRUE(ReadFileToString(env, path, &data).ok());
  return data;
}

void WriteAll(Env* env, const std::string& path, const std::string& data) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env->NewWritableFile(path, &f).ok());
  ASSERT_TRUE(f->Append(data).ok());
  ASSERT_TRUE(f->Close().ok());
}

std::vector<std::string> Lines(const std::string& data) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) nl = data.size();
    out.push_back(data.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

CompactionRecord Record(int64_t n) {
  CompactionRecord r;
  r.kind = n % 3 == 0 ? "flush" : (n % 3 == 1 ? "merge" : "rebuild");
  r.time_ms = n;
  if (r.kind == "merge") r.inputs = {static_cast<uint64_t>(n), static_cast<uint64_t>(n + 1)};
  r.outputs = {static_cast<uint64_t>(n + 2)};
  r.items_in = 1000 + n;
  r.items_out = 900 + n;
  r.bytes_in = 1ull << 40;
  r.bytes_out = 12345;
  r.dropped_versions = 100;
  r.duration_us = -1 - n;  // any int64 round-trips
  return r;
}

void ExpectEqual(const CompactionRecord& a, const CompactionRecord& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.time_ms, b.time_ms);
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.outputs, b.outputs);
  EXPECT_EQ(a.items_in, b.items_in);
  EXPECT_EQ(a.items_out, b.items_out);
  EXPECT_EQ(a.bytes_in, b.bytes_in);
  EXPECT_EQ(a.bytes_out, b.bytes_out);
  EXPECT_EQ(a.dropped_versions, b.dropped_versions);
  EXPECT_EQ(a.duration_us, b.duration_us);
}

class HistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = NewMemEnv();
    ASSERT_TRUE(env_->CreateDir(kDir).ok());
  }
  std::vector<CompactionRecord> Read(uint64_t* bad) {
    std::vector<CompactionRecord> out;
    Status s = ReadCompactionHistory(env_.get(), kDir, &out, bad);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }
  std::unique_ptr<Env> env_;
};

TEST_F(HistoryTest, AppendAndRead) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(AppendCompactionRecord(env_.get(), kDir, Record(i)).ok());
  uint64_t bad = 99;
  auto records = Read(&bad);
  EXPECT_EQ(bad, 0u);
  ASSERT_EQ(records.size(), 3u);
  for (int i = 0; i < 3; ++i) ExpectEqual(records[i], Record(i));
}

TEST_F(HistoryTest, LineFormat) {
  ASSERT_TRUE(AppendCompactionRecord(env_.get(), kDir, Record(1)).ok());
  const std::string data = ReadAll(env_.get(), kPath);
  ASSERT_EQ(data.back(), '\n');
  const std::string line = data.substr(0, data.size() - 1);
  const std::string json = CompactionRecordToJson(Record(1));
  EXPECT_EQ(json.rfind("{\"v\":1,\"kind\":\"merge\",\"time_ms\":1,\"inputs\":[1,2],", 0), 0u)
      << json;
  const std::string body = json.substr(0, json.size() - 1);
  EXPECT_EQ(line, body + ",\"checksum\":\"" + HashHex(Hash64(body)) + "\"}");
}

TEST_F(HistoryTest, AbsentFileIsEmpty) {
  uint64_t bad = 99;
  EXPECT_TRUE(Read(&bad).empty());
  EXPECT_EQ(bad, 0u);
  std::vector<CompactionRecord> out;
  EXPECT_TRUE(ReadCompactionHistory(env_.get(), kDir, &out, nullptr).ok());
}

TEST_F(HistoryTest, BadLinesAreSkippedAndCounted) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(AppendCompactionRecord(env_.get(), kDir, Record(i)).ok());
  auto lines = Lines(ReadAll(env_.get(), kPath));
  ASSERT_EQ(lines.size(), 4u);
  lines[1][20] ^= 1;  // rotted byte: checksum fails
  // A line whose checksum is right but whose version is unknown.
  std::string future = "{\"v\":2,\"kind\":\"flush\"";
  future += ",\"checksum\":\"" + HashHex(Hash64(future)) + "\"}";
  std::string data;
  for (const auto& l : lines) data += l + "\n";
  data += "not json at all\n" + future + "\n\n";
  WriteAll(env_.get(), kPath, data);
  uint64_t bad = 0;
  auto records = Read(&bad);
  EXPECT_EQ(bad, 3u);
  ASSERT_EQ(records.size(), 3u);
  ExpectEqual(records[0], Record(0));
  ExpectEqual(records[1], Record(2));
  ExpectEqual(records[2], Record(3));
}

TEST_F(HistoryTest, TornTailDoesNotSwallowTheNextRecord) {
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(AppendCompactionRecord(env_.get(), kDir, Record(i)).ok());
  std::string data = ReadAll(env_.get(), kPath);
  WriteAll(env_.get(), kPath, data.substr(0, data.size() - 15));
  uint64_t bad = 0;
  auto records = Read(&bad);
  EXPECT_EQ(bad, 1u);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_TRUE(AppendCompactionRecord(env_.get(), kDir, Record(7)).ok());
  records = Read(&bad);
  EXPECT_EQ(bad, 1u);  // the torn line stays visible as bad; nothing deleted silently
  ASSERT_EQ(records.size(), 2u);
  ExpectEqual(records[0], Record(0));
  ExpectEqual(records[1], Record(7));
}

TEST_F(HistoryTest, RotationKeepsTheNewest) {
  const int n = static_cast<int>(kMaxHistoryRecords) + 5;
  for (int i = 0; i < n; ++i) ASSERT_TRUE(AppendCompactionRecord(env_.get(), kDir, Record(i)).ok());
  uint64_t bad = 0;
  auto records = Read(&bad);
  EXPECT_EQ(bad, 0u);
  ASSERT_EQ(records.size(), kMaxHistoryRecords);
  EXPECT_EQ(records.front().time_ms, 5);
  EXPECT_EQ(records.back().time_ms, n - 1);
  EXPECT_EQ(Lines(ReadAll(env_.get(), kPath)).size(), kMaxHistoryRecords);
  EXPECT_FALSE(env_->FileExists(std::string(kPath) + ".tmp"));
}

TEST(HistoryFaultTest, FaultOrCrashDuringAppend) {
  using Mode = FaultInjectionEnv::CrashMode;
  for (Mode mode :
       {Mode::kKeepUnsynced, Mode::kDropUnsynced, Mode::kTearUnsynced, Mode::kZeroFillUnsynced}) {
    for (uint64_t i = 0; i < 6; ++i) {
      for (bool crash : {false, true}) {
        const std::string where = "mode " + std::to_string(static_cast<int>(mode)) + " call " +
                                  std::to_string(i) + (crash ? " crash" : " fault");
        FaultInjectionEnv env;
        ASSERT_TRUE(AppendCompactionRecord(&env, kDir, Record(0)).ok());
        ASSERT_TRUE(AppendCompactionRecord(&env, kDir, Record(1)).ok());
        const uint64_t at = env.mutating_calls() + i;
        crash ? env.CrashAt(at) : env.FailAt(at, Status::Code::kIOError);
        const bool acked = AppendCompactionRecord(&env, kDir, Record(2)).ok();
        if (crash) env.SimulateCrash(mode, i);
        env.ClearFaults();
        std::vector<CompactionRecord> out;
        uint64_t bad = 0;
        ASSERT_TRUE(ReadCompactionHistory(&env, kDir, &out, &bad).ok()) << where;
        ASSERT_GE(out.size(), 2u) << where;  // synced records survive
        ExpectEqual(out[0], Record(0));
        ExpectEqual(out[1], Record(1));
        if (acked) {
          ASSERT_EQ(out.size(), 3u) << where;
        }
        EXPECT_LE(bad, 1u) << where;
        // The history keeps working afterwards.
        ASSERT_TRUE(AppendCompactionRecord(&env, kDir, Record(3)).ok()) << where;
        ASSERT_TRUE(ReadCompactionHistory(&env, kDir, &out, &bad).ok());
        ExpectEqual(out.back(), Record(3));
      }
    }
  }
}

}  // namespace
}  // namespace t4dx
