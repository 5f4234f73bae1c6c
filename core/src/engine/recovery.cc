// Opening a store: lock, manifest, segments, WAL replay, HNSW. Self-heals where the data
// allows (torn WAL tail, lost manifest, damaged segment still covered by the WAL, missing
// or corrupt index) and says loudly what it could not (quarantine, strict mode).
#include <algorithm>
#include <set>

#include "engine/engine_impl.h"
#include "segment/segment_format.h"
#include "wal/wal_format.h"
#include "wal/wal_reader.h"

namespace t4dx {

namespace {
constexpr char kLockFile[] = "LOCK";
constexpr char kQuarantineDir[] = "quarantine";
constexpr char kRecoveryReportFile[] = "recovery_report.json";
// Close indexes at most this many pending vectors before saving the HNSW container.
constexpr uint64_t kCloseIndexMaxVectors = 50000;
}  // namespace

Status Engine::Open(const Options& options, const std::string& dir,
                    std::unique_ptr<Engine>* engine) {
  engine->reset();
  // A read-only open beside a running writer can read a manifest whose merge inputs (or
  // WAL files past retention) the writer removes before they are opened or listed: that
  // open misses them. It can also list the WAL files just before the writer seals
  // wal.jsonl, then read the new wal.jsonl: that open misses the entries of the file
  // sealed. In either case the open is done again (a few times); what may still be
  // missing after that is reported as problems of the open.
  constexpr int kReadOnlyAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    auto impl = std::make_unique<EngineImpl>(options, dir);
    Status s = impl->Recover();
    if (!s.ok()) {
      impl->Close();
      return s;
    }
    if (options.read_only && impl->ReadOnlyViewStale(attempt == kReadOnlyAttempts)) {
      impl->Close();
      continue;
    }
    *engine = std::move(impl);
    return Status::OK();
  }
}

bool EngineImpl::ReadOnlyViewStale(bool last_attempt) {
  // The WAL read starts past the manifest read: the entries between are in a segment only
  // a newer global_index.json names (the writer flushed them, and retention removed their
  // WAL file before it was listed). Retention never removes the newest sealed file, so on
  // a store at rest the WAL reaches back to durable_lsn + 1.
  uint64_t wal_start = active_first_lsn_;
  for (const std::string& n : wal_sealed_listed_) {
    uint64_t first = 0;
    if (ParseSealedWalName(n, &first) && (wal_start == 0 || first < wal_start)) wal_start = first;
  }
  const uint64_t durable = manifest_.durable_lsn;
  const bool wal_gap = wal_start > durable + 1;
  // Listed files gone when read (merged segments; WAL files past retention whose entries
  // this open's manifest does not cover), or the gap above: the writer removes files only
  // once a newer global_index.json covers them, so the view is stale if that file has
  // changed since.
  if (segments_missing_ || !wal_files_missing_.empty() || wal_gap) {
    Manifest now;
    if (ReadManifest(env_, dir_, &now).ok() && now.generation != manifest_.generation) {
      if (!last_attempt) return true;
      std::unique_lock<std::shared_mutex> l(mu_);
      for (const std::string& n : wal_files_missing_) {
        problems_.push_back("WAL file " + n + " was removed by the writer while this "
                            "read-only open read the WAL, on every attempt: its entries may "
                            "be missing from this view; open it again");
      }
      if (wal_gap) {
        problems_.push_back("the WAL starts at LSN " + std::to_string(wal_start) +
                            " and global_index.json as read covers LSNs up to " +
                            std::to_string(durable) + ": the writer flushed and removed the "
                            "entries between while this read-only open ran, on every "
                            "attempt; they may be missing from this view; open it again");
      }
    }
  }
  // The WAL listing is stale when a sealed file is there now that was not listed, starting
  // below the first entry read from wal.jsonl (or wal.jsonl gave none). One starting at
  // that entry is the wal.jsonl that was read, sealed after it was opened: what was read
  // of it is a consistent prefix. The rule is the snapshot's (core/doc/snapshot_format.md,
  // "Consistency of a copy of a store in use").
  std::vector<std::string> names;
  if (!env_->GetChildren(dir_, &names).ok()) return false;
  for (const auto& n : names) {
    uint64_t first = 0;
    if (!ParseSealedWalName(n, &first) || wal_sealed_listed_.count(n)) continue;
    if (active_first_lsn_ != 0 && first >= active_first_lsn_) continue;
    if (!last_attempt) return true;
    std::unique_lock<std::shared_mutex> l(mu_);
    problems_.push_back("WAL file " + n + " was sealed while this read-only open read the "
                        "WAL, on every attempt: the entries from LSN " + std::to_string(first) +
                        " on may be missing from this view; open it again");
    return false;
  }
  return false;
}

EngineImpl::EngineImpl(const Options& options, std::string dir)
    : opts_(options), dir_(std::move(dir)) {
  env_ = opts_.env ? opts_.env : Env::Default();
  clock_ = opts_.clock ? opts_.clock : Clock::Default();
  metric_ = opts_.metric;
  dim_ = opts_.dim;
  mem_ = std::make_shared<MemTable>();
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
}

