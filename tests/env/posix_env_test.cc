// POSIX-specific behaviour: error mapping, ENOSPC, the lock file naming its holder.
#include "env/posix_env.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "env/env_test_util.h"

namespace t4dx {
namespace {

using testing_util::TempDir;

TEST(PosixEnvTest, ErrorsNameOperationAndPath) {
  TempDir dir;
  Env* env = PosixEnv();
  std::unique_ptr<RandomAccessFile> r;
  const std::string path = JoinPath(dir.path(), "missing");
  Status s = env->NewRandomAccessFile(path, &r);
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_EQ(s.message(), "open " + path + ": No such file or directory");
  std::unique_ptr<WritableFile> w;
  s = env->NewWritableFile(JoinPath(dir.path(), "no/such/dir/f"), &w);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_FALSE(env->SyncDir(JoinPath(dir.path(), "nodir")).ok());
}

TEST(PosixEnvTest, NoSpaceIsReported) {
  Env* env = PosixEnv();
  if (!env->FileExists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  std::unique_ptr<WritableFile> w;
  ASSERT_TRUE(env->NewAppendableFile("/dev/full", &w).ok());
  Status s = w->Append(std::string(4096, 'x'));
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_NE(s.message().find("/dev/full"), std::string::npos);
}

// A mapped view outlives the file object and keeps the old bytes when the file is
// replaced by rename, as WriteFileAtomic replaces hnsw.idx under a reader.
TEST(PosixEnvTest, MappedViewOutlivesItsFileAndAReplace) {
  TempDir dir;
  Env* env = PosixEnv();
  const std::string path = JoinPath(dir.path(), "hnsw.idx");
  const std::string old_bytes(100000, 'o');
  ASSERT_TRUE(WriteFileAtomic(env, path, old_bytes).ok());
  FileView v;
  {
    std::unique_ptr<RandomAccessFile> f;
    ASSERT_TRUE(env->NewRandomAccessFile(path, &f).ok());
    ASSERT_TRUE(f->MapWhole(&v.data, &v.mapping).ok());
  }
  ASSERT_TRUE(WriteFileAtomic(env, path, std::string(5, 'n')).ok());
  EXPECT_TRUE(v.data == old_bytes);
  FileView now;
  ASSERT_TRUE(ReadFileView(env, path, &now).ok());
  EXPECT_EQ(now.data, "nnnnn");
}

TEST(PosixEnvTest, LockNamesTheHolderPid) {
  TempDir dir;
  Env* env = PosixEnv();
  const std::string lock_path = JoinPath(dir.path(), "LOCK");
  std::unique_ptr<FileLock> lock;
  ASSERT_TRUE(env->LockFile(lock_path, &lock).ok());
  const std::string pid = std::to_string(::getpid());
  EXPECT_EQ(testing_util::ReadString(env, lock_path), pid + "\n");

  // Same process, second handle.
  std::unique_ptr<FileLock> again;
  Status s = env->LockFile(lock_path, &again);
  EXPECT_TRUE(s.IsLocked());
  EXPECT_EQ(s.message().rfind("store " + dir.path() + " is locked by process " + pid, 0), 0u)
      << s.message();

  // Another process.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::unique_ptr<FileLock> l;
    Status cs = PosixEnv()->LockFile(lock_path, &l);
    const bool ok =
        cs.IsLocked() && cs.message() == "store " + dir.path() + " is locked by process " + pid;
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  // Neither reading LOCK above nor the refused attempts dropped the lock (with classic
  // fcntl locks, closing any descriptor of the file would have).
  child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::unique_ptr<FileLock> l;
    ::_exit(PosixEnv()->LockFile(lock_path, &l).IsLocked() ? 0 : 1);
  }
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ(WEXITSTATUS(status), 0);

  lock.reset();
  ASSERT_TRUE(env->LockFile(lock_path, &again).ok());
}

}  // namespace
}  // namespace t4dx
