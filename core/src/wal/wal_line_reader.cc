// See wal_line_reader.h.
#include "wal/wal_line_reader.h"

#include <algorithm>
#include <cstring>

namespace t4dx {

WalLineReader::WalLineReader(const RandomAccessFile* file, uint64_t file_size, size_t chunk_bytes,
                             size_t max_line_bytes)
    : file_(file),
      file_size_(file_size),
      chunk_bytes_(std::max<size_t>(chunk_bytes, 1)),
      max_line_bytes_(max_line_bytes) {}

Status WalLineReader::Fill() {
  pos_ = 0;
  if (read_pos_ >= file_size_) {
    chunk_.clear();
    eof_ = true;
    return Status::OK();
  }
  const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk_bytes_, file_size_ - read_pos_));
  Status s = file_->Read(read_pos_, want, &chunk_);
  if (!s.ok()) {
    chunk_.clear();
    return s;
  }
  read_pos_ += chunk_.size();
  if (chunk_.size() < want || read_pos_ >= file_size_) eof_ = true;  // short read: end
  return Status::OK();
}

void WalLineReader::Emit(WalLine* line, std::string_view data, bool has_newline) {
  line->data = data;
  line->number = line_number_++;
  line->offset = line_offset_;
  line->length = data.size() + (has_newline ? 1 : 0);
  line->has_newline = has_newline;
  line->has_nul = std::memchr(data.data(), 0, data.size()) != nullptr;
  line->overlong = false;
  line_offset_ += line->length;
}

Status WalLineReader::Next(WalLine* line, bool* done) {
  *done = false;
  if (carry_returned_) {  // the line returned last: its view ends with this call
    carry_.clear();
    carry_returned_ = false;
  }
  for (;;) {
    const size_t avail = chunk_.size() - pos_;
    if (avail > 0) {
      const char* start = chunk_.data() + pos_;
      const char* nl = static_cast<const char*>(std::memchr(start, '\n', avail));
      const size_t piece = nl != nullptr ? static_cast<size_t>(nl - start) : avail;
      if (carry_.size() + piece > max_line_bytes_) return SkipOverlong(line);
      if (nl != nullptr) {
        std::string_view data(start, piece);
        if (!carry_.empty()) {  // a line spanning chunks: joined in carry_
          carry_.append(start, piece);
          data = carry_;
          carry_returned_ = true;
        }
        pos_ += piece + 1;
        Emit(line, data, /*has_newline=*/true);
        return Status::OK();
      }
      carry_.append(start, piece);
      pos_ = chunk_.size();
    }
    if (eof_) {
      if (carry_.empty()) {
        *done = true;
        return Status::OK();
      }
      carry_returned_ = true;
      Emit(line, carry_, /*has_newline=*/false);
      return Status::OK();
    }
    T4DX_RETURN_IF_ERROR(Fill());
  }
}

Status WalLineReader::SkipOverlong(WalLine* line) {
  line->data = std::string_view();
  line->number = line_number_++;
  line->offset = line_offset_;
  line->overlong = true;
  bool has_nul = std::memchr(carry_.data(), 0, carry_.size()) != nullptr;
  uint64_t length = carry_.size();
  carry_.clear();
  for (;;) {
    const size_t avail = chunk_.size() - pos_;
    const char* start = chunk_.data() + pos_;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', avail));
    const size_t piece = nl != nullptr ? static_cast<size_t>(nl - start) : avail;
    has_nul = has_nul || std::memchr(start, 0, piece) != nullptr;
    length += piece;
    if (nl != nullptr) {
      line->has_newline = true;
      line->length = length + 1;
      pos_ += piece + 1;
      break;
    }
    pos_ = chunk_.size();
    if (eof_) {
      line->has_newline = false;
      line->length = length;
      break;
    }
    T4DX_RETURN_IF_ERROR(Fill());
  }
  line->has_nul = has_nul;
  line_offset_ += line->length;
  return Status::OK();
}

}  // namespace t4dx
