// Operator actions: verify, WAL compaction and truncation, index and manifest rebuilds.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/engine_impl.h"
#include "vector/hnsw_bulk_add.h"
#include "segment/segment_format.h"
#include "wal/wal_format.h"
#include "wal/wal_reader.h"

namespace t4dx {

using json = nlohmann::json;

Status EngineImpl::Verify(std::string* report_json, bool* healthy, ProgressFn progress) {
  if (closed_) return Status::FailedPrecondition("store " + dir_ + " is closed");
  json problems = json::array();
  json checked;
  // No merge may remove a segment while it is being checked.
  auto maint = LockMaintenance();
  // Segments: every block of every file.
  std::vector<std::shared_ptr<SegmentReader>> segs;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    for (auto& kv : segs_) segs.push_back(kv.second->reader);
  }
  std::vector<std::string> names;
  T4DX_RETURN_IF_ERROR(env_->GetChildren(dir_, &names));
  std::vector<std::pair<uint64_t, std::string>> wal_files;
  for (auto& n : names) {
    uint64_t first;
    if (ParseSealedWalName(n, &first)) wal_files.push_back({first, n});
  }
  std::sort(wal_files.begin(), wal_files.end());
  if (env_->FileExists(JoinPath(dir_, kWalActiveName))) wal_files.push_back({UINT64_MAX, kWalActiveName});
  uint64_t total = segs.size() + wal_files.size() + 2, done = 0;
  for (auto& seg : segs) {
    std::vector<SegmentProblem> ps;
    T4DX_RETURN_IF_ERROR(seg->VerifyChecksum(&ps));
    for (auto& p : ps) {
      problems.push_back({{"kind", "segment_checksum"}, {"segment", SegmentDirName(seg->id()).substr(4)},
                          {"file", p.file}, {"offset", p.offset}, {"reason", p.reason}});
      Log(LogLevel::kError, "segment checksum mismatch: " + p.file + " at byte " + std::to_string(p.offset));
    }
    if (progress) progress(++done, total);
  }
  checked["segments"] = segs.size();
  // WAL: every line's checksum, LSN order across files.
  uint64_t wal_records = 0, prev = 0;
  for (size_t i = 0; i < wal_files.size(); i++) {
    std::string path = JoinPath(dir_, wal_files[i].second);
    WalReadOptions ro;
    ro.previous_lsn = prev;
    WalFileSummary sum;
    Status s = ReadWalFile(env_, path, ro, [&](const WalRecord& r, const WalPosition&) {
      wal_records++;
      prev = r.last_lsn();
      return Status::OK();
    }, &sum);
    if (s.IsNotFound()) continue;
    T4DX_RETURN_IF_ERROR(s);
    if (sum.has_problem) {
      const WalProblem& p = sum.problem;
      bool benign = p.torn_tail && i + 1 == wal_files.size() && opts_.read_only;
      problems.push_back({{"kind", p.torn_tail ? "wal_torn_tail" : "wal_corruption"},
                          {"file", path}, {"line", p.line}, {"offset", p.offset},
                          {"length", p.length}, {"reason", p.reason},
                          {"severity", benign ? "info" : "error"}});
      if (benign) problems.back()["note"] = "a line being written right now looks torn to a reader";
    }
    if (progress) progress(++done, total);
  }
  checked["wal_files"] = wal_files.size();
  checked["wal_entries"] = wal_records;
  // Global index and HNSW consistency.
  {
    std::string gi;
    T4DX_RETURN_IF_ERROR(Describe(View::kGlobalIndex, "", &gi));
    json g = json::parse(gi);
    for (auto& e : g["consistency"]["errors"]) {
      problems.push_back({{"kind", "global_index"}, {"file", JoinPath(dir_, kManifestFile)}, {"offset", -1},
                          {"reason", e}});
    }
    for (auto& q : g["quarantined"]) {
      problems.push_back({{"kind", "quarantined"}, {"file", q["moved_to"]}, {"offset", -1},
                          {"reason", q["what"].get<std::string>() + " quarantined: LSNs " +
                                         std::to_string(q["lsn_min"].get<uint64_t>()) + ".." +
                                         std::to_string(q["lsn_max"].get<uint64_t>()) + " unreadable (" +
                                         q["reason"].get<std::string>() + ")"}});
    }
    if (progress) progress(++done, total);
  }
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    uint64_t missing = 0, stale = 0;
    bool any_unindexed = false;
    for (auto& kv : segs_) any_unindexed = any_unindexed || !kv.second->indexed;
    for (auto& kv : label_map_) {
      bool indexed_seg = false;
      for (auto& s : segs_) indexed_seg = indexed_seg || (s.second->reader.get() == kv.second.seg && s.second->indexed);
      if (indexed_seg && (!hnsw_ || !hnsw_->Contains(kv.first))) missing++;
    }
    if (hnsw_) {
      hnsw_->ForEach([&](uint64_t label, bool deleted) {
        if (!deleted && !label_map_.count(label)) stale++;
      });
    }
    if (missing || stale) {
      problems.push_back({{"kind", "hnsw"}, {"file", JoinPath(dir_, kHnswContainerFile)}, {"offset", -1},
                          {"reason", "HNSW indexed set differs from the stored live set: " +
                                         std::to_string(missing) + " live vectors missing, " +
                                         std::to_string(stale) + " stale vectors not marked deleted"}});
    }
    checked["hnsw_vectors"] = hnsw_ ? hnsw_->size() - hnsw_->deleted_count() : 0;
    checked["stored_live_vectors"] = label_map_.size();
    checked["hnsw_catching_up"] = any_unindexed;
    for (auto& p : problems_) {
      problems.push_back({{"kind", "recovery"}, {"file", dir_}, {"offset", -1}, {"reason", p}});
    }
    if (progress) progress(++done, total);
  }
  bool ok = true;
  for (auto& p : problems)
    if (!p.contains("severity") || p["severity"] != "info") ok = false;
  *healthy = ok;
  json out;
  out["healthy"] = ok;
  out["problems"] = problems;
  out["checked"] = checked;
  out["dir"] = dir_;
  *report_json = out.dump();
  return Status::OK();
}

