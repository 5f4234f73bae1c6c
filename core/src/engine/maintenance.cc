// Background work: flushing the immutable MemTable, indexing segments into the HNSW,
// tiered merges, saving the index, WAL retention. Natively a compactor thread runs it;
// without threads MaintenanceStep() runs one unit at a time on the caller's thread.
#include <algorithm>
#include <cmath>
#include <set>

#include "engine/engine_impl.h"
#include "vector/hnsw_bulk_add.h"
#include "segment/segment_format.h"
#include "wal/wal_format.h"

namespace t4dx {

namespace {
// Vectors one IndexOnce adds at most (a fraction of a second natively): a flush waits at
// most that long, and a cooperative MaintenanceStep returns that often.
constexpr size_t kIndexStepVectors = 128;
}  // namespace

void EngineImpl::Log(LogLevel level, const std::string& msg) const {
  if (opts_.log) opts_.log(level, msg);
}

HnswParams EngineImpl::MakeHnswParams() const {
  HnswParams p;
  p.dim = dim_.load();
  p.metric = metric_;
  p.m = opts_.hnsw_m;
  p.ef_construction = opts_.hnsw_ef_construction;
  p.ef_search = opts_.hnsw_ef_search;
  return p;
}

ManifestSegment ToManifestSegment(uint64_t id, const SegmentMeta& meta) {
  ManifestSegment ms;
  ms.id = id;
  ms.count = meta.count;
  ms.live = meta.live;
  ms.lsn_min = meta.lsn_min;
  ms.lsn_max = meta.lsn_max;
  ms.time_min = meta.time_min;
  ms.time_max = meta.time_max;
  ms.bytes = meta.total_bytes;
  ms.meta_checksum = meta.meta_checksum;
  return ms;
}

Status EngineImpl::CommitManifest(Manifest m) {
  m.generation = manifest_.generation + 1;
  m.dim = dim_.load();
  m.metric = metric_;
  m.hnsw_lsn = hnsw_saved_lsn_;
  Status s = WriteManifest(env_, dir_, m);
  if (!s.ok()) return s;
  std::unique_lock<std::shared_mutex> l(mu_);
  manifest_ = std::move(m);
  return Status::OK();
}

// REQUIRES: mu_ exclusive. Makes seg visible, retires `removed`, and moves the id and
// label maps to the newest versions. Superseded HNSW labels are marked deleted.
void EngineImpl::InstallSegment(std::shared_ptr<SegmentReader> seg,
                                const std::vector<uint64_t>& removed) {
  bool all_inputs_indexed = !removed.empty();
  std::vector<const SegmentReader*> removed_ptrs;
  for (uint64_t r : removed) {
    auto it = segs_.find(r);
    if (it == segs_.end()) continue;
    all_inputs_indexed = all_inputs_indexed && it->second->indexed;
    removed_ptrs.push_back(it->second->reader.get());
  }
  maps_generation_++;
  const SegmentReader* sp = seg.get();
  const auto& entries = seg->entries();
  for (size_t i = 0; i < entries.size(); i++) {
    const SegmentEntryHeader& e = entries[i];
    auto it = id_map_.find(e.id);
    if (it != id_map_.end()) {
      if (it->second.lsn > e.lsn) continue;  // a newer version lives elsewhere
      if (it->second.lsn < e.lsn && !it->second.deleted) {
        label_map_.erase(it->second.lsn);
        if (hnsw_ && hnsw_->Contains(it->second.lsn)) hnsw_->MarkDeleted(it->second.lsn);
      }
    }
    SegLoc loc(sp, uint32_t(i), e);
    id_map_[e.id] = loc;
    if (!e.deleted && e.row >= 0) label_map_[e.lsn] = loc;
  }
  // Versions that lived only in the removed segments and were dropped by the merge.
  for (const SegmentReader* rp : removed_ptrs) {
    for (const SegmentEntryHeader& e : rp->entries()) {
      auto it = id_map_.find(e.id);
      if (it == id_map_.end() || it->second.seg != rp) continue;
      if (!it->second.deleted) {
        label_map_.erase(it->second.lsn);
        if (hnsw_ && hnsw_->Contains(it->second.lsn)) hnsw_->MarkDeleted(it->second.lsn);
      }
      id_map_.erase(it);
    }
  }
  for (uint64_t r : removed) segs_.erase(r);
  auto st = std::make_unique<SegState>();
  st->reader = std::move(seg);
  st->indexed = all_inputs_indexed || st->reader->meta().vectors == 0;
  segs_[sp->id()] = std::move(st);
}

// REQUIRES: mu_ exclusive. id_map_/label_map_ from scratch (open, manifest rebuild).
void EngineImpl::RebuildMapsLocked() {
  maps_generation_++;
  id_map_.clear();
  label_map_.clear();
  for (auto& kv : segs_) {
    const SegmentReader* sp = kv.second->reader.get();
    const auto& entries = sp->entries();
    for (size_t i = 0; i < entries.size(); i++) {
      const SegmentEntryHeader& e = entries[i];
      auto it = id_map_.find(e.id);
      if (it != id_map_.end() && it->second.lsn >= e.lsn) continue;
      if (it != id_map_.end() && !it->second.deleted) label_map_.erase(it->second.lsn);
      SegLoc loc(sp, uint32_t(i), e);
      id_map_[e.id] = loc;
      if (!e.deleted && e.row >= 0) label_map_[e.lsn] = loc;
    }
  }
}

// REQUIRES: mu_ exclusive. Marks stale labels deleted and flags segments indexed when
// every current vector of theirs is in the HNSW.
void EngineImpl::ComputeIndexedLocked() {
  for (auto& kv : segs_) kv.second->index_cursor = 0;  // the index changed: look again
  if (!hnsw_) {
    for (auto& kv : segs_) kv.second->indexed = kv.second->reader->meta().vectors == 0;
    return;
  }
  hnsw_->ForEach([&](uint64_t label, bool deleted) {
    if (!deleted && label_map_.find(label) == label_map_.end()) hnsw_->MarkDeleted(label);
  });
  for (auto& kv : segs_) {
    bool all = true;
    const auto& entries = kv.second->reader->entries();
    for (const auto& e : entries) {
      if (e.deleted || e.row < 0) continue;
      auto it = label_map_.find(e.lsn);
      if (it == label_map_.end() || it->second.seg != kv.second->reader.get()) continue;
      if (!hnsw_->Contains(e.lsn)) {
        all = false;
        break;
      }
    }
    kv.second->indexed = all;
  }
}

Status EngineImpl::FlushImmutable(bool* did_work) {
  std::shared_ptr<MemTable> imm;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    imm = imm_;
  }
  if (!imm) return Status::OK();
  *did_work = true;
  int64_t t0 = clock_->NowMicros();
  std::vector<SegmentEntry> entries;
  entries.reserve(imm->count());
  for (const MemEntry* e : imm->SortedById()) {
    SegmentEntry se;
    se.item = e->item;
    se.lsn = e->lsn;
    se.deleted = e->deleted;
    entries.push_back(std::move(se));
  }
  uint64_t id;
  {
    // Taken for good: a flush that fails after publishing seg_<id> (e.g. its manifest
    // write) must not retry under the same name, which would fail forever.
    std::unique_lock<std::shared_mutex> l(mu_);
    id = manifest_.next_segment_id++;
  }
  SegmentMeta meta;
  Status s = WriteSegment(env_, dir_, id, entries, dim_.load(), metric_, {},
                          clock_->NowUnixMillis(), &meta);
  if (!s.ok()) return s.WithContext("flush of MemTable to " + SegmentDirName(id));
  std::unique_ptr<SegmentReader> reader;
  s = SegmentReader::Open(env_, JoinPath(dir_, SegmentDirName(id)), &reader);
  if (!s.ok()) return s.WithContext("reopening flushed " + SegmentDirName(id));

