// The write path: validation, group commit through the WAL, MemTable apply, stalls.
#include <cmath>

#include "engine/engine_impl.h"
#include "util/item_codec.h"
#include "vector/distance.h"
#include "wal/wal_format.h"
#include "wal/wal_record.h"

namespace t4dx {

namespace {
constexpr size_t kMaxGroupBytes = 4u << 20;  // a leader merges at most this much
}

Status EngineImpl::CheckWritable() const {
  if (opts_.read_only) return Status::FailedPrecondition("store " + dir_ + " is open read-only");
  if (closed_) return Status::FailedPrecondition("store " + dir_ + " is closed");
  return Status::OK();
}

void EngineImpl::PrepareItem(Item* item) const {
  if (item->timestamp == Item::kNow) item->timestamp = clock_->NowUnixMillis();
  if (metric_ == Metric::kCosine && !item->embedding.empty()) {
    NormalizeInPlace(item->embedding.data(), item->embedding.size());
  }
}

bool EngineImpl::MemFull(const MemTable& m) const {
  return m.count() >= opts_.flush_threshold_items || m.bytes() >= opts_.memtable_max_bytes;
}

Status EngineImpl::Put(const Item& item, uint64_t* lsn) {
  std::vector<Item> items{item};
  Status s = CheckWritable();
  if (!s.ok()) return s;
  T4DX_RETURN_IF_ERROR(ValidateItem(items[0], dim_.load(), opts_, "item"));
  if (!items[0].embedding.empty() && metric_ == Metric::kCosine) {
    double n = 0;
    for (float v : items[0].embedding) n += double(v) * v;
    if (n == 0) return Status::InvalidArgument("item.embedding: zero vector cannot be normalized for cosine");
  }
  PrepareItem(&items[0]);
  Writer w;
  w.items = &items;
  EncodeWalItems(items, &w.items_json);
  s = Enqueue(&w);
  if (s.ok()) {
    stat_puts_++;
    if (lsn) *lsn = w.last_lsn;
  }
  return s;
}

Status EngineImpl::PutBatch(const std::vector<Item>& in, uint64_t* last_lsn) {
  Status s = CheckWritable();
  if (!s.ok()) return s;
  if (in.empty()) return Status::InvalidArgument("items: batch is empty");
  if (in.size() > opts_.max_batch_items) {
    return Status::InvalidArgument("items: batch of " + std::to_string(in.size()) +
                                   " items exceeds the limit of " +
                                   std::to_string(opts_.max_batch_items));
  }
  std::vector<Item> items = in;
  uint32_t dim = dim_.load();
  std::unordered_map<std::string, size_t> seen;
  for (size_t i = 0; i < items.size(); i++) {
    std::string where = "items[" + std::to_string(i) + "]";
    T4DX_RETURN_IF_ERROR(ValidateItem(items[i], dim, opts_, where));
    if (dim == 0 && !items[i].embedding.empty()) dim = items[i].embedding.size();
    if (metric_ == Metric::kCosine && !items[i].embedding.empty()) {
      double n = 0;
      for (float v : items[i].embedding) n += double(v) * v;
      if (n == 0) return Status::InvalidArgument(where + ".embedding: zero vector cannot be normalized for cosine");
    }
    auto ins = seen.emplace(items[i].id, i);
    if (!ins.second) {
      return Status::InvalidArgument(where + ".id: '" + items[i].id + "' repeats items[" +
                                     std::to_string(ins.first->second) + "]");
    }
    PrepareItem(&items[i]);
  }
  Writer w;
  w.items = &items;
  w.batch = true;
  EncodeWalItems(items, &w.items_json);
  s = Enqueue(&w);
  if (s.ok()) {
    stat_batches_++;
    stat_puts_ += items.size();
    if (last_lsn) *last_lsn = w.last_lsn;
  }
  return s;
}

Status EngineImpl::Delete(const std::string& id, uint64_t* lsn) {
  Status s = CheckWritable();
  if (!s.ok()) return s;
  T4DX_RETURN_IF_ERROR(ValidateId(id));
  Item probe;
  s = Get(id, &probe);
  if (!s.ok()) return s;  // NotFound: nothing written
  Writer w;
  w.is_delete = true;
  w.delete_id = id;
  s = Enqueue(&w);
  if (s.ok()) {
    stat_deletes_++;
    if (lsn) *lsn = w.last_lsn;
  }
  return s;
}

// Group commit (leveldb's DBImpl::Write): writers queue; the front one writes the batch
// of everyone behind it with one append and one sync, then wakes them.
Status EngineImpl::Enqueue(Writer* w) {
  std::unique_lock<std::mutex> lock(queue_mu_);
  writers_.push_back(w);
  while (!w->done && w != writers_.front()) w->cv.wait(lock);
  if (w->done) return w->status;

  // This writer leads. Collect a group behind it (data writers only, bounded bytes).
  std::vector<Writer*> group{w};
  if (w->kind == WriteKind::kData) {
    size_t bytes = 0;
    for (auto it = writers_.begin() + 1; it != writers_.end(); ++it) {
      Writer* o = *it;
      if (o->kind != WriteKind::kData) break;
      bytes += o->items_json.size() + 256;
      if (bytes > kMaxGroupBytes) break;
      group.push_back(o);
    }
  }
  lock.unlock();

  Status s;
  if (w->kind == WriteKind::kFreeze) {
    s = write_error_.ok() ? FreezeMemTableLocked() : write_error_;
  } else if (w->kind == WriteKind::kSync) {
    s = write_error_.ok() ? SyncWal() : write_error_;
  } else {
    s = WriteGroup(group);
  }

  lock.lock();
  if (w->kind != WriteKind::kData) w->status = s;
  for (Writer* g : group) {
    g->done = true;
    if (g != w) g->cv.notify_one();
  }
  for (size_t i = 0; i < group.size(); i++) writers_.pop_front();
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  return w->status;
}

Status EngineImpl::WriteGroup(std::vector<Writer*>& group) {
  auto fail_all = [&](const Status& s) {
    for (Writer* g : group) g->status = s;
    return s;
  };
  if (!write_error_.ok()) return fail_all(write_error_);
  Status s = MakeRoomForWrite();
  if (!s.ok()) return fail_all(s);

  // Validate dimensions against the store (the first vector fixes it) and assign LSNs.
  uint32_t dim = dim_.load();
  uint64_t lsn;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    lsn = last_lsn_;
  }
  std::vector<Writer*> ok_writers;
  for (Writer* g : group) {
    if (g->items) {
      bool bad = false;
      for (size_t i = 0; i < g->items->size(); i++) {
        const Item& it = (*g->items)[i];
        if (it.embedding.empty()) continue;
        if (dim == 0) dim = it.embedding.size();
        if (it.embedding.size() != dim) {
          g->status = Status::InvalidArgument(
              (g->batch ? "items[" + std::to_string(i) + "]" : std::string("item")) +
              ".embedding: dimension " + std::to_string(it.embedding.size()) + ", store has " +
              std::to_string(dim));
          bad = true;
          break;
        }
      }
      if (bad) continue;
    }
    ok_writers.push_back(g);
  }
  if (ok_writers.empty()) return Status::OK();

