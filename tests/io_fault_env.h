// IoFaultEnv: an in-memory Env whose reads and closes can be made to fail, per path, for
// tests of I/O error branches that FaultInjectionEnv (mutating calls only) cannot reach:
// GetFileSize, NewRandomAccessFile, RandomAccessFile::Read and MapWhole, and
// WritableFile::Close.
// Faults are set and cleared between calls; not for use from several threads at once.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "forwarding_env.h"
#include "t4dx/env.h"
#include "t4dx/status.h"

namespace t4dx {
namespace testing_util {

// The in-memory Env an IoFaultEnv owns (a base class, so that it exists before the
// ForwardingEnv that points at it).
struct OwnedMemEnv {
  std::unique_ptr<Env> mem = NewMemEnv();
};

class IoFaultEnv : private OwnedMemEnv, public ForwardingEnv {
 public:
  IoFaultEnv() : ForwardingEnv(mem.get()) {}

  // Paths whose GetFileSize / NewRandomAccessFile / Read fail with EIO (kIOError).
  std::set<std::string> fail_size, fail_open, fail_read;
  // Paths whose RandomAccessFile::MapWhole fails with EIO (as mmap can on some file
  // systems); every other path is not mappable (kNotSupported), as in MemEnv.
  std::set<std::string> fail_map;
  // When set, Close() of every writable file fails with EIO (the data stays written).
  bool fail_close = false;

  Status NewRandomAccessFile(const std::string& path,
                             std::unique_ptr<RandomAccessFile>* file) override {
    if (fail_open.count(path)) return Status::IOError(path + ": injected open error");
    std::unique_ptr<RandomAccessFile> f;
    Status s = base()->NewRandomAccessFile(path, &f);
    if (s.ok()) *file = std::make_unique<Reader>(this, path, std::move(f));
    return s;
  }
  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* file) override {
    return Wrap(base()->NewWritableFile(path, file), file);
  }
  Status NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* file) override {
    return Wrap(base()->NewAppendableFile(path, file), file);
  }
  Status GetFileSize(const std::string& path, uint64_t* size) override {
    if (fail_size.count(path)) return Status::IOError(path + ": injected stat error");
    return base()->GetFileSize(path, size);
  }

 private:
  class Reader : public RandomAccessFile {
   public:
    Reader(IoFaultEnv* env, std::string path, std::unique_ptr<RandomAccessFile> f)
        : env_(env), path_(std::move(path)), f_(std::move(f)) {}
    Status Read(uint64_t offset, size_t n, std::string* result) const override {
      if (env_->fail_read.count(path_)) return Status::IOError(path_ + ": injected read error");
      return f_->Read(offset, n, result);
    }
    Status Size(uint64_t* size) const override { return f_->Size(size); }
    Status MapWhole(std::string_view* data, std::shared_ptr<const void>* keep) const override {
      if (env_->fail_map.count(path_)) return Status::IOError(path_ + ": injected mmap error");
      return f_->MapWhole(data, keep);
    }

   private:
    IoFaultEnv* env_;
    std::string path_;
    std::unique_ptr<RandomAccessFile> f_;
  };
  class Writer : public WritableFile {
   public:
    Writer(IoFaultEnv* env, std::unique_ptr<WritableFile> f) : env_(env), f_(std::move(f)) {}
    Status Append(std::string_view data) override { return f_->Append(data); }
    Status Sync() override { return f_->Sync(); }
    Status Close() override {
      Status s = f_->Close();
      if (s.ok() && env_->fail_close) return Status::IOError("injected close error");
      return s;
    }
    uint64_t Size() const override { return f_->Size(); }

   private:
    IoFaultEnv* env_;
    std::unique_ptr<WritableFile> f_;
  };

  Status Wrap(Status s, std::unique_ptr<WritableFile>* file) {
    if (s.ok()) *file = std::make_unique<Writer>(this, std::move(*file));
    return s;
  }
};

}  // namespace testing_util
}  // namespace t4dx
