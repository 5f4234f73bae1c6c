// EngineImpl: the store behind the Engine interface.
//
// Layout of the state (see DESIGN.md):
//   WAL (wal.jsonl + sealed files) -> mem_ (mutable MemTable) -> imm_ (frozen, being
//   flushed) -> segments (segs_) named by the manifest -> HNSW over segment vectors.
//
// Locks, always taken in this order (never the reverse):
//   maint_mu_  one maintenance job at a time (flush, merge, index work, WAL cleanup)
//   queue_mu_  the writer queue (group commit); released while the leader does I/O
//   mu_        shared_mutex over the in-memory state: MemTables, segments, id/label maps.
//              Readers hold it shared for the whole read; writers take it exclusively to
//              apply a batch or to install a flush/merge result (never during I/O).
//   bg_mu_     compactor wake-ups and errors; innermost (LockMaintenance takes it under
//              maint_mu_), never held while another of these is taken.
// The WAL writer is used only by the writer at the front of the queue (the "leader").
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "manifest/compaction_history.h"
#include "manifest/manifest.h"
#include "memtable/memtable.h"
#include "segment/segment.h"
#include "t4dx/clock.h"
#include "t4dx/engine.h"
#include "t4dx/env.h"
#include "vector/flat_label_map.h"
#include "vector/hnsw_index.h"
#include "wal/wal_writer.h"

namespace t4dx {

#if defined(__EMSCRIPTEN__)
constexpr bool kHaveThreads = false;
#else
constexpr bool kHaveThreads = true;
#endif

// What the last open found and did; kept in recovery_report.json and in status.
struct RecoveryReport {
  int64_t started_ms = 0;
  int64_t duration_us = 0;
  uint64_t wal_files = 0;          // WAL files replayed
  uint64_t wal_files_checksums_only = 0;  // of them, wholly in segments: checksums only
  uint64_t wal_bytes_read = 0;
  uint64_t entries_replayed = 0;   // records applied to the MemTable
  uint64_t entries_skipped = 0;    // already in segments
  uint64_t torn_bytes_cut = 0;     // torn tail saved aside and cut
  uint64_t corrupt_bytes_quarantined = 0;
  std::vector<std::string> actions;   // human-readable, one per thing done
  std::vector<std::string> problems;  // what is still wrong (also in status)
  bool manifest_rebuilt = false;
  uint64_t segments_rebuilt_from_wal = 0;
  uint64_t segments_quarantined = 0;
  bool hnsw_loaded = false;
  std::string hnsw_note;
};

// The manifest's entry for the segment `id` described by meta.
ManifestSegment ToManifestSegment(uint64_t id, const SegmentMeta& meta);

class EngineImpl final : public Engine {
 public:
  // After a read-only Recover beside a running writer: true when what it read is not one
  // consistent state and the open should be done again. Either files it listed were gone
  // when read, or the WAL it listed starts past the manifest it read, and global_index.json
  // has changed since (the writer merged segments away, or flushed entries and removed
  // their WAL files past retention), or wal.jsonl was sealed and replaced between the
  // listing of the WAL files and its reading (the open missed the sealed file's entries).
  // On the last attempt it returns false and records what the view may miss as problems
  // of the open (missing segments are recorded already). See Engine::Open.
  bool ReadOnlyViewStale(bool last_attempt);
  EngineImpl(const Options& options, std::string dir);
  ~EngineImpl() override;

  // Recovery: lock, manifest, segments, WAL replay, HNSW. Called once by Engine::Open.
  Status Recover();

  Status Put(const Item& item, uint64_t* lsn) override;
  Status PutBatch(const std::vector<Item>& items, uint64_t* last_lsn) override;
  Status Delete(const std::string& id, uint64_t* lsn) override;
  Status Get(const std::string& id, Item* item) override;
  Status Scan(const ScanOptions& options, const std::function<bool(const Item&)>& fn) override;
  Status Count(uint64_t* count) override;
  Status Search(const std::vector<float>& query, const SearchOptions& options,
                SearchResult* result) override;
  Status Explain(const std::vector<float>& query, const SearchOptions& options,
                 std::string* plan_json) override;
  Status Flush() override;
  Status Compact() override;
  Status MaintenanceStep(bool* did_work) override;
  Status MaintenanceStep(bool* did_work, const MaintenanceStepOptions& options) override;
  Status StartCompactor() override;
  Status StopCompactor() override;
  Status Verify(std::string* report_json, bool* healthy, ProgressFn progress) override;
  Status CompactWal(uint64_t keep_entries, std::string* result_json) override;
  Status TruncateWal(std::string* result_json) override;
  Status RebuildHnsw(ProgressFn progress, std::string* result_json) override;
  Status RebuildGlobalIndex(std::string* result_json) override;
  Status Describe(View view, const std::string& arg, std::string* json) override;
  Status Close() override;
  const std::string& dir() const override { return dir_; }
  uint32_t dim() const override { return dim_.load(); }

