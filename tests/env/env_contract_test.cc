// The Env contract, run against every implementation: POSIX (a temp dir), MemEnv and
// FaultInjectionEnv.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "env/env_test_util.h"
#include "env/posix_env.h"

namespace t4dx {
namespace {

using testing_util::ReadString;
using testing_util::TempDir;
using testing_util::WriteString;

enum class Kind { kPosix, kMem, kFault };

class EnvContractTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    switch (GetParam()) {
      case Kind::kPosix:
        tmp_ = std::make_unique<TempDir>();
        env_ = PosixEnv();
        root_ = tmp_->path();
        break;
      case Kind::kMem:
        owned_ = NewMemEnv();
        env_ = owned_.get();
        root_ = "/db";
        break;
      case Kind::kFault:
        owned_ = std::make_unique<FaultInjectionEnv>();
        env_ = owned_.get();
        root_ = "/db";
        break;
    }
    ASSERT_TRUE(env_->CreateDir(root_).ok());
  }

  std::string P(const std::string& name) const { return JoinPath(root_, name); }

  std::vector<std::string> Children(const std::string& dir) {
    std::vector<std::string> names;
    Status s = env_->GetChildren(dir, &names);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::sort(names.begin(), names.end());
    return names;
  }

  std::unique_ptr<TempDir> tmp_;
  std::unique_ptr<Env> owned_;
  Env* env_ = nullptr;
  std::string root_;
};

TEST_P(EnvContractTest, WriteThenRead) {
  std::unique_ptr<WritableFile> w;
  ASSERT_TRUE(env_->NewWritableFile(P("f"), &w).ok());
  EXPECT_EQ(w->Size(), 0u);
  ASSERT_TRUE(w->Append("hello ").ok());
  ASSERT_TRUE(w->Append("world").ok());
  EXPECT_EQ(w->Size(), 11u);
  ASSERT_TRUE(w->Sync().ok());
  ASSERT_TRUE(w->Close().ok());

  std::unique_ptr<RandomAccessFile> r;
  ASSERT_TRUE(env_->NewRandomAccessFile(P("f"), &r).ok());
  uint64_t size = 0;
  ASSERT_TRUE(r->Size(&size).ok());
  EXPECT_EQ(size, 11u);
  std::string got;
  ASSERT_TRUE(r->Read(6, 5, &got).ok());
  EXPECT_EQ(got, "world");
  ASSERT_TRUE(r->Read(6, 100, &got).ok());  // short read at end of file
  EXPECT_EQ(got, "world");
  ASSERT_TRUE(r->Read(50, 10, &got).ok());
  EXPECT_EQ(got, "");
  ASSERT_TRUE(env_->GetFileSize(P("f"), &size).ok());
  EXPECT_EQ(size, 11u);
  EXPECT_TRUE(env_->FileExists(P("f")));
  EXPECT_EQ(ReadString(env_, P("f")), "hello world");
}

TEST_P(EnvContractTest, WritableTruncatesAppendableAppends) {
  ASSERT_TRUE(WriteString(env_, P("f"), "first").ok());
  ASSERT_TRUE(WriteString(env_, P("f"), "2nd").ok());
  EXPECT_EQ(ReadString(env_, P("f")), "2nd");

  std::unique_ptr<WritableFile> a;
  ASSERT_TRUE(env_->NewAppendableFile(P("f"), &a).ok());
  EXPECT_EQ(a->Size(), 3u);
  ASSERT_TRUE(a->Append("+more").ok());
  EXPECT_EQ(a->Size(), 8u);
  ASSERT_TRUE(a->Close().ok());
  EXPECT_EQ(ReadString(env_, P("f")), "2nd+more");

  ASSERT_TRUE(env_->NewAppendableFile(P("new"), &a).ok());  // creates
  EXPECT_EQ(a->Size(), 0u);
  a.reset();  // the destructor closes
  EXPECT_TRUE(env_->FileExists(P("new")));
}

