// FaultInjectionEnv: an in-memory file system that remembers what is durable.
//
// Model: a tree of nodes. A file node holds its bytes and `synced`, the length of the
// prefix made durable by Sync(). A directory node holds its current entries and
// `durable`, the entries as of its last SyncDir(). A machine crash rebuilds the tree from
// the durable entries and cuts every file's unsynced tail (drop / tear / zero-fill).
//
// Leniency, so tests can use any absolute or relative path: "/a" and "a" name the same
// file; missing parent directories are created implicitly and count as pre-existing
// (durable at once), and so do directories created directly under the root.
#include "env/fault_env.h"

#include <limits>
#include <map>
#include <random>
#include <set>
#include <vector>

namespace t4dx {

namespace {

struct Node {
  explicit Node(bool dir) : is_dir(dir) {}
  const bool is_dir;
  // File.
  std::string data;
  uint64_t synced = 0;
  // Directory.
  std::map<std::string, std::shared_ptr<Node>> entries;
  std::map<std::string, std::shared_ptr<Node>> durable;
};

using NodePtr = std::shared_ptr<Node>;

std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    if (!part.empty() && part != ".") parts.push_back(std::move(part));
    i = j + 1;
  }
  return parts;
}

Status ErrorFor(Status::Code code, std::string msg) {
  switch (code) {
    case Status::Code::kNoSpace:
      return Status::NoSpace(std::move(msg));
    case Status::Code::kNotFound:
      return Status::NotFound(std::move(msg));
    case Status::Code::kCorruption:
      return Status::Corruption(std::move(msg));
    case Status::Code::kInvalidArgument:
      return Status::InvalidArgument(std::move(msg));
    case Status::Code::kLocked:
      return Status::Locked(std::move(msg));
    case Status::Code::kNotSupported:
      return Status::NotSupported(std::move(msg));
    case Status::Code::kAborted:
      return Status::Aborted(std::move(msg));
    case Status::Code::kBusy:
      return Status::Busy(std::move(msg));
    case Status::Code::kFailedPrecondition:
      return Status::FailedPrecondition(std::move(msg));
    default:
      return Status::IOError(std::move(msg));
  }
}

}  // namespace

struct FaultInjectionEnv::State {
  std::mutex mu;
  NodePtr root = std::make_shared<Node>(true);
  uint64_t calls = 0;
  struct Fault {
    Status::Code code;
    bool sticky;
  };
  std::map<uint64_t, Fault> faults;
  bool sticky_active = false;
  Status::Code sticky_code = Status::Code::kIOError;
  uint64_t crash_at = std::numeric_limits<uint64_t>::max();
  bool non_atomic_rename = false;
  uint64_t epoch = 0;  // bumped by SimulateCrash: open handles of older epochs are dead
  std::map<std::string, uint64_t> locks;  // normalized path -> holder token
  uint64_t next_lock_token = 1;

  // Takes the index of one mutating call; returns the injected error, if any.
  // REQUIRES: mu held.
  Status BeginCall(const std::string& op, const std::string& path) {
    const uint64_t index = calls++;
    const std::string where = op + " " + path + ": ";
    if (index >= crash_at) {
      return Status::IOError(where + "refused, the process is considered dead (simulated " +
                             "crash at mutating call " + std::to_string(crash_at) + ")");
    }
    auto it = faults.find(index);
    if (it != faults.end()) {
      if (it->second.sticky) {
        sticky_active = true;
        sticky_code = it->second.code;
      }
      const Status::Code code = it->second.code;
      faults.erase(it);
      return Injected(where, code, index);
    }
    if (sticky_active) return Injected(where, sticky_code, index);
    return Status::OK();
  }

  static Status Injected(const std::string& where, Status::Code code, uint64_t index) {
    const char* what = code == Status::Code::kNoSpace ? "No space left on device (injected ENOSPC"
                                                      : "Input/output error (injected EIO";
    return ErrorFor(code, where + what + " at mutating call " + std::to_string(index) + ")");
  }

  // The node at path, or null. REQUIRES: mu held.
  NodePtr Lookup(const std::string& path) const {
    NodePtr n = root;
    for (const std::string& part : Components(path)) {
      if (!n->is_dir) return nullptr;
      auto it = n->entries.find(part);
      if (it == n->entries.end()) return nullptr;
      n = it->second;
    }
    return n;
  }

