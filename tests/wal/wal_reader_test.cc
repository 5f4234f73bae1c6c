// ReadWalFile: valid files, torn tails and corruption, one test per named case (compare
// leveldb's db/log_test.cc).
#include "wal/wal_reader.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "env/fault_env.h"
#include "wal/wal_line_reader.h"
#include "wal/wal_writer.h"
#include "wal_test_util.h"

namespace t4dx {
namespace {

using namespace wal_test;

constexpr char kPath[] = "/db/wal.jsonl";

struct ReadResult {
  Status status;
  WalFileSummary summary;
  std::vector<WalRecord> records;
  std::vector<WalPosition> positions;
};

ReadResult Read(Env* env, const std::string& path, WalReadOptions options = WalReadOptions()) {
  ReadResult r;
  r.status = ReadWalFile(
      env, path, options,
      [&r](const WalRecord& rec, const WalPosition& pos) {
        r.records.push_back(rec);
        r.positions.push_back(pos);
        return Status::OK();
      },
      &r.summary);
  return r;
}

class WalReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = NewMemEnv();
    ASSERT_TRUE(env_->CreateDir("/db").ok());
  }
  void Write(const std::string& data) { ASSERT_TRUE(WriteFile(env_.get(), kPath, data).ok()); }
  ReadResult ReadIt(WalReadOptions options = WalReadOptions()) {
    return Read(env_.get(), kPath, options);
  }
  std::unique_ptr<Env> env_;
};

TEST_F(WalReaderTest, ReadsEveryRecord) {
  std::string data = Line(PutRecord(1)) + Line(BatchRecord(2, 3)) + Line(DeleteRecord(5, "a")) +
                     Line(PutRecord(9));
  Write(data);
  ReadResult r = ReadIt();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_FALSE(r.summary.has_problem);
  ASSERT_EQ(r.records.size(), 4u);
  EXPECT_EQ(r.summary.good_records, 4u);
  EXPECT_EQ(r.summary.file_bytes, data.size());
  EXPECT_EQ(r.summary.good_bytes, data.size());
  EXPECT_EQ(r.summary.first_lsn, 1u);
  EXPECT_EQ(r.summary.last_lsn, 9u);
  EXPECT_EQ(r.records[1].op, WalOp::kBatch);
  EXPECT_EQ(r.records[2].id, "a");
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r.positions[i].line, i + 1);
    EXPECT_EQ(r.positions[i].offset, LineOffset(data, i + 1));
  }
  EXPECT_EQ(r.positions[3].offset + r.positions[3].length, data.size());
}

TEST_F(WalReaderTest, EmptyAndMissingFiles) {
  Write("");
  ReadResult r = ReadIt();
  ASSERT_TRUE(r.status.ok());
  EXPECT_FALSE(r.summary.has_problem);
  EXPECT_EQ(r.summary.good_records, 0u);
  EXPECT_EQ(r.summary.first_lsn, 0u);
  r = Read(env_.get(), "/db/nothing.jsonl");
  EXPECT_TRUE(r.status.IsNotFound()) << r.status.ToString();
}

TEST_F(WalReaderTest, TornTail) {
  const std::string good = PutLines(1, 3);
  const std::string last = Line(PutRecord(4));
  Write(good + last.substr(0, last.size() / 2));
  ReadResult r = ReadIt();
  ASSERT_TRUE(r.status.ok());
  ASSERT_TRUE(r.summary.has_problem);
  EXPECT_TRUE(r.summary.problem.torn_tail);
  EXPECT_EQ(r.summary.problem.file, kPath);
  EXPECT_EQ(r.summary.problem.line, 4u);
  EXPECT_EQ(r.summary.problem.offset, good.size());
  EXPECT_EQ(r.summary.problem.length, last.size() / 2);
  EXPECT_NE(r.summary.problem.reason.find("no newline"), std::string::npos)
      << r.summary.problem.reason;
  EXPECT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.summary.good_bytes, good.size());
  EXPECT_EQ(r.summary.last_lsn, 3u);

  // A complete record whose '\n' did not make it is still a torn write.
  Write(good + last.substr(0, last.size() - 1));
  r = ReadIt();
  ASSERT_TRUE(r.summary.has_problem);
  EXPECT_TRUE(r.summary.problem.torn_tail);
  EXPECT_EQ(r.records.size(), 3u);
}

