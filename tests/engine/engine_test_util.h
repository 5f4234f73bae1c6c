// Helpers shared by the engine-level suites (tests/engine, tests/crash): item makers,
// whole-file read/write through an Env, temp directories for POSIX tests, JSON access.
#pragma once

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "t4dx/engine.h"
#include "t4dx/env.h"
#include "vector/distance.h"

namespace t4dx {
namespace testutil {

using json = nlohmann::json;

// A random normal vector, deterministic in seed.
inline std::vector<float> RandomVector(uint32_t dim, uint64_t seed) {
  std::mt19937_64 rng(seed * 7919 + 17);
  std::normal_distribution<float> nd;
  std::vector<float> v(dim);
  for (auto& x : v) x = nd(rng);
  return v;
}

inline Item MakeItem(const std::string& id, uint32_t dim, uint64_t seed, int64_t ts = 1000,
                     const std::string& content = "") {
  Item it;
  it.id = id;
  it.kind = "episode";
  it.content = content.empty() ? "content of " + id + " #" + std::to_string(seed) : content;
  it.timestamp = ts;
  it.embedding = RandomVector(dim, seed);
  it.metadata["tag"] = MetaValue::String(seed % 2 ? "odd" : "even");
  return it;
}

// The vector as a cosine store keeps it (normalized on write by the engine's own code).
inline std::vector<float> Normalized(std::vector<float> v) {
  NormalizeInPlace(v.data(), v.size());
  return v;
}

inline std::string ReadAll(Env* env, const std::string& path) {
  std::string data;
  Status s = ReadFileToString(env, path, &data);
  if (!s.ok()) return "<" + s.ToString() + ">";
  return data;
}

inline Status WriteAll(Env* env, const std::string& path, const std::string& data) {
  std::unique_ptr<WritableFile> f;
  T4DX_RETURN_IF_ERROR(env->NewWritableFile(path, &f));
  T4DX_RETURN_IF_ERROR(f->Append(data));
  T4DX_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

inline std::vector<std::string> Children(Env* env, const std::string& dir) {
  std::vector<std::string> names;
  env->GetChildren(dir, &names);
  std::sort(names.begin(), names.end());
  return names;
}

inline json Describe(Engine* db, View view, const std::string& arg = "") {
  std::string out;
  Status s = db->Describe(view, arg, &out);
  if (!s.ok()) return json{{"error", s.ToString()}};
  return json::parse(out, nullptr, false);
}

inline bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// Live ids in Scan order.
inline std::vector<std::string> ScanIds(Engine* db, Status* status = nullptr) {
  std::vector<std::string> ids;
  ScanOptions so;
  so.include_embedding = false;
  Status s = db->Scan(so, [&](const Item& it) {
    ids.push_back(it.id);
    return true;
  });
  if (status) *status = s;
  return ids;
}

// A fresh directory under /tmp, removed (recursively) by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "t4dx_engine") {
    std::string tmpl = "/tmp/" + prefix + "_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    char* p = ::mkdtemp(buf.data());
    path_ = p ? p : "";
  }
  ~TempDir() {
    if (!path_.empty()) RemoveTree(path_);
  }
  const std::string& path() const { return path_; }

  static void RemoveTree(const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
      if (DIR* d = ::opendir(path.c_str())) {
        while (struct dirent* e = ::readdir(d)) {
          if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
          RemoveTree(path + "/" + e->d_name);
        }
        ::closedir(d);
      }
      ::rmdir(path.c_str());
    } else {
      ::unlink(path.c_str());
    }
  }

 private:
  std::string path_;
};

// Cycle counts: the default, or T4DX_CRASH_CYCLES when set (sanitizer runs lower it).
inline int CyclesFromEnv(int default_cycles) {
  const char* v = std::getenv("T4DX_CRASH_CYCLES");
  if (v == nullptr || *v == '\0') return default_cycles;
  int n = std::atoi(v);
  return n > 0 ? n : default_cycles;
}

// True when T4DX_CRASH_CYCLES is set: a reduced run (sanitizer builds); suites shrink
// their data and sample instead of sweeping.
inline bool ReducedRun() { return CyclesFromEnv(0) > 0; }

}  // namespace testutil
}  // namespace t4dx
