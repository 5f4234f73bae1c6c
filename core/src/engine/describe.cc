// The diagnostic views (Engine::Describe): one JSON formatter that the service, the CLI
// and the WASM API all print, so every tool shows the same figures.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/engine_impl.h"
#include "segment/segment_format.h"
#include "wal/wal_format.h"

namespace t4dx {

using json = nlohmann::json;

namespace {

std::string SegName(uint64_t id) { return SegmentDirName(id).substr(4); }

json SegmentSummary(const EngineImpl::SegState& st) {
  const SegmentMeta& m = st.reader->meta();
  json j;
  j["id"] = SegName(m.id);
  j["dir"] = SegmentDirName(m.id);
  j["items"] = m.count;
  j["live"] = m.live;
  j["tombstones"] = m.count - m.live;
  j["vectors"] = m.vectors;
  j["vector_dim"] = m.dim;
  j["bytes"] = m.total_bytes;
  j["lsn_min"] = m.lsn_min;
  j["lsn_max"] = m.lsn_max;
  j["time_min"] = m.time_min;
  j["time_max"] = m.time_max;
  j["created_ms"] = m.created_ms;
  j["inputs"] = m.inputs;
  j["indexed"] = st.indexed;
  j["meta_checksum"] = m.meta_checksum;
  j["format_version"] = m.format_version;
  return j;
}

json RecordJson(const CompactionRecord& r) { return json::parse(CompactionRecordToJson(r), nullptr, false); }

}  // namespace

struct Describer {
  // REQUIRES: e.mu_ held shared.
  static json Wal(EngineImpl& e) {
    json j;
    std::vector<std::string> names;
    e.env_->GetChildren(e.dir_, &names);
    std::vector<std::pair<uint64_t, std::string>> sealed;
    for (auto& n : names) {
      uint64_t first;
      if (ParseSealedWalName(n, &first)) sealed.push_back({first, n});
    }
    std::sort(sealed.begin(), sealed.end());
    json files = json::array();
    uint64_t total = 0;
    for (auto& s : sealed) {
      uint64_t sz = 0;
      e.env_->GetFileSize(JoinPath(e.dir_, s.second), &sz);
      total += sz;
      files.push_back({{"name", s.second}, {"bytes", sz}, {"first_lsn", s.first}});
    }
    uint64_t active = 0;
    e.env_->GetFileSize(JoinPath(e.dir_, kWalActiveName), &active);
    total += active;
    uint64_t durable = e.manifest_.durable_lsn;
    j["file"] = JoinPath(e.dir_, kWalActiveName);
    j["active_bytes"] = active;
    j["sealed_files"] = files;
    j["sealed_count"] = sealed.size();
    j["total_bytes"] = total;
    j["last_lsn"] = e.last_lsn_;
    j["durable_lsn"] = durable;
    j["unflushed_entries"] = e.last_lsn_ > durable ? e.last_lsn_ - durable : 0;
    j["oldest_unflushed_lsn"] = e.last_lsn_ > durable ? json(durable + 1) : json(nullptr);
    j["retained_first_lsn"] = sealed.empty() ? json(nullptr) : json(sealed.front().first);
    j["sync_mode"] = WalSyncName(e.opts_.wal_sync);
    j["sync_interval_ms"] = e.opts_.wal_sync_interval_ms;
    j["syncs"] = e.stat_wal_syncs_.load();
    j["last_sync_ms"] = e.last_wal_sync_ms_.load();
    j["retention"] = {{"entries", e.opts_.wal_retention_entries},
                      {"bytes", e.opts_.wal_retention_bytes}};
    j["files_deleted_by_retention"] = e.stat_wal_files_deleted_.load();
    j["size_warning_bytes"] = e.opts_.wal_size_warning_bytes;
    j["size_exceeded"] = total > e.opts_.wal_size_warning_bytes;
    j["write_error"] = e.write_error_.ok() ? json(nullptr) : json(e.write_error_.ToString());
    return j;
  }

