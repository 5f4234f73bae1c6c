// HostEnv (wasm/host_env.cc) over the native fake host (wasm/fake_host.cc): the same glue
// the WebAssembly build runs over Node fs and OPFS.
#include "host_env.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fake_host.h"

namespace t4dx {
namespace {

class HostEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_host::Reset();
    env_ = NewHostEnv();
    ASSERT_TRUE(env_->CreateDir("/store").ok());
  }
  void TearDown() override { fake_host::Reset(); }

  void Write(const std::string& path, const std::string& data) {
    std::unique_ptr<WritableFile> f;
    ASSERT_TRUE(env_->NewWritableFile(path, &f).ok());
    ASSERT_TRUE(f->Append(data).ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(f->Close().ok());
  }
  std::string Read(const std::string& path) {
    std::unique_ptr<RandomAccessFile> f;
    Status s = env_->NewRandomAccessFile(path, &f);
    if (!s.ok()) return "<" + s.ToString() + ">";
    uint64_t size = 0;
    EXPECT_TRUE(f->Size(&size).ok());
    std::string out;
    EXPECT_TRUE(f->Read(0, size, &out).ok());
    return out;
  }

  std::unique_ptr<Env> env_;
};

TEST_F(HostEnvTest, WriteThenReadBack) {
  Write("/store/a", "hello world");
  EXPECT_EQ(Read("/store/a"), "hello world");
  uint64_t size = 0;
  ASSERT_TRUE(env_->GetFileSize("/store/a", &size).ok());
  EXPECT_EQ(size, 11u);
  EXPECT_EQ(fake_host::OpenHandles(), 0u);
  EXPECT_EQ(fake_host::SyncCalls(), 1u);
}

TEST_F(HostEnvTest, ReadAtOffsetAndShortReadAtEnd) {
  Write("/store/a", "0123456789");
  std::unique_ptr<RandomAccessFile> f;
  ASSERT_TRUE(env_->NewRandomAccessFile("/store/a", &f).ok());
  std::string out;
  ASSERT_TRUE(f->Read(3, 4, &out).ok());
  EXPECT_EQ(out, "3456");
  ASSERT_TRUE(f->Read(8, 100, &out).ok());
  EXPECT_EQ(out, "89");
  ASSERT_TRUE(f->Read(50, 10, &out).ok());
  EXPECT_EQ(out, "");
}

TEST_F(HostEnvTest, AppendableFileKeepsContentsAndCountsSize) {
  Write("/store/wal", "abc");
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_->NewAppendableFile("/store/wal", &f).ok());
  EXPECT_EQ(f->Size(), 3u);
  ASSERT_TRUE(f->Append("def").ok());
  ASSERT_TRUE(f->Append("").ok());
  EXPECT_EQ(f->Size(), 6u);
  f.reset();  // the destructor closes the handle
  EXPECT_EQ(fake_host::OpenHandles(), 0u);
  EXPECT_EQ(Read("/store/wal"), "abcdef");
}

TEST_F(HostEnvTest, WritableFileTruncatesExisting) {
  Write("/store/a", "long old contents");
  Write("/store/a", "new");
  EXPECT_EQ(Read("/store/a"), "new");
}

TEST_F(HostEnvTest, AppendAfterCloseFailsWithoutWriting) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_->NewWritableFile("/store/a", &f).ok());
  ASSERT_TRUE(f->Close().ok());
  EXPECT_TRUE(f->Close().ok());  // idempotent
  EXPECT_EQ(f->Append("x").code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(Read("/store/a"), "");
}

TEST_F(HostEnvTest, MissingFileIsNotFoundNamingOperationAndPath) {
  std::unique_ptr<RandomAccessFile> f;
  Status s = env_->NewRandomAccessFile("/store/nope", &f);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find("open /store/nope"), std::string::npos) << s.message();
  uint64_t size;
  EXPECT_TRUE(env_->GetFileSize("/store/nope", &size).IsNotFound());
  EXPECT_TRUE(env_->RemoveFile("/store/nope").IsNotFound());
  EXPECT_FALSE(env_->FileExists("/store/nope"));
}

TEST_F(HostEnvTest, WriteIntoMissingDirectoryFails) {
  std::unique_ptr<WritableFile> f;
  EXPECT_TRUE(env_->NewWritableFile("/store/sub/a", &f).IsNotFound());
  EXPECT_TRUE(env_->CreateDir("/store/x/y").IsNotFound());
}

TEST_F(HostEnvTest, HostErrorCodesBecomeStatusCodes) {
  struct Case {
    const char* name;
    Status::Code code;
  } cases[] = {
      {"no_space", Status::Code::kNoSpace},           {"locked", Status::Code::kLocked},
      {"io_error", Status::Code::kIOError},           {"not_found", Status::Code::kNotFound},
      {"not_supported", Status::Code::kNotSupported}, {"something_new", Status::Code::kIOError}};
  for (const Case& c : cases) {
    std::unique_ptr<WritableFile> f;
    ASSERT_TRUE(env_->NewWritableFile("/store/a", &f).ok());
    fake_host::FailNextCall(c.name, "disk says no");
    Status s = f->Append("data");
    EXPECT_EQ(s.code(), c.code) << c.name << ": " << s.ToString();
    EXPECT_EQ(s.message(), "append /store/a: disk says no");
  }
  EXPECT_EQ(Read("/store/a"), "");  // a failed append wrote nothing
}