TEST_F(WalReaderTest, ZeroFilledTail) {
  const std::string good = PutLines(1, 5);
  Write(good + std::string(4096, '\0'));
  ReadResult r = ReadIt();
  ASSERT_TRUE(r.status.ok());
  ASSERT_TRUE(r.summary.has_problem);
  EXPECT_TRUE(r.summary.problem.torn_tail);
  EXPECT_EQ(r.summary.problem.line, 6u);
  EXPECT_EQ(r.summary.problem.offset, good.size());
  EXPECT_EQ(r.summary.problem.length, 4096u);
  EXPECT_NE(r.summary.problem.reason.find("zero-filled"), std::string::npos)
      << r.summary.problem.reason;
  EXPECT_EQ(r.records.size(), 5u);

  // Half a record, then zeros (delayed allocation), then a '\n' that did land, then junk
  // that is no record: still the tail of a crash.
  const std::string rec = Line(PutRecord(6));
  Write(good + rec.substr(0, 40) + std::string(100, '\0') + "\n" + std::string(10, '\0') +
        "\nxx\n");
  r = ReadIt();
  ASSERT_TRUE(r.summary.has_problem);
  EXPECT_TRUE(r.summary.problem.torn_tail) << r.summary.problem.reason;
  EXPECT_NE(r.summary.problem.reason.find("NUL"), std::string::npos);
  EXPECT_EQ(r.summary.problem.line, 6u);
}

TEST_F(WalReaderTest, ZeroFilledLineWithValidRecordAfterIsCorruption) {
  const std::string good = PutLines(1, 2);
  const std::string zeros = std::string(64, '\0') + "\n";
  Write(good + zeros + Line(PutRecord(3)));
  ReadResult r = ReadIt();
  ASSERT_TRUE(r.summary.has_problem);
  EXPECT_FALSE(r.summary.problem.torn_tail);
  EXPECT_EQ(r.summary.problem.line, 3u);
  EXPECT_EQ(r.summary.problem.offset, good.size());
  EXPECT_NE(r.summary.problem.reason.find("a valid record follows at line 4"), std::string::npos)
      << r.summary.problem.reason;
  EXPECT_EQ(r.records.size(), 2u);  // nothing after the bad line is passed on
}

TEST_F(WalReaderTest, ChecksumMismatchMidLog) {
  std::string data = PutLines(1, 10);
  const uint64_t line3 = LineOffset(data, 3);
  data[line3 + 30] ^= 0x20;  // one byte inside line 3
  Write(data);
  ReadResult r = ReadIt();
  ASSERT_TRUE(r.status.ok());
  ASSERT_TRUE(r.summary.has_problem);
  EXPECT_FALSE(r.summary.problem.torn_tail);
  EXPECT_EQ(r.summary.problem.line, 3u);
  EXPECT_EQ(r.summary.problem.offset, line3);
  EXPECT_EQ(r.summary.problem.length, data.size() - line3);
  EXPECT_EQ(r.summary.problem.reason.rfind("checksum mismatch (stored ", 0), 0u)
      << r.summary.problem.reason;
  EXPECT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.summary.good_records, 2u);
  EXPECT_EQ(r.summary.good_bytes, line3);
  EXPECT_EQ(r.summary.last_lsn, 2u);
}

TEST_F(WalReaderTest, ChecksumMismatchLastLineWithNewline) {
  std::string data = PutLines(1, 4);
  const uint64_t line4 = LineOffset(data, 4);
  data[data.size() - 5] = data[data.size() - 5] == '0' ? '1' : '0';  // a checksum digit
  Write(data);
  ReadResult r = ReadIt();
  ASSERT_TRUE(r.summary.has_problem);
  EXPECT_FALSE(r.summary.problem.torn_tail);  // complete line that rotted: corruption
  EXPECT_EQ(r.summary.problem.line, 4u);
  EXPECT_EQ(r.summary.problem.offset, line4);
  EXPECT_EQ(r.summary.problem.reason.rfind("checksum mismatch", 0), 0u);
  EXPECT_EQ(r.records.size(), 3u);
}