EngineImpl::~EngineImpl() {
  Status s = Close();
  if (!s.ok()) Log(LogLevel::kError, "close of " + dir_ + " failed: " + s.ToString());
}

std::string EngineImpl::Quarantine(const std::string& name, const std::string& suffix) {
  std::string qdir = JoinPath(dir_, kQuarantineDir);
  env_->CreateDir(qdir);
  std::string base = name + "." + std::to_string(clock_->NowUnixMillis());
  std::string path = JoinPath(qdir, base + suffix);
  // Never overwrite what an earlier recovery in the same millisecond set aside.
  bool is_dir = false;
  for (int n = 1; env_->FileExists(path) || (env_->IsDirectory(path, &is_dir).ok() && is_dir); n++) {
    path = JoinPath(qdir, base + "-" + std::to_string(n) + suffix);
  }
  return path;
}

Status EngineImpl::Recover() {
  int64_t t0 = clock_->NowMicros();
  recovery_.started_ms = clock_->NowUnixMillis();
  if (env_ == nullptr) return Status::NotSupported("no Env: call Env::SetDefault first");
  if (opts_.flush_threshold_items == 0) {
    return Status::InvalidArgument("flush_threshold_items must be at least 1");
  }
  bool is_dir = false;
  Status s = env_->IsDirectory(dir_, &is_dir);
  if (!s.ok() || !is_dir) {
    if (opts_.read_only || !opts_.create_if_missing) {
      return Status::NotFound("store directory " + dir_ + " does not exist");
    }
    T4DX_RETURN_IF_ERROR(env_->CreateDir(dir_));
    env_->SyncDir(DirName(dir_));
  }
  if (!opts_.read_only) {
    s = env_->LockFile(JoinPath(dir_, kLockFile), &lock_);
    if (!s.ok()) return s;
  }
  T4DX_RETURN_IF_ERROR(LoadOrRebuildManifest());
  HnswPreload preload;
  StartHnswPreload(&preload);
  T4DX_RETURN_IF_ERROR(OpenSegments());
  T4DX_RETURN_IF_ERROR(ReplayWal());
  T4DX_RETURN_IF_ERROR(LoadHnsw(&preload));
  if (!opts_.read_only) {
    s = WalWriter::Open(env_, dir_, &wal_);
    if (!s.ok()) return s.WithContext("opening wal.jsonl for writing");
    wal_->SetExistingRange(active_first_lsn_, last_lsn_);
  }
  recovery_.duration_us = clock_->NowMicros() - t0;
  if (recovery_.duration_us > 0 && recovery_.wal_bytes_read > 0) {
    replay_rate_bytes_per_s_ = double(recovery_.wal_bytes_read) * 1e6 / recovery_.duration_us;
  }
  if (!opts_.read_only) {
    Status ws = WriteRecoveryReport();
    if (!ws.ok()) Log(LogLevel::kWarn, "recovery report not written: " + ws.ToString());
    if (opts_.background_compaction) StartCompactor();
  }
  Log(LogLevel::kInfo, "opened " + dir_ + ": WAL replay applied " +
                           std::to_string(recovery_.entries_replayed) + " entries in " +
                           std::to_string(recovery_.duration_us / 1000) + " ms");
  return Status::OK();
}

Status EngineImpl::LoadOrRebuildManifest() {
  Status s = ReadManifest(env_, dir_, &manifest_);
  if (s.IsNotFound()) {
    // A host whose rename is not atomic may leave only the temporary copy.
    std::string tmp = JoinPath(dir_, std::string(kManifestFile) + ".tmp");
    if (env_->FileExists(tmp) && !opts_.read_only) {
      Manifest m;
      std::string data;
      if (ReadFileToString(env_, tmp, &data).ok() &&
          WriteFileAtomic(env_, JoinPath(dir_, kManifestFile), data).ok() &&
          ReadManifest(env_, dir_, &m).ok()) {
        manifest_ = m;
        recovery_.actions.push_back("restored global_index.json from global_index.json.tmp");
        s = Status::OK();
      }
    }
  }
  bool rebuild = false;
  if (s.IsNotFound()) {
    // New store, or a lost manifest: segments on disk tell.
    std::vector<std::string> names;
    T4DX_RETURN_IF_ERROR(env_->GetChildren(dir_, &names));
    for (auto& n : names) {
      uint64_t id;
      if (ParseSegmentDirName(n, &id)) rebuild = true;
    }
    if (!rebuild) {
      manifest_ = Manifest();
      manifest_.dim = opts_.dim;
      manifest_.metric = opts_.metric;
      return Status::OK();
    }
    recovery_.actions.push_back("global_index.json missing: rebuilt from the segment directories");
  } else if (!s.ok()) {
    if (opts_.recovery_strict || s.code() == Status::Code::kNotSupported) return s;
    Log(LogLevel::kError, "Global index mismatch: " + s.ToString());
    if (!opts_.read_only) {
      std::string to = Quarantine(kManifestFile, "");
      env_->RenameFile(JoinPath(dir_, kManifestFile), to);
      recovery_.actions.push_back("global_index.json unreadable (" + s.message() +
                                  "): moved to " + to + ", rebuilt from the segments");
    }
    rebuild = true;
  }
  if (rebuild) {
    std::string ignored;
    T4DX_RETURN_IF_ERROR(RebuildGlobalIndexLocked(&ignored));
    recovery_.manifest_rebuilt = true;
  }
  if (manifest_.dim != 0) {
    if (opts_.dim != 0 && opts_.dim != manifest_.dim) {
      return Status::InvalidArgument("store " + dir_ + " has dimension " +
                                     std::to_string(manifest_.dim) + ", options ask for " +
                                     std::to_string(opts_.dim));
    }
    dim_ = manifest_.dim;
  }
  if (!manifest_.segments.empty() || manifest_.dim != 0) metric_ = manifest_.metric;
  hnsw_saved_lsn_ = manifest_.hnsw_lsn;
  last_lsn_ = manifest_.durable_lsn;
  return Status::OK();
}

