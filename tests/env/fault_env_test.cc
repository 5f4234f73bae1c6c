// FaultInjectionEnv: fault scheduling, crash modes, non-atomic rename, locks.
#include "env/fault_env.h"

#include <gtest/gtest.h>

#include <set>

#include "env/env_test_util.h"

namespace t4dx {
namespace {

using Mode = FaultInjectionEnv::CrashMode;
using testing_util::ReadString;
using testing_util::WriteString;

class FaultEnvTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.CreateDir("/db").ok()); }

  // /db/f holds "synced" durably (entry and data) followed by "unsynced" in the cache.
  void MakeHalfSyncedFile() {
    std::unique_ptr<WritableFile> f;
    ASSERT_TRUE(env_.NewWritableFile("/db/f", &f).ok());
    ASSERT_TRUE(env_.SyncDir("/db").ok());
    ASSERT_TRUE(f->Append("synced").ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(f->Append("unsynced").ok());
  }

  FaultInjectionEnv env_;
};

TEST_F(FaultEnvTest, CountsMutatingCalls) {
  const uint64_t start = env_.mutating_calls();  // CreateDir in SetUp
  EXPECT_EQ(start, 1u);
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_.NewWritableFile("/db/a", &f).ok());    // create
  ASSERT_TRUE(f->Append("x").ok());                       // append
  ASSERT_TRUE(f->Sync().ok());                            // sync
  ASSERT_TRUE(f->Close().ok());                           // not counted
  ASSERT_TRUE(env_.NewAppendableFile("/db/a", &f).ok());  // exists: not counted
  ASSERT_TRUE(env_.NewAppendableFile("/db/b", &f).ok());  // creates: counted
  ASSERT_TRUE(env_.RenameFile("/db/b", "/db/c").ok());
  ASSERT_TRUE(env_.TruncateFile("/db/c", 0).ok());
  ASSERT_TRUE(env_.RemoveFile("/db/c").ok());
  ASSERT_TRUE(env_.CreateDir("/db/d").ok());
  ASSERT_TRUE(env_.RemoveDir("/db/d").ok());
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  std::unique_ptr<FileLock> lock;
  ASSERT_TRUE(env_.LockFile("/db/LOCK", &lock).ok());
  std::string data;
  ASSERT_TRUE(ReadFileToString(&env_, "/db/a", &data).ok());  // reads: not counted
  EXPECT_TRUE(env_.FileExists("/db/a"));
  EXPECT_EQ(env_.mutating_calls() - start, 11u);
}

TEST_F(FaultEnvTest, FailAtReturnsTheCodeAndChangesNothing) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_.NewWritableFile("/db/a", &f).ok());
  ASSERT_TRUE(f->Append("keep").ok());

  env_.FailAt(env_.mutating_calls(), Status::Code::kIOError);
  Status s = f->Append("lost");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("/db/a"), std::string::npos) << s.message();
  EXPECT_EQ(f->Size(), 4u);
  EXPECT_EQ(ReadString(&env_, "/db/a"), "keep");
  ASSERT_TRUE(f->Append("!").ok());  // not sticky: the next call works
  EXPECT_EQ(ReadString(&env_, "/db/a"), "keep!");

  env_.FailAt(env_.mutating_calls(), Status::Code::kNoSpace);
  std::unique_ptr<WritableFile> g;
  EXPECT_TRUE(env_.NewWritableFile("/db/b", &g).IsNoSpace());
  EXPECT_FALSE(env_.FileExists("/db/b"));

  env_.FailAt(env_.mutating_calls(), Status::Code::kIOError);
  EXPECT_TRUE(env_.NewWritableFile("/db/a", &g).IsIOError());  // would truncate
  EXPECT_EQ(ReadString(&env_, "/db/a"), "keep!");

  ASSERT_TRUE(WriteString(&env_, "/db/c", "c").ok());
  env_.FailAt(env_.mutating_calls(), Status::Code::kIOError);
  EXPECT_TRUE(env_.RenameFile("/db/c", "/db/a").IsIOError());
  EXPECT_EQ(ReadString(&env_, "/db/a"), "keep!");
  EXPECT_EQ(ReadString(&env_, "/db/c"), "c");

  env_.FailAt(env_.mutating_calls(), Status::Code::kIOError);
  EXPECT_TRUE(env_.RemoveFile("/db/c").IsIOError());
  EXPECT_TRUE(env_.FileExists("/db/c"));

  env_.FailAt(env_.mutating_calls(), Status::Code::kIOError);
  EXPECT_TRUE(env_.TruncateFile("/db/c", 0).IsIOError());
  EXPECT_EQ(ReadString(&env_, "/db/c"), "c");

  env_.FailAt(env_.mutating_calls(), Status::Code::kIOError);
  EXPECT_TRUE(env_.CreateDir("/db/d").IsIOError());
  EXPECT_FALSE(env_.FileExists("/db/d"));

  // A failed Sync makes nothing durable.
  env_.FailAt(env_.mutating_calls(), Status::Code::kIOError);
  EXPECT_TRUE(f->Sync().IsIOError());
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  env_.SimulateCrash(Mode::kDropUnsynced);
  EXPECT_EQ(ReadString(&env_, "/db/a"), "");
}