  Manifest m = manifest_;
  m.next_segment_id = id + 1;
  ManifestSegment ms = ToManifestSegment(id, meta);
  m.segments.push_back(ms);
  m.durable_lsn = std::max(m.durable_lsn, imm->max_lsn());
  s = CommitManifest(std::move(m));
  if (!s.ok()) return s.WithContext("publishing " + SegmentDirName(id) + " in global_index.json");
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    InstallSegment(std::shared_ptr<SegmentReader>(std::move(reader)), {});
    imm_.reset();
  }
  {
    std::lock_guard<std::mutex> l(bg_mu_);
    stall_cv_.notify_all();
  }
  CompactionRecord r;
  r.kind = "flush";
  r.time_ms = clock_->NowUnixMillis();
  r.outputs = {id};
  r.items_in = imm->applied();
  r.items_out = meta.count;
  r.bytes_out = meta.total_bytes;
  r.dropped_versions = imm->applied() - imm->count();
  r.duration_us = clock_->NowMicros() - t0;
  Status hs = AppendCompactionRecord(env_, dir_, r);
  if (!hs.ok()) Log(LogLevel::kWarn, "compaction history append failed: " + hs.ToString());
  stat_flushes_++;
  last_flush_ms_ = r.time_ms;
  Log(LogLevel::kInfo, "flushed MemTable (" + std::to_string(meta.count) + " items) to " +
                           SegmentDirName(id));
  Status ws = CleanupWal(opts_.wal_retention_entries, true, nullptr);
  if (!ws.ok()) Log(LogLevel::kWarn, "WAL cleanup failed: " + ws.ToString());
  return Status::OK();
}