TEST_F(WalReaderTest, InvalidJson) {
  const std::string good = PutLines(1, 2);
  Write(good + Seal("{\"v\":1,\"lsn\":3,") + "\n" + Line(PutRecord(4)));
  ReadResult r = ReadIt();
  ASSERT_TRUE(r.summary.has_problem);
  EXPECT_FALSE(r.summary.problem.torn_tail);
  EXPECT_EQ(r.summary.problem.line, 3u);
  EXPECT_EQ(r.summary.problem.offset, good.size());
  EXPECT_EQ(r.summary.problem.reason.rfind("invalid JSON at column", 0), 0u)
      << r.summary.problem.reason;
}

TEST_F(WalReaderTest, LsnOutOfOrder) {
  const std::string good = Line(PutRecord(1)) + Line(BatchRecord(18, 3));  // up to LSN 20
  Write(good + Line(PutRecord(17)) + Line(PutRecord(21)));
  ReadResult r = ReadIt();
  ASSERT_TRUE(r.summary.has_problem);
  EXPECT_FALSE(r.summary.problem.torn_tail);
  EXPECT_EQ(r.summary.problem.line, 3u);
  EXPECT_EQ(r.summary.problem.offset, good.size());
  EXPECT_EQ(r.summary.problem.reason, "LSN out of order: 17 after 20");
  EXPECT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.summary.last_lsn, 20u);

  // An equal LSN is out of order too, and so is one not above previous_lsn.
  Write(Line(PutRecord(5)) + Line(PutRecord(5)));
  r = ReadIt();
  EXPECT_EQ(r.summary.problem.reason, "LSN out of order: 5 after 5");
  WalReadOptions options;
  options.previous_lsn = 5;
  r = ReadIt(options);
  EXPECT_EQ(r.summary.problem.line, 1u);
  EXPECT_EQ(r.summary.problem.reason, "LSN out of order: 5 after 5");
  EXPECT_TRUE(r.records.empty());
}

TEST_F(WalReaderTest, SkipThroughLsn) {
  Write(PutLines(1, 3) + Line(BatchRecord(4, 3)) + PutLines(7, 3));  // LSN 1..9
  WalReadOptions options;
  options.skip_through_lsn = 5;  // the batch 4..6 ends above 5: passed on whole
  ReadResult r = ReadIt(options);
  ASSERT_FALSE(r.summary.has_problem);
  ASSERT_EQ(r.records.size(), 4u);
  EXPECT_EQ(r.records[0].lsn, 4u);
  EXPECT_EQ(r.records[0].op, WalOp::kBatch);
  EXPECT_EQ(r.records[1].lsn, 7u);
  EXPECT_EQ(r.positions[0].line, 4u);
  EXPECT_EQ(r.summary.good_records, 7u);  // skipped records are still checked and counted
  EXPECT_EQ(r.summary.first_lsn, 1u);
  EXPECT_EQ(r.summary.last_lsn, 9u);
  options.skip_through_lsn = 6;
  r = ReadIt(options);
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].lsn, 7u);
  options.skip_through_lsn = 100;
  r = ReadIt(options);
  EXPECT_TRUE(r.records.empty());
  EXPECT_FALSE(r.summary.has_problem);
}

TEST_F(WalReaderTest, CallbackErrorStopsTheRead) {
  Write(PutLines(1, 5));
  int calls = 0;
  WalFileSummary summary;
  Status st = ReadWalFile(
      env_.get(), kPath, WalReadOptions(),
      [&calls](const WalRecord& rec, const WalPosition&) {
        ++calls;
        return rec.lsn == 3 ? Status::Aborted("enough") : Status::OK();
      },
      &summary);
  EXPECT_EQ(st.code(), Status::Code::kAborted);
  EXPECT_EQ(calls, 3);
}

