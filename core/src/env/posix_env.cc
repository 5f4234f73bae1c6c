// The POSIX Env: the only file in the core with POSIX includes. Not built for WebAssembly.
#ifndef __EMSCRIPTEN__

#include "env/posix_env.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <mutex>
#include <set>

namespace t4dx {
namespace {

// "<op> <path>: <strerror>" with the code the errno maps to.
Status PosixError(const std::string& op, const std::string& path, int err) {
  std::string msg = op + " " + path + ": " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound(msg);
  if (err == ENOSPC) return Status::NoSpace(msg);
  return Status::IOError(msg);
}

int RetryOpen(const char* path, int flags, mode_t mode = 0644) {
  int fd;
  do {
    fd = ::open(path, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

class PosixRandomAccessFile : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Status Read(uint64_t offset, size_t n, std::string* result) const override {
    result->resize(n);
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, &(*result)[done], n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        result->clear();
        return PosixError("read", path_, err);
      }
      if (r == 0) break;  // end of file
      done += static_cast<size_t>(r);
    }
    result->resize(done);
    return Status::OK();
  }

  Status Size(uint64_t* size) const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return PosixError("stat", path_, errno);
    *size = static_cast<uint64_t>(st.st_size);
    return Status::OK();
  }

  // MAP_POPULATE maps every page in one call: reading a 158 MB index into a buffer cost
  // 40,000 page faults and the zeroing of each page before the copy.
  Status MapWhole(std::string_view* data, std::shared_ptr<const void>* keep) const override {
    uint64_t size = 0;
    T4DX_RETURN_IF_ERROR(Size(&size));
    if (size == 0) {
      *data = std::string_view();
      keep->reset();
      return Status::OK();
    }
    if (size > static_cast<uint64_t>(SIZE_MAX)) {
      return Status::NotSupported(path_ + " is larger than the address space");
    }
    const size_t n = static_cast<size_t>(size);
    void* p = ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd_, 0);
    if (p == MAP_FAILED) return PosixError("mmap", path_, errno);
    *data = std::string_view(static_cast<const char*>(p), n);
    *keep = std::shared_ptr<const void>(p, [n](const void* q) { ::munmap(const_cast<void*>(q), n); });
    return Status::OK();
  }

 private:
  const std::string path_;
  const int fd_;
};

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override { Close(); }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return Status::IOError("append " + path_ + ": file is closed");
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t w = ::write(fd_, p, left);
      if (w < 0) {
        if (errno == EINTR) continue;
        return PosixError("write", path_, errno);
      }
      p += w;
      left -= static_cast<size_t>(w);
      size_ += static_cast<uint64_t>(w);
    }
    return Status::OK();
  }

  Status Sync() override {
    if (fd_ < 0) return Status::IOError("sync " + path_ + ": file is closed");
#if defined(__APPLE__)
    int r = ::fsync(fd_);
#else
    int r = ::fdatasync(fd_);
#endif
    if (r != 0) return PosixError("fdatasync", path_, errno);
    return Status::OK();
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    int r = ::close(fd_);
    fd_ = -1;
    if (r != 0) return PosixError("close", path_, errno);
    return Status::OK();
  }

  uint64_t Size() const override { return size_; }

 private:
  const std::string path_;
  int fd_;
  uint64_t size_;
};

// Linux has open-file-description locks: they are not dropped when another descriptor
// of the file is closed (e.g. a snapshot reading LOCK) and they exclude other handles of
// the same process. Elsewhere classic process-wide fcntl locks are used.
#ifdef F_OFD_SETLK
constexpr int kSetLock = F_OFD_SETLK;
constexpr int kGetLock = F_OFD_GETLK;
#else
constexpr int kSetLock = F_SETLK;
constexpr int kGetLock = F_GETLK;
#endif