Status EngineImpl::CompactWal(uint64_t keep_entries, std::string* result_json) {
  T4DX_RETURN_IF_ERROR(CheckWritable());
  auto m = LockMaintenance();
  std::string r;
  T4DX_RETURN_IF_ERROR(CleanupWal(keep_entries, false, &r));
  json j = json::parse(r);
  std::shared_lock<std::shared_mutex> l(mu_);
  j["keep_entries"] = keep_entries;
  j["unflushed_entries"] = last_lsn_ > manifest_.durable_lsn ? last_lsn_ - manifest_.durable_lsn : 0;
  j["note"] = "only flushed entries in sealed WAL files are removed; flush first to release more";
  *result_json = j.dump();
  return Status::OK();
}

Status EngineImpl::TruncateWal(std::string* result_json) {
  T4DX_RETURN_IF_ERROR(CheckWritable());
  auto m = LockMaintenance();
  // Hold the writer queue: freeze writers out by leading a sync write, then work.
  std::unique_lock<std::mutex> q(queue_mu_);
  while (!writers_.empty()) {
    q.unlock();
    std::this_thread::yield();
    q.lock();
  }
  std::vector<std::string> names;
  T4DX_RETURN_IF_ERROR(env_->GetChildren(dir_, &names));
  std::string backup = Quarantine("wal-truncated", "");
  T4DX_RETURN_IF_ERROR(env_->CreateDir(backup));
  uint64_t files = 0, bytes = 0;
  std::vector<std::string> wal_names;
  for (auto& n : names) {
    uint64_t first;
    if (n == kWalActiveName || ParseSealedWalName(n, &first)) wal_names.push_back(n);
  }
  for (auto& n : wal_names) {
    std::string data;
    T4DX_RETURN_IF_ERROR(ReadFileToString(env_, JoinPath(dir_, n), &data));
    T4DX_RETURN_IF_ERROR(WriteFileAtomic(env_, JoinPath(backup, n), data));
    files++;
    bytes += data.size();
  }
  T4DX_RETURN_IF_ERROR(env_->SyncDir(backup));
  uint64_t unflushed;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    unflushed = last_lsn_ > manifest_.durable_lsn ? last_lsn_ - manifest_.durable_lsn : 0;
  }
  wal_->Close();
  wal_.reset();
  for (auto& n : wal_names) {
    if (n != kWalActiveName) T4DX_RETURN_IF_ERROR(env_->RemoveFile(JoinPath(dir_, n)));
  }
  T4DX_RETURN_IF_ERROR(env_->TruncateFile(JoinPath(dir_, kWalActiveName), 0));
  T4DX_RETURN_IF_ERROR(env_->SyncDir(dir_));
  T4DX_RETURN_IF_ERROR(WalWriter::Open(env_, dir_, &wal_));
  wal_sealed_bytes_ = 0;
  json j;
  j["truncated"] = true;
  j["backup_dir"] = backup;
  j["files_backed_up"] = files;
  j["bytes_backed_up"] = bytes;
  j["unflushed_entries_dropped"] = unflushed;
  j["note"] = unflushed
                  ? "the dropped entries are still in memory and reach a segment at the next flush; "
                    "a crash before that loses them (they remain in the backup)"
                  : "every entry was already in a segment";
  *result_json = j.dump();
  Log(LogLevel::kWarn, "WAL truncated: " + *result_json);
  return Status::OK();
}

