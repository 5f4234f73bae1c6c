// Per-block checksums of segment data files: computed while writing, verified on read.
#include <algorithm>

#include "segment/segment_format.h"
#include "segment/segment_internal.h"
#include "util/checksum.h"

namespace t4dx {
namespace segment_internal {

void BlockHasher::Add(std::string_view data) {
  size_ += data.size();
  while (!data.empty()) {
    size_t take = std::min<size_t>(kSegmentBlockSize - partial_.size(), data.size());
    if (partial_.empty() && take == kSegmentBlockSize) {
      blocks_.push_back(Hash64(data.data(), take));  // a whole block: no copy
    } else {
      partial_.append(data.data(), take);
      if (partial_.size() == kSegmentBlockSize) {
        blocks_.push_back(Hash64(partial_));
        partial_.clear();
      }
    }
    data.remove_prefix(take);
  }
}

std::vector<uint64_t> BlockHasher::Finish() {
  if (!partial_.empty()) {
    blocks_.push_back(Hash64(partial_));
    partial_.clear();
  }
  return blocks_;
}

Status ChecksumMismatch(const std::string& path, int64_t offset, const std::string& detail) {
  return Status::CorruptionAt(path, 0, offset, detail).WithContext("segment checksum mismatch");
}

Status InvalidSegmentFile(const std::string& path, int64_t offset, const std::string& detail) {
  return Status::CorruptionAt(path, 0, offset, detail).WithContext("invalid segment file");
}

Status ReadVerifiedBlocks(const RandomAccessFile& file, const std::string& path,
                          const FileInfo& info, uint64_t begin, uint64_t end, std::string* data,
                          uint64_t* data_start) {
  if (begin > end || end > info.size) {
    return InvalidSegmentFile(path, static_cast<int64_t>(begin),
                              "range " + std::to_string(begin) + ".." + std::to_string(end) +
                                  " is past the end of the file (" + std::to_string(info.size) +
                                  " bytes)");
  }
  uint64_t first = begin / kSegmentBlockSize;
  uint64_t last = end == begin ? first : (end - 1) / kSegmentBlockSize + 1;  // exclusive
  uint64_t start = first * kSegmentBlockSize;
  uint64_t stop = std::min<uint64_t>(last * kSegmentBlockSize, info.size);
  data->clear();
  *data_start = start;
  if (stop <= start) return Status::OK();
  T4DX_RETURN_IF_ERROR(file.Read(start, static_cast<size_t>(stop - start), data));
  if (data->size() != stop - start) {
    return InvalidSegmentFile(
        path, static_cast<int64_t>(start + data->size()),
        "file is shorter than meta.json says (" + std::to_string(info.size) + " bytes)");
  }
  for (uint64_t b = first; b < last; ++b) {
    uint64_t off = b * kSegmentBlockSize;
    size_t len = static_cast<size_t>(std::min<uint64_t>(kSegmentBlockSize, info.size - off));
    uint64_t h = Hash64(data->data() + (off - start), len);
    if (b >= info.blocks.size() || h != info.blocks[b]) {
      return ChecksumMismatch(
          path, static_cast<int64_t>(off),
          "block " + std::to_string(b) + " (bytes " + std::to_string(off) + ".." +
              std::to_string(off + len - 1) + "): stored " +
              (b < info.blocks.size() ? HashHex(info.blocks[b]) : std::string("none")) +
              ", computed " + HashHex(h));
    }
  }
  return Status::OK();
}

}  // namespace segment_internal
}  // namespace t4dx
