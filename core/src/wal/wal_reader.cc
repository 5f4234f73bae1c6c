// ReadWalFile: validates a WAL file line by line and classifies its first bad line as a
// torn tail (the normal result of a crash mid-write) or as corruption.
#include "wal/wal_reader.h"

#include <cstring>
#include <memory>

#include "wal/wal_format.h"
#include "wal/wal_line_reader.h"

namespace t4dx {
namespace {

// Why a line that cannot be a record is bad, before decoding it.
std::string DescribeUnterminated(const WalLine& line) {
  bool all_zero = !line.overlong && line.has_nul;
  for (size_t i = 0; all_zero && i < line.data.size(); ++i) all_zero = line.data[i] == '\0';
  if (all_zero) {
    return "zero-filled tail (" + std::to_string(line.length) + " bytes of 0, no newline)";
  }
  return "last line has no newline (" + std::to_string(line.length) + " bytes; incomplete write)";
}

std::string DescribeNul(const WalLine& line) {
  if (line.overlong) return "line holds NUL bytes and is longer than the line limit";
  const size_t at = static_cast<const char*>(std::memchr(line.data.data(), 0, line.data.size())) -
                    line.data.data();
  return "line holds NUL bytes (first at column " + std::to_string(at + 1) +
         "; zero-filled region)";
}

// Looks past a bad line for a '\n'-terminated line that decodes: if there is one, the bad
// line cannot be a torn tail. *valid_line is its line number (0 = none).
Status FindValidLineAfter(WalLineReader* lines, uint64_t* valid_line) {
  *valid_line = 0;
  WalLine line;
  bool done = false;
  WalRecord record;
  std::string reason;
  for (;;) {
    T4DX_RETURN_IF_ERROR(lines->Next(&line, &done));
    if (done) return Status::OK();
    if (!line.has_newline || line.overlong || line.has_nul) continue;
    if (DecodeWalRecord(line.data, &record, &reason)) {
      *valid_line = line.number;
      return Status::OK();
    }
  }
}

}  // namespace

Status ReadWalFile(Env* env, const std::string& path, const WalReadOptions& options,
                   const std::function<Status(WalRecord&, const WalPosition&)>& on_record,
                   WalFileSummary* summary) {
  WalFileSummary local;
  WalFileSummary* s = summary != nullptr ? summary : &local;
  *s = WalFileSummary();

  std::unique_ptr<RandomAccessFile> file;
  T4DX_RETURN_IF_ERROR(env->NewRandomAccessFile(path, &file));
  T4DX_RETURN_IF_ERROR(file->Size(&s->file_bytes));

  WalLineReader lines(file.get(), s->file_bytes, options.read_chunk_bytes, kWalMaxLineBytes);
  uint64_t previous = options.previous_lsn;  // last LSN seen (0 = none yet)
  WalLine line;
  WalRecord record;
  std::string reason;
  for (;;) {
    bool done = false;
    T4DX_RETURN_IF_ERROR(lines.Next(&line, &done));
    if (done) return Status::OK();

    bool bad = true;
    bool may_be_torn = false;  // decided below by looking at what follows
    if (!line.has_newline) {
      reason = DescribeUnterminated(line);
      may_be_torn = true;  // the last line: nothing follows it
    } else if (line.has_nul) {
      reason = DescribeNul(line);
      may_be_torn = true;
    } else if (line.overlong) {
      reason = "line longer than " + std::to_string(kWalMaxLineBytes) + " bytes (" +
               std::to_string(line.length - 1) + " bytes)";
    } else if (options.checksums_only) {
      bad = !CheckWalLineChecksum(line.data, &reason);
    } else if (!DecodeWalRecord(line.data, &record, &reason)) {
      // reason set by the decoder
    } else if (previous != 0 && record.lsn <= previous) {
      reason =
          "LSN out of order: " + std::to_string(record.lsn) + " after " + std::to_string(previous);
    } else {
      bad = false;
    }

    if (bad) {
      WalProblem& p = s->problem;
      p.file = path;
      p.line = line.number;
      p.offset = line.offset;
      p.length = s->file_bytes - line.offset;
      p.torn_tail = false;
      if (may_be_torn) {
        uint64_t valid_line = 0;
        if (line.has_newline) T4DX_RETURN_IF_ERROR(FindValidLineAfter(&lines, &valid_line));
        if (valid_line == 0) {
          p.torn_tail = true;
        } else {
          reason += "; a valid record follows at line " + std::to_string(valid_line);
        }
      }
      p.reason = reason;
      s->has_problem = true;
      return Status::OK();
    }

    ++s->good_records;
    s->good_bytes = line.offset + line.length;
    if (options.checksums_only) continue;
    if (s->first_lsn == 0) s->first_lsn = record.lsn;
    s->last_lsn = record.last_lsn();
    previous = record.last_lsn();
    if (record.last_lsn() > options.skip_through_lsn && on_record) {
      WalPosition pos;
      pos.line = line.number;
      pos.offset = line.offset;
      pos.length = line.length;
      T4DX_RETURN_IF_ERROR(on_record(record, pos));
    }
  }
}

std::string WalLsnGapReason(uint64_t found, uint64_t expected) {
  const std::string missing =
      found - 1 == expected ? "LSN " + std::to_string(expected) + " is"
                            : "LSNs " + std::to_string(expected) + ".." +
                                  std::to_string(found - 1) + " are";
  return "LSN gap: this record starts at LSN " + std::to_string(found) + ", " + missing +
         " missing before it (a WAL file removed or cut?)";
}

}  // namespace t4dx