Status EngineImpl::RebuildHnsw(ProgressFn progress, std::string* result_json) {
  if (closed_) return Status::FailedPrecondition("store " + dir_ + " is closed");
  auto m = LockMaintenance();
  return RebuildHnswLocked(progress, result_json);
}

Status EngineImpl::RebuildHnswLocked(ProgressFn progress, std::string* result_json) {
  int64_t t0 = clock_->NowMicros();
  if (dim_.load() == 0) {
    *result_json = "{\"vectors\":0,\"note\":\"no vectors stored\"}";
    return Status::OK();
  }
  std::vector<std::shared_ptr<SegmentReader>> segs;
  uint64_t total = 0;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    for (auto& kv : segs_) {
      segs.push_back(kv.second->reader);
      total += kv.second->reader->meta().vectors;
    }
  }
  HnswParams p = MakeHnswParams();
  p.initial_capacity = std::max<uint64_t>(1024, total + total / 4);
  std::unique_ptr<HnswIndex> fresh;
  T4DX_RETURN_IF_ERROR(HnswIndex::Create(p, &fresh));
  uint64_t done = 0, added = 0;
  for (auto& seg : segs) {
    std::vector<float> vecs;
    Status s = seg->ReadVectors(0, seg->meta().vectors, &vecs);
    if (!s.ok()) {
      Log(LogLevel::kError, "HNSW refresh failed: " + s.ToString());
      return s;
    }
    const auto& entries = seg->entries();
    std::vector<HnswAddJob> jobs;
    {
      std::shared_lock<std::shared_mutex> l(mu_);
      for (size_t i = 0; i < entries.size(); i++) {
        const SegmentEntryHeader& h = entries[i];
        if (h.deleted || h.row < 0) continue;
        done++;
        auto it = label_map_.find(h.lsn);
        if (it == label_map_.end() || it->second.seg != seg.get()) continue;
        jobs.push_back({h.lsn, vecs.data() + size_t(h.row) * seg->vector_dim()});
      }
    }
    T4DX_RETURN_IF_ERROR(HnswBulkAdd(fresh.get(), jobs, nullptr));
    added += jobs.size();
    if (progress) progress(done, total);
  }
  std::shared_ptr<HnswIndex> h(std::move(fresh));
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    hnsw_ = h;
    ComputeIndexedLocked();
  }
  if (progress) progress(total, total);
  stat_hnsw_rebuilds_++;
  last_hnsw_rebuild_ms_ = clock_->NowUnixMillis();
  Status s = opts_.read_only ? Status::OK() : SaveHnswIfDue(true);
  json j;
  j["vectors"] = added;
  j["duration_ms"] = (clock_->NowMicros() - t0) / 1000.0;
  j["saved"] = s.ok() && !opts_.read_only;
  if (!s.ok()) j["save_error"] = s.ToString();
  *result_json = j.dump();
  Log(LogLevel::kInfo, "Rebuilt HNSW with " + std::to_string(added) + " vectors");
  return Status::OK();
}

}  // namespace t4dx