  // ---- shared with the planner and describe.cc (REQUIRES: mu_ held, shared or not) ----
  struct SegState {
    std::shared_ptr<SegmentReader> reader;
    bool indexed = false;  // every live vector entry is in the HNSW
    // IndexOnce has considered entries [0, index_cursor) (maint_mu_): the next step starts
    // there instead of rescanning the segment.
    size_t index_cursor = 0;
    // Vectors of an unindexed segment, read once for exact scans (null until needed).
    mutable std::shared_ptr<const std::vector<float>> vectors;
    // For exact scans too: current[i] != 0 when entry i is the current version of its id
    // among the segments (label_map_ points at it), as of label-map generation
    // current_generation; recomputed by the first search after the maps change (a map
    // probe per entry per search was most of an exact scan). Written under vectors_mu and
    // a shared mu_; the maps, and so the generation, change only under an exclusive mu_.
    mutable std::vector<uint8_t> current;
    mutable uint64_t current_generation = ~uint64_t(0);
    mutable std::mutex vectors_mu;  // guards vectors, current, current_generation
  };
  // Where the current version of an id lives among the segments. id_data/id_size: the id's
  // bytes in the segment's (immutable) entry header, so that a search resolving an HNSW hit
  // reads this slot and the id's bytes, not the entry header in between (one cache miss
  // per hit less).
  struct SegLoc {
    SegLoc() = default;
    SegLoc(const SegmentReader* s, uint32_t i, const SegmentEntryHeader& e)
        : seg(s), id_data(e.id.data()), lsn(e.lsn), index(i),
          id_size(static_cast<uint32_t>(e.id.size())), deleted(e.deleted) {}
    std::string_view id() const { return std::string_view(id_data, id_size); }
    const SegmentReader* seg = nullptr;
    const char* id_data = nullptr;
    uint64_t lsn = 0;
    uint32_t index = 0;
    uint32_t id_size = 0;
    bool deleted = false;
  };

 private:
  friend class QueryPlanner;
  friend struct Describer;

  enum class WriteKind : uint8_t { kData, kFreeze, kSync };
  struct Writer {
    WriteKind kind = WriteKind::kData;
    std::vector<Item>* items = nullptr;  // kData put/batch; moved into the MemTable
    std::string items_json;              // their WAL encoding, made by the caller's thread
    std::string delete_id;               // kData delete
    bool is_delete = false;
    bool batch = false;
    Status status;
    uint64_t first_lsn = 0, last_lsn = 0;
    bool done = false;
    std::condition_variable cv;
  };

  // ---- write path (write.cc) ----
  Status CheckWritable() const;
  Status Enqueue(Writer* w);
  Status LeadGroup(std::deque<Writer*>::iterator last, std::vector<Writer*>* group);
  Status WriteGroup(std::vector<Writer*>& group);
  Status MakeRoomForWrite();                 // REQUIRES: leader
  Status FreezeMemTableLocked();             // REQUIRES: leader (owns the WAL)
  Status SyncWal();                          // REQUIRES: leader
  Status RecoverWalWriterAfterError(uint64_t good_bytes);
  bool MemFull(const MemTable& m) const;
  void PrepareItem(Item* item) const;        // stamps time, normalizes for cosine

  // ---- maintenance (maintenance.cc) ----
  Status FlushImmutable(bool* did_work);     // REQUIRES: maint_mu_
  Status MergeOnce(bool force_all, bool* did_work);  // REQUIRES: maint_mu_
  Status IndexOnce(bool* did_work);          // REQUIRES: maint_mu_
  // REQUIRES: maint_mu_. IndexOnce until no segment is left to index, the first error, or
  // *keep_going (if given) turns false.
  Status IndexUntilDone(const std::atomic<bool>* keep_going = nullptr);
  Status SaveHnswIfDue(bool force);          // REQUIRES: maint_mu_
  Status RebuildHnswLocked(ProgressFn progress, std::string* result_json);  // REQUIRES: maint_mu_
  Status CleanupWal(uint64_t keep_entries, bool honour_bytes, std::string* result_json);
  // REQUIRES: maint_mu_. Flushes imm_ (if any) while another thread takes index steps on
  // the segments flushed before it, so that neither waits for the other (native builds).
  Status FlushBesideIndexing(bool* did_work);
  Status DoMaintenance(bool* did_work, bool defer_merges = false);  // REQUIRES: maint_mu_
  // Whether more segments wait than MaintenanceStepOptions::defer_merges lets pile up.
  bool MergesFarBehind();
  // maint_mu_ for a caller other than the compactor: taken ahead of its next step.
  std::unique_lock<std::mutex> LockMaintenance();
  Status CommitManifest(Manifest m);         // REQUIRES: maint_mu_; bumps generation
  void InstallSegment(std::shared_ptr<SegmentReader> seg, const std::vector<uint64_t>& removed);
  void BackgroundLoop();
  void WakeBackground();
  Status RecordBackgroundError(const Status& s);
  void Log(LogLevel level, const std::string& msg) const;

