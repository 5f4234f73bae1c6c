// Fuzz target: a whole WAL file (ReadWalFile over an in-memory Env, and the line splitter
// under it). The input is the file; it is read as given and with every line's checksum
// recomputed (so the decoder sees the hostile bytes), each time with a large and a small
// read chunk. Properties:
//   - reading an in-memory file never fails (problems are reported, not returned);
//   - the good records tile the file from byte 0; a problem starts where they end and runs
//     to the end of the file; without a problem the whole file is good;
//   - LSNs increase strictly; first/last LSN and the record count match the callback;
//   - the result does not depend on the read chunk size;
//   - WalLineReader with a tiny line limit still tiles the file, byte for byte.
#include <memory>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "t4dx/env.h"
#include "wal/wal_line_reader.h"
#include "wal/wal_reader.h"

namespace t4dx {
namespace fuzz {
namespace {

constexpr char kPath[] = "/store/wal.jsonl";

struct Seen {
  WalFileSummary summary;
  std::vector<uint64_t> lsns;
  std::vector<WalPosition> positions;
};

void WriteFile(Env* env, std::string_view bytes) {
  std::unique_ptr<WritableFile> f;
  if (!env->NewWritableFile(kPath, &f).ok() || !f->Append(bytes).ok() || !f->Close().ok()) {
    ReportFailure(__FILE__, __LINE__, "cannot write the in-memory WAL file");
  }
}

Seen Read(Env* env, size_t chunk, uint64_t skip_through) {
  Seen seen;
  WalReadOptions options;
  options.read_chunk_bytes = chunk;
  options.skip_through_lsn = skip_through;
  Status s = ReadWalFile(
      env, kPath, options,
      [&](const WalRecord& r, const WalPosition& pos) {
        seen.lsns.push_back(r.lsn);
        seen.positions.push_back(pos);
        T4DX_FUZZ_CHECK(r.last_lsn() > skip_through, "record at or below skip_through_lsn passed on");
        return Status::OK();
      },
      &seen.summary);
  T4DX_FUZZ_CHECK(s.ok(), "ReadWalFile failed on an in-memory file: " + s.ToString());
  return seen;
}

bool SameSummary(const WalFileSummary& a, const WalFileSummary& b) {
  return a.file_bytes == b.file_bytes && a.good_bytes == b.good_bytes &&
         a.good_records == b.good_records && a.first_lsn == b.first_lsn &&
         a.last_lsn == b.last_lsn && a.has_problem == b.has_problem &&
         a.problem.line == b.problem.line && a.problem.offset == b.problem.offset &&
         a.problem.length == b.problem.length && a.problem.reason == b.problem.reason &&
         a.problem.torn_tail == b.problem.torn_tail;
}

void CheckSummary(const Seen& seen, size_t file_size) {
  const WalFileSummary& s = seen.summary;
  T4DX_FUZZ_CHECK(s.file_bytes == file_size, "file_bytes is not the file size");
  T4DX_FUZZ_CHECK(s.good_bytes <= s.file_bytes, "good_bytes beyond the file");
  T4DX_FUZZ_CHECK(s.good_records == seen.lsns.size(), "good_records differs from the callbacks");
  uint64_t next = 0;
  for (size_t i = 0; i < seen.positions.size(); ++i) {
    const WalPosition& p = seen.positions[i];
    T4DX_FUZZ_CHECK(p.offset == next && p.length > 0 && p.line == i + 1,
                    "record positions do not tile the file");
    next = p.offset + p.length;
    if (i > 0) T4DX_FUZZ_CHECK(seen.lsns[i] > seen.lsns[i - 1], "LSNs do not increase");
  }
  T4DX_FUZZ_CHECK(next == s.good_bytes, "good_bytes is not the end of the last record");
  if (!seen.lsns.empty()) {
    T4DX_FUZZ_CHECK(s.first_lsn == seen.lsns.front(), "first_lsn is not the first record's");
    T4DX_FUZZ_CHECK(s.last_lsn >= seen.lsns.back(), "last_lsn below the last record's LSN");
  } else {
    T4DX_FUZZ_CHECK(s.first_lsn == 0 && s.last_lsn == 0, "LSNs set without records");
  }
  if (s.has_problem) {
    T4DX_FUZZ_CHECK(s.problem.offset == s.good_bytes, "problem does not start after the good part");
    T4DX_FUZZ_CHECK(s.problem.length == s.file_bytes - s.problem.offset,
                    "problem length is not the rest of the file");
    T4DX_FUZZ_CHECK(s.problem.line == s.good_records + 1, "problem line is not the next line");
    T4DX_FUZZ_CHECK(!s.problem.reason.empty(), "problem without a reason");
    T4DX_FUZZ_CHECK(s.problem.file == kPath, "problem does not name the file");
  } else {
    T4DX_FUZZ_CHECK(s.good_bytes == s.file_bytes, "bytes left over without a problem");
  }
}

void ReadAllWays(Env* env, size_t file_size, size_t small_chunk) {
  const Seen big = Read(env, 1u << 20, 0);
  CheckSummary(big, file_size);
  const Seen small = Read(env, small_chunk, 0);
  CheckSummary(small, file_size);
  T4DX_FUZZ_CHECK(SameSummary(big.summary, small.summary),
                  "the result depends on the read chunk size");
  if (big.lsns.size() >= 2) {
    const uint64_t skip = big.lsns[big.lsns.size() / 2];
    const Seen skipped = Read(env, small_chunk, skip);
    T4DX_FUZZ_CHECK(SameSummary(big.summary, skipped.summary),
                    "skip_through_lsn changes the summary");
  }
}

// The line splitter alone, with a small line limit so that overlong lines occur.
void SplitLines(Env* env, std::string_view bytes, size_t chunk, size_t max_line) {
  std::unique_ptr<RandomAccessFile> file;
  if (!env->NewRandomAccessFile(kPath, &file).ok()) {
    ReportFailure(__FILE__, __LINE__, "cannot open the in-memory WAL file");
    return;
  }
  WalLineReader reader(file.get(), bytes.size(), chunk, max_line);
  uint64_t offset = 0, number = 0;
  for (;;) {
    WalLine line;
    bool done = false;
    Status s = reader.Next(&line, &done);
    T4DX_FUZZ_CHECK(s.ok(), "WalLineReader failed on an in-memory file: " + s.ToString());
    if (!s.ok() || done) break;
    ++number;
    T4DX_FUZZ_CHECK(line.offset == offset && line.number == number && line.length > 0,
                    "lines do not tile the file");
    T4DX_FUZZ_CHECK(line.offset + line.length <= bytes.size(), "line runs past the file");
    if (line.offset + line.length > bytes.size() || line.length == 0) break;
    const std::string_view whole = bytes.substr(line.offset, line.length);
    const bool nl = whole.back() == '\n';
    T4DX_FUZZ_CHECK(line.has_newline == nl, "has_newline is wrong");
    const std::string_view body = nl ? whole.substr(0, whole.size() - 1) : whole;
    T4DX_FUZZ_CHECK(body.find('\n') == std::string_view::npos, "a line holds a newline");
    T4DX_FUZZ_CHECK(line.has_nul == (body.find('\0') != std::string_view::npos),
                    "has_nul is wrong");
    if (line.overlong) {
      T4DX_FUZZ_CHECK(body.size() > max_line && line.data.empty(), "overlong flag is wrong");
    } else {
      T4DX_FUZZ_CHECK(body.size() <= max_line && line.data == body, "line bytes differ");
    }
    offset += line.length;
  }
  T4DX_FUZZ_CHECK(offset == bytes.size(), "lines do not cover the file");
}

}  // namespace

int FuzzWalFile(const uint8_t* data, size_t size) {
  const std::string_view bytes = AsView(data, size);
  const size_t small_chunk = 1 + size % 67;
  std::unique_ptr<Env> env = NewMemEnv();
  env->CreateDir("/store");
  WriteFile(env.get(), bytes);
  ReadAllWays(env.get(), size, small_chunk);
  SplitLines(env.get(), bytes, small_chunk, 1 + size % 131);

  const std::string fixed = FixWalFileChecksums(bytes);
  if (fixed != bytes) {
    WriteFile(env.get(), fixed);
    ReadAllWays(env.get(), fixed.size(), small_chunk);
  }
  return 0;
}

}  // namespace fuzz
}  // namespace t4dx

T4DX_FUZZ_ENTRY(FuzzWalFile)