TEST_F(FaultEnvTest, StickyNoSpaceUntilCleared) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_.NewWritableFile("/db/wal", &f).ok());
  ASSERT_TRUE(f->Append("a").ok());
  env_.FailAt(env_.mutating_calls(), Status::Code::kNoSpace, /*sticky=*/true);
  EXPECT_TRUE(f->Append("b").IsNoSpace());
  EXPECT_TRUE(f->Append("c").IsNoSpace());
  EXPECT_TRUE(f->Sync().IsNoSpace());
  EXPECT_TRUE(env_.RenameFile("/db/wal", "/db/x").IsNoSpace());
  std::unique_ptr<WritableFile> g;
  EXPECT_TRUE(env_.NewWritableFile("/db/other", &g).IsNoSpace());
  EXPECT_EQ(ReadString(&env_, "/db/wal"), "a");  // reads keep working
  env_.ClearFaults();
  ASSERT_TRUE(f->Append("d").ok());
  EXPECT_EQ(ReadString(&env_, "/db/wal"), "ad");
}

TEST_F(FaultEnvTest, FaultScheduledLaterFiresAtItsIndex) {
  const uint64_t at = env_.mutating_calls() + 2;
  env_.FailAt(at, Status::Code::kIOError);
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_.NewWritableFile("/db/a", &f).ok());  // at - 2
  ASSERT_TRUE(f->Append("1").ok());                     // at - 1
  EXPECT_TRUE(f->Append("2").IsIOError());              // at
  ASSERT_TRUE(f->Append("3").ok());
  EXPECT_EQ(ReadString(&env_, "/db/a"), "13");
}

TEST_F(FaultEnvTest, CrashKeepUnsyncedKeepsEverything) {
  MakeHalfSyncedFile();
  ASSERT_TRUE(WriteString(&env_, "/db/new", "n").ok());  // entry not dir-synced
  env_.SimulateCrash(Mode::kKeepUnsynced);
  EXPECT_EQ(ReadString(&env_, "/db/f"), "syncedunsynced");
  EXPECT_EQ(ReadString(&env_, "/db/new"), "n");
}

TEST_F(FaultEnvTest, CrashDropUnsyncedKeepsOnlySyncedData) {
  MakeHalfSyncedFile();
  env_.SimulateCrash(Mode::kDropUnsynced);
  EXPECT_EQ(ReadString(&env_, "/db/f"), "synced");
}

TEST_F(FaultEnvTest, CrashZeroFillKeepsTheSizeWithZeros) {
  MakeHalfSyncedFile();
  env_.SimulateCrash(Mode::kZeroFillUnsynced);
  EXPECT_EQ(ReadString(&env_, "/db/f"), "synced" + std::string(8, '\0'));
}

TEST_F(FaultEnvTest, CrashTearKeepsAPrefixDeterministically) {
  std::set<size_t> sizes;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    std::string results[2];
    for (int run = 0; run < 2; ++run) {
      FaultInjectionEnv env;
      ASSERT_TRUE(env.CreateDir("/db").ok());
      std::unique_ptr<WritableFile> f;
      ASSERT_TRUE(env.NewWritableFile("/db/f", &f).ok());
      ASSERT_TRUE(env.SyncDir("/db").ok());
      ASSERT_TRUE(f->Append("synced").ok());
      ASSERT_TRUE(f->Sync().ok());
      ASSERT_TRUE(f->Append("unsynced").ok());
      env.SimulateCrash(Mode::kTearUnsynced, seed);
      results[run] = ReadString(&env, "/db/f");
    }
    EXPECT_EQ(results[0], results[1]) << "seed " << seed;  // same seed, same outcome
    const std::string& got = results[0];
    ASSERT_GE(got.size(), 6u);
    ASSERT_LE(got.size(), 14u);
    EXPECT_EQ(got, std::string("syncedunsynced").substr(0, got.size()));
    sizes.insert(got.size());
  }
  EXPECT_GT(sizes.size(), 3u);  // the tear point varies with the seed
}

