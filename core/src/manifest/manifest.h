// The manifest, global_index.json (core/doc/global_index_format.md).
//
// Lists the live segments and the watermarks: every entry with LSN <= durable_lsn is in
// a listed segment; the HNSW container covers every segment entry with LSN <= hnsw_lsn.
// Replaced atomically (global_index.json.tmp, sync, rename, sync dir) with generation+1.
// Its size grows with the number of segments, never with the number of items.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "t4dx/env.h"
#include "t4dx/options.h"
#include "t4dx/status.h"

namespace t4dx {

constexpr int kManifestFormatVersion = 1;
constexpr char kManifestFile[] = "global_index.json";

struct ManifestSegment {
  uint64_t id = 0;
  uint64_t count = 0;
  uint64_t live = 0;
  uint64_t lsn_min = 0, lsn_max = 0;
  int64_t time_min = 0, time_max = 0;
  uint64_t bytes = 0;
  std::string meta_checksum;  // must equal the segment's meta.json checksum
};

// Something unreadable that the store lost: named in status until an operator acts.
struct QuarantineRecord {
  std::string what;          // "segment 000003", "wal tail"
  std::string moved_to;      // path under quarantine/
  uint64_t lsn_min = 0, lsn_max = 0;
  std::string id_min, id_max;
  std::string reason;
  int64_t time_ms = 0;
};

struct Manifest {
  int format_version = kManifestFormatVersion;
  uint64_t generation = 0;
  uint32_t dim = 0;
  Metric metric = Metric::kCosine;
  uint64_t durable_lsn = 0;  // all entries <= this are in segments
  uint64_t hnsw_lsn = 0;     // the persisted HNSW covers segment entries <= this
  uint64_t next_segment_id = 1;
  std::vector<ManifestSegment> segments;  // sorted by id
  std::vector<QuarantineRecord> quarantined;
};

// Reads and verifies dir/global_index.json. kNotFound when absent; kCorruption naming the
// file and the reason (JSON error with byte offset, checksum mismatch, bad field).
Status ReadManifest(Env* env, const std::string& dir, Manifest* m);
// Writes m as dir/global_index.json atomically (m.generation must already be bumped).
Status WriteManifest(Env* env, const std::string& dir, const Manifest& m);
std::string ManifestToJson(const Manifest& m);  // the exact file contents

}  // namespace t4dx
