// The compaction history, compaction_history.jsonl: one checksummed JSON line per flush
// or merge (core/doc/compaction_history_format.md). Appended and synced after the manifest
// that made the run visible is durable. Bounded: the oldest lines are dropped when the
// file passes kMaxHistoryRecords (rewritten atomically).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "t4dx/env.h"
#include "t4dx/status.h"

namespace t4dx {

constexpr char kCompactionHistoryFile[] = "compaction_history.jsonl";
constexpr size_t kMaxHistoryRecords = 1000;

struct CompactionRecord {
  std::string kind;               // "flush", "merge", "rebuild" (segment from WAL)
  int64_t time_ms = 0;            // when it finished
  std::vector<uint64_t> inputs;   // segment ids merged (empty for a flush)
  std::vector<uint64_t> outputs;  // segment ids written
  uint64_t items_in = 0, items_out = 0;
  uint64_t bytes_in = 0, bytes_out = 0;
  uint64_t dropped_versions = 0;  // overwritten or deleted entries removed
  int64_t duration_us = 0;
};

Status AppendCompactionRecord(Env* env, const std::string& dir, const CompactionRecord& r);
// Reads all valid lines; bad lines are skipped and counted in *bad_lines.
Status ReadCompactionHistory(Env* env, const std::string& dir, std::vector<CompactionRecord>* out,
                             uint64_t* bad_lines);
std::string CompactionRecordToJson(const CompactionRecord& r);  // without checksum

}  // namespace t4dx