Status EngineImpl::MergeOnce(bool force_all, bool* did_work) {
  // Choose inputs.
  std::vector<uint64_t> inputs;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    if (force_all) {
      if (segs_.size() >= 2) {
        for (auto& kv : segs_) inputs.push_back(kv.first);
      } else if (segs_.size() == 1) {
        // One segment: rewrite only if it holds tombstones or dead versions.
        const auto& seg = *segs_.begin()->second->reader;
        bool dead = false;
        for (size_t i = 0; i < seg.size() && !dead; i++) {
          const auto& e = seg.entries()[i];
          auto it = id_map_.find(e.id);
          dead = e.deleted || it == id_map_.end() || it->second.lsn != e.lsn;
        }
        if (dead) inputs.push_back(segs_.begin()->first);
      }
    } else {
      double base = double(std::max<size_t>(opts_.flush_threshold_items, 1));
      double fan = double(std::max<size_t>(opts_.compaction_fanout, 2));
      auto tier = [&](const SegmentReader& s) {
        double c = double(std::max<uint64_t>(s.meta().count, 1));
        return c < base ? 0 : int(std::floor(std::log(c / base) / std::log(fan)));
      };
      std::vector<std::pair<uint64_t, int>> v;
      for (auto& kv : segs_) v.push_back({kv.first, tier(*kv.second->reader)});
      for (size_t i = 0; i < v.size() && inputs.empty(); i++) {
        size_t j = i;
        while (j < v.size() && v[j].second == v[i].second) j++;
        if (j - i >= opts_.compaction_fanout) {
          for (size_t k = i; k < i + opts_.compaction_fanout; k++) inputs.push_back(v[k].first);
        }
        i = j - 1;
      }
    }
  }
  if (inputs.empty()) return Status::OK();
  *did_work = true;
  int64_t t0 = clock_->NowMicros();

  // Gather the newest version of every id among the inputs.
  std::vector<std::shared_ptr<SegmentReader>> readers;
  std::vector<std::shared_ptr<SegmentReader>> others;  // segments outside the merge
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    std::set<uint64_t> in(inputs.begin(), inputs.end());
    for (auto& kv : segs_) {
      (in.count(kv.first) ? readers : others).push_back(kv.second->reader);
    }
  }
  std::map<std::string, SegmentEntry> merged;
  uint64_t items_in = 0, bytes_in = 0;
  for (auto& r : readers) {
    bytes_in += r->meta().total_bytes;
    Status s = r->ForEachItem(true, [&](size_t index, Item& item) {
      items_in++;
      const SegmentEntryHeader& h = r->entries()[index];
      auto it = merged.find(h.id);
      if (it != merged.end() && it->second.lsn >= h.lsn) return Status::OK();
      SegmentEntry e;
      e.item = std::move(item);
      e.lsn = h.lsn;
      e.deleted = h.deleted;
      merged[h.id] = std::move(e);
      return Status::OK();
    });
    if (!s.ok()) return s.WithContext("merge reading " + SegmentDirName(r->id()));
  }
  // Drop versions superseded by a newer segment version, and tombstones nothing older
  // outside the merge could still hold.
  std::vector<SegmentEntry> out;
  out.reserve(merged.size());
  uint64_t dropped = items_in;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    for (auto& kv : merged) {
      SegmentEntry& e = kv.second;
      auto it = id_map_.find(kv.first);
      if (it != id_map_.end() && it->second.lsn > e.lsn) continue;
      if (e.deleted) {
        bool needed = false;
        for (auto& o : others) {
          if (o->meta().lsn_min > e.lsn) continue;
          int64_t idx = o->Find(kv.first);
          if (idx >= 0 && o->entries()[idx].lsn < e.lsn) {
            needed = true;
            break;
          }
        }
        if (!needed) continue;
      }
      out.push_back(std::move(e));
    }
  }
  dropped -= out.size();
  merged.clear();

  uint64_t id;
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    id = manifest_.next_segment_id++;  // never reused (see FlushImmutable)
  }
  SegmentMeta meta;
  Status s = WriteSegment(env_, dir_, id, out, dim_.load(), metric_, inputs,
                          clock_->NowUnixMillis(), &meta);
  if (!s.ok()) return s.WithContext("merge into " + SegmentDirName(id));
  std::unique_ptr<SegmentReader> reader;
  s = SegmentReader::Open(env_, JoinPath(dir_, SegmentDirName(id)), &reader);
  if (!s.ok()) return s.WithContext("reopening merged " + SegmentDirName(id));

  Manifest m = manifest_;
  m.next_segment_id = id + 1;
  std::set<uint64_t> in(inputs.begin(), inputs.end());
  std::vector<ManifestSegment> keep;
  for (auto& ms : m.segments)
    if (!in.count(ms.id)) keep.push_back(ms);
  if (meta.count > 0) {
    ManifestSegment ms = ToManifestSegment(id, meta);
    keep.push_back(ms);
  }
  std::sort(keep.begin(), keep.end(),
            [](const ManifestSegment& a, const ManifestSegment& b) { return a.id < b.id; });
  m.segments = std::move(keep);
  s = CommitManifest(std::move(m));
  if (!s.ok()) return s.WithContext("publishing merge output " + SegmentDirName(id));
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    InstallSegment(std::shared_ptr<SegmentReader>(std::move(reader)), inputs);
    if (meta.count == 0) segs_.erase(id);
  }
  readers.clear();
  if (meta.count == 0) {
    // Everything was dropped: the empty output is not listed; remove it too.
    inputs.push_back(id);
  }
  // The manifest naming the output is durable: the inputs can go.
  // Each input is first renamed to seg_NNNNNN.deleted (one atomic step), so a crash in
  // the middle never leaves a half-deleted directory under a segment's name; recovery
  // finishes removing *.deleted directories.
  for (uint64_t in_id : inputs) {
    std::string d = JoinPath(dir_, SegmentDirName(in_id)) + ".deleted";
    env_->RenameFile(JoinPath(dir_, SegmentDirName(in_id)), d);
    std::vector<std::string> names;
    if (env_->GetChildren(d, &names).ok()) {
      for (auto& n : names) env_->RemoveFile(JoinPath(d, n));
    }
    env_->RemoveDir(d);
  }
  env_->SyncDir(dir_);
  if (meta.count == 0) inputs.pop_back();

  CompactionRecord r;
  r.kind = "merge";
  r.time_ms = clock_->NowUnixMillis();
  r.inputs = inputs;
  if (meta.count > 0) r.outputs = {id};
  r.items_in = items_in;
  r.items_out = meta.count;
  r.bytes_in = bytes_in;
  r.bytes_out = meta.total_bytes;
  r.dropped_versions = dropped;
  r.duration_us = clock_->NowMicros() - t0;
  Status hs = AppendCompactionRecord(env_, dir_, r);
  if (!hs.ok()) Log(LogLevel::kWarn, "compaction history append failed: " + hs.ToString());
  stat_merges_++;
  last_merge_ms_ = r.time_ms;
  Log(LogLevel::kInfo, "merged " + std::to_string(inputs.size()) + " segments into " +
                           SegmentDirName(id) + " (" + std::to_string(meta.count) + " items, " +
                           std::to_string(dropped) + " dropped)");
  return Status::OK();
}

