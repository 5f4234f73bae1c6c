// FaultInjectionEnv: an in-memory Env that remembers what was synced, for tests.
//
// Models a disk with a volatile cache: Append() data is "unsynced" until Sync(); a created,
// renamed or removed entry is "unsynced" until SyncDir() of its parent directory.
// SimulateCrash() then decides what an unclean stop leaves behind. Faults can be scheduled
// on any mutating call (create, append, sync, rename, remove, truncate, sync-dir, lock):
// the call fails with EIO (kIOError) or ENOSPC (kNoSpace) and does nothing.
// Compare leveldb's db/fault_injection_test.cc.
//
// Thread safety: every method is safe to call concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "t4dx/env.h"
#include "t4dx/status.h"

namespace t4dx {

class FaultInjectionEnv : public Env {
 public:
  enum class CrashMode : uint8_t {
    kKeepUnsynced,      // process crash: the OS keeps everything written (page cache)
    kDropUnsynced,      // machine crash: unsynced appends and unsynced dir entries vanish
    kTearUnsynced,      // machine crash: a random prefix of each file's unsynced bytes stays
    kZeroFillUnsynced,  // machine crash: unsynced bytes stay as zeros (delayed allocation)
  };

  FaultInjectionEnv();
  ~FaultInjectionEnv() override;

  // Number of mutating calls made so far (each counted call is one index for FailAt).
  uint64_t mutating_calls() const;
  // The mutating call with this index (0-based, counting from construction) fails with
  // code (kIOError or kNoSpace). With sticky, it and every later mutating call fail until
  // ClearFaults() (a full disk).
  void FailAt(uint64_t call_index, Status::Code code, bool sticky = false);
  void ClearFaults();
  // From the mutating call with this index on, every call is refused as if the process
  // had died there (returns kIOError); use with SimulateCrash to cut a run at any point.
  void CrashAt(uint64_t call_index);
  // When on, RenameFile replacing an existing target is two steps (remove target, then
  // move), each a mutating call, as on hosts whose rename is copy+delete. A crash or fault
  // between them leaves no file at the target.
  void SetNonAtomicRename(bool on);

  // Applies mode to all unsynced state, then clears faults and the crash point: the Env
  // then looks like the disk after a reboot. Open files become invalid. Locks are released.
  void SimulateCrash(CrashMode mode, uint64_t seed = 0);

  // Env
  Status NewRandomAccessFile(const std::string& path,
                             std::unique_ptr<RandomAccessFile>* file) override;
  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* file) override;
  Status NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* file) override;
  bool FileExists(const std::string& path) override;
  Status IsDirectory(const std::string& path, bool* is_dir) override;
  Status GetChildren(const std::string& dir, std::vector<std::string>* names) override;
  Status GetFileSize(const std::string& path, uint64_t* size) override;
  Status CreateDir(const std::string& dir) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveDir(const std::string& dir) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;
  Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) override;

  struct State;  // implementation detail, public for the file classes in fault_env.cc

 private:
  std::shared_ptr<State> state_;
};

}  // namespace t4dx