  static json MemTableView(EngineImpl& e) {
    json j;
    j["items"] = e.mem_->count();
    j["live_items"] = e.mem_->live_count();
    j["bytes"] = e.mem_->bytes();
    j["threshold_items"] = e.opts_.flush_threshold_items;
    j["max_bytes"] = e.opts_.memtable_max_bytes;
    j["min_lsn"] = e.mem_->min_lsn();
    j["max_lsn"] = e.mem_->max_lsn();
    j["over_threshold"] = e.MemFull(*e.mem_);
    if (e.imm_) {
      j["immutable"] = {{"items", e.imm_->count()}, {"bytes", e.imm_->bytes()},
                        {"min_lsn", e.imm_->min_lsn()}, {"max_lsn", e.imm_->max_lsn()}};
    } else {
      j["immutable"] = nullptr;
    }
    j["write_stalls"] = e.stat_stalls_.load();
    j["write_stall_ms"] = e.stat_stall_us_.load() / 1000;
    j["flushes"] = e.stat_flushes_.load();
    j["last_flush_ms"] = e.last_flush_ms_.load();
    return j;
  }

  static json Hnsw(EngineImpl& e) {
    json j;
    uint64_t stored = e.label_map_.size();
    uint64_t in_index = 0, unindexed_segments = 0, lag = 0;
    for (auto& kv : e.segs_) {
      if (!kv.second->indexed) unindexed_segments++;
    }
    if (e.hnsw_) {
      std::vector<uint64_t> labels;
      labels.reserve(e.label_map_.size());
      for (auto& kv : e.label_map_) labels.push_back(kv.first);
      in_index = e.hnsw_->CountLive(labels.data(), labels.size());
    }
    lag = stored - in_index;
    uint64_t mem_vectors = 0;
    for (const MemTable* m : {e.mem_.get(), e.imm_.get()}) {
      if (m) m->ForEach([&](const MemEntry& me) { mem_vectors += !me.deleted && !me.item.embedding.empty(); });
    }
    j["present"] = e.hnsw_ != nullptr;
    j["indexed_vectors"] = e.hnsw_ ? e.hnsw_->size() - e.hnsw_->deleted_count() : 0;
    j["stored_live_vectors"] = stored;
    j["stored_live_vectors_indexed"] = in_index;
    j["lag_vectors"] = lag;
    j["memtable_vectors"] = mem_vectors;
    j["unindexed_segments"] = unindexed_segments;
    j["in_sync"] = lag == 0 && (!e.hnsw_ || e.hnsw_->size() - e.hnsw_->deleted_count() == stored);
    j["deleted_marked"] = e.hnsw_ ? e.hnsw_->deleted_count() : 0;
    j["elements"] = e.hnsw_ ? e.hnsw_->size() : 0;
    j["memory_bytes"] = e.hnsw_ ? e.hnsw_->memory_bytes() : 0;
    j["M"] = e.opts_.hnsw_m;
    j["ef_construction"] = e.opts_.hnsw_ef_construction;
    j["ef_search"] = e.opts_.hnsw_ef_search;
    j["metric"] = MetricName(e.metric_);
    j["dim"] = e.dim_.load();
    j["file"] = JoinPath(e.dir_, kHnswContainerFile);
    j["saved_vectors"] = e.hnsw_saved_size_;
    j["saved_covered_lsn"] = e.hnsw_saved_lsn_;
    j["lsn_lag"] = e.manifest_.durable_lsn > e.hnsw_saved_lsn_ ? e.manifest_.durable_lsn - e.hnsw_saved_lsn_ : 0;
    j["last_save_ms"] = e.last_hnsw_save_ms_.load();
    j["saves"] = e.stat_hnsw_saves_.load();
    j["last_rebuild_ms"] = e.last_hnsw_rebuild_ms_.load();
    j["rebuilds"] = e.stat_hnsw_rebuilds_.load();
    j["rebuild_deleted_fraction"] = e.opts_.hnsw_rebuild_deleted_fraction;
    j["load_note"] = e.recovery_.hnsw_note;
    return j;
  }

