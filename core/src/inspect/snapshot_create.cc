// CreateSnapshot: a consistent ustar copy of a store that may be in use
// (core/doc/snapshot_format.md explains the consistency argument).
#include <algorithm>
#include <set>

#include "inspect/inspect_internal.h"
#include "inspect/snapshot_internal.h"
#include "inspect/tar.h"
#include "manifest/compaction_history.h"
#include "manifest/manifest.h"
#include "segment/segment_format.h"
#include "t4dx/clock.h"
#include "t4dx/inspect.h"
#include "util/checksum.h"
#include "wal/wal_format.h"
#include "wal/wal_record.h"

namespace t4dx {
namespace {

// What a restartable failure looks like: the store changed under the copy.
Status Changed(const std::string& what) { return Status::Busy("store changed: " + what); }

// One file to copy.
struct Planned {
  std::string path;  // in the store
  std::string name;  // in the archive
  bool is_dir = false;
  bool complete_lines = false;  // copy only up to the last '\n'
  bool optional = false;        // a missing file is skipped, not a reason to retry
  std::unique_ptr<RandomAccessFile> file;
  uint64_t size = 0;  // bytes to copy
};

// Length of the prefix of file [0, size) that ends with '\n' (0 when none).
Status CompleteLinesPrefix(const RandomAccessFile& file, uint64_t size, uint64_t* n) {
  constexpr uint64_t kChunk = 64 * 1024;
  std::string buf;
  uint64_t end = size;
  while (end > 0) {
    const uint64_t start = end > kChunk ? end - kChunk : 0;
    T4DX_RETURN_IF_ERROR(file.Read(start, static_cast<size_t>(end - start), &buf));
    size_t pos = buf.rfind('\n');
    if (pos != std::string::npos) {
      *n = start + pos + 1;
      return Status::OK();
    }
    end = start;
  }
  *n = 0;
  return Status::OK();
}

// The LSN of the first line of a WAL prefix of n bytes (0 when empty or undecodable).
uint64_t FirstLsn(const RandomAccessFile& file, uint64_t n) {
  std::string line, buf;
  uint64_t off = 0;
  while (off < n) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(n - off, 1u << 20));
    if (!file.Read(off, want, &buf).ok() || buf.empty()) return 0;
    size_t nl = buf.find('\n');
    if (nl != std::string::npos) {
      line.append(buf, 0, nl);
      WalRecord r;
      std::string reason;
      return DecodeWalRecord(line, &r, &reason) ? r.lsn : 0;
    }
    line += buf;
    off += buf.size();
  }
  return 0;
}

Status PlanFile(Env* env, Planned* p) {
  Status s = env->NewRandomAccessFile(p->path, &p->file);
  if (s.IsNotFound()) return p->optional ? s : Changed(p->path + " vanished");
  T4DX_RETURN_IF_ERROR(s);
  uint64_t size = 0;
  T4DX_RETURN_IF_ERROR(p->file->Size(&size));
  if (p->complete_lines) {
    T4DX_RETURN_IF_ERROR(CompleteLinesPrefix(*p->file, size, &p->size));
  } else {
    p->size = size;
  }
  return Status::OK();
}

// Adds a directory tree (the HNSW container may be a folder) to the plan.
Status PlanTree(Env* env, const std::string& path, const std::string& name,
                std::vector<Planned>* plan) {
  bool is_dir = false;
  Status s = env->IsDirectory(path, &is_dir);
  if (s.IsNotFound()) return Changed(path + " vanished");
  T4DX_RETURN_IF_ERROR(s);
  if (!is_dir) {
    Planned p;
    p.path = path;
    p.name = name;
    T4DX_RETURN_IF_ERROR(PlanFile(env, &p));
    plan->push_back(std::move(p));
    return Status::OK();
  }
  Planned d;
  d.path = path;
  d.name = name;
  d.is_dir = true;
  plan->push_back(std::move(d));
  std::vector<std::string> children;
  s = env->GetChildren(path, &children);
  if (s.IsNotFound()) return Changed(path + " vanished");
  T4DX_RETURN_IF_ERROR(s);
  std::sort(children.begin(), children.end());
  for (const std::string& c : children) {
    if (c.size() >= 4 && c.compare(c.size() - 4, 4, ".tmp") == 0) continue;
    T4DX_RETURN_IF_ERROR(PlanTree(env, JoinPath(path, c), name + "/" + c, plan));
  }
  return Status::OK();
}

