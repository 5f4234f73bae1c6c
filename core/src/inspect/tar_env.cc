// OpenSnapshotEnv: a read-only Env whose files are the members of a ustar archive, read
// lazily from the archive through a base Env. Engine::Open(read_only) and CheckStoreFiles
// run on it unchanged.
#include <algorithm>
#include <map>
#include <set>

#include "inspect/tar.h"
#include "t4dx/inspect.h"

namespace t4dx {
namespace {

struct Archive {
  std::string path;
  std::unique_ptr<RandomAccessFile> file;
  std::map<std::string, TarMember> files;             // relative name -> member
  std::map<std::string, std::set<std::string>> dirs;  // relative dir ("" = root) -> children
};

class MemberFile : public RandomAccessFile {
 public:
  MemberFile(std::shared_ptr<const Archive> a, const TarMember* m) : a_(std::move(a)), m_(m) {}
  Status Read(uint64_t offset, size_t n, std::string* result) const override {
    if (offset >= m_->size) {
      result->clear();
      return Status::OK();
    }
    const uint64_t left = m_->size - offset;
    if (n > left) n = static_cast<size_t>(left);
    return a_->file->Read(m_->data_offset + offset, n, result);
  }
  Status Size(uint64_t* size) const override {
    *size = m_->size;
    return Status::OK();
  }

 private:
  std::shared_ptr<const Archive> a_;
  const TarMember* m_;
};

class TarEnv : public Env {
 public:
  explicit TarEnv(std::shared_ptr<const Archive> a) : a_(std::move(a)) {}

  Status NewRandomAccessFile(const std::string& path,
                             std::unique_ptr<RandomAccessFile>* file) override {
    std::string rel;
    const TarMember* m = Find(path, &rel);
    if (m == nullptr) return Status::NotFound("open " + path + ": not in the snapshot");
    *file = std::make_unique<MemberFile>(a_, m);
    return Status::OK();
  }
  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>*) override {
    return ReadOnly("create", path);
  }
  Status NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>*) override {
    return ReadOnly("open for append", path);
  }
  bool FileExists(const std::string& path) override {
    std::string rel;
    return Find(path, &rel) != nullptr || a_->dirs.count(rel) != 0;
  }
  Status IsDirectory(const std::string& path, bool* is_dir) override {
    std::string rel;
    if (Find(path, &rel) != nullptr) {
      *is_dir = false;
      return Status::OK();
    }
    if (!rel.empty() && rel[0] == '\x01') return Status::NotFound("stat " + path);
    if (a_->dirs.count(rel) == 0) return Status::NotFound("stat " + path + ": not in the snapshot");
    *is_dir = true;
    return Status::OK();
  }
  Status GetChildren(const std::string& dir, std::vector<std::string>* names) override {
    std::string rel;
    Find(dir, &rel);
    auto it = a_->dirs.find(rel);
    if (it == a_->dirs.end()) return Status::NotFound("list " + dir + ": not in the snapshot");
    names->assign(it->second.begin(), it->second.end());
    return Status::OK();
  }
  Status GetFileSize(const std::string& path, uint64_t* size) override {
    std::string rel;
    const TarMember* m = Find(path, &rel);
    if (m == nullptr) return Status::NotFound("stat " + path + ": not in the snapshot");
    *size = m->size;
    return Status::OK();
  }
  Status CreateDir(const std::string& dir) override { return ReadOnly("mkdir", dir); }
  Status RemoveFile(const std::string& path) override { return ReadOnly("remove", path); }
  Status RemoveDir(const std::string& dir) override { return ReadOnly("rmdir", dir); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return ReadOnly("rename", from);
  }
  Status TruncateFile(const std::string& path, uint64_t) override {
    return ReadOnly("truncate", path);
  }
  Status SyncDir(const std::string& dir) override { return ReadOnly("sync", dir); }
  Status LockFile(const std::string& path, std::unique_ptr<FileLock>*) override {
    return ReadOnly("lock", path);
  }

 private:
  Status ReadOnly(const char* op, const std::string& path) const {
    return Status::NotSupported(std::string(op) + " " + path + ": snapshot " + a_->path +
                                " is read-only");
  }
  // Maps an Env path to a member name ("" = the archive root); *rel starts with '\x01'
  // when the path is outside the archive.
  const TarMember* Find(const std::string& path, std::string* rel) const {
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    const std::string& root = a_->path;
    if (p == root) {
      rel->clear();
    } else if (p.size() > root.size() + 1 && p.compare(0, root.size(), root) == 0 &&
               p[root.size()] == '/') {
      *rel = p.substr(root.size() + 1);
    } else {
      *rel = "\x01";
      return nullptr;
    }
    auto it = a_->files.find(*rel);
    return it == a_->files.end() ? nullptr : &it->second;
  }

  std::shared_ptr<const Archive> a_;
};

}  // namespace

Status OpenSnapshotEnv(Env* base, const std::string& tar_path, std::unique_ptr<Env>* out) {
  auto a = std::make_shared<Archive>();
  a->path = tar_path;
  while (a->path.size() > 1 && a->path.back() == '/') a->path.pop_back();
  T4DX_RETURN_IF_ERROR(base->NewRandomAccessFile(tar_path, &a->file));
  std::vector<TarMember> members;
  T4DX_RETURN_IF_ERROR(ReadTarIndex(*a->file, tar_path, &members));
  a->dirs[""];
  for (TarMember& m : members) {
    // Every ancestor is a directory, listed in its parent.
    std::string name = m.name;
    size_t slash = name.rfind('/');
    std::string parent = slash == std::string::npos ? "" : name.substr(0, slash);
    a->dirs[parent].insert(slash == std::string::npos ? name : name.substr(slash + 1));
    while (!parent.empty()) {
      size_t s2 = parent.rfind('/');
      std::string grand = s2 == std::string::npos ? "" : parent.substr(0, s2);
      a->dirs[grand].insert(s2 == std::string::npos ? parent : parent.substr(s2 + 1));
      a->dirs[parent];
      parent = grand;
    }
    if (m.is_dir) {
      a->dirs[m.name];
    } else {
      if (a->dirs.count(m.name)) {
        return Status::CorruptionAt(tar_path, 0, static_cast<int64_t>(m.header_offset),
                                    "tar: '" + m.name + "' is both a file and a directory");
      }
      a->files.emplace(m.name, m);
    }
  }
  for (const auto& [name, m] : a->files) {
    if (a->dirs.count(name)) {
      return Status::CorruptionAt(tar_path, 0, static_cast<int64_t>(m.header_offset),
                                  "tar: '" + name + "' is both a file and a directory");
    }
  }
  *out = std::make_unique<TarEnv>(std::move(a));
  return Status::OK();
}

}  // namespace t4dx