TEST_F(WalReaderTest, LargeFileChunkBoundaries) {
  // Lines of very different sizes, so chunk boundaries fall everywhere in them.
  std::string data;
  uint64_t lsn = 1;
  for (int i = 0; i < 60; ++i) {
    WalRecord rec = i % 7 == 3   ? BatchRecord(lsn, 1 + i % 4, i % 3 == 0 ? 64 : 2)
                    : i % 5 == 1 ? DeleteRecord(lsn, "d" + std::to_string(i))
                                 : PutRecord(lsn, static_cast<size_t>(i * 3));
    lsn = rec.last_lsn() + 1;
    EncodeWalRecord(rec, &data);
  }
  const std::string torn = Line(PutRecord(lsn, 16));
  Write(data + torn.substr(0, torn.size() - 7));
  const ReadResult expected = ReadIt();
  ASSERT_TRUE(expected.status.ok());
  ASSERT_EQ(expected.records.size(), 60u);
  ASSERT_TRUE(expected.summary.problem.torn_tail);
  for (size_t chunk : {1, 2, 3, 7, 64, 100, 511, 4096}) {
    WalReadOptions options;
    options.read_chunk_bytes = chunk;
    const ReadResult r = ReadIt(options);
    ASSERT_TRUE(r.status.ok()) << chunk;
    ASSERT_EQ(r.records.size(), expected.records.size()) << chunk;
    for (size_t i = 0; i < r.records.size(); ++i) {
      EXPECT_EQ(r.records[i].lsn, expected.records[i].lsn);
      EXPECT_EQ(r.records[i].items, expected.records[i].items);
      EXPECT_EQ(r.positions[i].offset, expected.positions[i].offset);
      EXPECT_EQ(r.positions[i].length, expected.positions[i].length);
    }
    EXPECT_EQ(r.summary.good_bytes, data.size());
    EXPECT_TRUE(r.summary.problem.torn_tail);
    EXPECT_EQ(r.summary.problem.offset, data.size());
    EXPECT_EQ(r.summary.problem.line, 61u);
  }
  // Corruption far into the file, found with small chunks at the right place.
  std::string bad = data;
  const uint64_t line40 = LineOffset(bad, 40);
  bad[line40 + 3] = 'X';
  Write(bad);
  WalReadOptions options;
  options.read_chunk_bytes = 13;
  const ReadResult r = ReadIt(options);
  EXPECT_EQ(r.summary.problem.line, 40u);
  EXPECT_EQ(r.summary.problem.offset, line40);
  EXPECT_FALSE(r.summary.problem.torn_tail);
}

TEST(WalLineReaderTest, OverlongLines) {
  std::unique_ptr<Env> env = NewMemEnv();
  ASSERT_TRUE(env->CreateDir("/db").ok());
  const std::string data = "short\n" + std::string(50, 'x') + "\nok\n" + std::string(30, 'y');
  ASSERT_TRUE(WriteFile(env.get(), kPath, data).ok());
  std::unique_ptr<RandomAccessFile> file;
  ASSERT_TRUE(env->NewRandomAccessFile(kPath, &file).ok());
  WalLineReader lines(file.get(), data.size(), /*chunk_bytes=*/4, /*max_line_bytes=*/10);
  WalLine line;
  bool done = false;
  ASSERT_TRUE(lines.Next(&line, &done).ok());
  EXPECT_EQ(line.data, "short");
  ASSERT_TRUE(lines.Next(&line, &done).ok());
  EXPECT_TRUE(line.overlong);
  EXPECT_TRUE(line.has_newline);
  EXPECT_EQ(line.offset, 6u);
  EXPECT_EQ(line.length, 51u);
  EXPECT_EQ(line.number, 2u);
  ASSERT_TRUE(lines.Next(&line, &done).ok());
  EXPECT_EQ(line.data, "ok");
  EXPECT_EQ(line.offset, 57u);
  ASSERT_TRUE(lines.Next(&line, &done).ok());
  EXPECT_TRUE(line.overlong);
  EXPECT_FALSE(line.has_newline);
  EXPECT_EQ(line.length, 30u);
  ASSERT_TRUE(lines.Next(&line, &done).ok());
  EXPECT_TRUE(done);
}