Status TryOnce(Env* env, const std::string& dir, const std::string& tmp_path, int64_t now_ms,
               const SnapshotOptions& options, SnapshotInfo* info) {
  // 1. The WAL files as they are now, then the manifest, then what it names.
  std::vector<std::string> wal_before;
  T4DX_RETURN_IF_ERROR(inspect_internal::ListWalFiles(env, dir, &wal_before));
  std::vector<std::string> children;
  T4DX_RETURN_IF_ERROR(env->GetChildren(dir, &children));
  std::sort(children.begin(), children.end());

  std::string manifest_bytes;
  bool have_manifest = false;
  Manifest m;
  Status s = ReadFileToString(env, JoinPath(dir, kManifestFile), &manifest_bytes);
  if (s.ok()) {
    // Parse exactly the bytes that go into the archive.
    std::unique_ptr<Env> mem = NewMemEnv();
    T4DX_RETURN_IF_ERROR(snapshot_internal::WriteWhole(mem.get(), "m/" + std::string(kManifestFile),
                                                       manifest_bytes));
    s = ReadManifest(mem.get(), "m", &m);
    if (!s.ok()) {
      return s.WithContext("cannot snapshot " + dir +
                           ": its global_index.json does not verify (run `t4dx verify`)");
    }
    have_manifest = true;
  } else if (!s.IsNotFound()) {
    return s;
  }

  std::vector<Planned> plan;
  if (have_manifest) {
    for (const ManifestSegment& ms : m.segments) {
      const std::string name = SegmentDirName(ms.id);
      T4DX_RETURN_IF_ERROR(PlanTree(env, JoinPath(dir, name), name, &plan));
    }
  }
  size_t active_index = SIZE_MAX;
  for (const std::string& w : wal_before) {
    Planned p;
    p.path = JoinPath(dir, w);
    p.name = w;
    p.complete_lines = true;  // a sealed file is complete; the active one may not be
    T4DX_RETURN_IF_ERROR(PlanFile(env, &p));
    if (w == kWalActiveName) active_index = plan.size();
    plan.push_back(std::move(p));
  }
  for (const std::string& c : children) {
    if (!inspect_internal::IsHnswName(c)) continue;
    T4DX_RETURN_IF_ERROR(PlanTree(env, JoinPath(dir, c), c, &plan));
  }
  {
    Planned p;
    p.path = JoinPath(dir, kCompactionHistoryFile);
    p.name = kCompactionHistoryFile;
    p.complete_lines = true;
    p.optional = true;
    s = PlanFile(env, &p);
    if (s.ok())
      plan.push_back(std::move(p));
    else if (!s.IsNotFound())
      return s;
  }

  // 2. Copy.
  uint64_t total = manifest_bytes.size(), done = 0;
  for (const Planned& p : plan) total += p.size;
  std::unique_ptr<WritableFile> out;
  T4DX_RETURN_IF_ERROR(env->NewWritableFile(tmp_path, &out));
  TarWriter tar(out.get(), now_ms / 1000);
  std::vector<SnapshotMemberInfo> members;
  if (have_manifest) {
    T4DX_RETURN_IF_ERROR(tar.BeginFile(kManifestFile, manifest_bytes.size()));
    T4DX_RETURN_IF_ERROR(tar.Write(manifest_bytes));
    T4DX_RETURN_IF_ERROR(tar.EndFile());
    members.push_back({kManifestFile, manifest_bytes.size(), HashHex(Hash64(manifest_bytes))});
    done += manifest_bytes.size();
  }
  std::string buf;
  for (const Planned& p : plan) {
    if (p.is_dir) {
      T4DX_RETURN_IF_ERROR(tar.AddDirectory(p.name));
      continue;
    }
    T4DX_RETURN_IF_ERROR(tar.BeginFile(p.name, p.size));
    Hasher h;
    uint64_t off = 0;
    while (off < p.size) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(p.size - off, 1u << 20));
      T4DX_RETURN_IF_ERROR(p.file->Read(off, want, &buf));
      if (buf.size() != want) return Changed(p.path + " shrank while it was copied");
      h.Update(buf);
      T4DX_RETURN_IF_ERROR(tar.Write(buf));
      off += want;
      done += want;
      if (options.progress) options.progress(done, total);
    }
    T4DX_RETURN_IF_ERROR(tar.EndFile());
    members.push_back({p.name, p.size, HashHex(h.Digest())});
  }

  // 3. A WAL rotation after the listing may have sealed entries this copy lacks: a new
  // sealed file that starts before the copied wal.jsonl's first entry (or any, when the
  // copied wal.jsonl was empty) means so. One that starts at that very entry is the file
  // that was copied, sealed after it was opened: nothing is missing.
  std::vector<std::string> wal_after;
  T4DX_RETURN_IF_ERROR(inspect_internal::ListWalFiles(env, dir, &wal_after));
  std::set<std::string> before(wal_before.begin(), wal_before.end());
  uint64_t active_first = 0;
  if (active_index != SIZE_MAX && plan[active_index].size > 0) {
    active_first = FirstLsn(*plan[active_index].file, plan[active_index].size);
  }
  for (const std::string& w : wal_after) {
    uint64_t first = 0;
    if (before.count(w) || !ParseSealedWalName(w, &first)) continue;
    if (active_first == 0 || first < active_first) {
      return Changed("the WAL was rotated during the copy (" + w + ")");
    }
  }

  // 4. The snapshot's own manifest, then the end of the archive.
  info->created_ms = now_ms;
  info->manifest_generation = have_manifest ? m.generation : 0;
  info->durable_lsn = have_manifest ? m.durable_lsn : 0;
  info->segments = have_manifest ? m.segments.size() : 0;
  info->wal_files = wal_before.size();
  info->members = members;
  info->total_bytes = 0;
  for (const auto& mi : members) info->total_bytes += mi.bytes;
  const std::string self = snapshot_internal::SnapshotManifestText(*info, dir);
  T4DX_RETURN_IF_ERROR(tar.BeginFile(kSnapshotManifestName, self.size()));
  T4DX_RETURN_IF_ERROR(tar.Write(self));
  T4DX_RETURN_IF_ERROR(tar.EndFile());
  T4DX_RETURN_IF_ERROR(tar.Finish());
  T4DX_RETURN_IF_ERROR(out->Sync());
  return out->Close();
}

}  // namespace