// Rebuilds global_index.json from seg_* directories: every readable segment, minus those
// a readable merge output names as its inputs.
Status EngineImpl::RebuildGlobalIndex(std::string* result_json) {
  if (closed_) return Status::FailedPrecondition("store " + dir_ + " is closed");
  auto m = LockMaintenance();
  return RebuildGlobalIndexLocked(result_json);
}

Status EngineImpl::RebuildGlobalIndexLocked(std::string* result_json) {
  std::vector<std::string> names;
  T4DX_RETURN_IF_ERROR(env_->GetChildren(dir_, &names));
  std::map<uint64_t, SegmentMeta> metas;
  std::vector<std::string> unreadable;
  for (auto& n : names) {
    uint64_t id;
    if (!ParseSegmentDirName(n, &id)) continue;
    SegmentMeta meta;
    Status s = ReadSegmentMeta(env_, JoinPath(dir_, n), &meta);
    if (!s.ok()) {
      unreadable.push_back(n + ": " + s.message());
      continue;
    }
    metas[id] = meta;
  }
  std::set<uint64_t> superseded;
  for (auto& kv : metas)
    for (uint64_t in : kv.second.inputs) superseded.insert(in);
  Manifest m;
  m.generation = manifest_.generation;
  m.dim = manifest_.dim ? manifest_.dim : opts_.dim;
  m.metric = manifest_.segments.empty() && manifest_.dim == 0 ? opts_.metric : manifest_.metric;
  m.quarantined = manifest_.quarantined;
  uint64_t max_id = 0;
  for (auto& kv : metas) {
    max_id = std::max(max_id, kv.first);
    if (superseded.count(kv.first)) continue;
    const SegmentMeta& meta = kv.second;
    ManifestSegment ms = ToManifestSegment(kv.first, meta);
    m.segments.push_back(ms);
    m.durable_lsn = std::max(m.durable_lsn, meta.lsn_max);
    if (meta.dim) m.dim = meta.dim;
    m.metric = meta.metric;
  }
  m.next_segment_id = max_id + 1;
  if (!opts_.read_only) {
    m.generation++;
    T4DX_RETURN_IF_ERROR(WriteManifest(env_, dir_, m));
  }
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    manifest_ = m;
  }
  if (result_json) {
    std::string u;
    for (auto& x : unreadable) u += (u.empty() ? "\"" : ",\"") + x + "\"";
    *result_json = "{\"segments\":" + std::to_string(m.segments.size()) +
                   ",\"superseded\":" + std::to_string(superseded.size()) +
                   ",\"durable_lsn\":" + std::to_string(m.durable_lsn) +
                   ",\"generation\":" + std::to_string(m.generation) + ",\"unreadable\":[" + u +
                   "]}";
  }
  return Status::OK();
}