TEST_P(EnvContractTest, MissingFilesAreNotFound) {
  std::unique_ptr<RandomAccessFile> r;
  Status s = env_->NewRandomAccessFile(P("nope"), &r);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find(P("nope")), std::string::npos) << s.message();
  uint64_t size;
  EXPECT_TRUE(env_->GetFileSize(P("nope"), &size).IsNotFound());
  EXPECT_TRUE(env_->RemoveFile(P("nope")).IsNotFound());
  EXPECT_TRUE(env_->RenameFile(P("nope"), P("x")).IsNotFound());
  EXPECT_FALSE(env_->FileExists(P("nope")));
  bool is_dir;
  EXPECT_TRUE(env_->IsDirectory(P("nope"), &is_dir).IsNotFound());
  std::string data;
  EXPECT_TRUE(ReadFileToString(env_, P("nope"), &data).IsNotFound());
}

TEST_P(EnvContractTest, Directories) {
  ASSERT_TRUE(env_->CreateDir(P("d")).ok());
  ASSERT_TRUE(env_->CreateDir(P("d")).ok());  // already there: OK
  bool is_dir = false;
  ASSERT_TRUE(env_->IsDirectory(P("d"), &is_dir).ok());
  EXPECT_TRUE(is_dir);
  ASSERT_TRUE(WriteString(env_, P("d/a"), "1").ok());
  ASSERT_TRUE(WriteString(env_, P("d/b"), "2").ok());
  ASSERT_TRUE(env_->CreateDir(P("d/sub")).ok());
  ASSERT_TRUE(env_->IsDirectory(P("d/a"), &is_dir).ok());
  EXPECT_FALSE(is_dir);
  EXPECT_EQ(Children(P("d")), (std::vector<std::string>{"a", "b", "sub"}));
  EXPECT_EQ(Children(root_), (std::vector<std::string>{"d"}));
  EXPECT_FALSE(env_->CreateDir(P("d/a")).ok());  // a file of that name
  EXPECT_FALSE(env_->RemoveDir(P("d")).ok());    // not empty
  ASSERT_TRUE(env_->RemoveDir(P("d/sub")).ok());
  ASSERT_TRUE(env_->RemoveFile(P("d/a")).ok());
  ASSERT_TRUE(env_->RemoveFile(P("d/b")).ok());
  EXPECT_TRUE(Children(P("d")).empty());
  ASSERT_TRUE(env_->RemoveDir(P("d")).ok());
  EXPECT_FALSE(env_->FileExists(P("d")));
  ASSERT_TRUE(env_->SyncDir(root_).ok());
}

TEST_P(EnvContractTest, RenameReplacesTheTarget) {
  ASSERT_TRUE(WriteString(env_, P("a"), "new").ok());
  ASSERT_TRUE(WriteString(env_, P("b"), "old").ok());
  ASSERT_TRUE(env_->RenameFile(P("a"), P("b")).ok());
  EXPECT_FALSE(env_->FileExists(P("a")));
  EXPECT_EQ(ReadString(env_, P("b")), "new");
  ASSERT_TRUE(env_->RenameFile(P("b"), P("c")).ok());
  EXPECT_EQ(Children(root_), (std::vector<std::string>{"c"}));
}

TEST_P(EnvContractTest, RenameDirectory) {
  ASSERT_TRUE(env_->CreateDir(P("seg.tmp")).ok());
  ASSERT_TRUE(WriteString(env_, P("seg.tmp/items"), "data").ok());
  ASSERT_TRUE(env_->RenameFile(P("seg.tmp"), P("seg_000001")).ok());
  EXPECT_FALSE(env_->FileExists(P("seg.tmp")));
  EXPECT_EQ(ReadString(env_, P("seg_000001/items")), "data");
}

TEST_P(EnvContractTest, Truncate) {
  ASSERT_TRUE(WriteString(env_, P("f"), "0123456789").ok());
  ASSERT_TRUE(env_->TruncateFile(P("f"), 4).ok());
  EXPECT_EQ(ReadString(env_, P("f")), "0123");
  EXPECT_TRUE(env_->TruncateFile(P("nope"), 0).IsNotFound());
}

TEST_P(EnvContractTest, WriteFileAtomicLeavesNoTemp) {
  ASSERT_TRUE(WriteString(env_, P("m.json"), "old").ok());
  ASSERT_TRUE(WriteFileAtomic(env_, P("m.json"), "{\"v\":2}").ok());
  EXPECT_EQ(ReadString(env_, P("m.json")), "{\"v\":2}");
  EXPECT_EQ(Children(root_), (std::vector<std::string>{"m.json"}));
}