  static json GlobalIndex(EngineImpl& e) {
    json j;
    const Manifest& m = e.manifest_;
    j["file"] = JoinPath(e.dir_, kManifestFile);
    j["format_version"] = m.format_version;
    j["generation"] = m.generation;
    j["durable_lsn"] = m.durable_lsn;
    j["hnsw_lsn"] = m.hnsw_lsn;
    j["next_segment_id"] = m.next_segment_id;
    j["dim"] = m.dim;
    j["metric"] = MetricName(m.metric);
    j["total_segments"] = m.segments.size();
    j["total_id_mappings"] = e.id_map_.size();
    json segs = json::array();
    std::map<std::string, uint64_t> per_seg;
    for (auto& kv : e.id_map_) per_seg[SegName(kv.second.seg->id())]++;
    json errors = json::array();
    for (const ManifestSegment& ms : m.segments) {
      segs.push_back({{"id", SegName(ms.id)}, {"items", ms.count}, {"live", ms.live},
                      {"lsn_min", ms.lsn_min}, {"lsn_max", ms.lsn_max},
                      {"id_mappings", per_seg[SegName(ms.id)]}});
      auto it = e.segs_.find(ms.id);
      if (it == e.segs_.end()) {
        errors.push_back("segment " + SegName(ms.id) + " is listed but not open");
      } else if (it->second->reader->meta().meta_checksum != ms.meta_checksum) {
        errors.push_back("segment " + SegName(ms.id) + ": meta.json checksum differs from the listing");
      }
      if (ms.lsn_max > m.durable_lsn) {
        errors.push_back("segment " + SegName(ms.id) + " ends at LSN " + std::to_string(ms.lsn_max) +
                         " above durable_lsn " + std::to_string(m.durable_lsn));
      }
    }
    for (auto& kv : e.id_map_) {
      if (!e.segs_.count(kv.second.seg->id())) {
        errors.push_back("ID " + kv.first + " references missing segment " + SegName(kv.second.seg->id()));
        if (errors.size() > 100) break;
      }
    }
    // Ids held by more than one segment: resolved by LSN (the newest wins).
    uint64_t dup = 0;
    for (auto& kv : e.segs_) {
      for (const auto& h : kv.second->reader->entries()) {
        auto it = e.id_map_.find(h.id);
        if (it != e.id_map_.end() && it->second.seg != kv.second->reader.get()) dup++;
      }
    }
    std::vector<std::string> names;
    e.env_->GetChildren(e.dir_, &names);
    json orphans = json::array();
    for (auto& n : names) {
      uint64_t id;
      if (ParseSegmentDirName(n, &id) && !e.segs_.count(id)) orphans.push_back(n);
    }
    j["segments"] = segs;
    j["items_per_segment"] = per_seg;
    j["duplicates_resolved_by_lsn"] = dup;
    j["unlisted_segment_dirs"] = orphans;
    json q = json::array();
    for (auto& r : m.quarantined) {
      q.push_back({{"what", r.what}, {"moved_to", r.moved_to}, {"lsn_min", r.lsn_min},
                   {"lsn_max", r.lsn_max}, {"reason", r.reason}, {"time_ms", r.time_ms}});
    }
    j["quarantined"] = q;
    j["consistency"] = {{"ok", errors.empty()}, {"errors", errors}};
    return j;
  }