Status EngineImpl::OpenSegments() {
  // Leftovers of interrupted writes: seg_*.tmp directories, segments no manifest names.
  std::vector<std::string> names;
  T4DX_RETURN_IF_ERROR(env_->GetChildren(dir_, &names));
  std::set<uint64_t> listed;
  for (auto& ms : manifest_.segments) listed.insert(ms.id);
  for (auto& n : names) {
    uint64_t id;
    if (!opts_.read_only && n.size() > 8 && n.compare(n.size() - 8, 8, ".deleted") == 0 &&
        ParseSegmentDirName(n.substr(0, n.size() - 8), &id)) {
      // A merge input whose removal a crash interrupted: the manifest that superseded it
      // was durable before the rename, so finishing the removal loses nothing.
      std::string d = JoinPath(dir_, n);
      std::vector<std::string> files;
      if (env_->GetChildren(d, &files).ok()) {
        for (auto& f : files) env_->RemoveFile(JoinPath(d, f));
      }
      env_->RemoveDir(d);
      recovery_.actions.push_back("finished removing merged-away segment " + n);
      continue;
    }
    bool tmp = n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0 &&
               ParseSegmentDirName(n.substr(0, n.size() - 4), &id);
    bool orphan = ParseSegmentDirName(n, &id) && !listed.count(id);
    if ((tmp || orphan) && !opts_.read_only) {
      std::string to = Quarantine(n, "");
      Status s = env_->RenameFile(JoinPath(dir_, n), to);
      recovery_.actions.push_back(std::string(tmp ? "incomplete segment write " : "segment not in global_index.json ") +
                                  n + " moved to " + to + (s.ok() ? "" : " (failed: " + s.message() + ")"));
    }
  }
  // The first LSN the WAL files still hold (segments from it on can be rebuilt).
  uint64_t first_retained_wal_lsn = UINT64_MAX;
  for (auto& n : names) {
    uint64_t first;
    if (ParseSealedWalName(n, &first)) first_retained_wal_lsn = std::min(first_retained_wal_lsn, first);
  }
  std::vector<ManifestSegment> keep;
  bool changed = false;
  for (const ManifestSegment& ms : manifest_.segments) {
    std::string d = JoinPath(dir_, SegmentDirName(ms.id));
    std::unique_ptr<SegmentReader> r;
    Status s = SegmentReader::Open(env_, d, &r);
    if (s.ok() && !opts_.read_only && ms.lsn_min >= first_retained_wal_lsn) {
      // Recent segments the retained WAL still covers are verified block by block now:
      // they are small, and they are the ones a damaged copy can be rebuilt from.
      std::vector<SegmentProblem> problems;
      Status v = r->VerifyChecksum(&problems);
      if (!v.ok()) {
        s = v;
      } else if (!problems.empty()) {
        s = Status::CorruptionAt(problems[0].file, 0, problems[0].offset,
                                 "segment checksum mismatch: " + problems[0].reason);
      }
    }
    if (s.ok() && r->meta().meta_checksum != ms.meta_checksum) {
      s = Status::Corruption("Global index mismatch: " + d + "/meta.json checksum " +
                             r->meta().meta_checksum + " differs from global_index.json's " +
                             ms.meta_checksum);
    }
    if (s.ok()) {
      auto st = std::make_unique<SegState>();
      st->reader = std::shared_ptr<SegmentReader>(std::move(r));
      segs_[ms.id] = std::move(st);
      keep.push_back(ms);
      continue;
    }
    // A segment written by a newer build is not damage: refuse to open, change nothing.
    if (s.code() == Status::Code::kNotSupported) return s;
    Log(LogLevel::kError, "segment checksum mismatch: " + s.ToString());
    if (opts_.recovery_strict) return s;
    if (opts_.read_only) {
      if (!env_->FileExists(d)) segments_missing_ = true;  // gone, not damaged
      problems_.push_back("segment " + SegmentDirName(ms.id) + " unreadable: " + s.message());
      continue;
    }
    bool rebuilt = false;
    T4DX_RETURN_IF_ERROR(RebuildSegmentFromWal(ms, s, &rebuilt));
    if (rebuilt) {
      changed = true;  // RebuildSegmentFromWal installed it under a new id
      continue;
    }
    // An I/O error is not proof of damage (it may pass): a segment nothing else holds is
    // not set aside for it. The open fails, naming the file, and changes nothing.
    if (s.IsIOError()) {
      return Status::IOError(s.message() + " (" + SegmentDirName(ms.id) +
                             " is not in the retained WAL, so it was not quarantined; the "
                             "store was not opened and nothing was changed: retry, or check "
                             "the device and run `t4dx verify`)");
    }
    T4DX_RETURN_IF_ERROR(QuarantineSegment(ms, s));
    changed = true;
  }
  if (changed && !opts_.read_only) {
    Manifest m = manifest_;
    std::vector<ManifestSegment> segs = keep;
    for (auto& kv : segs_) {
      bool found = false;
      for (auto& k : keep) found = found || k.id == kv.first;
      if (found) continue;
      const SegmentMeta& meta = kv.second->reader->meta();
      ManifestSegment ms = ToManifestSegment(meta.id, meta);
      segs.push_back(ms);
    }
    std::sort(segs.begin(), segs.end(),
              [](const ManifestSegment& a, const ManifestSegment& b) { return a.id < b.id; });
    m.segments = segs;
    m.generation++;
    T4DX_RETURN_IF_ERROR(WriteManifest(env_, dir_, m));
    manifest_ = m;
  }
  std::unique_lock<std::shared_mutex> l(mu_);
  RebuildMapsLocked();
  return Status::OK();
}