// Adds at most kIndexStepVectors of the first unindexed segment's vectors to the HNSW per
// call, so a flush never waits behind a whole segment's indexing (writers stall while
// both MemTables are full); the segment is marked indexed when none is left.
Status EngineImpl::IndexOnce(bool* did_work) {
  *did_work = false;
  if (dim_.load() == 0) return Status::OK();
  std::shared_ptr<SegmentReader> target;
  SegState* state = nullptr;
  std::shared_ptr<HnswIndex> hnsw;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    for (auto& kv : segs_) {
      if (!kv.second->indexed) {
        target = kv.second->reader;
        state = kv.second.get();
        break;
      }
    }
    hnsw = hnsw_;
  }
  if (!target) return Status::OK();
  *did_work = true;
  if (!hnsw) {
    std::unique_ptr<HnswIndex> h;
    HnswParams p = MakeHnswParams();
    p.initial_capacity = std::max<size_t>(1024, target->meta().vectors * 2);
    T4DX_RETURN_IF_ERROR(HnswIndex::Create(p, &h));
    hnsw = std::shared_ptr<HnswIndex>(std::move(h));
    std::unique_lock<std::shared_mutex> l(mu_);
    hnsw_ = hnsw;
  }
  // The segment's vectors, shared with exact searches of it until it is indexed. Only
  // maintenance (under maint_mu_, held by the caller) removes segments from segs_, so
  // `state` stays valid.
  std::shared_ptr<const std::vector<float>> vecs;
  {
    std::lock_guard<std::mutex> vl(state->vectors_mu);
    if (!state->vectors) {
      auto v = std::make_shared<std::vector<float>>();
      Status s = target->ReadVectors(0, target->meta().vectors, v.get());
      if (!s.ok()) {
        Log(LogLevel::kError, "HNSW refresh failed: " + s.ToString());
        return s;
      }
      state->vectors = v;
    }
    vecs = state->vectors;
  }
  uint32_t dim = target->vector_dim();
  std::vector<HnswAddJob> jobs;
  bool more = false;
  size_t next = state->index_cursor;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    const auto& entries = target->entries();
    for (; next < entries.size(); ++next) {
      const SegmentEntryHeader& e = entries[next];
      if (e.deleted || e.row < 0) continue;
      auto it = label_map_.find(e.lsn);
      if (it == label_map_.end() || it->second.seg != target.get()) continue;
      if (hnsw->Contains(e.lsn) || hnsw->IsMarkedDeleted(e.lsn)) continue;
      if (jobs.size() == kIndexStepVectors) {
        more = true;
        break;
      }
      jobs.push_back({e.lsn, vecs->data() + size_t(e.row) * dim});
    }
  }
  // Labels superseded while the vectors are added are marked deleted below.
  std::vector<uint64_t> added;
  Status s = HnswBulkAdd(hnsw.get(), jobs, &added);
  if (!s.ok()) {
    Log(LogLevel::kError, "HNSW refresh failed: " + s.ToString());
    return s;
  }
  state->index_cursor = next;  // every entry before it is added or needs no vector
  std::unique_lock<std::shared_mutex> l(mu_);
  for (uint64_t lab : added) {
    if (label_map_.find(lab) == label_map_.end()) hnsw->MarkDeleted(lab);
  }
  if (more) return Status::OK();
  for (auto& kv : segs_) {
    if (kv.second->reader == target) {
      kv.second->indexed = true;
      std::lock_guard<std::mutex> vl(kv.second->vectors_mu);
      kv.second->vectors.reset();
    }
  }
  return Status::OK();
}

