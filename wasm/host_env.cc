// HostEnv: t4dx::Env over the host functions of host_env.h.
#include "host_env.h"

#include <string>
#include <utility>
#include <vector>

namespace t4dx {

namespace {

// Largest single host read or write: keeps every count inside int32.
constexpr size_t kMaxChunk = 1u << 30;

Status StatusFromCodeName(const std::string& name, std::string msg) {
  if (name == "not_found") return Status::NotFound(std::move(msg));
  if (name == "no_space") return Status::NoSpace(std::move(msg));
  if (name == "locked") return Status::Locked(std::move(msg));
  if (name == "invalid_argument") return Status::InvalidArgument(std::move(msg));
  if (name == "not_supported") return Status::NotSupported(std::move(msg));
  if (name == "busy") return Status::Busy(std::move(msg));
  if (name == "aborted") return Status::Aborted(std::move(msg));
  if (name == "failed_precondition") return Status::FailedPrecondition(std::move(msg));
  if (name == "corruption") return Status::Corruption(std::move(msg));
  return Status::IOError(std::move(msg));
}

std::string LastHostError() {
  std::string buf(256, '\0');
  int32_t n = t4dx_host_last_error(&buf[0], static_cast<int32_t>(buf.size()));
  if (n < 0) return "io_error unknown host error";
  if (static_cast<size_t>(n) >= buf.size()) {
    buf.assign(static_cast<size_t>(n) + 1, '\0');
    n = t4dx_host_last_error(&buf[0], static_cast<int32_t>(buf.size()));
    if (n < 0) return "io_error unknown host error";
  }
  buf.resize(static_cast<size_t>(n) < buf.size() ? static_cast<size_t>(n) : buf.size() - 1);
  return buf;
}

class HostRandomAccessFile : public RandomAccessFile {
 public:
  HostRandomAccessFile(std::string path, int32_t handle)
      : path_(std::move(path)), handle_(handle) {}
  ~HostRandomAccessFile() override { t4dx_host_close(handle_); }

  Status Read(uint64_t offset, size_t n, std::string* result) const override {
    result->resize(n);
    size_t got = 0;
    while (got < n) {
      size_t want = n - got < kMaxChunk ? n - got : kMaxChunk;
      int32_t r = t4dx_host_read(handle_, static_cast<double>(offset + got), &(*result)[got],
                                 static_cast<int32_t>(want));
      if (r < 0) {
        result->clear();
        return HostError("read", path_);
      }
      got += static_cast<size_t>(r);
      if (static_cast<size_t>(r) < want) break;  // end of file
    }
    result->resize(got);
    return Status::OK();
  }

  Status Size(uint64_t* size) const override {
    double s = t4dx_host_handle_size(handle_);
    if (s < 0) return HostError("size", path_);
    *size = static_cast<uint64_t>(s);
    return Status::OK();
  }

 private:
  std::string path_;
  int32_t handle_;
};

class HostWritableFile : public WritableFile {
 public:
  HostWritableFile(std::string path, int32_t handle, uint64_t size)
      : path_(std::move(path)), handle_(handle), size_(size) {}
  ~HostWritableFile() override { Close(); }

  Status Append(std::string_view data) override {
    if (handle_ < 0) return Status::FailedPrecondition("append " + path_ + ": file is closed");
    size_t done = 0;
    while (done < data.size()) {
      size_t want = data.size() - done < kMaxChunk ? data.size() - done : kMaxChunk;
      int32_t r = t4dx_host_write(handle_, static_cast<double>(size_), data.data() + done,
                                  static_cast<int32_t>(want));
      if (r < 0) return HostError("append", path_);
      if (static_cast<size_t>(r) != want) {
        return Status::IOError("append " + path_ + ": short write of " + std::to_string(r) +
                               " of " + std::to_string(want) + " bytes at offset " +
                               std::to_string(size_));
      }
      size_ += want;
      done += want;
    }
    return Status::OK();
  }

  Status Sync() override {
    if (handle_ < 0) return Status::FailedPrecondition("sync " + path_ + ": file is closed");
    if (t4dx_host_sync(handle_) < 0) return HostError("sync", path_);
    return Status::OK();
  }

  Status Close() override {
    if (handle_ < 0) return Status::OK();
    int32_t h = handle_;
    handle_ = -1;
    if (t4dx_host_close(h) < 0) return HostError("close", path_);
    return Status::OK();
  }

  uint64_t Size() const override { return size_; }

 private:
  std::string path_;
  int32_t handle_;
  uint64_t size_;
};

class HostFileLock : public FileLock {
 public:
  explicit HostFileLock(int32_t id) : id_(id) {}
  ~HostFileLock() override { t4dx_host_unlock(id_); }