  static json Recovery(EngineImpl& e) {
    const RecoveryReport& r = e.recovery_;
    json j;
    j["started_ms"] = r.started_ms;
    j["duration_ms"] = r.duration_us / 1000.0;
    j["wal_files"] = r.wal_files;
    j["wal_files_checksums_only"] = r.wal_files_checksums_only;
    j["wal_bytes_read"] = r.wal_bytes_read;
    j["entries_replayed"] = r.entries_replayed;
    j["entries_skipped"] = r.entries_skipped;
    j["torn_bytes_cut"] = r.torn_bytes_cut;
    j["corrupt_bytes_quarantined"] = r.corrupt_bytes_quarantined;
    j["manifest_rebuilt"] = r.manifest_rebuilt;
    j["segments_rebuilt_from_wal"] = r.segments_rebuilt_from_wal;
    j["segments_quarantined"] = r.segments_quarantined;
    j["hnsw_loaded"] = r.hnsw_loaded;
    j["hnsw"] = r.hnsw_note;
    j["actions"] = r.actions;
    j["problems"] = r.problems;
    j["recovery_mode"] = e.opts_.recovery_strict ? "strict" : "default";
    return j;
  }

  static json Replay(EngineImpl& e) {
    json w = Wal(e);
    uint64_t bytes = w["total_bytes"].get<uint64_t>();
    double rate = e.replay_rate_bytes_per_s_ > 0 ? e.replay_rate_bytes_per_s_ : 50e6;
    json j;
    j["wal_bytes"] = bytes;
    j["unflushed_entries"] = w["unflushed_entries"];
    j["rate_bytes_per_s"] = rate;
    j["basis"] = e.replay_rate_bytes_per_s_ > 0 ? "measured at the last open"
                                                : "default estimate (50 MB/s): no replay measured yet";
    j["estimated_seconds"] = double(bytes) / rate;
    return j;
  }

  static json Compactor(EngineImpl& e) {
    std::lock_guard<std::mutex> l(e.bg_mu_);
    json j;
    j["mode"] = kHaveThreads && e.opts_.background_compaction ? "thread" : "cooperative";
    j["running"] = e.bg_running_.load();
    j["alive"] = e.bg_running_.load() && e.bg_thread_.joinable();
    j["last_error"] = e.bg_error_.ok() ? json(nullptr) : json(e.bg_error_.ToString());
    j["last_error_ms"] = e.bg_error_ms_;
    j["flushes"] = e.stat_flushes_.load();
    j["merges"] = e.stat_merges_.load();
    j["last_flush_ms"] = e.last_flush_ms_.load();
    j["last_merge_ms"] = e.last_merge_ms_.load();
    j["fanout"] = e.opts_.compaction_fanout;
    // Flush, Compact, Verify or repair calls waiting for the compactor's current step.
    j["callers_waiting"] = e.maint_waiters_.load();
    return j;
  }

  static json StatusView(EngineImpl& e) {
    json j;
    json problems = json::array();
    for (auto& p : e.problems_) problems.push_back(p);
    if (!e.write_error_.ok()) problems.push_back("writes refused: " + e.write_error_.ToString());
    json comp = Compactor(e);
    if (!comp["last_error"].is_null()) problems.push_back("compactor: " + comp["last_error"].get<std::string>());
    json w = Wal(e);
    if (w["size_exceeded"].get<bool>()) {
      problems.push_back("WAL size exceeded: " + std::to_string(w["total_bytes"].get<uint64_t>()) + " bytes");
    }
    json gi = GlobalIndex(e);
    for (auto& err : gi["consistency"]["errors"]) problems.push_back("Global index mismatch: " + err.get<std::string>());
    uint64_t count = 0;
    e.CountLocked(&count);
    j["healthy"] = problems.empty();
    j["state"] = !e.write_error_.ok() ? "writes_refused" : (problems.empty() ? "ok" : "degraded");
    j["problems"] = problems;
    j["dir"] = e.dir_;
    j["read_only"] = e.opts_.read_only;
    j["dim"] = e.dim_.load();
    j["metric"] = MetricName(e.metric_);
    j["items"] = count;
    j["last_lsn"] = e.last_lsn_;
    j["durable_lsn"] = e.manifest_.durable_lsn;
    j["memtable_items"] = e.mem_->count() + (e.imm_ ? e.imm_->count() : 0);
    j["segments"] = e.segs_.size();
    j["wal_bytes"] = w["total_bytes"];
    j["wal_unflushed_entries"] = w["unflushed_entries"];
    json h = Hnsw(e);
    j["hnsw"] = {{"indexed_vectors", h["indexed_vectors"]}, {"stored_live_vectors", h["stored_live_vectors"]},
                 {"lag_vectors", h["lag_vectors"]}, {"in_sync", h["in_sync"]}};
    j["compactor"] = comp;
    j["recovery"] = Recovery(e);
    j["sync_mode"] = WalSyncName(e.opts_.wal_sync);
    j["flush_threshold"] = e.opts_.flush_threshold_items;
    return j;
  }