Status EngineImpl::IndexUntilDone(const std::atomic<bool>* keep_going) {
  bool did = true;
  while (did && (keep_going == nullptr || keep_going->load())) {
    T4DX_RETURN_IF_ERROR(IndexOnce(&did));
  }
  return Status::OK();
}

Status EngineImpl::SaveHnswIfDue(bool force) {
  std::shared_ptr<HnswIndex> hnsw;
  uint64_t covered = 0;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    hnsw = hnsw_;
    covered = manifest_.durable_lsn;
    for (auto& kv : segs_)
      if (!kv.second->indexed) covered = std::min(covered, kv.second->reader->meta().lsn_min - 1);
  }
  if (!hnsw) return Status::OK();
  uint64_t n = hnsw->size();
  uint64_t delta = n > hnsw_saved_size_ ? n - hnsw_saved_size_ : hnsw_saved_size_ - n;
  bool due = force ? (n != hnsw_saved_size_ || covered != hnsw_saved_lsn_)
                   : delta >= std::max<uint64_t>(5000, hnsw_saved_size_ / 4);
  if (!due) return Status::OK();
  Status s = hnsw->Save(env_, dir_, covered);
  if (!s.ok()) {
    Log(LogLevel::kWarn, "HNSW save failed: " + s.ToString());
    return s;
  }
  hnsw_saved_size_ = n;
  hnsw_saved_lsn_ = covered;
  stat_hnsw_saves_++;
  last_hnsw_save_ms_ = clock_->NowUnixMillis();
  return Status::OK();
}