// A damaged or missing segment whose whole LSN range the retained WAL still holds is
// written again from the WAL under a new id; the damaged copy is moved aside.
Status EngineImpl::RebuildSegmentFromWal(const ManifestSegment& ms, const Status& why,
                                         bool* rebuilt) {
  *rebuilt = false;
  std::vector<std::string> names;
  T4DX_RETURN_IF_ERROR(env_->GetChildren(dir_, &names));
  std::vector<std::pair<uint64_t, std::string>> files;
  for (auto& n : names) {
    uint64_t first;
    if (ParseSealedWalName(n, &first)) files.push_back({first, n});
  }
  std::sort(files.begin(), files.end());
  files.push_back({UINT64_MAX, kWalActiveName});
  std::map<std::string, SegmentEntry> latest;
  uint64_t next_expected = 0;
  bool covered_start = false;
  for (auto& f : files) {
    std::string path = JoinPath(dir_, f.second);
    if (!env_->FileExists(path)) continue;
    WalReadOptions ro;
    WalFileSummary sum;
    Status s = ReadWalFile(env_, path, ro, [&](const WalRecord& r, const WalPosition&) {
      uint64_t lsn = r.lsn;
      if (r.last_lsn() < ms.lsn_min || lsn > ms.lsn_max) {
        if (r.last_lsn() < ms.lsn_min) next_expected = r.last_lsn() + 1;
        return Status::OK();
      }
      if (!covered_start) {
        covered_start = lsn <= ms.lsn_min && (next_expected == 0 || next_expected <= ms.lsn_min || true);
        if (lsn > ms.lsn_min) return Status::Aborted("WAL starts after the segment");
      } else if (lsn != next_expected) {
        return Status::Aborted("WAL has a gap");
      }
      next_expected = r.last_lsn() + 1;
      if (r.op == WalOp::kDelete) {
        SegmentEntry e;
        e.item.id = r.id;
        e.lsn = lsn;
        e.deleted = true;
        latest[r.id] = std::move(e);
      } else {
        for (size_t i = 0; i < r.items.size(); i++) {
          if (lsn + i > ms.lsn_max) break;
          SegmentEntry e;
          e.item = r.items[i];
          e.lsn = lsn + i;
          latest[e.item.id] = std::move(e);
        }
      }
      return Status::OK();
    }, &sum);
    if (s.code() == Status::Code::kAborted) return Status::OK();
    if (!s.ok() && !s.IsNotFound()) return Status::OK();
  }
  if (!covered_start || next_expected <= ms.lsn_max) return Status::OK();
  // The WAL covers [lsn_min, lsn_max]: write the segment again.
  std::vector<SegmentEntry> entries;
  for (auto& kv : latest) entries.push_back(std::move(kv.second));
  uint64_t id = manifest_.next_segment_id++;
  SegmentMeta meta;
  T4DX_RETURN_IF_ERROR(WriteSegment(env_, dir_, id, entries, manifest_.dim ? manifest_.dim : dim_.load(),
                                    manifest_.metric, {}, clock_->NowUnixMillis(), &meta));
  std::unique_ptr<SegmentReader> r;
  T4DX_RETURN_IF_ERROR(SegmentReader::Open(env_, JoinPath(dir_, SegmentDirName(id)), &r));
  auto st = std::make_unique<SegState>();
  st->reader = std::shared_ptr<SegmentReader>(std::move(r));
  segs_[id] = std::move(st);
  std::string old = JoinPath(dir_, SegmentDirName(ms.id));
  std::string moved = "(missing)";
  if (env_->FileExists(old)) {
    moved = Quarantine(SegmentDirName(ms.id), "");
    env_->RenameFile(old, moved);
  }
  env_->SyncDir(dir_);
  recovery_.segments_rebuilt_from_wal++;
  recovery_.actions.push_back("segment " + SegmentDirName(ms.id) + " (" + why.message() +
                              ") rebuilt from the WAL as " + SegmentDirName(id) +
                              "; damaged copy: " + moved);
  CompactionRecord cr;
  cr.kind = "rebuild";
  cr.time_ms = clock_->NowUnixMillis();
  cr.inputs = {ms.id};
  cr.outputs = {id};
  cr.items_out = meta.count;
  cr.bytes_out = meta.total_bytes;
  AppendCompactionRecord(env_, dir_, cr);
  Log(LogLevel::kWarn, recovery_.actions.back());
  *rebuilt = true;
  return Status::OK();
}

Status EngineImpl::QuarantineSegment(const ManifestSegment& ms, const Status& why) {
  std::string old = JoinPath(dir_, SegmentDirName(ms.id));
  QuarantineRecord q;
  q.what = "segment " + SegmentDirName(ms.id);
  q.lsn_min = ms.lsn_min;
  q.lsn_max = ms.lsn_max;
  q.reason = why.message();
  q.time_ms = clock_->NowUnixMillis();
  q.moved_to = "(missing)";
  if (env_->FileExists(old)) {
    q.moved_to = Quarantine(SegmentDirName(ms.id), "");
    env_->RenameFile(old, q.moved_to);
  }
  manifest_.quarantined.push_back(q);
  recovery_.segments_quarantined++;
  std::string msg = "segment " + SegmentDirName(ms.id) + " is unreadable (" + why.message() +
                    ") and the WAL no longer covers LSNs " + std::to_string(ms.lsn_min) + ".." +
                    std::to_string(ms.lsn_max) + ": quarantined at " + q.moved_to +
                    "; restore them from a snapshot (t4dx snapshot restore) or a backup";
  recovery_.problems.push_back(msg);
  problems_.push_back(msg);
  Log(LogLevel::kError, msg);
  return Status::OK();
}