  static json Stats(EngineImpl& e) {
    json j;
    uint64_t count = 0;
    e.CountLocked(&count);
    j["dir"] = e.dir_;
    j["items"] = count;
    j["dim"] = e.dim_.load();
    j["metric"] = MetricName(e.metric_);
    j["last_lsn"] = e.last_lsn_;
    j["operations"] = {{"puts", e.stat_puts_.load()}, {"deletes", e.stat_deletes_.load()},
                       {"batches", e.stat_batches_.load()}, {"gets", e.stat_gets_.load()},
                       {"searches", e.stat_searches_.load()},
                       {"write_groups", e.stat_write_groups_.load()}};
    j["memtable"] = MemTableView(e);
    j["wal"] = Wal(e);
    uint64_t seg_bytes = 0, seg_items = 0;
    for (auto& kv : e.segs_) {
      seg_bytes += kv.second->reader->meta().total_bytes;
      seg_items += kv.second->reader->meta().count;
    }
    j["segments"] = {{"count", e.segs_.size()}, {"bytes", seg_bytes}, {"entries", seg_items}};
    j["hnsw"] = Hnsw(e);
    j["compactor"] = Compactor(e);
    j["global_index"] = {{"generation", e.manifest_.generation}, {"id_mappings", e.id_map_.size()}};
    j["recovery"] = Recovery(e);
    return j;
  }
};

Status EngineImpl::CountLocked(uint64_t* count) {
  uint64_t n = 0;
  for (const auto& kv : id_map_) n += kv.second.deleted ? 0 : 1;
  auto adjust = [&](const MemEntry& me, const MemTable* newer) {
    if (newer && newer->Find(me.item.id)) return;
    auto it = id_map_.find(me.item.id);
    bool in_seg = it != id_map_.end() && !it->second.deleted;
    if (!me.deleted && !in_seg) n++;
    if (me.deleted && in_seg) n--;
  };
  mem_->ForEach([&](const MemEntry& me) { adjust(me, nullptr); });
  if (imm_) imm_->ForEach([&](const MemEntry& me) { adjust(me, mem_.get()); });
  *count = n;
  return Status::OK();
}

Status EngineImpl::Describe(View view, const std::string& arg, std::string* out) {
  if (closed_) return Status::FailedPrecondition("store " + dir_ + " is closed");
  json j;
  if (view == View::kCompactionHistory) {
    std::vector<CompactionRecord> recs;
    uint64_t bad = 0;
    T4DX_RETURN_IF_ERROR(ReadCompactionHistory(env_, dir_, &recs, &bad));
    json a = json::array();
    for (auto& r : recs) a.push_back(RecordJson(r));
    j["records"] = a;
    j["bad_lines"] = bad;
    j["file"] = JoinPath(dir_, kCompactionHistoryFile);
    *out = j.dump();
    return Status::OK();
  }
  std::shared_lock<std::shared_mutex> l(mu_);
  switch (view) {
    case View::kStatus: j = Describer::StatusView(*this); break;
    case View::kStats: j = Describer::Stats(*this); break;
    case View::kMemTable: j = Describer::MemTableView(*this); break;
    case View::kWalStatus: j = Describer::Wal(*this); break;
    case View::kHnswStats: j = Describer::Hnsw(*this); break;
    case View::kGlobalIndex: j = Describer::GlobalIndex(*this); break;
    case View::kReplayEstimate: j = Describer::Replay(*this); break;
    case View::kRecoveryReport: j = Describer::Recovery(*this); break;
    case View::kSegments: {
      json a = json::array();
      for (auto& kv : segs_) a.push_back(SegmentSummary(*kv.second));
      j["segments"] = a;
      j["count"] = segs_.size();
      break;
    }
    case View::kSegment:
    case View::kSegmentMetadata:
    case View::kSegmentVerify:
    case View::kSegmentCount: {
      uint64_t id;
      T4DX_RETURN_IF_ERROR(ParseSegmentId(arg, &id));
      auto it = segs_.find(id);
      if (it == segs_.end()) return Status::NotFound("segment " + SegName(id) + " not found in " + dir_);
      const SegmentReader& seg = *it->second->reader;
      if (view == View::kSegment) {
        j = SegmentSummary(*it->second);
        j["path"] = seg.dir();
        json files = json::array();
        for (const char* f : {kSegmentItemsFile, kSegmentVectorsFile, kSegmentIdsFile, kSegmentMetaFile}) {
          uint64_t sz = 0;
          env_->GetFileSize(JoinPath(seg.dir(), f), &sz);
          files.push_back({{"name", f}, {"bytes", sz}});
        }
        j["files"] = files;
        j["kinds"] = seg.meta().stats.kinds;
      } else if (view == View::kSegmentMetadata) {
        std::string data;
        T4DX_RETURN_IF_ERROR(ReadFileToString(env_, JoinPath(seg.dir(), kSegmentMetaFile), &data));
        j = json::parse(data, nullptr, false);
        if (j.is_discarded()) return Status::Corruption("invalid segment file: " + seg.dir() + "/meta.json");
      } else if (view == View::kSegmentVerify) {
        std::vector<SegmentProblem> problems;
        T4DX_RETURN_IF_ERROR(seg.VerifyChecksum(&problems));
        json a = json::array();
        for (auto& p : problems) {
          a.push_back({{"file", p.file}, {"offset", p.offset}, {"reason", p.reason}});
          Log(LogLevel::kError, "segment checksum mismatch: " + p.file + " at byte " +
                                    std::to_string(p.offset) + ": " + p.reason);
        }
        j["segment"] = SegName(id);
        j["valid"] = problems.empty();
        j["checksum"] = problems.empty() ? "OK" : "FAILED";
        j["problems"] = a;
      } else {
        j["segment"] = SegName(id);
        j["count"] = seg.meta().count;
        j["live"] = seg.meta().live;
        j["tombstones"] = seg.meta().count - seg.meta().live;
        j["vectors"] = seg.meta().vectors;
      }
      break;
    }
    case View::kCompactionHistory: break;
  }
  *out = j.dump();
  return Status::OK();
}

Status ParseSegmentId(const std::string& text, uint64_t* id) {
  std::string t = text;
  if (t.rfind("seg_", 0) == 0) t = t.substr(4);
  if (t.empty() || t.size() > 12) return Status::InvalidArgument("segment id '" + text.substr(0, 64) + "': expected digits such as 000001");
  uint64_t v = 0;
  for (char c : t) {
    if (c < '0' || c > '9') return Status::InvalidArgument("segment id '" + text.substr(0, 64) + "': expected digits such as 000001");
    v = v * 10 + uint64_t(c - '0');
  }
  if (v == 0) return Status::InvalidArgument("segment id '" + text + "': ids start at 000001");
  *id = v;
  return Status::OK();
}

}  // namespace t4dx
