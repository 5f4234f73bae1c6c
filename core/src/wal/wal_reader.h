// Reading WAL files, with corruption reported through a callback (leveldb's
// log::Reader::Reporter habit). The engine's recovery, the CLI's `wal dump/check` and the
// inspector all read through this one reader.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "t4dx/env.h"
#include "t4dx/status.h"
#include "wal/wal_record.h"

namespace t4dx {

// Where a record sits in its file.
struct WalPosition {
  uint64_t line = 0;    // 1-based line number
  uint64_t offset = 0;  // byte offset of the line's first byte
  uint64_t length = 0;  // bytes of the line, '\n' included
};

struct WalProblem {
  std::string file;     // path of the WAL file
  uint64_t line = 0;    // 1-based line of the first bad byte's line
  uint64_t offset = 0;  // byte offset where the bad line starts
  uint64_t length = 0;  // bytes from offset to the end of the file
  std::string reason;
  // True for the normal result of a crash mid-write: the bad line is the last line and
  // it has no '\n' or contains NUL bytes (zero-filled), and nothing valid follows.
  bool torn_tail = false;
};

struct WalFileSummary {
  uint64_t file_bytes = 0;
  uint64_t good_bytes = 0;     // prefix made of valid lines
  uint64_t good_records = 0;
  uint64_t first_lsn = 0;      // 0 when there are no records
  uint64_t last_lsn = 0;
  bool has_problem = false;    // problem is set
  WalProblem problem;
};

struct WalReadOptions {
  // Records with last_lsn() <= skip_through_lsn are checked but not passed to the callback.
  uint64_t skip_through_lsn = 0;
  // LSNs must increase strictly, starting above this value (0 = any first LSN); a record
  // that goes back is reported as corruption ("LSN out of order").
  uint64_t previous_lsn = 0;
  size_t read_chunk_bytes = 1u << 20;
  // Only each line's structure and checksum are verified (CheckWalLineChecksum): no
  // decoding, no LSN order check, on_record is never called and the summary's LSNs stay
  // 0. For files whose records are needed only to find damage.
  bool checksums_only = false;
};

// Reads path from the start. For every valid record calls on_record (a non-OK Status
// from it stops the read and is returned). The record is the reader's own, overwritten
// by the next line: on_record may move what it keeps out of it (replay moves the items).
// Reading stops at the first bad line: it is described in summary->problem (and nothing
// after it is passed on). A missing file is kNotFound. Only I/O errors and on_record
// errors are returned as non-OK.
Status ReadWalFile(Env* env, const std::string& path, const WalReadOptions& options,
                   const std::function<Status(WalRecord&, const WalPosition&)>& on_record,
                   WalFileSummary* summary);

// The reason given for a record at LSN `found` where LSN `expected` was due: every LSN above
// global_index.json's durable_lsn is in the WAL without a hole (an append that fails is cut
// back before its LSNs are given out again), so a hole means records are missing. Recovery
// and `wal check` report it as corruption at that record.
std::string WalLsnGapReason(uint64_t found, uint64_t expected);

}  // namespace t4dx
