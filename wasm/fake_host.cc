// FakeHost: the host functions of host_env.h over an in-memory tree (native builds only).
#include "fake_host.h"

#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "host_env.h"

namespace t4dx {
namespace fake_host {
namespace {

struct Handle {
  std::shared_ptr<std::string> data;
  bool writable = false;
};

struct State {
  std::map<std::string, std::shared_ptr<std::string>> files;
  std::set<std::string> dirs;
  std::map<int32_t, Handle> handles;
  std::map<int32_t, std::string> locks;
  int32_t next_id = 0;
  std::string last_error;
  std::string fail_code;  // armed by FailNextCall
  std::string fail_message;
  size_t syncs = 0;
};

State& S() {
  static State* state = new State();
  return *state;
}

// "a//b/" -> "a/b"; "" and "/" stay the root.
std::string Norm(const char* p) {
  std::string out;
  for (const char* c = p; *c; ++c) {
    if (*c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(*c);
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool IsRoot(const std::string& p) { return p.empty() || p == "/" || p == "."; }
bool DirExists(const std::string& p) { return IsRoot(p) || S().dirs.count(p) > 0; }

int32_t Fail(const std::string& code, const std::string& message) {
  S().last_error = code + " " + message;
  return -1;
}

// Consumes an armed failure: true (and the error set) if this call must fail.
bool Armed() {
  State& s = S();
  if (s.fail_code.empty()) return false;
  s.last_error = s.fail_code + " " + s.fail_message;
  s.fail_code.clear();
  return true;
}

Handle* FindHandle(int32_t h) {
  auto it = S().handles.find(h);
  return it == S().handles.end() ? nullptr : &it->second;
}

bool HasPrefix(const std::string& s, const std::string& prefix) {
  return s.size() > prefix.size() && s.compare(0, prefix.size(), prefix) == 0 &&
         s[prefix.size()] == '/';
}

}  // namespace

void Reset() {
  State& s = S();
  s = State();
}
void FailNextCall(const std::string& code, const std::string& message) {
  S().fail_code = code;
  S().fail_message = message;
}
size_t OpenHandles() { return S().handles.size(); }
size_t HeldLocks() { return S().locks.size(); }
size_t SyncCalls() { return S().syncs; }

}  // namespace fake_host
}  // namespace t4dx

using namespace t4dx::fake_host;  // NOLINT: the extern "C" functions below implement it

extern "C" {

int32_t t4dx_host_open(const char* path, int32_t mode) {
  if (Armed()) return -1;
  State& s = S();
  std::string p = Norm(path);
  if (s.dirs.count(p) || IsRoot(p)) return Fail("io_error", "is a directory");
  auto it = s.files.find(p);
  if (mode == T4DX_HOST_OPEN_READ) {
    if (it == s.files.end()) return Fail("not_found", "no such file");
  } else {
    if (!DirExists(Parent(p))) return Fail("not_found", "no such directory " + Parent(p));
    if (it == s.files.end()) {
      it = s.files.emplace(p, std::make_shared<std::string>()).first;
    } else if (mode == T4DX_HOST_OPEN_TRUNCATE) {
      it->second->clear();
    }
  }
  int32_t h = s.next_id++;
  s.handles[h] = Handle{it->second, mode != T4DX_HOST_OPEN_READ};
  return h;
}

int32_t t4dx_host_close(int32_t handle) {
  if (S().handles.erase(handle) == 0) return Fail("invalid_argument", "bad handle");
  return 0;
}

int32_t t4dx_host_read(int32_t handle, double offset, char* buf, int32_t n) {
  if (Armed()) return -1;
  Handle* h = FindHandle(handle);
  if (!h) return Fail("invalid_argument", "bad handle");
  const std::string& d = *h->data;
  size_t off = static_cast<size_t>(offset);
  if (off >= d.size()) return 0;
  size_t got = std::min(static_cast<size_t>(n), d.size() - off);
  std::memcpy(buf, d.data() + off, got);
  return static_cast<int32_t>(got);
}

int32_t t4dx_host_write(int32_t handle, double offset, const char* buf, int32_t n) {
  if (Armed()) return -1;
  Handle* h = FindHandle(handle);
  if (!h) return Fail("invalid_argument", "bad handle");
  if (!h->writable) return Fail("io_error", "handle is read only");
  std::string& d = *h->data;
  size_t off = static_cast<size_t>(offset);
  if (d.size() < off + static_cast<size_t>(n)) d.resize(off + static_cast<size_t>(n), '\0');
  std::memcpy(&d[off], buf, static_cast<size_t>(n));
  return n;
}

int32_t t4dx_host_sync(int32_t handle) {
  if (Armed()) return -1;
  if (!FindHandle(handle)) return Fail("invalid_argument", "bad handle");
  ++S().syncs;
  return 0;
}

double t4dx_host_handle_size(int32_t handle) {
  if (Armed()) return -1;
  Handle* h = FindHandle(handle);
  if (!h) return Fail("invalid_argument", "bad handle");
  return static_cast<double>(h->data->size());
}

double t4dx_host_size(const char* path) {
  if (Armed()) return -1;
  auto it = S().files.find(Norm(path));
  if (it == S().files.end()) return Fail("not_found", "no such file");
  return static_cast<double>(it->second->size());
}

int32_t t4dx_host_stat(const char* path) {
  if (Armed()) return -1;
  std::string p = Norm(path);
  if (DirExists(p)) return T4DX_HOST_DIRECTORY;
  return S().files.count(p) ? T4DX_HOST_FILE : T4DX_HOST_MISSING;
}

int32_t t4dx_host_list(const char* dir, char* buf, int32_t cap) {
  if (Armed()) return -1;
  State& s = S();
  std::string d = Norm(dir);
  if (!DirExists(d)) return Fail("not_found", "no such directory");
  std::string prefix = IsRoot(d) ? (d == "/" ? "/" : "") : d + "/";
  std::string out;
  auto add = [&](const std::string& p) {
    if (p.compare(0, prefix.size(), prefix) != 0 || p.size() == prefix.size()) return;
    std::string rest = p.substr(prefix.size());
    if (rest.find('/') != std::string::npos) return;
    out += rest;
    out.push_back('\0');
  };
  for (const auto& f : s.files) add(f.first);
  for (const auto& x : s.dirs) add(x);
  if (out.size() <= static_cast<size_t>(cap)) std::memcpy(buf, out.data(), out.size());
  return static_cast<int32_t>(out.size());
}

int32_t t4dx_host_mkdir(const char* path) {
  if (Armed()) return -1;
  State& s = S();
  std::string p = Norm(path);
  if (DirExists(p)) return 0;
  if (s.files.count(p)) return Fail("io_error", "exists as a file");
  if (!DirExists(Parent(p))) return Fail("not_found", "no such directory " + Parent(p));
  s.dirs.insert(p);
  return 0;
}

int32_t t4dx_host_rmdir(const char* path) {
  if (Armed()) return -1;
  State& s = S();
  std::string p = Norm(path);
  if (!s.dirs.count(p)) return Fail("not_found", "no such directory");
  for (const auto& f : s.files) {
    if (HasPrefix(f.first, p)) return Fail("io_error", "directory not empty");
  }
  for (const auto& x : s.dirs) {
    if (HasPrefix(x, p)) return Fail("io_error", "directory not empty");
  }
  s.dirs.erase(p);
  return 0;
}

int32_t t4dx_host_remove(const char* path) {
  if (Armed()) return -1;
  if (S().files.erase(Norm(path)) == 0) return Fail("not_found", "no such file");
  return 0;
}

int32_t t4dx_host_rename(const char* from, const char* to) {
  if (Armed()) return -1;
  State& s = S();
  std::string f = Norm(from), t = Norm(to);
  if (!DirExists(Parent(t))) return Fail("not_found", "no such directory " + Parent(t));
  auto it = s.files.find(f);
  if (it != s.files.end()) {
    if (s.dirs.count(t)) return Fail("io_error", "target is a directory");
    auto data = it->second;
    s.files.erase(it);
    s.files[t] = data;
    return 0;
  }
  if (!s.dirs.count(f)) return Fail("not_found", "no such file or directory");
  if (s.files.count(t)) return Fail("io_error", "target is a file");
  if (s.dirs.count(t)) {
    for (const auto& x : s.files) {
      if (HasPrefix(x.first, t)) return Fail("io_error", "target directory not empty");
    }
  }
  // Move the directory and everything below it.
  std::map<std::string, std::shared_ptr<std::string>> files;
  for (auto& x : s.files) {
    files[HasPrefix(x.first, f) ? t + x.first.substr(f.size()) : x.first] = x.second;
  }
  std::set<std::string> dirs;
  for (const auto& x : s.dirs) {
    dirs.insert(x == f ? t : HasPrefix(x, f) ? t + x.substr(f.size()) : x);
  }
  s.files.swap(files);
  s.dirs.swap(dirs);
  return 0;
}

int32_t t4dx_host_truncate(const char* path, double size) {
  if (Armed()) return -1;
  auto it = S().files.find(Norm(path));
  if (it == S().files.end()) return Fail("not_found", "no such file");
  it->second->resize(static_cast<size_t>(size), '\0');
  return 0;
}

int32_t t4dx_host_syncdir(const char* path) {
  if (Armed()) return -1;
  if (!DirExists(Norm(path))) return Fail("not_found", "no such directory");
  return 0;
}

int32_t t4dx_host_lock(const char* path) {
  if (Armed()) return -1;
  State& s = S();
  std::string p = Norm(path);
  for (const auto& l : s.locks) {
    if (l.second == p)
      return Fail("locked", "held by this process (lock " + std::to_string(l.first) + ")");
  }
  if (!DirExists(Parent(p))) return Fail("not_found", "no such directory " + Parent(p));
  s.files.emplace(p, std::make_shared<std::string>());
  int32_t id = s.next_id++;
  s.locks[id] = p;
  return id;
}

int32_t t4dx_host_unlock(int32_t lock_id) {
  if (S().locks.erase(lock_id) == 0) return Fail("invalid_argument", "bad lock id");
  return 0;
}

int32_t t4dx_host_last_error(char* buf, int32_t cap) {
  const std::string& e = S().last_error;
  if (cap > 0) {
    size_t n = std::min(e.size(), static_cast<size_t>(cap) - 1);
    std::memcpy(buf, e.data(), n);
    buf[n] = '\0';
  }
  return static_cast<int32_t>(e.size());
}

}  // extern "C"
