// WalWriter: appending, syncing, sticky errors and sealing.
#include "wal/wal_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "env/fault_env.h"
#include "wal/wal_format.h"
#include "wal/wal_reader.h"
#include "wal_test_util.h"

namespace t4dx {
namespace {

using namespace wal_test;

std::string Contents(Env* env, const std::string& path) {
  std::string data;
  EXPECT_TRUE(ReadFileToString(env, path, &data).ok()) << path;
  return data;
}

uint64_t CountRecords(Env* env, const std::string& path, bool* problem) {
  WalFileSummary summary;
  EXPECT_TRUE(ReadWalFile(env, path, WalReadOptions(), nullptr, &summary).ok());
  *problem = summary.has_problem;
  return summary.good_records;
}

TEST(WalWriterTest, OpenCreatesDurableFile) {
  FaultInjectionEnv env;
  ASSERT_TRUE(env.CreateDir("/db").ok());
  ASSERT_TRUE(env.SyncDir("/").ok());
  std::unique_ptr<WalWriter> writer;
  ASSERT_TRUE(WalWriter::Open(&env, "/db", &writer).ok());
  EXPECT_EQ(writer->active_bytes(), 0u);
  EXPECT_EQ(writer->active_first_lsn(), 0u);
  writer.reset();
  env.SimulateCrash(FaultInjectionEnv::CrashMode::kDropUnsynced);
  EXPECT_TRUE(env.FileExists("/db/wal.jsonl"));  // the directory entry was synced
}

TEST(WalWriterTest, AppendsAndTracks) {
  std::unique_ptr<Env> env = NewMemEnv();
  ASSERT_TRUE(env->CreateDir("/db").ok());
  std::unique_ptr<WalWriter> writer;
  ASSERT_TRUE(WalWriter::Open(env.get(), "/db", &writer).ok());
  const std::string a = PutLines(1, 3);
  const std::string b = Line(BatchRecord(4, 2));
  ASSERT_TRUE(writer->AddLines(a, 1, 3).ok());
  EXPECT_EQ(writer->synced_lsn(), 0u);
  ASSERT_TRUE(writer->Sync().ok());
  EXPECT_EQ(writer->synced_lsn(), 3u);
  ASSERT_TRUE(writer->AddLines(b, 4, 5).ok());
  EXPECT_EQ(writer->active_bytes(), a.size() + b.size());
  EXPECT_EQ(writer->active_first_lsn(), 1u);
  EXPECT_EQ(writer->active_last_lsn(), 5u);
  EXPECT_EQ(writer->synced_lsn(), 3u);
  EXPECT_EQ(writer->syncs(), 1);
  EXPECT_EQ(Contents(env.get(), "/db/wal.jsonl"), a + b);

  // Bad calls are refused and change nothing (and are not sticky).
  EXPECT_TRUE(writer->AddLines("", 6, 6).IsInvalidArgument());
  EXPECT_TRUE(writer->AddLines("{no newline}", 6, 6).IsInvalidArgument());
  EXPECT_TRUE(writer->AddLines(Line(PutRecord(5)), 5, 5).IsInvalidArgument());
  EXPECT_TRUE(writer->AddLines(Line(PutRecord(7)), 7, 6).IsInvalidArgument());
  EXPECT_TRUE(writer->error().ok());
  EXPECT_EQ(writer->active_bytes(), a.size() + b.size());
  ASSERT_TRUE(writer->Close().ok());
  EXPECT_EQ(writer->AddLines(Line(PutRecord(6)), 6, 6).code(), Status::Code::kFailedPrecondition);

  // Reopening appends after what is there.
  ASSERT_TRUE(WalWriter::Open(env.get(), "/db", &writer).ok());
  EXPECT_EQ(writer->active_bytes(), a.size() + b.size());
  writer->SetExistingRange(1, 5);
  ASSERT_TRUE(writer->AddLines(Line(PutRecord(6)), 6, 6).ok());
  bool problem = true;
  EXPECT_EQ(CountRecords(env.get(), "/db/wal.jsonl", &problem), 5u);
  EXPECT_FALSE(problem);
}

TEST(WalWriterTest, WriterStickyErrorAfterFailedSync) {
  FaultInjectionEnv env;
  ASSERT_TRUE(env.CreateDir("/db").ok());
  std::unique_ptr<WalWriter> writer;
  ASSERT_TRUE(WalWriter::Open(&env, "/db", &writer).ok());
  ASSERT_TRUE(writer->AddLines(PutLines(1, 2), 1, 2).ok());
  env.FailAt(env.mutating_calls(), Status::Code::kIOError);  // the next call: the fsync
  const Status failed = writer->Sync();
  ASSERT_TRUE(failed.IsIOError()) << failed.ToString();
  EXPECT_EQ(writer->syncs(), 0);
  EXPECT_EQ(writer->synced_lsn(), 0u);
  EXPECT_TRUE(writer->error().IsIOError());

  // The disk works again, but the writer never retries and trusts an fsync.
  env.ClearFaults();
  const uint64_t calls = env.mutating_calls();
  for (const Status& st : {writer->Sync(), writer->AddLines(Line(PutRecord(3)), 3, 3)}) {
    EXPECT_EQ(st.code(), Status::Code::kFailedPrecondition);
    EXPECT_NE(st.message().find(failed.message()), std::string::npos) << st.ToString();
    EXPECT_NE(st.message().find("/db/wal.jsonl"), std::string::npos) << st.ToString();
  }
  std::string sealed;
  EXPECT_EQ(writer->Rotate(&sealed).code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(env.mutating_calls(), calls);  // nothing touched the disk
  EXPECT_EQ(writer->active_last_lsn(), 2u);
}

TEST(WalWriterTest, StickyErrorAfterFailedAppend) {
  FaultInjectionEnv env;
  ASSERT_TRUE(env.CreateDir("/db").ok());
  std::unique_ptr<WalWriter> writer;
  ASSERT_TRUE(WalWriter::Open(&env, "/db", &writer).ok());
  env.FailAt(env.mutating_calls(), Status::Code::kNoSpace);
  const Status failed = writer->AddLines(PutLines(1, 2), 1, 2);
  ASSERT_TRUE(failed.IsNoSpace()) << failed.ToString();
  EXPECT_EQ(writer->active_bytes(), 0u);
  EXPECT_EQ(writer->active_last_lsn(), 0u);
  const Status after = writer->AddLines(PutLines(1, 2), 1, 2);
  EXPECT_EQ(after.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(after.message().find(failed.message()), std::string::npos) << after.ToString();
}

TEST(WalWriterTest, RotateSealsFile) {
  FaultInjectionEnv env;
  ASSERT_TRUE(env.CreateDir("/db").ok());
  ASSERT_TRUE(env.SyncDir("/").ok());
  std::unique_ptr<WalWriter> writer;
  ASSERT_TRUE(WalWriter::Open(&env, "/db", &writer).ok());

  std::string sealed = "x";
  ASSERT_TRUE(writer->Rotate(&sealed).ok());  // empty: left as it is
  EXPECT_EQ(sealed, "");

  const std::string first = PutLines(1001, 3);
  ASSERT_TRUE(writer->AddLines(first, 1001, 1003).ok());  // not synced by the caller
  ASSERT_TRUE(writer->Rotate(&sealed).ok());
  EXPECT_EQ(sealed, "wal_00000000000000001001.jsonl");
  EXPECT_EQ(writer->active_bytes(), 0u);
  EXPECT_EQ(writer->active_first_lsn(), 0u);
  EXPECT_EQ(writer->active_last_lsn(), 1003u);
  EXPECT_EQ(writer->synced_lsn(), 1003u);  // a sealed file is complete on disk
  EXPECT_EQ(Contents(&env, "/db/" + sealed), first);
  EXPECT_EQ(Contents(&env, "/db/wal.jsonl"), "");

  // LSNs keep increasing across files.
  EXPECT_TRUE(writer->AddLines(Line(PutRecord(1003)), 1003, 1003).IsInvalidArgument());
  const std::string second = Line(BatchRecord(1004, 3));
  ASSERT_TRUE(writer->AddLines(second, 1004, 1006).ok());
  ASSERT_TRUE(writer->Sync().ok());
  EXPECT_EQ(writer->active_first_lsn(), 1004u);

  // Everything survives a machine crash: data, renames and the new active file.
  writer.reset();
  env.SimulateCrash(FaultInjectionEnv::CrashMode::kDropUnsynced);
  std::vector<std::string> names;
  ASSERT_TRUE(env.GetChildren("/db", &names).ok());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"wal.jsonl", "wal_00000000000000001001.jsonl"}));
  EXPECT_EQ(Contents(&env, "/db/" + sealed), first);
  EXPECT_EQ(Contents(&env, "/db/wal.jsonl"), second);
  uint64_t lsn = 0;
  EXPECT_TRUE(ParseSealedWalName(sealed, &lsn));
  EXPECT_EQ(lsn, 1001u);

