// ForwardingEnv: an Env that hands every call to a base Env. Tests derive from it and
// override only the calls they watch or hold (see CompactorGateEnv, HookEnv).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "t4dx/env.h"
#include "t4dx/status.h"

namespace t4dx {
namespace testing_util {

class ForwardingEnv : public Env {
 public:
  explicit ForwardingEnv(Env* base) : base_(base) {}

  Status NewRandomAccessFile(const std::string& p, std::unique_ptr<RandomAccessFile>* f) override {
    return base_->NewRandomAccessFile(p, f);
  }
  Status NewWritableFile(const std::string& p, std::unique_ptr<WritableFile>* f) override {
    return base_->NewWritableFile(p, f);
  }
  Status NewAppendableFile(const std::string& p, std::unique_ptr<WritableFile>* f) override {
    return base_->NewAppendableFile(p, f);
  }
  bool FileExists(const std::string& p) override { return base_->FileExists(p); }
  Status IsDirectory(const std::string& p, bool* d) override { return base_->IsDirectory(p, d); }
  Status GetChildren(const std::string& d, std::vector<std::string>* n) override {
    return base_->GetChildren(d, n);
  }
  Status GetFileSize(const std::string& p, uint64_t* s) override {
    return base_->GetFileSize(p, s);
  }
  Status CreateDir(const std::string& d) override { return base_->CreateDir(d); }
  Status RemoveFile(const std::string& p) override { return base_->RemoveFile(p); }
  Status RemoveDir(const std::string& d) override { return base_->RemoveDir(d); }
  Status RenameFile(const std::string& a, const std::string& b) override {
    return base_->RenameFile(a, b);
  }
  Status TruncateFile(const std::string& p, uint64_t n) override {
    return base_->TruncateFile(p, n);
  }
  Status SyncDir(const std::string& d) override { return base_->SyncDir(d); }
  Status LockFile(const std::string& p, std::unique_ptr<FileLock>* l) override {
    return base_->LockFile(p, l);
  }

 protected:
  Env* base() const { return base_; }

 private:
  Env* base_;
};

}  // namespace testing_util
}  // namespace t4dx