// Deletes flushed sealed WAL files beyond the retention window (newest kept first).
Status EngineImpl::CleanupWal(uint64_t keep_entries, bool honour_bytes, std::string* result_json) {
  std::vector<std::string> names;
  T4DX_RETURN_IF_ERROR(env_->GetChildren(dir_, &names));
  std::vector<std::pair<uint64_t, std::string>> sealed;
  for (auto& n : names) {
    uint64_t first;
    if (ParseSealedWalName(n, &first)) sealed.push_back({first, n});
  }
  std::sort(sealed.begin(), sealed.end());
  uint64_t durable;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    durable = manifest_.durable_lsn;
  }
  uint64_t kept_entries = 0, kept_bytes = 0, deleted_files = 0, deleted_bytes = 0,
           deleted_entries = 0;
  // Walk newest to oldest. The newest sealed file's end is unknown here: always kept.
  for (size_t k = sealed.size(); k-- > 0;) {
    uint64_t first = sealed[k].first;
    uint64_t size = 0;
    env_->GetFileSize(JoinPath(dir_, sealed[k].second), &size);
    if (k + 1 == sealed.size()) {
      kept_bytes += size;
      kept_entries += durable >= first ? durable - first + 1 : 0;
      continue;
    }
    uint64_t last = sealed[k + 1].first - 1;
    uint64_t entries = last - first + 1;
    bool flushed = last <= durable;
    bool within = kept_entries < keep_entries &&
                  (!honour_bytes || kept_bytes + size <= opts_.wal_retention_bytes);
    if (!flushed || within) {
      kept_entries += entries;
      kept_bytes += size;
      continue;
    }
    Status s = env_->RemoveFile(JoinPath(dir_, sealed[k].second));
    if (!s.ok()) return s;
    deleted_files++;
    deleted_bytes += size;
    deleted_entries += entries;
    if (wal_sealed_bytes_ >= size) wal_sealed_bytes_ -= size;
  }
  if (deleted_files) {
    env_->SyncDir(dir_);
    stat_wal_files_deleted_ += deleted_files;
  }
  if (result_json) {
    *result_json = "{\"deleted_files\":" + std::to_string(deleted_files) +
                   ",\"deleted_entries\":" + std::to_string(deleted_entries) +
                   ",\"deleted_bytes\":" + std::to_string(deleted_bytes) +
                   ",\"kept_flushed_entries\":" + std::to_string(kept_entries) +
                   ",\"kept_sealed_bytes\":" + std::to_string(kept_bytes) + "}";
  }
  return Status::OK();
}

