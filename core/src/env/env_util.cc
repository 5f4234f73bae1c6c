// Helpers built on the Env interface.
#include <memory>

#include "t4dx/env.h"

namespace t4dx {

namespace {

// All of an open file. One read of the size found plus a byte, straight into the result (a
// large index file was read in 1 MiB chunks, each copied once more). A full read means the
// file grew meanwhile: the rest is read in chunks until a short read, so a file that grows
// or shrinks while it is read is fine.
Status ReadAll(const RandomAccessFile& file, std::string* data) {
  uint64_t size = 0;
  T4DX_RETURN_IF_ERROR(file.Size(&size));
  std::string result;
  T4DX_RETURN_IF_ERROR(file.Read(0, static_cast<size_t>(size) + 1, &result));
  if (result.size() > size) {
    constexpr size_t kChunk = 1 << 20;
    std::string chunk;
    while (true) {
      T4DX_RETURN_IF_ERROR(file.Read(result.size(), kChunk, &chunk));
      result += chunk;
      if (chunk.size() < kChunk) break;
    }
  }
  *data = std::move(result);
  return Status::OK();
}

}  // namespace

Status ReadFileToString(Env* env, const std::string& path, std::string* data) {
  std::unique_ptr<RandomAccessFile> file;
  T4DX_RETURN_IF_ERROR(env->NewRandomAccessFile(path, &file));
  return ReadAll(*file, data);
}

Status ReadFileView(Env* env, const std::string& path, FileView* view) {
  std::unique_ptr<RandomAccessFile> file;
  T4DX_RETURN_IF_ERROR(env->NewRandomAccessFile(path, &file));
  view->mapping.reset();
  view->buffer.clear();
  // Any failure to map (an Env without mapping, a file system without mmap, no address
  // space) falls back to reading the same open file: only a failed read is an error.
  if (file->MapWhole(&view->data, &view->mapping).ok()) return Status::OK();
  view->mapping.reset();
  T4DX_RETURN_IF_ERROR(ReadAll(*file, &view->buffer));
  view->data = view->buffer;
  return Status::OK();
}

Status WriteFileAtomic(Env* env, const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  std::unique_ptr<WritableFile> file;
  T4DX_RETURN_IF_ERROR(env->NewWritableFile(tmp, &file));
  Status s = file->Append(data);
  if (s.ok()) s = file->Sync();
  Status c = file->Close();
  if (s.ok()) s = c;
  file.reset();
  const std::string dir = DirName(path).empty() ? "." : DirName(path);
  // The temporary file's entry is made durable before the rename: on a host whose rename
  // is remove-then-move, a crash between the two steps then still leaves path.tmp, which
  // recovery restores.
  if (s.ok()) s = env->SyncDir(dir);
  if (s.ok()) s = env->RenameFile(tmp, path);
  if (!s.ok()) {
    env->RemoveFile(tmp);  // best effort: the target is untouched either way
    return s;
  }
  return env->SyncDir(dir);
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string DirName(const std::string& path) {
  size_t end = path.size();
  while (end > 1 && path[end - 1] == '/') --end;  // ignore trailing slashes
  const size_t slash = path.rfind('/', end - (end > 0 ? 1 : 0));
  if (slash == std::string::npos || end == 0) return "";
  size_t dir_end = slash;
  while (dir_end > 0 && path[dir_end - 1] == '/') --dir_end;
  if (dir_end == 0) return "/";
  return path.substr(0, dir_end);
}

}  // namespace t4dx