TEST_F(HostEnvTest, FailedSyncIsReported) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_->NewWritableFile("/store/a", &f).ok());
  fake_host::FailNextCall("io_error", "EIO");
  EXPECT_TRUE(f->Sync().IsIOError());
  EXPECT_TRUE(f->Sync().ok());
}

TEST_F(HostEnvTest, LongErrorMessageIsNotCut) {
  std::string longmsg(1000, 'x');
  fake_host::FailNextCall("io_error", longmsg);
  Status s = env_->CreateDir("/store/d");
  EXPECT_EQ(s.message(), "mkdir /store/d: " + longmsg);
}

TEST_F(HostEnvTest, DirectoriesAndChildren) {
  ASSERT_TRUE(env_->CreateDir("/store/seg_000001").ok());
  ASSERT_TRUE(env_->CreateDir("/store/seg_000001").ok());  // exists: OK
  Write("/store/seg_000001/items.bin", "i");
  Write("/store/wal.jsonl", "w");
  bool is_dir = false;
  ASSERT_TRUE(env_->IsDirectory("/store/seg_000001", &is_dir).ok());
  EXPECT_TRUE(is_dir);
  ASSERT_TRUE(env_->IsDirectory("/store/wal.jsonl", &is_dir).ok());
  EXPECT_FALSE(is_dir);
  EXPECT_TRUE(env_->IsDirectory("/store/none", &is_dir).IsNotFound());
  std::vector<std::string> names;
  ASSERT_TRUE(env_->GetChildren("/store", &names).ok());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"seg_000001", "wal.jsonl"}));
  EXPECT_FALSE(env_->RemoveDir("/store/seg_000001").ok());  // not empty
  ASSERT_TRUE(env_->RemoveFile("/store/seg_000001/items.bin").ok());
  ASSERT_TRUE(env_->RemoveDir("/store/seg_000001").ok());
  EXPECT_FALSE(env_->FileExists("/store/seg_000001"));
  ASSERT_TRUE(env_->SyncDir("/store").ok());
}

TEST_F(HostEnvTest, ListingLargerThanFirstBufferIsComplete) {
  std::vector<std::string> want;
  for (int i = 0; i < 400; ++i) {
    want.push_back("a_rather_long_file_name_" + std::to_string(i));
    Write("/store/" + want.back(), "");
  }
  std::vector<std::string> names;
  ASSERT_TRUE(env_->GetChildren("/store", &names).ok());
  std::sort(names.begin(), names.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(names, want);
}

TEST_F(HostEnvTest, RenameReplacesFileAndOpenHandleFollows) {
  Write("/store/a.tmp", "new");
  Write("/store/a", "old");
  std::unique_ptr<RandomAccessFile> f;
  ASSERT_TRUE(env_->NewRandomAccessFile("/store/a.tmp", &f).ok());
  ASSERT_TRUE(env_->RenameFile("/store/a.tmp", "/store/a").ok());
  EXPECT_EQ(Read("/store/a"), "new");
  EXPECT_FALSE(env_->FileExists("/store/a.tmp"));
  std::string out;
  ASSERT_TRUE(f->Read(0, 10, &out).ok());
  EXPECT_EQ(out, "new");
}

TEST_F(HostEnvTest, RenameDirectoryMovesItsFiles) {
  ASSERT_TRUE(env_->CreateDir("/store/seg.tmp").ok());
  Write("/store/seg.tmp/meta.json", "{}");
  ASSERT_TRUE(env_->RenameFile("/store/seg.tmp", "/store/seg_000002").ok());
  EXPECT_EQ(Read("/store/seg_000002/meta.json"), "{}");
  EXPECT_FALSE(env_->FileExists("/store/seg.tmp"));
  EXPECT_TRUE(env_->RenameFile("/store/seg.tmp", "/store/x").IsNotFound());
}

TEST_F(HostEnvTest, TruncateCutsFile) {
  Write("/store/wal", "line1\nline2-torn");
  ASSERT_TRUE(env_->TruncateFile("/store/wal", 6).ok());
  EXPECT_EQ(Read("/store/wal"), "line1\n");
  EXPECT_TRUE(env_->TruncateFile("/store/none", 0).IsNotFound());
}

TEST_F(HostEnvTest, LockIsExclusiveUntilReleased) {
  std::unique_ptr<FileLock> a, b;
  ASSERT_TRUE(env_->LockFile("/store/LOCK", &a).ok());
  Status s = env_->LockFile("/store/LOCK", &b);
  EXPECT_TRUE(s.IsLocked()) << s.ToString();
  EXPECT_NE(s.message().find("lock /store/LOCK"), std::string::npos);
  EXPECT_EQ(fake_host::HeldLocks(), 1u);
  a.reset();
  EXPECT_EQ(fake_host::HeldLocks(), 0u);
  EXPECT_TRUE(env_->LockFile("/store/LOCK", &b).ok());
}

TEST_F(HostEnvTest, LargeAppendIsWrittenCompletely) {
  std::string big(3 << 20, 'z');
  big[12345] = 'q';
  Write("/store/big", big);
  EXPECT_EQ(Read("/store/big"), big);
}

}  // namespace
}  // namespace t4dx
