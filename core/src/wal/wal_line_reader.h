// Splitting a WAL file into lines, reading it in bounded chunks through the Env.
//
// The file may be gigabytes: at most one line plus one chunk is held in memory. A line
// longer than max_line_bytes is not buffered: it is returned with `overlong` set and no
// bytes. Lines are views into the chunk read; only a line that spans chunks is copied.
// Internal to the wal module (ReadWalFile uses it).
//
// Thread safety: not thread safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "t4dx/env.h"
#include "t4dx/status.h"

namespace t4dx {

struct WalLine {
  std::string_view data;  // bytes without the '\n'; valid until the next Next() call
  uint64_t number = 0;    // 1-based
  uint64_t offset = 0;    // byte offset of the first byte
  uint64_t length = 0;    // bytes including the '\n' if there is one
  bool has_newline = false;
  bool has_nul = false;   // the line holds at least one 0 byte
  bool overlong = false;  // longer than max_line_bytes; data is empty
};

class WalLineReader {
 public:
  // file must outlive the reader; file_size bounds what is read (bytes appended later
  // are not seen). chunk_bytes of 0 is taken as 1.
  WalLineReader(const RandomAccessFile* file, uint64_t file_size, size_t chunk_bytes,
                size_t max_line_bytes);

  // Sets *line to the next line, or *done = true at the end of the file. Read errors are
  // returned as they come from the Env.
  Status Next(WalLine* line, bool* done);

 private:
  // Reads the next chunk into chunk_ (chunk_ is fully consumed); sets eof_ at the end of
  // the file.
  Status Fill();
  // Sets *line to the line starting at line_offset_, ending with data.
  void Emit(WalLine* line, std::string_view data, bool has_newline);
  // Consumes the rest of a line too long to buffer (carry_ + chunk_[pos_..] its start).
  Status SkipOverlong(WalLine* line);

  const RandomAccessFile* file_;
  uint64_t file_size_;
  size_t chunk_bytes_;
  size_t max_line_bytes_;
  uint64_t read_pos_ = 0;  // next file offset to read
  bool eof_ = false;
  std::string chunk_;  // the last chunk read; chunk_[pos_] is the first unconsumed byte
  size_t pos_ = 0;
  // The start of the current line when it began in an earlier chunk (carry_ + the
  // unconsumed part of chunk_ start at file offset line_offset_).
  std::string carry_;
  bool carry_returned_ = false;  // carry_ holds the data of the line last returned
  uint64_t line_offset_ = 0;
  uint64_t line_number_ = 1;
};

}  // namespace t4dx