  // The items' JSON was encoded by each writer's own thread (Put, PutBatch): the leader
  // only frames it with the LSN and the checksum.
  std::string lines;
  size_t line_bytes = 0;
  for (Writer* g : ok_writers) line_bytes += g->items_json.size() + 160;
  lines.reserve(line_bytes);
  int64_t now = clock_->NowUnixMillis();
  for (Writer* g : ok_writers) {
    g->first_lsn = lsn + 1;
    if (g->is_delete) {
      WalRecord r;
      r.lsn = g->first_lsn;
      r.timestamp = now;
      r.op = WalOp::kDelete;
      r.id = g->delete_id;
      EncodeWalRecord(r, &lines);
      g->last_lsn = g->first_lsn;
    } else {
      const size_t count = g->items->size();
      EncodeWalItemsRecord(g->first_lsn, now, g->batch ? WalOp::kBatch : WalOp::kPut, count,
                           g->items_json, &lines);
      g->last_lsn = g->first_lsn + count - 1;
    }
    lsn = g->last_lsn;
  }
  uint64_t before = wal_->active_bytes();
  s = wal_->AddLines(lines, ok_writers.front()->first_lsn, lsn);
  if (!s.ok()) {
    Log(LogLevel::kError, "WAL append failed: " + s.ToString());
    Status r = RecoverWalWriterAfterError(before);
    if (!r.ok()) {
      write_error_ = Status::FailedPrecondition("writes refused after a WAL write error: " +
                                                s.ToString() + "; then: " + r.ToString());
    }
    for (Writer* g : ok_writers) g->status = s;
    return s;
  }
  bool do_sync = opts_.wal_sync == WalSync::kAlways;
  if (opts_.wal_sync == WalSync::kInterval &&
      clock_->NowMicros() - last_sync_us_ >= int64_t(opts_.wal_sync_interval_ms) * 1000) {
    do_sync = true;
  }
  if (do_sync) {
    s = SyncWal();
    if (!s.ok()) {
      for (Writer* g : ok_writers) g->status = s;
      return s;
    }
  }
  stat_write_groups_++;

  // Apply to the MemTable: visible to every read that starts after this.
  bool freeze = false;
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    for (Writer* g : ok_writers) {
      if (g->is_delete) {
        MemEntry e;
        e.item.id = g->delete_id;
        e.lsn = g->first_lsn;
        e.deleted = true;
        mem_->Apply(std::move(e));
      } else {
        uint64_t l2 = g->first_lsn;
        for (Item& item : *g->items) {  // the writer waits and uses only the count after
          MemEntry e;
          e.item = std::move(item);
          e.lsn = l2++;
          mem_->Apply(std::move(e));
        }
      }
    }
    last_lsn_ = lsn;
    if (dim_.load() == 0 && dim != 0) dim_.store(dim);
    freeze = MemFull(*mem_) && imm_ == nullptr;
  }
  if (freeze) {
    Status fs = FreezeMemTableLocked();
    if (!fs.ok()) Log(LogLevel::kWarn, "MemTable freeze deferred: " + fs.ToString());
  }
  return Status::OK();
}