Status EngineImpl::FlushBesideIndexing(bool* did_work) {
#if defined(__EMSCRIPTEN__)
  return FlushImmutable(did_work);
#else
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    if (!imm_) return Status::OK();
  }
  // The flush only adds a segment and the index steps only read older ones; the maps and
  // the HNSW they share are guarded by mu_ and the index's own locks.
  std::atomic<bool> flushing{true};
  Status index_status;
  std::thread indexer([&] { index_status = IndexUntilDone(&flushing); });
  Status s = FlushImmutable(did_work);
  flushing = false;
  indexer.join();
  T4DX_RETURN_IF_ERROR(s);
  return index_status;
#endif
}

bool EngineImpl::MergesFarBehind() {
  std::shared_lock<std::shared_mutex> l(mu_);
  return segs_.size() > 8 * std::max<size_t>(opts_.compaction_fanout, 2);
}

Status EngineImpl::DoMaintenance(bool* did_work, bool defer_merges) {
  *did_work = false;
  T4DX_RETURN_IF_ERROR(FlushBesideIndexing(did_work));
  if (*did_work) return Status::OK();
  T4DX_RETURN_IF_ERROR(IndexOnce(did_work));
  if (*did_work) return Status::OK();
  if (!defer_merges || MergesFarBehind()) {
    T4DX_RETURN_IF_ERROR(MergeOnce(false, did_work));
    if (*did_work) return Status::OK();
  }
  // Reclaim deleted marks when they pass the threshold.
  std::shared_ptr<HnswIndex> h;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    h = hnsw_;
  }
  if (h && h->size() >= 256 &&
      double(h->deleted_count()) > opts_.hnsw_rebuild_deleted_fraction * double(h->size())) {
    *did_work = true;
    std::string ignored;
    return RebuildHnswLocked(ProgressFn(), &ignored);
  }
  uint64_t before = stat_hnsw_saves_.load();
  T4DX_RETURN_IF_ERROR(SaveHnswIfDue(false));
  *did_work = stat_hnsw_saves_.load() != before;
  return Status::OK();
}

Status EngineImpl::RecordBackgroundError(const Status& s) {
  std::lock_guard<std::mutex> l(bg_mu_);
  bg_error_ = s;
  bg_error_ms_ = clock_->NowUnixMillis();
  stall_cv_.notify_all();
  Log(LogLevel::kError, "compactor: " + s.ToString());
  return s;
}

std::unique_lock<std::mutex> EngineImpl::LockMaintenance() {
  maint_waiters_.fetch_add(1);
  std::unique_lock<std::mutex> m(maint_mu_);
  if (maint_waiters_.fetch_sub(1) == 1) {
    // Under bg_mu_, so that a compactor between its check and its wait cannot miss it.
    std::lock_guard<std::mutex> l(bg_mu_);
    bg_cv_.notify_all();
  }
  return m;
}

void EngineImpl::WakeBackground() {
  std::lock_guard<std::mutex> l(bg_mu_);
  bg_cv_.notify_all();
}

void EngineImpl::BackgroundLoop() {
  int backoff_ms = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> l(bg_mu_);
      if (bg_stop_) break;
      bg_cv_.wait_for(l, std::chrono::milliseconds(backoff_ms ? backoff_ms : 200));
      if (bg_stop_) break;
    }
    // Interval durability: a sync when the WAL has unsynced data and the interval passed.
    if (opts_.wal_sync == WalSync::kInterval) {
      Writer w;
      w.kind = WriteKind::kSync;
      Enqueue(&w);
    }
    // Freeze a MemTable that filled while the previous one was flushing.
    bool freeze = false;
    {
      std::shared_lock<std::shared_mutex> l(mu_);
      freeze = imm_ == nullptr && MemFull(*mem_);
    }
    if (freeze) {
      Writer w;
      w.kind = WriteKind::kFreeze;
      Enqueue(&w);
    }
    bool did = true;
    Status s;
    while (did) {
      {
        // A waiting Flush, Compact or repair goes first (see maint_waiters_).
        std::unique_lock<std::mutex> l(bg_mu_);
        bg_cv_.wait(l, [this] { return bg_stop_ || maint_waiters_.load() == 0; });
        if (bg_stop_) break;
      }
      std::lock_guard<std::mutex> m(maint_mu_);
      s = DoMaintenance(&did);
      if (!s.ok()) break;
    }
    if (!s.ok()) {
      RecordBackgroundError(s);
      backoff_ms = std::min(backoff_ms ? backoff_ms * 2 : 100, 5000);
    } else {
      if (backoff_ms) {
        std::lock_guard<std::mutex> l(bg_mu_);
        bg_error_ = Status::OK();
      }
      backoff_ms = 0;
    }
  }
}