// The first LSN of files[i] (sorted WAL files, the active one last with first UINT64_MAX):
// from its name when sealed, else its first record; 0 when unknown (empty, unreadable).
uint64_t EngineImpl::FirstWalLsn(size_t i,
                                 const std::vector<std::pair<uint64_t, std::string>>& files) {
  if (files[i].first != UINT64_MAX) return files[i].first;
  uint64_t first = 0;
  ReadWalFile(env_, JoinPath(dir_, files[i].second), WalReadOptions(),
              [&](const WalRecord& r, const WalPosition&) {
                first = r.lsn;
                return Status::Aborted("first record read");
              },
              nullptr);
  return first;
}

// Replays every WAL record above the manifest's durable LSN into the MemTable.
Status EngineImpl::ReplayWal() {
  std::vector<std::string> names;
  T4DX_RETURN_IF_ERROR(env_->GetChildren(dir_, &names));
  std::vector<std::pair<uint64_t, std::string>> files;
  for (auto& n : names) {
    uint64_t first;
    if (ParseSealedWalName(n, &first)) {
      files.push_back({first, n});
      wal_sealed_listed_.insert(n);
      uint64_t sz = 0;
      if (env_->GetFileSize(JoinPath(dir_, n), &sz).ok()) wal_sealed_bytes_ += sz;
    }
  }
  std::sort(files.begin(), files.end());
  files.push_back({UINT64_MAX, kWalActiveName});
  uint64_t durable = manifest_.durable_lsn;
  uint64_t prev = 0;
  bool stop = false;  // after a corrupt entry everything later is quarantined
  for (size_t fi = 0; fi < files.size(); fi++) {
    std::string name = files[fi].second;
    std::string path = JoinPath(dir_, name);
    if (!env_->FileExists(path)) continue;
    if (stop) {
      if (opts_.read_only) continue;
      std::string to = Quarantine(name, "");
      env_->RenameFile(path, to);
      recovery_.actions.push_back("WAL file " + name + " follows a corrupt entry: moved to " + to);
      continue;
    }
    // A sealed file whose every entry is in segments already (the next file starts at or
    // below durable_lsn + 1) is retained only to rebuild a damaged segment: its lines'
    // checksums are verified (damage is still reported) but not decoded, which keeps an
    // open after a flush fast. `t4dx wal check` decodes every line.
    uint64_t covered_through = 0;
    if (name != kWalActiveName && fi + 1 < files.size()) {
      const uint64_t next_first = FirstWalLsn(fi + 1, files);
      if (next_first != 0 && next_first - 1 <= durable && next_first > prev) {
        covered_through = next_first - 1;
      }
    }
    recovery_.wal_files++;
    if (covered_through) recovery_.wal_files_checksums_only++;
    WalReadOptions ro;
    ro.previous_lsn = prev;
    ro.checksums_only = covered_through != 0;
    WalFileSummary sum;
    bool active = name == kWalActiveName;
    WalPosition bad_pos;
    std::string bad_reason;
    // After the first kReserveSample records the MemTable is sized for the records the
    // rest of the file holds at the same bytes per record, sparing the rehashes of a
    // growing index. Counted as at least kReserveMinRecordBytes each, so a file whose
    // first records are unusually small reserves at most file size / 512 ids (the index
    // then grows as usual past that).
    constexpr uint64_t kReserveSample = 1000;
    constexpr double kReserveMinRecordBytes = 512;
    uint64_t file_records = 0;
    uint64_t file_size = 0;
    if (!ro.checksums_only) env_->GetFileSize(path, &file_size);
    Status s = ReadWalFile(env_, path, ro, [&](WalRecord& r, const WalPosition& pos) {
      if (++file_records == kReserveSample && pos.offset + pos.length < file_size) {
        const double per_record = std::max(
            kReserveMinRecordBytes, double(pos.offset + pos.length) / double(kReserveSample));
        mem_->Reserve(mem_->count() + size_t(double(file_size) / per_record));
      }
      // The WAL cannot know the store's dimension: a vector cut short by whole floats
      // decodes as a shorter one. Such a record is corruption, found here.
      for (size_t i = 0; i < r.items.size(); i++) {
        const auto& emb = r.items[i].embedding;
        uint32_t d = dim_.load();
        if (!emb.empty() && d != 0 && emb.size() != d) {
          bad_pos = pos;
          bad_reason = "item '" + r.items[i].id + "': embedding has " + std::to_string(emb.size()) +
                       " values, the store's dimension is " + std::to_string(d) +
                       " (truncated embedding)";
          return Status::Corruption(bad_reason);
        }
        if (!emb.empty() && d == 0) dim_ = uint32_t(emb.size());
      }
      // Every LSN above durable_lsn is in the WAL without a hole (WalLsnGapReason): a
      // hole means records are missing (a WAL file removed or cut by hand, say).
      const uint64_t expected = std::max(prev, durable) + 1;
      if (r.last_lsn() > durable && r.lsn > expected) {
        bad_pos = pos;
        bad_reason = WalLsnGapReason(r.lsn, expected);
        return Status::Corruption(bad_reason);
      }
      prev = r.last_lsn();
      if (active && active_first_lsn_ == 0) active_first_lsn_ = r.lsn;
      if (r.last_lsn() <= durable) {
        recovery_.entries_skipped++;
        return Status::OK();
      }
      if (r.op == WalOp::kDelete) {
        MemEntry e;
        e.item.id = r.id;
        e.lsn = r.lsn;
        e.deleted = true;
        mem_->Apply(std::move(e));
      } else {
        for (size_t i = 0; i < r.items.size(); i++) {
          if (r.lsn + i <= durable) continue;
          MemEntry e;
          e.item = std::move(r.items[i]);  // the reader's record: not read again
          e.lsn = r.lsn + i;
          if (!e.item.embedding.empty() && dim_.load() == 0) dim_ = e.item.embedding.size();
          mem_->Apply(std::move(e));
        }
      }
      recovery_.entries_replayed++;
      last_lsn_ = std::max(last_lsn_, r.last_lsn());
      return Status::OK();
    }, &sum);
    if (s.IsCorruption() && !bad_reason.empty()) {
      uint64_t size = 0;
      env_->GetFileSize(path, &size);
      sum.has_problem = true;
      sum.problem.file = path;
      sum.problem.line = bad_pos.line;
      sum.problem.offset = bad_pos.offset;
      sum.problem.length = size - bad_pos.offset;
      sum.problem.reason = bad_reason;
      sum.problem.torn_tail = false;
      sum.file_bytes = size;
      s = Status::OK();
    }
    // A read-only open beside a running writer may see a sealed file deleted by retention
    // between listing and reading: everything in it is in a segment already, but maybe
    // only in one a newer global_index.json names (see ReadOnlyViewStale).
    if (s.IsNotFound() && opts_.read_only) {
      if (!covered_through) wal_files_missing_.push_back(name);
      continue;
    }
    if (!s.ok()) return s.WithContext("WAL replay of " + path);
    recovery_.wal_bytes_read += sum.file_bytes;
    if (covered_through) prev = covered_through;
    if (!sum.has_problem) continue;
    const WalProblem& p = sum.problem;
    bool last_file = fi + 1 == files.size();
    Status where = Status::CorruptionAt(path, int64_t(p.line), int64_t(p.offset), p.reason);
    if (p.torn_tail && last_file) {
      // A crash mid-write: normal. Save the torn bytes aside, cut them.
      if (opts_.read_only) {
        recovery_.actions.push_back("torn tail ignored (read-only): " + where.message());
        continue;
      }
      std::string data;
      std::unique_ptr<RandomAccessFile> f;
      std::string to = Quarantine(name, ".torn");
      if (env_->NewRandomAccessFile(path, &f).ok() && f->Read(p.offset, p.length, &data).ok()) {
        WriteFileAtomic(env_, to, data);
      }
      T4DX_RETURN_IF_ERROR(env_->TruncateFile(path, p.offset));
      recovery_.torn_bytes_cut += p.length;
      recovery_.actions.push_back("torn last WAL line cut: " + where.message() + "; " +
                                  std::to_string(p.length) + " bytes saved to " + to);
      Log(LogLevel::kWarn, "WAL replay: " + recovery_.actions.back());
      continue;
    }
    Log(LogLevel::kError, "WAL replay failed: " + where.ToString());
    if (opts_.recovery_strict) {
      return Status::CorruptionAt(path, int64_t(p.line), int64_t(p.offset),
                                  p.reason + " (T4DM_RECOVERY_STRICT=true refuses to open; "
                                             "run `t4dx wal check` and `t4dx wal repair`)");
    }
    if (opts_.read_only) {
      problems_.push_back("WAL corruption: " + where.message());
      stop = true;
      continue;
    }
    std::string data;
    std::unique_ptr<RandomAccessFile> f;
    std::string to = Quarantine(name, ".corrupt");
    T4DX_RETURN_IF_ERROR(env_->NewRandomAccessFile(path, &f));
    T4DX_RETURN_IF_ERROR(f->Read(p.offset, p.length, &data));
    T4DX_RETURN_IF_ERROR(WriteFileAtomic(env_, to, data));
    T4DX_RETURN_IF_ERROR(env_->TruncateFile(path, p.offset));
    recovery_.corrupt_bytes_quarantined += p.length;
    // The bad tail of a sealed file whose entries are all in segments already (the next
    // file starts at or below durable_lsn + 1) leaves no hole: keep replaying the newer
    // files, which hold acknowledged writes. Otherwise stop at the last good entry.
    uint64_t next_first = fi + 1 < files.size() ? FirstWalLsn(fi + 1, files) : 0;
    bool covered = next_first != 0 && next_first - 1 <= durable;
    std::string msg =
        "WAL corruption: " + where.message() +
        (covered ? "; the entries it held (up to LSN " + std::to_string(next_first - 1) +
                       ") are in segments, replay continued with the next file, "
                 : "; opened at the last good entry (LSN " + std::to_string(prev) + "), ") +
        std::to_string(p.length) + " bytes moved to " + to;
    recovery_.actions.push_back(msg);
    recovery_.problems.push_back(msg);
    problems_.push_back(msg);
    stop = !covered;
  }
  // A sealed file after the active one would be out of order; the active file (if it was
  // sealed files only) must start above everything replayed: handled by previous_lsn.
  return Status::OK();
}