TEST_F(FaultEnvTest, CreatedButNotDirSyncedFileVanishes) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_.NewWritableFile("/db/seg", &f).ok());
  ASSERT_TRUE(f->Append("data").ok());
  ASSERT_TRUE(f->Sync().ok());  // data durable, directory entry not
  for (Mode mode : {Mode::kDropUnsynced, Mode::kTearUnsynced, Mode::kZeroFillUnsynced}) {
    FaultInjectionEnv env;
    ASSERT_TRUE(env.CreateDir("/db").ok());
    ASSERT_TRUE(WriteString(&env, "/db/seg", "data", /*sync=*/true).ok());
    env.SimulateCrash(mode);
    EXPECT_FALSE(env.FileExists("/db/seg")) << static_cast<int>(mode);
  }
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  env_.SimulateCrash(Mode::kDropUnsynced);
  EXPECT_EQ(ReadString(&env_, "/db/seg"), "data");
}

TEST_F(FaultEnvTest, UnsyncedRemoveAndRenameAreUndone) {
  ASSERT_TRUE(WriteString(&env_, "/db/a", "A", true).ok());
  ASSERT_TRUE(WriteString(&env_, "/db/b", "B", true).ok());
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  ASSERT_TRUE(env_.RemoveFile("/db/a").ok());
  ASSERT_TRUE(env_.RenameFile("/db/b", "/db/c").ok());
  env_.SimulateCrash(Mode::kDropUnsynced);
  EXPECT_EQ(ReadString(&env_, "/db/a"), "A");
  EXPECT_EQ(ReadString(&env_, "/db/b"), "B");
  EXPECT_FALSE(env_.FileExists("/db/c"));
}

TEST_F(FaultEnvTest, AtomicRenamePublishesAfterSyncDir) {
  ASSERT_TRUE(WriteString(&env_, "/db/CURRENT", "v1", true).ok());
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  ASSERT_TRUE(WriteFileAtomic(&env_, "/db/CURRENT", "v2").ok());
  env_.SimulateCrash(Mode::kDropUnsynced);
  EXPECT_EQ(ReadString(&env_, "/db/CURRENT"), "v2");
  EXPECT_FALSE(env_.FileExists("/db/CURRENT.tmp"));
}

TEST_F(FaultEnvTest, RenamedDirectoryKeepsItsSyncedContents) {
  ASSERT_TRUE(env_.CreateDir("/db/seg.tmp").ok());
  ASSERT_TRUE(WriteString(&env_, "/db/seg.tmp/items", "I", true).ok());
  ASSERT_TRUE(env_.SyncDir("/db/seg.tmp").ok());
  ASSERT_TRUE(env_.RenameFile("/db/seg.tmp", "/db/seg_000001").ok());
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  env_.SimulateCrash(Mode::kDropUnsynced);
  EXPECT_EQ(ReadString(&env_, "/db/seg_000001/items"), "I");
  EXPECT_FALSE(env_.FileExists("/db/seg.tmp"));
}

TEST_F(FaultEnvTest, NonAtomicRenameCrashLeavesNoTarget) {
  ASSERT_TRUE(WriteString(&env_, "/db/index", "old", true).ok());
  ASSERT_TRUE(WriteString(&env_, "/db/index.tmp", "new", true).ok());
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  env_.SetNonAtomicRename(true);
  const uint64_t before = env_.mutating_calls();
  env_.CrashAt(before + 1);  // after the target is removed, before the move
  EXPECT_TRUE(env_.RenameFile("/db/index.tmp", "/db/index").IsIOError());
  EXPECT_EQ(env_.mutating_calls(), before + 2);  // two steps, two calls
  env_.SimulateCrash(Mode::kDropUnsynced);
  EXPECT_FALSE(env_.FileExists("/db/index"));
  EXPECT_EQ(ReadString(&env_, "/db/index.tmp"), "new");
}