// What a machine crash leaves of unsynced appends is always a clean prefix plus, at
// most, a torn tail: never corruption.
TEST(WalCrashTest, CrashLeavesOnlyATornTail) {
  for (auto mode :
       {FaultInjectionEnv::CrashMode::kTearUnsynced,
        FaultInjectionEnv::CrashMode::kZeroFillUnsynced,
        FaultInjectionEnv::CrashMode::kDropUnsynced, FaultInjectionEnv::CrashMode::kKeepUnsynced}) {
    for (uint64_t seed = 0; seed < 8; ++seed) {
      FaultInjectionEnv env;
      ASSERT_TRUE(env.CreateDir("/db").ok());
      std::unique_ptr<WalWriter> writer;
      ASSERT_TRUE(WalWriter::Open(&env, "/db", &writer).ok());
      ASSERT_TRUE(writer->AddLines(PutLines(1, 5), 1, 5).ok());
      ASSERT_TRUE(writer->Sync().ok());
      for (uint64_t lsn = 6; lsn <= 12; ++lsn) {  // unsynced, in several appends
        ASSERT_TRUE(writer->AddLines(Line(PutRecord(lsn, 32)), lsn, lsn).ok());
      }
      writer.reset();
      env.SimulateCrash(mode, seed);
      const ReadResult r = Read(&env, kPath);
      ASSERT_TRUE(r.status.ok()) << r.status.ToString();
      ASSERT_GE(r.records.size(), 5u) << "synced records lost";
      for (size_t i = 0; i < r.records.size(); ++i) EXPECT_EQ(r.records[i].lsn, i + 1);
      if (r.summary.has_problem) {
        EXPECT_TRUE(r.summary.problem.torn_tail)
            << static_cast<int>(mode) << "/" << seed << ": " << r.summary.problem.reason;
      }
      if (mode == FaultInjectionEnv::CrashMode::kKeepUnsynced) {
        EXPECT_EQ(r.records.size(), 12u);
      }
    }
  }
}

// The runbook's `head -5 wal.jsonl | jq .`: every line of a real file on disk is JSON.
TEST(WalPosixTest, JqParsesEveryLine) {
  char tmpl[] = "/tmp/t4dx_wal_test_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  Env* env = Env::Default();
  {
    std::unique_ptr<WalWriter> writer;
    ASSERT_TRUE(WalWriter::Open(env, dir, &writer).ok());
    std::string lines = PutLines(1, 3, 16);
    EncodeWalRecord(DeleteRecord(4, "item-2"), &lines);
    EncodeWalRecord(BatchRecord(5, 3, 16), &lines);
    ASSERT_TRUE(writer->AddLines(lines, 1, 7).ok());
    ASSERT_TRUE(writer->Sync().ok());
    ASSERT_TRUE(writer->Close().ok());
  }
  const std::string path = dir + "/wal.jsonl";
  const ReadResult r = Read(env, path);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_FALSE(r.summary.has_problem);
  EXPECT_EQ(r.records.size(), 5u);

  std::ifstream in(path, std::ios::binary);
  std::string text;
  int count = 0;
  while (std::getline(in, text)) {
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << text;
    EXPECT_EQ(j.value("v", 0), 1);
    ++count;
  }
  EXPECT_EQ(count, 5);  // `wc -l` counts records

  if (access("/usr/bin/jq", X_OK) == 0) {
    const std::string out = dir + "/jq.out";
    const std::string cmd = "/usr/bin/jq -r .op_type < '" + path + "' > '" + out + "' 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    std::ifstream ops(out);
    std::string all((std::istreambuf_iterator<char>(ops)), std::istreambuf_iterator<char>());
    EXPECT_EQ(all, "put\nput\nput\ndelete\nbatch\n");
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace t4dx