void EngineImpl::StartHnswPreload(HnswPreload* pre) {
  // Reading and checking a large index is as long as the rest of an open (0.2 s per
  // 100,000 vectors of 384 dimensions): on two cores the two halves overlap. Only reads
  // happen on that thread, so the order of the open's mutating calls is unchanged.
  if (!kHaveThreads || dim_.load() == 0) return;
  pre->params = MakeHnswParams();
  pre->thread = std::thread([this, pre] {
    pre->status = HnswIndex::Load(env_, dir_, pre->params, &pre->index, &pre->covered_lsn);
  });
}

Status EngineImpl::LoadHnsw(HnswPreload* pre) {
  if (pre->thread.joinable()) pre->thread.join();
  if (dim_.load() == 0) return Status::OK();
  std::unique_ptr<HnswIndex> h;
  uint64_t covered = 0;
  HnswParams p = MakeHnswParams();
  Status s;
  if (pre->params.dim == p.dim && pre->params.metric == p.metric && pre->params.dim != 0) {
    s = pre->status;
    h = std::move(pre->index);
    covered = pre->covered_lsn;
  } else {
    s = HnswIndex::Load(env_, dir_, p, &h, &covered);
  }
  std::unique_lock<std::shared_mutex> l(mu_);
  if (s.ok()) {
    hnsw_ = std::shared_ptr<HnswIndex>(std::move(h));
    hnsw_saved_size_ = hnsw_->size();
    hnsw_saved_lsn_ = covered;
    recovery_.hnsw_loaded = true;
    recovery_.hnsw_note = "loaded hnsw.idx (" + std::to_string(hnsw_saved_size_) +
                          " vectors, covers LSN " + std::to_string(covered) + ")";
  } else if (s.IsNotFound()) {
    recovery_.hnsw_note = "no hnsw.idx: the index is built from the segments in the background";
  } else {
    Log(LogLevel::kError, "HNSW refresh failed: " + s.ToString());
    recovery_.hnsw_note = "hnsw.idx rejected (" + s.message() +
                          "): rebuilt from the segments in the background";
    if (!opts_.read_only) {
      std::string to = Quarantine(kHnswContainerFile, "");
      env_->RenameFile(JoinPath(dir_, kHnswContainerFile), to);
      recovery_.hnsw_note += "; the rejected file was moved to " + to;
    }
  }
  ComputeIndexedLocked();
  if (hnsw_ && !opts_.read_only &&
      hnsw_->size() >= 1000 &&
      double(hnsw_->deleted_count()) > opts_.hnsw_rebuild_deleted_fraction * double(hnsw_->size())) {
    recovery_.hnsw_note += "; deleted marks above threshold: rebuild scheduled";
  }
  return Status::OK();
}