TEST_F(FaultEnvTest, NonAtomicRenameFaultBetweenStepsLeavesNoTarget) {
  ASSERT_TRUE(WriteString(&env_, "/db/to", "old").ok());
  ASSERT_TRUE(WriteString(&env_, "/db/from", "new").ok());
  env_.SetNonAtomicRename(true);
  env_.FailAt(env_.mutating_calls() + 1, Status::Code::kIOError);
  EXPECT_TRUE(env_.RenameFile("/db/from", "/db/to").IsIOError());
  EXPECT_FALSE(env_.FileExists("/db/to"));
  EXPECT_TRUE(env_.FileExists("/db/from"));
  // Without a target it is one step.
  const uint64_t before = env_.mutating_calls();
  ASSERT_TRUE(env_.RenameFile("/db/from", "/db/to").ok());
  EXPECT_EQ(env_.mutating_calls(), before + 1);
  EXPECT_EQ(ReadString(&env_, "/db/to"), "new");
}

TEST_F(FaultEnvTest, CrashAtRefusesEveryLaterMutation) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_.NewWritableFile("/db/a", &f).ok());
  env_.CrashAt(env_.mutating_calls());
  EXPECT_TRUE(f->Append("x").IsIOError());
  EXPECT_TRUE(env_.CreateDir("/db/d").IsIOError());
  std::unique_ptr<FileLock> lock;
  EXPECT_TRUE(env_.LockFile("/db/LOCK", &lock).IsIOError());
  EXPECT_TRUE(env_.FileExists("/db/a"));  // reads still work
  env_.SimulateCrash(Mode::kKeepUnsynced);
  // After the "reboot": old handles are dead, new ones work.
  EXPECT_TRUE(f->Append("y").IsIOError());
  ASSERT_TRUE(env_.NewAppendableFile("/db/a", &f).ok());
  ASSERT_TRUE(f->Append("z").ok());
  EXPECT_EQ(ReadString(&env_, "/db/a"), "z");
}

TEST_F(FaultEnvTest, SurvivingDataIsDurableAfterTheReboot) {
  MakeHalfSyncedFile();
  env_.SimulateCrash(Mode::kKeepUnsynced);
  env_.SimulateCrash(Mode::kDropUnsynced);
  EXPECT_EQ(ReadString(&env_, "/db/f"), "syncedunsynced");
}

TEST_F(FaultEnvTest, TruncateBelowTheSyncedSize) {
  MakeHalfSyncedFile();
  ASSERT_TRUE(env_.TruncateFile("/db/f", 3).ok());
  ASSERT_TRUE(WriteString(&env_, "/db/g", "x").ok());
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_.NewAppendableFile("/db/f", &f).ok());
  ASSERT_TRUE(f->Append("XYZ").ok());
  env_.SimulateCrash(Mode::kDropUnsynced);
  EXPECT_EQ(ReadString(&env_, "/db/f"), "syn");
}

TEST_F(FaultEnvTest, LockHeldTwiceAndReleasedByCrash) {
  std::unique_ptr<FileLock> first;
  ASSERT_TRUE(env_.LockFile("/db/LOCK", &first).ok());
  std::unique_ptr<FileLock> second;
  Status s = env_.LockFile("/db/LOCK", &second);
  EXPECT_TRUE(s.IsLocked());
  EXPECT_EQ(s.message(), "store /db is locked by another handle in this process");
  env_.SimulateCrash(Mode::kKeepUnsynced);  // the holder "died"
  ASSERT_TRUE(env_.LockFile("/db/LOCK", &second).ok());
  first.reset();  // the dead holder's handle must not release the new lock
  std::unique_ptr<FileLock> third;
  EXPECT_TRUE(env_.LockFile("/db/LOCK", &third).IsLocked());
}

TEST_F(FaultEnvTest, LockOutlivingTheEnvIsSafe) {
  std::unique_ptr<FileLock> lock;
  {
    FaultInjectionEnv env;
    ASSERT_TRUE(env.LockFile("/LOCK", &lock).ok());
  }
  lock.reset();
}

}  // namespace
}  // namespace t4dx