  // The parent directory of path, creating missing ones (durable at once), and the last
  // component in *name. Null with an error if a component is a file or path is the root.
  NodePtr Parent(const std::string& op, const std::string& path, std::string* name, Status* error) {
    std::vector<std::string> parts = Components(path);
    if (parts.empty()) {
      *error = Status::IOError(op + " " + path + ": is the root directory");
      return nullptr;
    }
    NodePtr n = root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      auto it = n->entries.find(parts[i]);
      if (it == n->entries.end()) {
        auto dir = std::make_shared<Node>(true);
        n->entries[parts[i]] = dir;
        n->durable[parts[i]] = dir;
        n = dir;
      } else if (!it->second->is_dir) {
        *error = Status::IOError(op + " " + path + ": " + parts[i] + " is not a directory");
        return nullptr;
      } else {
        n = it->second;
      }
    }
    *name = parts.back();
    return n;
  }

  // Applies a crash mode to the durable tree below dir. REQUIRES: mu held.
  void Crash(const NodePtr& dir, CrashMode mode, std::mt19937_64* rng, std::set<Node*>* seen) {
    if (!seen->insert(dir.get()).second) return;
    dir->entries = dir->durable;
    for (auto& [name, node] : dir->entries) {
      if (node->is_dir) {
        Crash(node, mode, rng, seen);
        continue;
      }
      if (!seen->insert(node.get()).second) continue;
      const uint64_t size = node->data.size();
      const uint64_t synced = std::min<uint64_t>(node->synced, size);
      const uint64_t unsynced = size - synced;
      switch (mode) {
        case CrashMode::kKeepUnsynced:
          break;
        case CrashMode::kDropUnsynced:
          node->data.resize(synced);
          break;
        case CrashMode::kTearUnsynced:
          node->data.resize(synced + (unsynced == 0 ? 0 : (*rng)() % (unsynced + 1)));
          break;
        case CrashMode::kZeroFillUnsynced:
          for (uint64_t i = synced; i < size; ++i) node->data[i] = '\0';
          break;
      }
    }
  }

  // After a reboot everything on "disk" is durable. REQUIRES: mu held.
  void MarkAllDurable(const NodePtr& dir) {
    dir->durable = dir->entries;
    for (auto& [name, node] : dir->entries) {
      if (node->is_dir) {
        MarkAllDurable(node);
      } else {
        node->synced = node->data.size();
      }
    }
  }
};

namespace {

using State = FaultInjectionEnv::State;

class FaultRandomAccessFile : public RandomAccessFile {
 public:
  FaultRandomAccessFile(std::shared_ptr<State> st, NodePtr node, std::string path)
      : st_(std::move(st)), node_(std::move(node)), path_(std::move(path)), epoch_(st_->epoch) {}

  Status Read(uint64_t offset, size_t n, std::string* result) const override {
    std::lock_guard<std::mutex> l(st_->mu);
    if (epoch_ != st_->epoch) return Stale("read");
    const std::string& data = node_->data;
    if (offset >= data.size()) {
      result->clear();
    } else {
      result->assign(data, static_cast<size_t>(offset), n);
    }
    return Status::OK();
  }

  Status Size(uint64_t* size) const override {
    std::lock_guard<std::mutex> l(st_->mu);
    if (epoch_ != st_->epoch) return Stale("stat");
    *size = node_->data.size();
    return Status::OK();
  }

 private:
  Status Stale(const char* op) const {
    return Status::IOError(std::string(op) + " " + path_ +
                           ": file handle invalidated by a simulated crash");
  }

  const std::shared_ptr<State> st_;
  const NodePtr node_;
  const std::string path_;
  const uint64_t epoch_;
};

class FaultWritableFile : public WritableFile {
 public:
  FaultWritableFile(std::shared_ptr<State> st, NodePtr node, std::string path)
      : st_(std::move(st)),
        node_(std::move(node)),
        path_(std::move(path)),
        epoch_(st_->epoch),
        size_(node_->data.size()) {}

  Status Append(std::string_view data) override {
    std::lock_guard<std::mutex> l(st_->mu);
    T4DX_RETURN_IF_ERROR(Check("append"));
    T4DX_RETURN_IF_ERROR(st_->BeginCall("append", path_));
    node_->data.append(data.data(), data.size());
    size_ += data.size();
    return Status::OK();
  }

