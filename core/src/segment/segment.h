// Segments: immutable sorted runs of entries, written by flush and by merges.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "t4dx/env.h"
#include "t4dx/item.h"
#include "t4dx/options.h"
#include "t4dx/status.h"

namespace t4dx {

// One entry to write: a live item (with or without embedding) or a tombstone.
struct SegmentEntry {
  Item item;  // for a tombstone only item.id is meaningful
  uint64_t lsn = 0;
  bool deleted = false;
};

// Per-segment statistics the planner uses to skip segments and estimate selectivity.
struct SegmentStats {
  std::map<std::string, uint64_t> kinds;  // kind -> live entries
  // metadata key -> (string value -> live entries holding it; string lists count each
  // tag). A key whose distinct values exceed kMaxTrackedValues keeps only "overflow".
  static constexpr size_t kMaxTrackedValues = 256;
  std::map<std::string, std::map<std::string, uint64_t>> values;
  std::map<std::string, bool> overflow;  // key -> true when values[key] is incomplete
  std::map<std::string, uint64_t> key_counts;  // key -> live entries having the key
};

struct SegmentMeta {
  int format_version = 0;
  uint64_t id = 0;
  uint64_t count = 0;       // entries, tombstones included
  uint64_t live = 0;        // entries that are not tombstones
  uint64_t vectors = 0;     // rows in vectors.f32
  uint32_t dim = 0;
  Metric metric = Metric::kCosine;
  uint64_t lsn_min = 0, lsn_max = 0;
  int64_t time_min = 0, time_max = 0;  // over live entries (0,0 when none)
  int64_t created_ms = 0;
  std::vector<uint64_t> inputs;  // segments merged into this one (empty for a flush)
  uint64_t total_bytes = 0;      // all files
  SegmentStats stats;
  std::string meta_checksum;     // hex checksum stored in meta.json
};

// Header of one entry, kept in memory while the segment is open (no content, no vector).
struct SegmentEntryHeader {
  std::string id;
  uint64_t lsn = 0;
  bool deleted = false;
  int64_t timestamp = 0;
  std::string kind;
  Metadata metadata;
  int64_t row = -1;            // row in vectors.f32, -1 when none
  uint64_t item_offset = 0;    // line in items.jsonl
  uint32_t item_length = 0;
};

struct SegmentProblem {
  std::string file;     // path of the file
  int64_t offset = -1;  // byte offset of the failing block (or -1)
  std::string reason;   // e.g. "checksum mismatch in block 3 (bytes 196608..262143)"
};

// Writes a segment. entries must be sorted by id with unique ids. dim is the store's
// dimension (entries with embeddings must match it). inputs: merged segment ids.
// Publishes atomically: <store>/seg_NNNNNN.tmp/ -> fsync files -> rename -> SyncDir(store).
Status WriteSegment(Env* env, const std::string& store_dir, uint64_t id,
                    const std::vector<SegmentEntry>& entries, uint32_t dim, Metric metric,
                    const std::vector<uint64_t>& inputs, int64_t now_ms, SegmentMeta* meta);

// Reads meta.json only (verifying its checksum). Cheap; used by the manifest rebuild.
Status ReadSegmentMeta(Env* env, const std::string& seg_dir, SegmentMeta* meta);

// An open segment. Open reads and verifies meta.json and ids.idx (every block) and keeps
// the entry headers in memory; content and vectors are read on demand with their blocks
// verified. Thread safety: all const methods may be called concurrently.
class SegmentReader {
 public:
  static Status Open(Env* env, const std::string& seg_dir, std::unique_ptr<SegmentReader>* out);
  ~SegmentReader();

  const SegmentMeta& meta() const { return meta_; }
  const std::string& dir() const { return dir_; }
  uint64_t id() const { return meta_.id; }
  uint32_t vector_dim() const { return meta_.dim; }
  size_t size() const { return entries_.size(); }
  const std::vector<SegmentEntryHeader>& entries() const { return entries_; }
  // Index of id in entries(), or -1.
  int64_t Find(const std::string& id) const;

  // The full item of entries()[index] (content from items.jsonl, the embedding from
  // vectors.f32 when with_embedding), blocks verified. Corruption names file and offset.
  Status ReadItem(size_t index, bool with_embedding, Item* item) const;
  // Rows [first, first+n) of vectors.f32 into out (n*dim floats), blocks verified.
  Status ReadVectors(uint64_t first, uint64_t n, std::vector<float>* out) const;

  // Every entry in id order with its full item, reading each file sequentially once
  // (blocks verified): for merges, exports and index builds. fn's error stops the walk.
  Status ForEachItem(bool with_embedding,
                     const std::function<Status(size_t index, Item& item)>& fn) const;

  // Verifies every block of every file against meta.json; appends what fails. Returns OK
  // when the check ran, whatever it found: callers look at problems.
  Status VerifyChecksum(std::vector<SegmentProblem>* problems) const;

  // Counters of the reader's cache of verified blocks (segment_internal::kBlockCacheBlocks
  // blocks of items.jsonl and vectors.f32; a block enters it only after its checksum
  // matched; VerifyChecksum never uses it).
  struct BlockCacheStats {
    uint64_t hits = 0, misses = 0, evictions = 0, blocks = 0;
  };
  BlockCacheStats block_cache_stats() const;

 private:
  SegmentReader();
  struct Rep;
  std::unique_ptr<Rep> rep_;
  std::string dir_;
  SegmentMeta meta_;
  std::vector<SegmentEntryHeader> entries_;
};

}  // namespace t4dx
