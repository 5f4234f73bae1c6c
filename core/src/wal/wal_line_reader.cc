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
  if (read_pos_ >= file_size_) {
    eof_ = true;
    return Status::OK();
  }
  const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk_bytes_, file_size_ - read_pos_));
  T4DX_RETURN_IF_ERROR(file_->Read(read_pos_, want, &chunk_));
  buf_.append(chunk_);
  read_pos_ += chunk_.size();
  if (chunk_.size() < want || read_pos_ >= file_size_) eof_ = true;  // short read: end
  return Status::OK();
}

Status WalLineReader::Next(WalLine* line, bool* done) {
  *done = false;
  for (;;) {
    const size_t nl = buf_.find('\n', head_ + scanned_);
    if (nl != std::string::npos) {
      const size_t n = nl - head_;
      if (n > max_line_bytes_) break;  // complete but too long: reported as overlong
      line->data = std::string_view(buf_.data() + head_, n);
      line->number = line_number_++;
      line->offset = line_offset_;
      line->length = n + 1;
      line->has_newline = true;
      line->has_nul = std::memchr(line->data.data(), 0, n) != nullptr;
      line->overlong = false;
      line_offset_ += n + 1;
      head_ = nl + 1;
      scanned_ = 0;
      return Status::OK();
    }
    scanned_ = buf_.size() - head_;
    if (scanned_ > max_line_bytes_) break;
    if (eof_) {
      if (scanned_ == 0) {
        *done = true;
        return Status::OK();
      }
      line->data = std::string_view(buf_.data() + head_, scanned_);
      line->number = line_number_++;
      line->offset = line_offset_;
      line->length = scanned_;
      line->has_newline = false;
      line->has_nul = std::memchr(line->data.data(), 0, scanned_) != nullptr;
      line->overlong = false;
      line_offset_ += scanned_;
      head_ = buf_.size();
      scanned_ = 0;
      return Status::OK();
    }
    if (head_ > 0) {  // drop consumed lines before growing the buffer
      buf_.erase(0, head_);
      head_ = 0;
    }
    T4DX_RETURN_IF_ERROR(Fill());
  }
  return SkipOverlong(line);
}

Status WalLineReader::SkipOverlong(WalLine* line) {
  line->data = std::string_view();
  line->number = line_number_++;
  line->offset = line_offset_;
  line->has_nul = false;
  line->overlong = true;
  uint64_t length = 0;
  for (;;) {
    const size_t nl = buf_.find('\n', head_);
    const size_t end = nl == std::string::npos ? buf_.size() : nl;
    line->has_nul = line->has_nul || std::memchr(buf_.data() + head_, 0, end - head_) != nullptr;
    length += end - head_;
    if (nl != std::string::npos) {
      line->has_newline = true;
      line->length = length + 1;
      head_ = nl + 1;
      break;
    }
    buf_.clear();
    head_ = 0;
    if (eof_) {
      line->has_newline = false;
      line->length = length;
      break;
    }
    T4DX_RETURN_IF_ERROR(Fill());
  }
  scanned_ = 0;
  line_offset_ += line->length;
  return Status::OK();
}

}  // namespace t4dx
