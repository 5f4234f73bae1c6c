// Env: the one interface through which T4DX touches durable storage.
//
// Every byte the engine reads or writes goes through an Env: POSIX natively, an in-memory
// Env for tests and the inspector, a fault-injecting Env for tests, and the host Env of
// the WebAssembly build (JavaScript file calls). Nothing else in the core calls the OS.
// Clocks and threads are deliberately not part of it (see clock.h).
//
// Paths are '/'-separated strings; the engine only ever builds paths below the store
// directory it was opened on. Errors: kNotFound for a missing file, kNoSpace for ENOSPC,
// kIOError for anything else, each message naming the operation and the path.
//
// Thread safety: an Env may be used from several threads at once. A single file object
// must not be used from two threads at once unless stated.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "t4dx/status.h"

namespace t4dx {

// A file opened for reading at arbitrary offsets.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset into *result (replacing its contents). A short result
  // means end of file. Safe to call from several threads at once.
  virtual Status Read(uint64_t offset, size_t n, std::string* result) const = 0;
  // Current size of the file.
  virtual Status Size(uint64_t* size) const = 0;
  // The whole file as it is now, without copying it where the host can (a read-only
  // memory map of the page cache natively): *data stays valid while *keep lives, also
  // after this object is gone. kNotSupported where the host cannot (the default); callers
  // then Read. Only for files that are replaced by rename, never truncated in place: a
  // mapped file cut short under the reader is a fault (SIGBUS), not an error.
  virtual Status MapWhole(std::string_view* data, std::shared_ptr<const void>* keep) const {
    (void)data;
    (void)keep;
    return Status::NotSupported("this Env does not map files");
  }
};

// A file opened for appending. Data is durable only after Sync() returns OK.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Makes everything appended so far durable (fdatasync natively).
  virtual Status Sync() = 0;
  // Releases the handle. Does not sync. Called by the destructor if not called.
  virtual Status Close() = 0;
  // Bytes in the file: the size it had when opened plus what was appended.
  virtual uint64_t Size() const = 0;
};

// Held while a store is open; the lock is released when the object is destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The Env of this build: POSIX natively; the host Env in WebAssembly (set by the
  // bindings with SetDefault before any store is opened).
  static Env* Default();
  static void SetDefault(Env* env);

  virtual Status NewRandomAccessFile(const std::string& path,
                                     std::unique_ptr<RandomAccessFile>* file) = 0;
  // Creates the file, or truncates it to zero if it exists.
  virtual Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* file) = 0;
  // Creates the file if missing; appends at its end otherwise.
  virtual Status NewAppendableFile(const std::string& path,
                                   std::unique_ptr<WritableFile>* file) = 0;

  virtual bool FileExists(const std::string& path) = 0;
  virtual Status IsDirectory(const std::string& path, bool* is_dir) = 0;
  // Names (not paths) of the entries of dir, without "." and "..", in no set order.
  virtual Status GetChildren(const std::string& dir, std::vector<std::string>* names) = 0;
  virtual Status GetFileSize(const std::string& path, uint64_t* size) = 0;
  // Creates dir; OK if it already exists as a directory. Parent must exist.
  virtual Status CreateDir(const std::string& dir) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Removes an empty directory.
  virtual Status RemoveDir(const std::string& dir) = 0;
  // Renames a file or directory, replacing a file at `to`. Atomic where the host allows;
  // callers that need durability call SyncDir on the parent afterwards.
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // Makes the entries of dir (creates, renames, removes) durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Takes an exclusive advisory lock on path (created if missing). kLocked, naming the
  // holder where known, if another process or handle holds it.
  virtual Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) = 0;
};

// A fresh in-memory Env (tests, the inspector). Files live as long as the Env.
std::unique_ptr<Env> NewMemEnv();

// Helpers built on the interface.
Status ReadFileToString(Env* env, const std::string& path, std::string* data);

// A whole file's bytes: mapped where the Env can (RandomAccessFile::MapWhole), else (no
// mapping, or mapping failed) read into `buffer`. `data` is valid while the FileView
// lives. Not copyable or movable: data may point into buffer.
struct FileView {
  FileView() = default;
  FileView(const FileView&) = delete;
  FileView& operator=(const FileView&) = delete;
  std::string_view data;
  std::string buffer;
  std::shared_ptr<const void> mapping;
};
// Same rules as MapWhole: only for files replaced by rename, never truncated in place.
Status ReadFileView(Env* env, const std::string& path, FileView* view);
// Writes data to path durably and atomically: path.tmp, sync, rename, sync the directory.
Status WriteFileAtomic(Env* env, const std::string& path, std::string_view data);
// "a/b" from ("a", "b"); "b" if dir is empty.
std::string JoinPath(const std::string& dir, const std::string& name);
// The directory part of path ("" for a bare name).
std::string DirName(const std::string& path);

}  // namespace t4dx