  Status Sync() override {
    std::lock_guard<std::mutex> l(st_->mu);
    T4DX_RETURN_IF_ERROR(Check("sync"));
    T4DX_RETURN_IF_ERROR(st_->BeginCall("sync", path_));
    node_->synced = node_->data.size();
    return Status::OK();
  }

  Status Close() override {
    closed_ = true;
    return Status::OK();
  }

  uint64_t Size() const override { return size_; }

 private:
  Status Check(const char* op) const {
    if (closed_) return Status::IOError(std::string(op) + " " + path_ + ": file is closed");
    if (epoch_ != st_->epoch) {
      return Status::IOError(std::string(op) + " " + path_ +
                             ": file handle invalidated by a simulated crash");
    }
    return Status::OK();
  }

  const std::shared_ptr<State> st_;
  const NodePtr node_;
  const std::string path_;
  const uint64_t epoch_;
  uint64_t size_;
  bool closed_ = false;
};

class FaultFileLock : public FileLock {
 public:
  FaultFileLock(std::shared_ptr<State> st, std::string key, uint64_t token)
      : st_(std::move(st)), key_(std::move(key)), token_(token) {}
  ~FaultFileLock() override {
    std::lock_guard<std::mutex> l(st_->mu);
    auto it = st_->locks.find(key_);
    if (it != st_->locks.end() && it->second == token_) st_->locks.erase(it);
  }

 private:
  const std::shared_ptr<State> st_;
  const std::string key_;
  const uint64_t token_;
};

std::string Key(const std::string& path) {
  std::string key;
  for (const std::string& part : Components(path)) key += "/" + part;
  return key.empty() ? "/" : key;
}

Status NotFound(const std::string& op, const std::string& path) {
  return Status::NotFound(op + " " + path + ": No such file or directory");
}

}  // namespace

FaultInjectionEnv::FaultInjectionEnv() : state_(std::make_shared<State>()) {}
FaultInjectionEnv::~FaultInjectionEnv() = default;

uint64_t FaultInjectionEnv::mutating_calls() const {
  std::lock_guard<std::mutex> l(state_->mu);
  return state_->calls;
}

void FaultInjectionEnv::FailAt(uint64_t call_index, Status::Code code, bool sticky) {
  std::lock_guard<std::mutex> l(state_->mu);
  state_->faults[call_index] = State::Fault{code, sticky};
}

void FaultInjectionEnv::ClearFaults() {
  std::lock_guard<std::mutex> l(state_->mu);
  state_->faults.clear();
  state_->sticky_active = false;
}

void FaultInjectionEnv::CrashAt(uint64_t call_index) {
  std::lock_guard<std::mutex> l(state_->mu);
  state_->crash_at = call_index;
}

void FaultInjectionEnv::SetNonAtomicRename(bool on) {
  std::lock_guard<std::mutex> l(state_->mu);
  state_->non_atomic_rename = on;
}

void FaultInjectionEnv::SimulateCrash(CrashMode mode, uint64_t seed) {
  std::lock_guard<std::mutex> l(state_->mu);
  State& st = *state_;
  if (mode != CrashMode::kKeepUnsynced) {
    std::mt19937_64 rng(seed);
    std::set<Node*> seen;
    st.Crash(st.root, mode, &rng, &seen);
  }
  st.MarkAllDurable(st.root);
  st.faults.clear();
  st.sticky_active = false;
  st.crash_at = std::numeric_limits<uint64_t>::max();
  st.locks.clear();
  st.epoch++;
}

Status FaultInjectionEnv::NewRandomAccessFile(const std::string& path,
                                              std::unique_ptr<RandomAccessFile>* file) {
  std::lock_guard<std::mutex> l(state_->mu);
  NodePtr n = state_->Lookup(path);
  if (!n) return NotFound("open", path);
  if (n->is_dir) return Status::IOError("open " + path + ": Is a directory");
  *file = std::make_unique<FaultRandomAccessFile>(state_, n, path);
  return Status::OK();
}

