// Appending to the active WAL file and sealing it.
//
// The engine encodes records (EncodeWalItemsRecord, EncodeWalRecord), hands a group of
// lines to AddLines and, per its sync mode, calls Sync. After an error from Append or
// Sync the writer refuses all further writes (kFailedPrecondition naming the first
// error): a failed fsync is never retried and trusted (leveldb's RecordBackgroundError
// habit).
//
// Thread safety: not thread safe; the engine serializes calls.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "t4dx/env.h"
#include "t4dx/status.h"

namespace t4dx {

class WalWriter {
 public:
  // Opens dir/wal.jsonl for appending (creating it and syncing dir if it is new).
  // existing_bytes must be the size of its valid prefix: recovery cuts a bad tail first.
  static Status Open(Env* env, const std::string& dir, std::unique_ptr<WalWriter>* writer);
  ~WalWriter();

  // Appends complete lines (each ending in '\n') with one write.
  Status AddLines(std::string_view lines, uint64_t first_lsn, uint64_t last_lsn);
  Status Sync();
  // Seals wal.jsonl as wal_<first LSN>.jsonl (rename, sync dir) and starts a new empty
  // wal.jsonl. An empty active file is left as it is. *sealed_name is the new name or "".
  Status Rotate(std::string* sealed_name);
  Status Close();

  uint64_t active_bytes() const { return active_bytes_; }
  uint64_t active_first_lsn() const { return first_lsn_; }  // 0 when empty
  uint64_t active_last_lsn() const { return last_lsn_; }
  uint64_t synced_lsn() const { return synced_lsn_; }
  int64_t syncs() const { return syncs_; }
  const Status& error() const { return error_; }

  // Recovery tells the writer what the active file already holds.
  void SetExistingRange(uint64_t first_lsn, uint64_t last_lsn) {
    first_lsn_ = first_lsn;
    last_lsn_ = synced_lsn_ = last_lsn;
  }

 private:
  WalWriter(Env* env, std::string dir, std::unique_ptr<WritableFile> file);
  Env* env_;
  std::string dir_;
  std::unique_ptr<WritableFile> file_;
  uint64_t active_bytes_ = 0;
  uint64_t first_lsn_ = 0;
  uint64_t last_lsn_ = 0;
  uint64_t synced_lsn_ = 0;
  int64_t syncs_ = 0;
  Status error_;
};

}  // namespace t4dx