Status CreateSnapshot(Env* env, const std::string& dir, const std::string& tar_path,
                      const SnapshotOptions& options, SnapshotInfo* info) {
  *info = SnapshotInfo();
  info->path = tar_path;
  bool is_dir = false;
  Status s = env->IsDirectory(dir, &is_dir);
  if (s.IsNotFound() || (s.ok() && !is_dir)) {
    return Status::NotFound("store " + dir + " does not exist (or is not a directory)");
  }
  T4DX_RETURN_IF_ERROR(s);
  const int64_t now_ms = options.now_ms != 0 ? options.now_ms : Clock::Default()->NowUnixMillis();
  const std::string tmp = tar_path + ".tmp";
  const int attempts = std::max(1, options.max_attempts);
  Status last;
  for (int i = 1; i <= attempts; ++i) {
    info->attempts = i;
    last = TryOnce(env, dir, tmp, now_ms, options, info);
    if (last.ok()) {
      s = env->RenameFile(tmp, tar_path);
      if (s.ok()) {
        const std::string parent = DirName(tar_path);
        s = env->SyncDir(parent.empty() ? "." : parent);
      }
      if (!s.ok()) env->RemoveFile(tmp);
      return s;
    }
    if (last.code() != Status::Code::kBusy) break;
  }
  env->RemoveFile(tmp);  // best effort
  if (last.code() == Status::Code::kBusy) {
    return Status::Busy("snapshot of " + dir + ": no consistent copy after " +
                        std::to_string(attempts) + " attempts (" + last.message() + ")");
  }
  return last;
}

}  // namespace t4dx