// Lock files (device, inode) locked by this process: classic fcntl locks do not exclude
// the process that holds them, so a second LockFile from the same process is refused here.
using FileKey = std::pair<uint64_t, uint64_t>;
std::mutex g_locks_mu;
// REQUIRES: g_locks_mu held.
std::set<FileKey>* LockedFiles() {
  static std::set<FileKey>* files = new std::set<FileKey>();
  static pid_t owner = ::getpid();
  if (owner != ::getpid()) {  // a forked child: the parent's locks are not the child's
    files->clear();
    owner = ::getpid();
  }
  return files;
}

class PosixFileLock : public FileLock {
 public:
  PosixFileLock(FileKey key, int fd) : key_(key), fd_(fd), owner_(::getpid()) {}
  ~PosixFileLock() override {
    if (owner_ != ::getpid()) {  // a copy in a forked child: never unlock the parent's lock
      ::close(fd_);
      return;
    }
    if (::ftruncate(fd_, 0) != 0) {
      // Best effort: a stale pid in an unlocked file is harmless.
    }
    struct flock f;
    std::memset(&f, 0, sizeof(f));
    f.l_type = F_UNLCK;
    f.l_whence = SEEK_SET;
    ::fcntl(fd_, kSetLock, &f);
    ::close(fd_);
    std::lock_guard<std::mutex> l(g_locks_mu);
    LockedFiles()->erase(key_);
  }

 private:
  const FileKey key_;
  const int fd_;
  const pid_t owner_;
};

std::string StoreOf(const std::string& lock_path) {
  std::string dir = DirName(lock_path);
  return dir.empty() ? "." : dir;
}

