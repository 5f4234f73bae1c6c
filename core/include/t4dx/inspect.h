// Inspect: read-only forensics of a store's files, and the few repairs that work on files
// rather than through an open Engine. Used by the t4dx CLI and the web inspector, so no
// tool ever parses WAL, segment or snapshot bytes itself.
//
//   InspectWal      every WAL entry (file, line, offset, LSN, op, ids, a summary) and a
//                   per-file report: good prefix, first/last LSN, torn tail or corruption.
//   RepairWal       cuts a torn tail / moves everything after the last good entry to
//                   quarantine/, always saving the removed bytes first.
//   CheckStoreFiles checks the files of a store that may not even open: manifest,
//                   every seg_* directory, the WAL, the HNSW container, the history.
//   Snapshots       CreateSnapshot writes a consistent ustar archive of a store that may be
//                   in use (core/doc/snapshot_format.md); VerifySnapshot checks every
//                   checksum in one; RestoreSnapshot verifies, then writes a store;
//                   OpenSnapshotEnv exposes an archive as a read-only Env that
//                   Engine::Open (read_only) can open directly.
//
// Nothing here takes the store's lock except where stated; nothing changes a byte except
// RepairWal and RestoreSnapshot. Every path is '/'-separated and goes through the Env.
// Thread safety: the functions are reentrant; callbacks run on the caller's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "t4dx/engine.h"
#include "t4dx/env.h"
#include "t4dx/status.h"