Status EngineImpl::SyncWal() {
  if (wal_->synced_lsn() == wal_->active_last_lsn() && last_sync_us_ != 0) return Status::OK();
  Status s = wal_->Sync();
  if (!s.ok()) {
    // Never retry an fsync and trust it: refuse writes until the store is reopened.
    write_error_ = Status::FailedPrecondition("writes refused after a failed WAL sync: " +
                                              s.ToString());
    Log(LogLevel::kError, write_error_.message());
    return s;
  }
  last_sync_us_ = clock_->NowMicros();
  last_wal_sync_ms_ = clock_->NowUnixMillis();
  stat_wal_syncs_++;
  return Status::OK();
}

// After a failed append the file may hold a partial line: cut it back and reopen, so a
// transient ENOSPC does not poison the store. If that fails, writes stay refused.
Status EngineImpl::RecoverWalWriterAfterError(uint64_t good_bytes) {
  uint64_t first = wal_->active_first_lsn(), last = wal_->active_last_lsn();
  wal_->Close();
  wal_.reset();
  std::string path = JoinPath(dir_, "wal.jsonl");
  // A rotation that failed after its rename left the old lines in the sealed file: the
  // active file is new (or missing) and starts with the next record.
  if (first != 0 && env_->FileExists(JoinPath(dir_, SealedWalName(first)))) {
    first = 0;
    good_bytes = 0;
  }
  uint64_t size = 0;
  Status s = env_->GetFileSize(path, &size);
  if (s.IsNotFound() && first == 0) s = Status::OK();  // WalWriter::Open creates it
  if (s.ok() && size > good_bytes) s = env_->TruncateFile(path, good_bytes);
  if (!s.ok()) return s;
  s = WalWriter::Open(env_, dir_, &wal_);
  if (!s.ok()) return s;
  wal_->SetExistingRange(first, last);
  return Status::OK();
}

// REQUIRES: leader. Waits (counted as a stall) while both MemTables are full.
Status EngineImpl::MakeRoomForWrite() {
  int64_t stall_start = 0;
  bool retry_asked = false;
  while (true) {
    bool full, have_imm;
    {
      std::shared_lock<std::shared_mutex> l(mu_);
      full = MemFull(*mem_);
      have_imm = imm_ != nullptr;
    }
    if (!full) break;
    if (!have_imm) {
      T4DX_RETURN_IF_ERROR(FreezeMemTableLocked());
      continue;
    }
    if (stall_start == 0) {
      stall_start = clock_->NowMicros();
      stat_stalls_++;
    }
    if (kHaveThreads && bg_running_.load()) {
      std::unique_lock<std::mutex> l(bg_mu_);
      if (!bg_error_.ok()) {
        // The compactor retries after an error on a backoff of up to 5 s. A stalled writer
        // asks for one retry now and waits for its outcome, so that writes resume as soon
        // as the cause is gone (space freed after ENOSPC), and an older error (a failed
        // merge) does not refuse a write whose flush succeeds. Only an error that is still
        // there after that retry is returned.
        if (retry_asked) return bg_error_;
        retry_asked = true;
        bg_cv_.notify_all();
        stall_cv_.wait_for(l, std::chrono::milliseconds(1000));
        continue;
      }
      bg_cv_.notify_all();
      stall_cv_.wait_for(l, std::chrono::milliseconds(100));
    } else {
      // No compactor thread: flush on the caller's thread (cooperative hosts).
      auto m = LockMaintenance();
      bool did = false;
      T4DX_RETURN_IF_ERROR(FlushImmutable(&did));
    }
  }
  if (stall_start) stat_stall_us_ += clock_->NowMicros() - stall_start;
  return Status::OK();
}

// REQUIRES: leader (or no concurrent writer). Seals the WAL file that covers mem_ and
// makes mem_ the immutable MemTable.
Status EngineImpl::FreezeMemTableLocked() {
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    if (imm_ != nullptr || mem_->empty()) return Status::OK();
  }
  if (wal_->synced_lsn() != wal_->active_last_lsn() && opts_.wal_sync != WalSync::kNone) {
    T4DX_RETURN_IF_ERROR(SyncWal());
  }
  std::string sealed;
  Status s = wal_->Rotate(&sealed);
  if (!s.ok()) {
    Log(LogLevel::kError, "WAL rotation failed: " + s.ToString());
    Status r = RecoverWalWriterAfterError(wal_ ? wal_->active_bytes() : 0);
    if (!r.ok()) write_error_ = Status::FailedPrecondition("writes refused: " + r.ToString());
    return s;
  }
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    imm_ = std::move(mem_);
    mem_ = std::make_shared<MemTable>();
  }
  if (!sealed.empty()) {
    uint64_t sz = 0;
    if (env_->GetFileSize(JoinPath(dir_, sealed), &sz).ok()) wal_sealed_bytes_ += sz;
  }
  WakeBackground();
  return Status::OK();
}

}  // namespace t4dx