class PosixEnvImpl : public Env {
 public:
  Status NewRandomAccessFile(const std::string& path,
                             std::unique_ptr<RandomAccessFile>* file) override {
    int fd = RetryOpen(path.c_str(), O_RDONLY);
    if (fd < 0) return PosixError("open", path, errno);
    *file = std::make_unique<PosixRandomAccessFile>(path, fd);
    return Status::OK();
  }

  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* file) override {
    int fd = RetryOpen(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC);
    if (fd < 0) return PosixError("create", path, errno);
    *file = std::make_unique<PosixWritableFile>(path, fd, 0);
    return Status::OK();
  }

  Status NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* file) override {
    int fd = RetryOpen(path.c_str(), O_WRONLY | O_CREAT | O_APPEND);
    if (fd < 0) return PosixError("open for append", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return PosixError("stat", path, err);
    }
    *file = std::make_unique<PosixWritableFile>(path, fd, static_cast<uint64_t>(st.st_size));
    return Status::OK();
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Status IsDirectory(const std::string& path, bool* is_dir) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    *is_dir = S_ISDIR(st.st_mode);
    return Status::OK();
  }

  Status GetChildren(const std::string& dir, std::vector<std::string>* names) override {
    names->clear();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError("list", dir, errno);
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
        names->emplace_back(e->d_name);
      }
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) return PosixError("list", dir, err);
    return Status::OK();
  }

  Status GetFileSize(const std::string& path, uint64_t* size) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    *size = static_cast<uint64_t>(st.st_size);
    return Status::OK();
  }

  Status CreateDir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) == 0) return Status::OK();
    const int err = errno;
    if (err == EEXIST) {
      struct stat st;
      if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::OK();
      return Status::IOError("create directory " + dir + ": a file of that name exists");
    }
    return PosixError("create directory", dir, err);
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("remove", path, errno);
    return Status::OK();
  }

  Status RemoveDir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0) return PosixError("remove directory", dir, errno);
    return Status::OK();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return PosixError("rename", from + " to " + to, errno);
    }
    return Status::OK();
  }

  Status TruncateFile(const std::string& path, uint64_t size) override {
    int r;
    do {
      r = ::truncate(path.c_str(), static_cast<off_t>(size));
    } while (r != 0 && errno == EINTR);
    if (r != 0) return PosixError("truncate", path, errno);
    return Status::OK();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = RetryOpen(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return PosixError("open directory", dir, errno);
    Status s;
    if (::fsync(fd) != 0) s = PosixError("fsync directory", dir, errno);
    ::close(fd);
    return s;
  }

  Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) override {
    std::lock_guard<std::mutex> l(g_locks_mu);
    // Checked before opening: closing any descriptor of a file drops this process's
    // fcntl locks on it, so a file we hold must not be opened and closed again.
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 &&
        LockedFiles()->count(
            FileKey(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino))) != 0) {
      return Status::Locked("store " + StoreOf(path) + " is locked by process " +
                            std::to_string(::getpid()) + " (this process)");
    }
    int fd = RetryOpen(path.c_str(), O_RDWR | O_CREAT);
    if (fd < 0) return PosixError("open lock file", path, errno);
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return PosixError("stat", path, err);
    }
    const FileKey key(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
    struct flock f;
    std::memset(&f, 0, sizeof(f));
    f.l_type = F_WRLCK;
    f.l_whence = SEEK_SET;
    if (::fcntl(fd, kSetLock, &f) != 0) {
      const int err = errno;
      if (err == EACCES || err == EAGAIN) {
        std::string holder = HolderOf(fd);
        ::close(fd);
        return Status::Locked("store " + StoreOf(path) + " is locked by process " + holder);
      }
      ::close(fd);
      return PosixError("lock", path, err);
    }
    // A host that cannot take fcntl locks (the Node/WASM package) holds a store by writing
    // "<pid> <host>" in LOCK: refuse while that process lives. A plain "<pid>" is ours and,
    // with no fcntl lock on it, stale (its writer died).
    const std::string lockless = LocklessHolderOf(fd);
    if (!lockless.empty()) {
      ::close(fd);  // drops the fcntl lock just taken
      return Status::Locked("store " + StoreOf(path) + " is locked by process " + lockless);
    }
    // Record the holder so a refused opener can name it.
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
      // The lock is held all the same; only the holder's name is missing.
    }
    LockedFiles()->insert(key);
    *lock = std::make_unique<PosixFileLock>(key, fd);
    return Status::OK();
  }

 private:
  // "<pid> (<host>)" when the lock file was written by a live process other than this one
  // through a host without fcntl locks ("<pid> <host>"), else "".
  static std::string LocklessHolderOf(int fd) {
    char buf[64];
    const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0) return "";
    const std::string text(buf, static_cast<size_t>(n));
    size_t i = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == 0 || i > 9 || i >= text.size() || text[i] != ' ') return "";
    size_t end = i + 1;
    while (end < text.size() && text[end] > ' ' && text[end] <= '~') ++end;
    const std::string host = text.substr(i + 1, end - i - 1);
    if (host.empty()) return "";
    const pid_t pid = static_cast<pid_t>(std::stol(text.substr(0, i)));
    if (pid <= 0 || pid == ::getpid()) return "";
    if (::kill(pid, 0) != 0 && errno != EPERM) return "";  // gone
    return std::to_string(pid) + " (" + host + ")";
  }

  // The pid written in the lock file by its holder, or "unknown".
  static std::string HolderOf(int fd) {
    char buf[32];
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    std::string pid;
    for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) pid.push_back(buf[i]);
    if (!pid.empty()) return pid;
    // Classic fcntl locks can name the holder even when the file holds no pid.
    struct flock f;
    std::memset(&f, 0, sizeof(f));
    f.l_type = F_WRLCK;
    f.l_whence = SEEK_SET;
    if (::fcntl(fd, kGetLock, &f) == 0 && f.l_type != F_UNLCK && f.l_pid > 0) {
      return std::to_string(f.l_pid);
    }
    return "unknown";
  }
};

}  // namespace

Env* PosixEnv() {
  static Env* env = new PosixEnvImpl();  // never destroyed: usable at exit
  return env;
}

}  // namespace t4dx

#endif  // __EMSCRIPTEN__