TEST_P(EnvContractTest, ReadFileToStringLargeFile) {
  std::string big;
  for (int i = 0; i < (3 << 20) + 17; ++i) big.push_back(static_cast<char>('a' + i % 26));
  ASSERT_TRUE(WriteString(env_, P("big"), big).ok());
  std::string got;
  ASSERT_TRUE(ReadFileToString(env_, P("big"), &got).ok());
  EXPECT_EQ(got, big);
}

// The bytes of a whole file, mapped (POSIX) or read (the others): the same either way,
// empty files included, and a missing file is NotFound.
TEST_P(EnvContractTest, ReadFileViewGivesTheWholeFile) {
  std::string big;
  for (int i = 0; i < (1 << 20) + 5; ++i) big.push_back(static_cast<char>(i * 7));
  ASSERT_TRUE(WriteString(env_, P("big"), big).ok());
  ASSERT_TRUE(WriteString(env_, P("empty"), "").ok());
  ASSERT_TRUE(WriteString(env_, P("short"), "abc").ok());
  FileView v;
  ASSERT_TRUE(ReadFileView(env_, P("big"), &v).ok());
  EXPECT_TRUE(v.data == big);
  EXPECT_EQ(v.mapping != nullptr, GetParam() == Kind::kPosix);
  ASSERT_TRUE(ReadFileView(env_, P("empty"), &v).ok());
  EXPECT_TRUE(v.data.empty());
  ASSERT_TRUE(ReadFileView(env_, P("short"), &v).ok());
  EXPECT_EQ(v.data, "abc");
  Status s = ReadFileView(env_, P("missing"), &v);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
}

TEST_P(EnvContractTest, LockIsExclusiveUntilReleased) {
  std::unique_ptr<FileLock> lock;
  ASSERT_TRUE(env_->LockFile(P("LOCK"), &lock).ok());
  EXPECT_TRUE(env_->FileExists(P("LOCK")));
  std::unique_ptr<FileLock> second;
  Status s = env_->LockFile(P("LOCK"), &second);
  EXPECT_TRUE(s.IsLocked()) << s.ToString();
  EXPECT_EQ(s.message().rfind("store " + root_ + " is locked by ", 0), 0u) << s.message();
  EXPECT_EQ(second, nullptr);
  lock.reset();
  ASSERT_TRUE(env_->LockFile(P("LOCK"), &second).ok());
}

TEST_P(EnvContractTest, ConcurrentWritersOnDistinctFiles) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      std::unique_ptr<WritableFile> f;
      ASSERT_TRUE(env_->NewWritableFile(P("t" + std::to_string(t)), &f).ok());
      for (int i = 0; i < 100; ++i) ASSERT_TRUE(f->Append("x").ok());
      ASSERT_TRUE(f->Sync().ok());
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(ReadString(env_, P("t" + std::to_string(t))), std::string(100, 'x'));
  }
}

INSTANTIATE_TEST_SUITE_P(AllEnvs, EnvContractTest,
                         ::testing::Values(Kind::kPosix, Kind::kMem, Kind::kFault),
                         [](const ::testing::TestParamInfo<Kind>& info) {
                           switch (info.param) {
                             case Kind::kPosix:
                               return std::string("Posix");
                             case Kind::kMem:
                               return std::string("Mem");
                             case Kind::kFault:
                               return std::string("Fault");
                           }
                           return std::string("Unknown");
                         });

TEST(EnvUtilTest, JoinPath) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
  EXPECT_EQ(JoinPath("/x/", "b"), "/x/b");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
}

TEST(EnvUtilTest, DirName) {
  EXPECT_EQ(DirName("a/b"), "a");
  EXPECT_EQ(DirName("b"), "");
  EXPECT_EQ(DirName(""), "");
  EXPECT_EQ(DirName("/b"), "/");
  EXPECT_EQ(DirName("/"), "/");
  EXPECT_EQ(DirName("/x/y/z"), "/x/y");
  EXPECT_EQ(DirName("/x/y/"), "/x");
  EXPECT_EQ(DirName("x//y"), "x");
}

TEST(EnvDefaultTest, PosixUnlessSet) {
  EXPECT_EQ(Env::Default(), PosixEnv());
  std::unique_ptr<Env> mem = NewMemEnv();
  Env::SetDefault(mem.get());
  EXPECT_EQ(Env::Default(), mem.get());
  Env::SetDefault(nullptr);
  EXPECT_EQ(Env::Default(), PosixEnv());
}

}  // namespace
}  // namespace t4dx
