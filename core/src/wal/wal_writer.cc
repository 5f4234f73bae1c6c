// WalWriter: appends to wal.jsonl, syncs it and seals it (see wal_writer.h).
#include "wal/wal_writer.h"

#include "wal/wal_format.h"

namespace t4dx {
namespace {

std::string ActivePath(const std::string& dir) { return JoinPath(dir, kWalActiveName); }

// Refusal for every call after the first failed write, sync or seal, or after Close.
Status CheckWritable(const Status& error, const WritableFile* file, const std::string& dir) {
  if (!error.ok()) {
    return Status::FailedPrecondition(
        "WAL " + ActivePath(dir) + " refuses writes after an earlier error: " + error.ToString());
  }
  if (file == nullptr) return Status::FailedPrecondition("WAL " + ActivePath(dir) + " is closed");
  return Status::OK();
}

}  // namespace

WalWriter::WalWriter(Env* env, std::string dir, std::unique_ptr<WritableFile> file)
    : env_(env), dir_(std::move(dir)), file_(std::move(file)) {
  active_bytes_ = file_->Size();
}

WalWriter::~WalWriter() { Close(); }

Status WalWriter::Open(Env* env, const std::string& dir, std::unique_ptr<WalWriter>* writer) {
  const std::string path = JoinPath(dir, kWalActiveName);
  const bool existed = env->FileExists(path);
  std::unique_ptr<WritableFile> file;
  T4DX_RETURN_IF_ERROR(env->NewAppendableFile(path, &file));
  if (!existed) {
    Status st = env->SyncDir(dir);
    if (!st.ok()) return st.WithContext("making the new " + path + " durable");
  }
  writer->reset(new WalWriter(env, dir, std::move(file)));
  return Status::OK();
}

Status WalWriter::AddLines(std::string_view lines, uint64_t first_lsn, uint64_t last_lsn) {
  T4DX_RETURN_IF_ERROR(CheckWritable(error_, file_.get(), dir_));
  if (lines.empty() || lines.back() != '\n') {
    return Status::InvalidArgument("WAL " + ActivePath(dir_) +
                                   ": AddLines needs complete lines ending in '\\n'");
  }
  if (first_lsn == 0 || last_lsn < first_lsn) {
    return Status::InvalidArgument("WAL " + ActivePath(dir_) + ": bad LSN range " +
                                   std::to_string(first_lsn) + ".." + std::to_string(last_lsn));
  }
  if (last_lsn_ != 0 && first_lsn <= last_lsn_) {
    return Status::InvalidArgument("WAL " + ActivePath(dir_) + ": LSN " +
                                   std::to_string(first_lsn) + " is not above the last written " +
                                   std::to_string(last_lsn_));
  }
  Status st = file_->Append(lines);
  if (!st.ok()) {
    // Part of the data may be in the file: nothing after it can be trusted.
    error_ = st.WithContext("appending LSN " + std::to_string(first_lsn) + ".." +
                            std::to_string(last_lsn) + " to " + ActivePath(dir_));
    return error_;
  }
  active_bytes_ += lines.size();
  if (first_lsn_ == 0) first_lsn_ = first_lsn;
  last_lsn_ = last_lsn;
  return Status::OK();
}

Status WalWriter::Sync() {
  T4DX_RETURN_IF_ERROR(CheckWritable(error_, file_.get(), dir_));
  Status st = file_->Sync();
  if (!st.ok()) {
    // Never retried: after a failed fsync the kernel may have dropped the dirty pages.
    error_ = st.WithContext("syncing " + ActivePath(dir_));
    return error_;
  }
  ++syncs_;
  synced_lsn_ = last_lsn_;
  return Status::OK();
}

Status WalWriter::Rotate(std::string* sealed_name) {
  sealed_name->clear();
  T4DX_RETURN_IF_ERROR(CheckWritable(error_, file_.get(), dir_));
  if (active_bytes_ == 0) return Status::OK();
  const std::string active = ActivePath(dir_);
  if (first_lsn_ == 0) {
    return Status::FailedPrecondition("cannot seal " + active + ": it holds " +
                                      std::to_string(active_bytes_) +
                                      " bytes but its first LSN is unknown (SetExistingRange)");
  }
  const std::string name = SealedWalName(first_lsn_);
  const std::string sealed = JoinPath(dir_, name);
  if (env_->FileExists(sealed)) {
    return Status::FailedPrecondition("cannot seal " + active + ": " + sealed + " already exists");
  }
  // A sealed file is always complete on disk: only the active file can have a torn tail.
  if (synced_lsn_ < last_lsn_) T4DX_RETURN_IF_ERROR(Sync());

  Status st = file_->Close();
  file_.reset();
  if (!st.ok()) {
    error_ = st.WithContext("closing " + active + " to seal it");
    return error_;
  }
  st = env_->RenameFile(active, sealed);
  if (!st.ok()) {
    error_ = st.WithContext("sealing " + active + " as " + name);
    return error_;
  }
  st = env_->SyncDir(dir_);
  if (!st.ok()) {
    error_ = st.WithContext("syncing " + dir_ + " after sealing " + name);
    return error_;
  }
  std::unique_ptr<WritableFile> fresh;
  st = env_->NewAppendableFile(active, &fresh);
  if (st.ok() && fresh->Size() != 0) {
    st = Status::FailedPrecondition(active + " holds " + std::to_string(fresh->Size()) +
                                    " bytes right after it was sealed");
  }
  if (st.ok()) st = env_->SyncDir(dir_);
  if (!st.ok()) {
    error_ = st.WithContext("starting a new " + active + " after sealing " + name);
    return error_;
  }
  file_ = std::move(fresh);
  active_bytes_ = 0;
  first_lsn_ = 0;  // last_lsn_ stays: the next record must still be above it
  *sealed_name = name;
  return Status::OK();
}

Status WalWriter::Close() {
  if (file_ == nullptr) return Status::OK();
  Status st = file_->Close();
  file_.reset();
  if (!st.ok() && error_.ok()) error_ = st.WithContext("closing " + ActivePath(dir_));
  return st;
}

}  // namespace t4dx
