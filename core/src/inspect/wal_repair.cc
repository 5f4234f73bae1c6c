// RepairWal: ends the WAL at its last good entry, saving every removed byte first.
#include "inspect/inspect_internal.h"
#include "manifest/manifest.h"
#include "t4dx/inspect.h"
#include "wal/wal_format.h"

namespace t4dx {
namespace {

using inspect_internal::kQuarantineDir;

// Copies [offset, end) of path to dest, synced and closed.
Status SaveTail(Env* env, const std::string& path, uint64_t offset, uint64_t end,
                const std::string& dest) {
  std::unique_ptr<RandomAccessFile> in;
  T4DX_RETURN_IF_ERROR(env->NewRandomAccessFile(path, &in));
  std::unique_ptr<WritableFile> out;
  T4DX_RETURN_IF_ERROR(env->NewWritableFile(dest, &out));
  T4DX_RETURN_IF_ERROR(inspect_internal::CopyRange(*in, path, offset, end - offset, out.get()));
  T4DX_RETURN_IF_ERROR(out->Sync());
  return out->Close();
}

// Truncates path to size and makes the new size durable.
Status TruncateDurably(Env* env, const std::string& path, uint64_t size) {
  T4DX_RETURN_IF_ERROR(env->TruncateFile(path, size));
  std::unique_ptr<WritableFile> f;
  T4DX_RETURN_IF_ERROR(env->NewAppendableFile(path, &f));
  T4DX_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

}  // namespace

Status LockStore(Env* env, const std::string& dir, std::unique_ptr<FileLock>* lock) {
  bool is_dir = false;
  Status s = env->IsDirectory(dir, &is_dir);
  if (s.IsNotFound() || (s.ok() && !is_dir)) {
    return Status::NotFound("store " + dir + " does not exist (or is not a directory)");
  }
  T4DX_RETURN_IF_ERROR(s);
  return env->LockFile(JoinPath(dir, inspect_internal::kLockFileName), lock);
}

Status RepairWal(Env* env, const std::string& dir, int64_t now_ms, WalRepairResult* result) {
  *result = WalRepairResult();
  WalInspectOptions options;
  options.summaries = false;
  WalInspection report;
  T4DX_RETURN_IF_ERROR(InspectWal(env, dir, options, {}, &report));

  // The first file with a problem; everything after its bad line goes.
  size_t bad = report.files.size();
  for (size_t i = 0; i < report.files.size(); ++i) {
    if (report.files[i].has_problem) {
      bad = i;
      break;
    }
  }
  result->last_good_lsn = 0;
  for (size_t i = 0; i < bad && i < report.files.size(); ++i) {
    if (report.files[i].last_lsn) result->last_good_lsn = report.files[i].last_lsn;
  }
  if (bad == report.files.size()) {
    result->last_good_lsn = report.last_lsn;
    return Status::OK();  // healthy: nothing to do
  }
  const WalFileInfo& f = report.files[bad];
  if (f.last_lsn) result->last_good_lsn = f.last_lsn;

  const std::string qdir = JoinPath(dir, kQuarantineDir);
  T4DX_RETURN_IF_ERROR(env->CreateDir(qdir));
  const std::string stamp = std::to_string(now_ms);

  // 1. Save the bad tail of the first bad file (durably) before anything is removed.
  WalRepairAction cut;
  cut.action = f.problem.torn_tail ? "cut_torn_tail" : "cut_corrupt_tail";
  cut.file = f.file;
  cut.offset = f.problem.offset;
  cut.bytes = f.bytes - f.problem.offset;
  cut.reason = f.problem.reason;
  cut.saved_to = JoinPath(qdir, f.name + "." + std::to_string(cut.offset) + "." + stamp + ".tail");
  T4DX_RETURN_IF_ERROR(SaveTail(env, f.file, cut.offset, f.bytes, cut.saved_to));
  T4DX_RETURN_IF_ERROR(env->SyncDir(qdir));

  // 2. Newer files: kept when the cut entries are all in segments (no hole in the
  // history), else moved whole into quarantine/ (renames keep every byte).
  uint64_t next_first = 0;
  for (size_t i = bad + 1; i < report.files.size() && next_first == 0; ++i) {
    next_first = report.files[i].first_lsn;
  }
  Manifest m;
  const bool have_manifest = ReadManifest(env, dir, &m).ok();
  const uint64_t durable = have_manifest ? m.durable_lsn : 0;
  result->kept_newer_files =
      bad + 1 < report.files.size() && (next_first == 0 || next_first - 1 <= durable);
  if (result->kept_newer_files) {
    result->note = next_first == 0
                       ? "the newer WAL files hold no entries: kept"
                       : "the entries cut (up to LSN " + std::to_string(next_first - 1) +
                             ") are in segments (durable_lsn " + std::to_string(durable) +
                             "): the newer WAL files are kept";
  } else if (bad + 1 < report.files.size()) {
    result->note = "the WAL now ends at LSN " + std::to_string(result->last_good_lsn) +
                   "; newer WAL files moved to quarantine/ (their entries follow a hole)";
  }
  std::vector<WalRepairAction> moved;
  for (size_t i = bad + 1; i < report.files.size() && !result->kept_newer_files; ++i) {
    const WalFileInfo& g = report.files[i];
    WalRepairAction m;
    m.action = "quarantine_file";
    m.file = g.file;
    m.bytes = g.bytes;
    m.reason = "follows the bad line " + std::to_string(f.problem.line) + " of " + f.name;
    m.saved_to = JoinPath(qdir, g.name + "." + stamp);
    T4DX_RETURN_IF_ERROR(env->RenameFile(g.file, m.saved_to));
    moved.push_back(std::move(m));
  }
  if (!moved.empty()) {
    T4DX_RETURN_IF_ERROR(env->SyncDir(qdir));
    T4DX_RETURN_IF_ERROR(env->SyncDir(dir));
  }

  // 3. Cut the bad file at its bad line.
  T4DX_RETURN_IF_ERROR(TruncateDurably(env, f.file, cut.offset));
  result->actions.push_back(std::move(cut));
  for (auto& m : moved) result->actions.push_back(std::move(m));
  return Status::OK();
}

std::string WalRepairResultToJson(const WalRepairResult& r) {
  nlohmann::json actions = nlohmann::json::array();
  for (const WalRepairAction& a : r.actions) {
    actions.push_back({{"action", a.action},
                       {"file", a.file},
                       {"offset", a.offset},
                       {"bytes", a.bytes},
                       {"saved_to", a.saved_to},
                       {"reason", a.reason}});
  }
  return inspect_internal::Dump({{"repaired", !r.actions.empty()},
                                 {"last_good_lsn", r.last_good_lsn},
                                 {"kept_newer_files", r.kept_newer_files},
                                 {"note", r.note},
                                 {"actions", std::move(actions)}});
}

}  // namespace t4dx