 private:
  int32_t id_;
};

class HostEnv : public Env {
 public:
  Status NewRandomAccessFile(const std::string& path,
                             std::unique_ptr<RandomAccessFile>* file) override {
    int32_t h = t4dx_host_open(path.c_str(), T4DX_HOST_OPEN_READ);
    if (h < 0) return HostError("open", path);
    *file = std::make_unique<HostRandomAccessFile>(path, h);
    return Status::OK();
  }

  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* file) override {
    return OpenWritable(path, T4DX_HOST_OPEN_TRUNCATE, file);
  }

  Status NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* file) override {
    return OpenWritable(path, T4DX_HOST_OPEN_APPEND, file);
  }

  bool FileExists(const std::string& path) override {
    return t4dx_host_stat(path.c_str()) > T4DX_HOST_MISSING;
  }

  Status IsDirectory(const std::string& path, bool* is_dir) override {
    int32_t k = t4dx_host_stat(path.c_str());
    if (k < 0) return HostError("stat", path);
    if (k == T4DX_HOST_MISSING) return Status::NotFound("stat " + path + ": no such file");
    *is_dir = k == T4DX_HOST_DIRECTORY;
    return Status::OK();
  }

  Status GetChildren(const std::string& dir, std::vector<std::string>* names) override {
    names->clear();
    std::string buf(4096, '\0');
    int32_t n = t4dx_host_list(dir.c_str(), &buf[0], static_cast<int32_t>(buf.size()));
    if (n < 0) return HostError("list", dir);
    if (static_cast<size_t>(n) > buf.size()) {
      buf.assign(static_cast<size_t>(n), '\0');
      n = t4dx_host_list(dir.c_str(), &buf[0], static_cast<int32_t>(buf.size()));
      if (n < 0) return HostError("list", dir);
      if (static_cast<size_t>(n) > buf.size()) {
        return Status::IOError("list " + dir + ": directory changed while being listed");
      }
    }
    size_t start = 0;
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      if (buf[i] == '\0') {
        if (i > start) names->emplace_back(buf, start, i - start);
        start = i + 1;
      }
    }
    return Status::OK();
  }

  Status GetFileSize(const std::string& path, uint64_t* size) override {
    double s = t4dx_host_size(path.c_str());
    if (s < 0) return HostError("size", path);
    *size = static_cast<uint64_t>(s);
    return Status::OK();
  }

  Status CreateDir(const std::string& dir) override {
    return Check(t4dx_host_mkdir(dir.c_str()), "mkdir", dir);
  }
  Status RemoveFile(const std::string& path) override {
    return Check(t4dx_host_remove(path.c_str()), "remove", path);
  }
  Status RemoveDir(const std::string& dir) override {
    return Check(t4dx_host_rmdir(dir.c_str()), "rmdir", dir);
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return Check(t4dx_host_rename(from.c_str(), to.c_str()), "rename", from + " -> " + to);
  }
  Status TruncateFile(const std::string& path, uint64_t size) override {
    return Check(t4dx_host_truncate(path.c_str(), static_cast<double>(size)), "truncate", path);
  }
  Status SyncDir(const std::string& dir) override {
    return Check(t4dx_host_syncdir(dir.c_str()), "syncdir", dir);
  }

  Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) override {
    int32_t id = t4dx_host_lock(path.c_str());
    if (id < 0) return HostError("lock", path);
    *lock = std::make_unique<HostFileLock>(id);
    return Status::OK();
  }

 private:
  static Status Check(int32_t rc, const char* op, const std::string& path) {
    return rc < 0 ? HostError(op, path) : Status::OK();
  }

  static Status OpenWritable(const std::string& path, int32_t mode,
                             std::unique_ptr<WritableFile>* file) {
    int32_t h = t4dx_host_open(path.c_str(), mode);
    if (h < 0) return HostError("open", path);
    double size = t4dx_host_handle_size(h);
    if (size < 0) {
      Status s = HostError("size", path);
      t4dx_host_close(h);
      return s;
    }
    *file = std::make_unique<HostWritableFile>(path, h, static_cast<uint64_t>(size));
    return Status::OK();
  }
};

}  // namespace

Status HostError(const char* op, const std::string& path) {
  std::string text = LastHostError();
  size_t space = text.find(' ');
  std::string code = space == std::string::npos ? text : text.substr(0, space);
  std::string message = space == std::string::npos ? "" : text.substr(space + 1);
  std::string where = std::string(op) + " " + path;
  return StatusFromCodeName(code, message.empty() ? where : where + ": " + message);
}

std::unique_ptr<Env> NewHostEnv() { return std::make_unique<HostEnv>(); }

}  // namespace t4dx