Status FaultInjectionEnv::NewWritableFile(const std::string& path,
                                          std::unique_ptr<WritableFile>* file) {
  std::lock_guard<std::mutex> l(state_->mu);
  T4DX_RETURN_IF_ERROR(state_->BeginCall("create", path));
  std::string name;
  Status error;
  NodePtr parent = state_->Parent("create", path, &name, &error);
  if (!parent) return error;
  auto it = parent->entries.find(name);
  NodePtr n;
  if (it != parent->entries.end()) {
    n = it->second;
    if (n->is_dir) return Status::IOError("create " + path + ": Is a directory");
    n->data.clear();
    n->synced = 0;
  } else {
    n = std::make_shared<Node>(false);
    parent->entries[name] = n;
  }
  *file = std::make_unique<FaultWritableFile>(state_, n, path);
  return Status::OK();
}

Status FaultInjectionEnv::NewAppendableFile(const std::string& path,
                                            std::unique_ptr<WritableFile>* file) {
  std::lock_guard<std::mutex> l(state_->mu);
  NodePtr n = state_->Lookup(path);
  if (n) {
    if (n->is_dir) return Status::IOError("open for append " + path + ": Is a directory");
  } else {
    T4DX_RETURN_IF_ERROR(state_->BeginCall("create", path));
    std::string name;
    Status error;
    NodePtr parent = state_->Parent("create", path, &name, &error);
    if (!parent) return error;
    n = std::make_shared<Node>(false);
    parent->entries[name] = n;
  }
  *file = std::make_unique<FaultWritableFile>(state_, n, path);
  return Status::OK();
}

bool FaultInjectionEnv::FileExists(const std::string& path) {
  std::lock_guard<std::mutex> l(state_->mu);
  return state_->Lookup(path) != nullptr;
}

Status FaultInjectionEnv::IsDirectory(const std::string& path, bool* is_dir) {
  std::lock_guard<std::mutex> l(state_->mu);
  NodePtr n = state_->Lookup(path);
  if (!n) return NotFound("stat", path);
  *is_dir = n->is_dir;
  return Status::OK();
}

Status FaultInjectionEnv::GetChildren(const std::string& dir, std::vector<std::string>* names) {
  std::lock_guard<std::mutex> l(state_->mu);
  NodePtr n = state_->Lookup(dir);
  if (!n) return NotFound("list", dir);
  if (!n->is_dir) return Status::IOError("list " + dir + ": Not a directory");
  names->clear();
  for (const auto& [name, child] : n->entries) names->push_back(name);
  return Status::OK();
}

Status FaultInjectionEnv::GetFileSize(const std::string& path, uint64_t* size) {
  std::lock_guard<std::mutex> l(state_->mu);
  NodePtr n = state_->Lookup(path);
  if (!n) return NotFound("stat", path);
  if (n->is_dir) return Status::IOError("stat " + path + ": Is a directory");
  *size = n->data.size();
  return Status::OK();
}

Status FaultInjectionEnv::CreateDir(const std::string& dir) {
  std::lock_guard<std::mutex> l(state_->mu);
  T4DX_RETURN_IF_ERROR(state_->BeginCall("create directory", dir));
  std::string name;
  Status error;
  NodePtr parent = state_->Parent("create directory", dir, &name, &error);
  if (!parent) {
    if (Components(dir).empty()) return Status::OK();  // the root always exists
    return error;
  }
  auto it = parent->entries.find(name);
  if (it != parent->entries.end()) {
    if (it->second->is_dir) return Status::OK();
    return Status::IOError("create directory " + dir + ": a file of that name exists");
  }
  auto n = std::make_shared<Node>(true);
  parent->entries[name] = n;
  if (parent == state_->root) parent->durable[name] = n;
  return Status::OK();
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> l(state_->mu);
  T4DX_RETURN_IF_ERROR(state_->BeginCall("remove", path));
  NodePtr n = state_->Lookup(path);
  if (!n) return NotFound("remove", path);
  if (n->is_dir) return Status::IOError("remove " + path + ": Is a directory");
  std::string name;
  Status error;
  state_->Parent("remove", path, &name, &error)->entries.erase(name);
  return Status::OK();
}