Status EngineImpl::WriteRecoveryReport() {
  std::string j;
  Describe(View::kRecoveryReport, "", &j);
  return WriteFileAtomic(env_, JoinPath(dir_, kRecoveryReportFile), j + "\n");
}

Status EngineImpl::Close() {
  if (closed_) return Status::OK();
  StopCompactor();
  Status result;
  if (!opts_.read_only && wal_) {
    if (write_error_.ok() && opts_.wal_sync != WalSync::kNone) {
      Writer w;
      w.kind = WriteKind::kSync;
      Status s = Enqueue(&w);
      if (!s.ok()) result = s;
    }
    {
      auto m = LockMaintenance();
      // Index what the compactor had not reached yet when it is small, so the saved
      // container covers the store and the next open needs no catch-up.
      uint64_t pending = 0;
      {
        std::shared_lock<std::shared_mutex> l(mu_);
        for (auto& kv : segs_)
          if (!kv.second->indexed) pending += kv.second->reader->meta().vectors;
      }
      // An index step that fails here only leaves more for the next open to index.
      if (pending <= kCloseIndexMaxVectors) (void)IndexUntilDone();
      Status s = SaveHnswIfDue(true);
      if (!s.ok() && result.ok()) result = s;
    }
    wal_->Close();
  }
  closed_ = true;
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    hnsw_.reset();
    segs_.clear();
    id_map_.clear();
    label_map_.clear();
    maps_generation_++;
  }
  lock_.reset();
  return result;
}

}  // namespace t4dx