Status EngineImpl::StartCompactor() {
  if (!kHaveThreads || opts_.read_only || closed_) return Status::OK();
  if (bg_running_.load()) return Status::OK();
  {
    std::lock_guard<std::mutex> l(bg_mu_);
    bg_stop_ = false;
  }
#if !defined(__EMSCRIPTEN__)
  bg_thread_ = std::thread([this] { BackgroundLoop(); });
#endif
  bg_running_ = true;
  return Status::OK();
}

Status EngineImpl::StopCompactor() {
  if (!bg_running_.load()) return Status::OK();
  {
    std::lock_guard<std::mutex> l(bg_mu_);
    bg_stop_ = true;
    bg_cv_.notify_all();
    stall_cv_.notify_all();
  }
  if (bg_thread_.joinable()) bg_thread_.join();
  bg_running_ = false;
  return Status::OK();
}

Status EngineImpl::MaintenanceStep(bool* did_work) {
  return MaintenanceStep(did_work, MaintenanceStepOptions());
}

Status EngineImpl::MaintenanceStep(bool* did_work, const MaintenanceStepOptions& options) {
  *did_work = false;
  if (opts_.read_only || closed_) return Status::OK();
  bool freeze = false;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    freeze = imm_ == nullptr && MemFull(*mem_);
  }
  if (freeze) {
    Writer w;
    w.kind = WriteKind::kFreeze;
    T4DX_RETURN_IF_ERROR(Enqueue(&w));
  }
  auto m = LockMaintenance();
  return DoMaintenance(did_work, options.defer_merges);
}

Status EngineImpl::Flush() {
  T4DX_RETURN_IF_ERROR(CheckWritable());
  for (int round = 0; round < 3; round++) {
    Writer w;
    w.kind = WriteKind::kFreeze;
    T4DX_RETURN_IF_ERROR(Enqueue(&w));
    {
      auto m = LockMaintenance();
      bool did = false;
      T4DX_RETURN_IF_ERROR(FlushImmutable(&did));
    }
    std::shared_lock<std::shared_mutex> l(mu_);
    if (mem_->empty() && imm_ == nullptr) break;
  }
  if (!kHaveThreads || !bg_running_.load()) {
    // Nobody else will index what was flushed: do it now.
    auto m = LockMaintenance();
    T4DX_RETURN_IF_ERROR(IndexUntilDone());
  } else {
    WakeBackground();
  }
  return Status::OK();
}

Status EngineImpl::Compact() {
  T4DX_RETURN_IF_ERROR(Flush());
  auto m = LockMaintenance();
  bool did = false;
  T4DX_RETURN_IF_ERROR(MergeOnce(true, &did));
  T4DX_RETURN_IF_ERROR(IndexUntilDone());
  // A full compaction is the moment to reclaim the index's deleted marks too.
  std::shared_ptr<HnswIndex> h;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    h = hnsw_;
  }
  if (h && double(h->deleted_count()) > opts_.hnsw_rebuild_deleted_fraction * double(h->size())) {
    std::string ignored;
    T4DX_RETURN_IF_ERROR(RebuildHnswLocked(ProgressFn(), &ignored));
  }
  return Status::OK();
}

}  // namespace t4dx
