// Helpers for the env tests: a scratch directory per test for each Env kind.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "env/fault_env.h"
#include "t4dx/env.h"

namespace t4dx {
namespace testing_util {

// A fresh temporary directory under /tmp, removed (with its contents) on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/t4dx_env_test_XXXXXX";
    char* p = ::mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline Status WriteString(Env* env, const std::string& path, std::string_view data,
                          bool sync = false) {
  std::unique_ptr<WritableFile> f;
  T4DX_RETURN_IF_ERROR(env->NewWritableFile(path, &f));
  T4DX_RETURN_IF_ERROR(f->Append(data));
  if (sync) T4DX_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

inline std::string ReadString(Env* env, const std::string& path) {
  std::string data;
  Status s = ReadFileToString(env, path, &data);
  return s.ok() ? data : "<" + std::string(Status::CodeName(s.code())) + ">";
}

}  // namespace testing_util
}  // namespace t4dx