namespace t4dx {

// ---------------------------------------------------------------------------- WAL

// One decoded WAL record and where it sits.
struct WalEntryInfo {
  std::string file;              // path of the WAL file
  uint64_t line = 0;             // 1-based line number
  uint64_t offset = 0;           // byte offset of the line's first byte
  uint64_t length = 0;           // bytes of the line, '\n' included
  uint64_t lsn = 0;              // first LSN of the record
  uint64_t last_lsn = 0;         // last LSN it uses (a batch uses one per item)
  int64_t timestamp = 0;         // ms since the epoch
  std::string op_type;           // "put", "delete", "batch"
  std::vector<std::string> ids;  // the items written, or the id deleted
  // The record as one JSON object with the engine's field names, embeddings summarized as
  // {"dim":N,"norm":x,"head":[first 4 values]} and content cut to max_content_chars.
  std::string summary_json;
};

// The first bad line of a WAL file.
struct WalIssue {
  std::string file;     // path
  uint64_t line = 0;    // 1-based line of the bad line
  uint64_t offset = 0;  // byte offset where the bad line starts
  uint64_t length = 0;  // bytes from offset to the end of the file
  std::string reason;
  // A crash mid-write of the newest file: normal, cut (and saved aside) on the next open.
  // A problem anywhere else, or a line that merely fails its checksum, is corruption.
  bool torn_tail = false;
};

struct WalFileInfo {
  std::string file;  // path
  std::string name;  // "wal.jsonl" or "wal_<first LSN>.jsonl"
  bool sealed = false;
  uint64_t bytes = 0;
  uint64_t good_bytes = 0;               // the prefix made of valid lines
  uint64_t records = 0;                  // valid lines
  uint64_t entries = 0;                  // LSNs used by them (a batch counts its items)
  uint64_t first_lsn = 0, last_lsn = 0;  // 0 when no record
  int64_t first_time = 0, last_time = 0;
  std::map<std::string, uint64_t> op_counts;  // op_type -> records
  bool has_problem = false;
  WalIssue problem;
};

struct WalInspection {
  std::vector<WalFileInfo> files;  // sealed files by first LSN, then wal.jsonl
  uint64_t sealed_files = 0;
  uint64_t bytes = 0, good_bytes = 0, records = 0, entries = 0;
  uint64_t first_lsn = 0, last_lsn = 0;
  int64_t first_time = 0, last_time = 0;
  std::map<std::string, uint64_t> op_counts;
  std::vector<WalIssue> problems;  // one per file that has one, oldest file first
  bool torn_tail = false;          // the only problem is a torn tail of the newest file
  bool corrupt = false;            // some problem is not a torn tail
  bool complete = true;            // false when on_entry stopped the read early
};

struct WalInspectOptions {
  // Entries whose last LSN is below from_lsn are checked but not passed to on_entry.
  uint64_t from_lsn = 0;
  bool summaries = true;           // fill WalEntryInfo::summary_json
  size_t max_content_chars = 200;  // in summaries; 0 = whole content
};

// Reads every WAL file of the store in dir (sealed ones by LSN, then wal.jsonl), checking
// what the engine's recovery checks: each line's checksum, the LSN order, and that no LSN
// above global_index.json's durable_lsn is missing (a hole is corruption at the record
// after it; without a readable manifest only holes between two records count). Calls
// on_entry (may be empty) for each valid record; on_entry returns false to stop early
// (report->complete is then false). A file's
// problem stops the reading of that file only. Missing WAL files are not an error (a store
// with none has an empty report). Returns non-OK only for I/O errors.
Status InspectWal(Env* env, const std::string& dir, const WalInspectOptions& options,
                  const std::function<bool(const WalEntryInfo&)>& on_entry, WalInspection* report);
// As above, also calling progress (may be empty) with the bytes read so far of the bytes
// of every WAL file (sizes taken when the files are listed), after each record and file.
Status InspectWal(Env* env, const std::string& dir, const WalInspectOptions& options,
                  const std::function<bool(const WalEntryInfo&)>& on_entry, ProgressFn progress,
                  WalInspection* report);

// JSON forms (the CLI prints these; the inspector shows them).
std::string WalInspectionToJson(const WalInspection& report);
std::string WalIssueToJson(const WalIssue& issue);

// One thing RepairWal did.
struct WalRepairAction {
  std::string action;    // "cut_torn_tail", "cut_corrupt_tail", "quarantine_file"
  std::string file;      // the WAL file changed or moved
  uint64_t offset = 0;   // where the cut was made (0 for a moved file)
  uint64_t bytes = 0;    // bytes removed from the WAL
  std::string saved_to;  // where those bytes are now (under dir/quarantine/)
  std::string reason;    // the problem that caused it
};

struct WalRepairResult {
  std::vector<WalRepairAction> actions;  // empty: the WAL was healthy
  uint64_t last_good_lsn = 0;            // the WAL's last good entry before the first cut
  // True when the cut entries were all in segments already (LSN <= the manifest's
  // durable_lsn), so the newer WAL files were kept: no hole in the history.
  bool kept_newer_files = false;
  std::string note;
};

// Cuts the WAL at its first bad line: the bytes from the bad line on are copied to
// dir/quarantine/<file>.<offset>.<now_ms>.tail and synced, then the file is truncated
// there (and synced). Newer WAL files are kept when the entries cut were all in segments
// already (the next file starts at or below global_index.json's durable_lsn + 1, as the
// engine's recovery decides); otherwise the WAL must end at the last good entry, and every
// newer file is moved whole into quarantine/. Nothing is removed before its copy is
// durable. REQUIRES: the caller holds the store's lock (LockStore): no writer appends.
Status RepairWal(Env* env, const std::string& dir, int64_t now_ms, WalRepairResult* result);
std::string WalRepairResultToJson(const WalRepairResult& result);

// Takes the store's lock (the one Engine::Open takes) without opening it. kLocked naming
// the holder when a process holds it.
Status LockStore(Env* env, const std::string& dir, std::unique_ptr<FileLock>* lock);

// ------------------------------------------------------------------ store files

// A problem found by CheckStoreFiles (or VerifySnapshot).
struct FileProblem {
  std::string area;     // "global_index", "segment", "wal", "hnsw", "history", "snapshot"
  std::string file;     // path of the file (or directory)
  int64_t line = 0;     // 1-based line for line-oriented files, else 0
  int64_t offset = -1;  // byte offset, -1 when not applicable
  std::string reason;
  bool torn_tail = false;  // a WAL torn tail (normal after a crash)
  // "error": damage or an inconsistency. "info": a state the engine heals by itself on its
  // next read-write open (a torn WAL tail; a missing HNSW container, rebuilt from the
  // segments) and that costs no data.
  std::string severity = "error";
};

struct StoreFilesReport {
  bool manifest_ok = false;
  uint64_t manifest_generation = 0;
  uint64_t durable_lsn = 0;
  uint64_t segments_listed = 0;    // in global_index.json
  uint64_t segments_on_disk = 0;   // seg_NNNNNN directories
  uint64_t segments_verified = 0;  // passed every checksum
  uint64_t segment_entries = 0;
  bool hnsw_present = false;
  WalInspection wal;
  std::vector<FileProblem> problems;
  bool healthy() const;  // no problem of severity "error"
};

struct StoreCheckOptions {
  // Verify every block of every segment file (false: meta.json and ids.idx only, which
  // SegmentReader::Open checks anyway).
  bool segment_blocks = true;
  bool wal = true;  // check every WAL line
};

// Checks the files without opening an Engine (so it works on a store that does not open):
// the manifest's checksum and fields; every segment it names exists with a matching
// meta checksum; every seg_* directory passes every block checksum; WAL line checksums;
// the HNSW container's checksum (and its absence while segments hold vectors);
// compaction history lines. Returns non-OK only for I/O errors; everything found is in
// report->problems.
Status CheckStoreFiles(Env* env, const std::string& dir, const StoreCheckOptions& options,
                       ProgressFn progress, StoreFilesReport* report);
std::string StoreFilesReportToJson(const StoreFilesReport& report);
std::string FileProblemToJson(const FileProblem& p);

// --------------------------------------------------------------------- snapshots

constexpr char kSnapshotManifestName[] = "t4dx_snapshot.json";  // last member
constexpr int kSnapshotFormatVersion = 1;

struct SnapshotMemberInfo {
  std::string name;  // path inside the archive (= inside the store)
  uint64_t bytes = 0;
  std::string xxh64;  // 16 hex digits
};

struct SnapshotInfo {
  std::string path;  // the archive
  int64_t created_ms = 0;
  int attempts = 0;  // CreateSnapshot: tries until a consistent copy
  uint64_t manifest_generation = 0;
  uint64_t durable_lsn = 0;
  uint64_t segments = 0;
  uint64_t wal_files = 0;
  uint64_t wal_last_lsn = 0;
  uint64_t total_bytes = 0;                 // of the members' data
  std::vector<SnapshotMemberInfo> members;  // files, in archive order
  std::vector<FileProblem> problems;        // VerifySnapshot / RestoreSnapshot findings
};

struct SnapshotOptions {
  int max_attempts = 20;  // a concurrent compaction or WAL rotation restarts the copy
  int64_t now_ms = 0;     // 0: the system clock
  ProgressFn progress;    // bytes copied / bytes to copy
};

// Writes a consistent point-in-time copy of the store in dir to tar_path (through
// tar_path.tmp, synced, renamed): global_index.json, exactly the segments it names, the
// WAL files up to their last complete line, the HNSW container (hnsw*), the compaction
// history up to its last complete line, and t4dx_snapshot.json (every member's size and
// XXH64). Takes no lock and changes nothing in dir: a store held by a running service can
// be copied. When a file vanishes or the WAL is rotated during the copy, it starts over
// (kBusy after max_attempts).
Status CreateSnapshot(Env* env, const std::string& dir, const std::string& tar_path,
                      const SnapshotOptions& options, SnapshotInfo* info);

// Checks every checksum in an archive: member digests, the manifest checksum, every
// segment's meta and blocks (and that the manifest names it with the same meta checksum),
// every WAL line, the HNSW container, compaction history lines. Returns OK with
// info->problems empty when all hold; OK with problems listed otherwise; non-OK for I/O
// errors or an archive that is not a readable tar.
Status VerifySnapshot(Env* env, const std::string& tar_path, ProgressFn progress,
                      SnapshotInfo* info);

// Verifies (as VerifySnapshot) and only when nothing is wrong writes the store into
// target_dir, which must not exist or be empty: files are written under
// target_dir.restore-tmp, synced, and the directory renamed into place. kCorruption
// (nothing written) when the archive fails a check; info->problems lists every failure.
Status RestoreSnapshot(Env* env, const std::string& tar_path, const std::string& target_dir,
                       ProgressFn progress, SnapshotInfo* info);

std::string SnapshotInfoToJson(const SnapshotInfo& info);

// A read-only Env over an archive: the store is visible at the directory tar_path itself
// (e.g. tar_path + "/global_index.json"). Mutating calls fail with kNotSupported.
// The archive file is read lazily through base; base must outlive *out.
Status OpenSnapshotEnv(Env* base, const std::string& tar_path, std::unique_ptr<Env>* out);

}  // namespace t4dx