  // A second seal names the new first LSN.
  ASSERT_TRUE(WalWriter::Open(&env, "/db", &writer).ok());
  writer->SetExistingRange(1004, 1006);
  ASSERT_TRUE(writer->Rotate(&sealed).ok());
  EXPECT_EQ(sealed, "wal_00000000000000001004.jsonl");
  EXPECT_EQ(Contents(&env, "/db/" + sealed), second);
}

TEST(WalWriterTest, RotateRefusesToReplaceASealedFile) {
  std::unique_ptr<Env> env = NewMemEnv();
  ASSERT_TRUE(env->CreateDir("/db").ok());
  ASSERT_TRUE(WriteFile(env.get(), "/db/wal_00000000000000000001.jsonl", "old\n").ok());
  std::unique_ptr<WalWriter> writer;
  ASSERT_TRUE(WalWriter::Open(env.get(), "/db", &writer).ok());
  ASSERT_TRUE(writer->AddLines(PutLines(1, 1), 1, 1).ok());
  std::string sealed;
  const Status st = writer->Rotate(&sealed);
  EXPECT_EQ(st.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(st.message().find("already exists"), std::string::npos);
  EXPECT_EQ(Contents(env.get(), "/db/wal_00000000000000000001.jsonl"), "old\n");
  EXPECT_TRUE(writer->error().ok());  // nothing was changed: the writer goes on
  EXPECT_TRUE(writer->AddLines(Line(PutRecord(2)), 2, 2).ok());

  // A file whose first LSN is unknown cannot be named.
  std::unique_ptr<WalWriter> reopened;
  writer.reset();
  ASSERT_TRUE(WalWriter::Open(env.get(), "/db", &reopened).ok());
  EXPECT_EQ(reopened->Rotate(&sealed).code(), Status::Code::kFailedPrecondition);
}

TEST(WalWriterTest, FailedRenameIsSticky) {
  FaultInjectionEnv env;
  ASSERT_TRUE(env.CreateDir("/db").ok());
  std::unique_ptr<WalWriter> writer;
  ASSERT_TRUE(WalWriter::Open(&env, "/db", &writer).ok());
  ASSERT_TRUE(writer->AddLines(PutLines(1, 2), 1, 2).ok());
  ASSERT_TRUE(writer->Sync().ok());
  env.FailAt(env.mutating_calls(), Status::Code::kIOError);  // the rename
  std::string sealed = "x";
  EXPECT_TRUE(writer->Rotate(&sealed).IsIOError());
  EXPECT_EQ(sealed, "");
  EXPECT_EQ(writer->AddLines(Line(PutRecord(3)), 3, 3).code(), Status::Code::kFailedPrecondition);
  EXPECT_TRUE(env.FileExists("/db/wal.jsonl"));
}

TEST(WalWriterTest, PosixWriteRotateRead) {
  char tmpl[] = "/tmp/t4dx_wal_writer_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  Env* env = Env::Default();
  std::unique_ptr<WalWriter> writer;
  ASSERT_TRUE(WalWriter::Open(env, dir, &writer).ok());
  ASSERT_TRUE(writer->AddLines(PutLines(1, 4, 8), 1, 4).ok());
  ASSERT_TRUE(writer->Sync().ok());
  std::string sealed;
  ASSERT_TRUE(writer->Rotate(&sealed).ok());
  EXPECT_EQ(sealed, SealedWalName(1));
  ASSERT_TRUE(writer->AddLines(PutLines(5, 2, 8), 5, 6).ok());
  ASSERT_TRUE(writer->Close().ok());

  bool problem = true;
  EXPECT_EQ(CountRecords(env, dir + "/" + sealed, &problem), 4u);
  EXPECT_FALSE(problem);
  EXPECT_EQ(CountRecords(env, dir + "/wal.jsonl", &problem), 2u);
  EXPECT_FALSE(problem);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace t4dx