  // ---- recovery (recovery.cc) ----
  Status LoadOrRebuildManifest();
  Status RebuildGlobalIndexLocked(std::string* result_json);  // REQUIRES: maint_mu_ or recovery
  Status OpenSegments();
  Status RebuildSegmentFromWal(const ManifestSegment& ms, const Status& why, bool* rebuilt);
  Status QuarantineSegment(const ManifestSegment& ms, const Status& why);
  Status ReplayWal();
  uint64_t FirstWalLsn(size_t i, const std::vector<std::pair<uint64_t, std::string>>& files);
  // hnsw.idx read and verified on its own thread while the segments are opened and the
  // WAL replayed (it needs only dim and metric, which global_index.json gives). The
  // destructor joins, so an open that fails before LoadHnsw leaves no thread behind.
  struct HnswPreload {
    std::thread thread;
    HnswParams params;
    Status status;
    std::unique_ptr<HnswIndex> index;
    uint64_t covered_lsn = 0;
    ~HnswPreload() {
      if (thread.joinable()) thread.join();
    }
  };
  // Starts *pre when threads exist and the store's dimension is already known.
  void StartHnswPreload(HnswPreload* pre);
  // Takes the preloaded index when it was read with the parameters the store has now;
  // otherwise reads hnsw.idx here.
  Status LoadHnsw(HnswPreload* pre);
  Status WriteRecoveryReport();
  std::string Quarantine(const std::string& name, const std::string& suffix);

  // ---- index state (maintenance.cc) ----
  void RebuildMapsLocked();  // REQUIRES: mu_ exclusive
  Status CountLocked(uint64_t* count);  // REQUIRES: mu_ held
  void ComputeIndexedLocked();
  HnswParams MakeHnswParams() const;

  Options opts_;
  Env* env_;
  Clock* clock_;
  std::string dir_;
  std::unique_ptr<FileLock> lock_;
  std::atomic<uint32_t> dim_{0};
  Metric metric_ = Metric::kCosine;
  std::atomic<bool> closed_{false};

  std::mutex maint_mu_;
  // Callers other than the compactor (Flush, Compact, Verify, repairs, Close) take
  // maint_mu_ through LockMaintenance(), which counts them here while they wait. The
  // compactor re-locks maint_mu_ after every step and lets them in first, so such a call
  // waits for the step in progress, not for the whole backlog (merges, index saves).
  std::atomic<int> maint_waiters_{0};

  std::mutex queue_mu_;
  std::deque<Writer*> writers_;
  std::unique_ptr<WalWriter> wal_;  // owned by the leader
  int64_t last_sync_us_ = 0;
  uint64_t wal_sealed_bytes_ = 0;   // bytes of sealed WAL files
  uint64_t active_first_lsn_ = 0;   // first LSN in wal.jsonl found by recovery
  Status write_error_;              // sticky: writes refused (failed fsync)

  mutable std::shared_mutex mu_;
  std::shared_ptr<MemTable> mem_;
  std::shared_ptr<MemTable> imm_;
  std::map<uint64_t, std::unique_ptr<SegState>> segs_;
  std::unordered_map<std::string, SegLoc> id_map_;
  // Live vector versions in segments. Flat: a search resolves every hit through it.
  FlatLabelMap<SegLoc> label_map_;
  // Bumped (mu_ exclusive) whenever label_map_ changes: see SegState::current.
  uint64_t maps_generation_ = 0;
  std::shared_ptr<HnswIndex> hnsw_;
  uint64_t last_lsn_ = 0;
  Manifest manifest_;

  // background work
  std::mutex bg_mu_;
  std::condition_variable bg_cv_;     // wakes the compactor
  std::condition_variable stall_cv_;  // wakes stalled writers
  std::thread bg_thread_;
  bool bg_stop_ = false;
  std::atomic<bool> bg_running_{false};
  Status bg_error_;
  int64_t bg_error_ms_ = 0;

  // counters (reported by Describe)
  std::atomic<uint64_t> stat_puts_{0}, stat_deletes_{0}, stat_batches_{0}, stat_gets_{0},
      stat_searches_{0}, stat_write_groups_{0}, stat_wal_syncs_{0}, stat_stalls_{0},
      stat_stall_us_{0}, stat_flushes_{0}, stat_merges_{0}, stat_hnsw_saves_{0},
      stat_hnsw_rebuilds_{0}, stat_wal_files_deleted_{0};
  std::atomic<int64_t> last_flush_ms_{0}, last_merge_ms_{0}, last_hnsw_save_ms_{0},
      last_hnsw_rebuild_ms_{0}, last_wal_sync_ms_{0};
  uint64_t hnsw_saved_size_ = 0;       // elements in the last saved container
  uint64_t hnsw_saved_lsn_ = 0;
  double replay_rate_bytes_per_s_ = 0;  // measured at the last open (0 = unknown)
  RecoveryReport recovery_;
  std::vector<std::string> problems_;  // open problems found by recovery (guarded by mu_)
  bool segments_missing_ = false;      // a read-only open found a listed segment gone
  std::set<std::string> wal_sealed_listed_;  // the sealed WAL files ReplayWal listed
  std::vector<std::string> wal_files_missing_;  // ...gone when read, not covered (read-only)
};

}  // namespace t4dx