Status FaultInjectionEnv::RemoveDir(const std::string& dir) {
  std::lock_guard<std::mutex> l(state_->mu);
  T4DX_RETURN_IF_ERROR(state_->BeginCall("remove directory", dir));
  NodePtr n = state_->Lookup(dir);
  if (!n) return NotFound("remove directory", dir);
  if (!n->is_dir) return Status::IOError("remove directory " + dir + ": Not a directory");
  if (!n->entries.empty()) {
    return Status::IOError("remove directory " + dir + ": Directory not empty");
  }
  std::string name;
  Status error;
  NodePtr parent = state_->Parent("remove directory", dir, &name, &error);
  if (!parent) return error;
  parent->entries.erase(name);
  return Status::OK();
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> l(state_->mu);
  State& st = *state_;
  const std::string op = "rename " + from + " to";
  NodePtr src = st.Lookup(from);
  NodePtr dst = st.Lookup(to);
  if (st.non_atomic_rename && src && dst && src != dst && !src->is_dir && !dst->is_dir) {
    // Step one on a copy+delete host: the target goes away (durably at once), and a fault
    // or crash before step two leaves no file at `to`.
    T4DX_RETURN_IF_ERROR(st.BeginCall(op + " (remove target)", to));
    std::string name;
    Status error;
    NodePtr parent = st.Parent("rename", to, &name, &error);
    parent->entries.erase(name);
    parent->durable.erase(name);
    dst = nullptr;
  }
  T4DX_RETURN_IF_ERROR(st.BeginCall(op, to));
  if (!src) return NotFound("rename", from);
  if (src == dst) return Status::OK();
  if (dst && dst->is_dir && (!src->is_dir || !dst->entries.empty())) {
    return Status::IOError(op + " " + to + ": target is a directory" +
                           (src->is_dir ? " that is not empty" : ""));
  }
  if (dst && !dst->is_dir && src->is_dir) {
    return Status::IOError(op + " " + to + ": Not a directory");
  }
  if (src->is_dir) {  // refuse to move a directory below itself
    NodePtr cur = st.root;
    for (const std::string& part : Components(to)) {
      if (cur == src) return Status::IOError(op + " " + to + ": target is inside the source");
      auto it = cur->entries.find(part);
      if (!cur->is_dir || it == cur->entries.end()) break;
      cur = it->second;
    }
  }
  std::string to_name;
  std::string from_name;
  Status error;
  NodePtr to_parent = st.Parent("rename", to, &to_name, &error);
  if (!to_parent) return error;
  NodePtr from_parent = st.Parent("rename", from, &from_name, &error);
  if (!from_parent) return error;
  from_parent->entries.erase(from_name);
  to_parent->entries[to_name] = src;
  return Status::OK();
}

Status FaultInjectionEnv::TruncateFile(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> l(state_->mu);
  T4DX_RETURN_IF_ERROR(state_->BeginCall("truncate", path));
  NodePtr n = state_->Lookup(path);
  if (!n) return NotFound("truncate", path);
  if (n->is_dir) return Status::IOError("truncate " + path + ": Is a directory");
  n->data.resize(static_cast<size_t>(size), '\0');
  n->synced = std::min<uint64_t>(n->synced, size);
  return Status::OK();
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  std::lock_guard<std::mutex> l(state_->mu);
  T4DX_RETURN_IF_ERROR(state_->BeginCall("fsync directory", dir));
  NodePtr n = state_->Lookup(dir);
  if (!n) return NotFound("fsync directory", dir);
  if (!n->is_dir) return Status::IOError("fsync directory " + dir + ": Not a directory");
  n->durable = n->entries;
  return Status::OK();
}

Status FaultInjectionEnv::LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) {
  std::lock_guard<std::mutex> l(state_->mu);
  State& st = *state_;
  T4DX_RETURN_IF_ERROR(st.BeginCall("lock", path));
  const std::string key = Key(path);
  if (st.locks.count(key) != 0) {
    std::string dir = DirName(path);
    return Status::Locked("store " + (dir.empty() ? std::string(".") : dir) +
                          " is locked by another handle in this process");
  }
  NodePtr n = st.Lookup(path);
  if (n && n->is_dir) return Status::IOError("lock " + path + ": Is a directory");
  if (!n) {
    std::string name;
    Status error;
    NodePtr parent = st.Parent("lock", path, &name, &error);
    if (!parent) return error;
    parent->entries[name] = std::make_shared<Node>(false);
  }
  const uint64_t token = st.next_lock_token++;
  st.locks[key] = token;
  *lock = std::make_unique<FaultFileLock>(state_, key, token);
  return Status::OK();
}

}  // namespace t4dx
