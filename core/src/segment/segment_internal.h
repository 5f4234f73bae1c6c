// Internal pieces shared by the segment writer and reader (not part of the module's API).
// The bytes they produce and accept are described in core/doc/segment_format.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "segment/segment.h"
#include "t4dx/env.h"
#include "t4dx/status.h"

namespace t4dx {
namespace segment_internal {

constexpr char kMetaFormatName[] = "t4dx-segment";
constexpr char kIdIndexMagic[] = "T4DXIDX1";  // 8 bytes, no terminator on disk
constexpr uint32_t kIdIndexVersion = 1;
constexpr size_t kIdIndexHeaderSize = 8 + 4 + 8;
// Smallest possible entry: 1-byte id, empty kind, empty metadata.
constexpr size_t kIdIndexMinEntrySize = 2 + 1 + 8 + 8 + 1 + 4 + 8 + 4 + 1 + 4;
constexpr uint8_t kFlagDeleted = 1;
constexpr uint8_t kFlagHasVector = 2;
constexpr uint32_t kNoRow = 0xFFFFFFFFu;
// meta.json larger than this is refused before it is read (a real one is far smaller:
// 18 bytes of checksum text per 64 KiB block plus at most a few MiB of statistics).
constexpr uint64_t kMaxMetaFileSize = 64ull << 20;

// Size and per-block checksums of one data file, as listed in meta.json "files".
struct FileInfo {
  std::string name;  // kSegmentItemsFile, kSegmentVectorsFile or kSegmentIdsFile
  uint64_t size = 0;
  std::vector<uint64_t> blocks;  // XXH64 of each kSegmentBlockSize block (last may be short)
};

// Number of blocks a file of `size` bytes has.
inline uint64_t BlockCount(uint64_t size) {
  return (size + kSegmentBlockSize - 1) / kSegmentBlockSize;
}

// Computes per-block checksums while bytes are appended in any pieces.
class BlockHasher {
 public:
  void Add(std::string_view data);
  // Closes the last partial block and returns every block checksum.
  std::vector<uint64_t> Finish();
  uint64_t size() const { return size_; }

 private:
  std::string partial_;  // bytes of the current, unfinished block
  std::vector<uint64_t> blocks_;
  uint64_t size_ = 0;
};

// The meta.json text (pretty-printed, ending in '\n') for meta and files. Also sets
// meta->meta_checksum to the checksum written.
std::string EncodeSegmentMeta(SegmentMeta* meta, const std::vector<FileInfo>& files);
// Parses and checks meta.json text read from `path`. files receives the three data files
// in the order items, vectors, ids. total_bytes is set from the file sizes plus text size.
Status DecodeSegmentMeta(const std::string& path, std::string_view text, SegmentMeta* meta,
                         std::vector<FileInfo>* files);
// Reads <seg_dir>/meta.json and decodes it; checks the id against the directory name.
Status LoadSegmentMeta(Env* env, const std::string& seg_dir, SegmentMeta* meta,
                       std::vector<FileInfo>* files);

// Appends one ids.idx entry.
void EncodeIdIndexEntry(const SegmentEntryHeader& h, std::string* out);
void EncodeIdIndexHeader(uint64_t count, std::string* out);
// Decodes a whole ids.idx (already checksum-verified) with every bound checked against
// meta and the items.jsonl size. Errors name `path` and the byte offset of the entry.
Status DecodeIdIndex(const std::string& path, std::string_view data, const SegmentMeta& meta,
                     uint64_t items_size, std::vector<SegmentEntryHeader>* entries);

// Reads the blocks of `file` covering [begin, end) and verifies each against info. On
// success *data holds the bytes of those whole blocks and *data_start their first offset.
// A mismatch is kCorruption naming path, block number and byte offset.
Status ReadVerifiedBlocks(const RandomAccessFile& file, const std::string& path,
                          const FileInfo& info, uint64_t begin, uint64_t end, std::string* data,
                          uint64_t* data_start);

// Verified blocks kept by each open SegmentReader (ReadItem, ReadVectors): the bytes of
// up to this many whole blocks whose checksums matched when read, least recently used
// evicted first, freed with the reader. Reads spanning more than kBlockCacheMaxSpan
// blocks bypass it. Small on purpose: a service holds many stores with many segments
// each (4 blocks = at most 256 KiB per open segment); it serves repeated reads of the same
// items (a result page read again, an item and its neighbours), not random ones.
constexpr size_t kBlockCacheBlocks = 4;
// All readers of the process together keep at most this many bytes of verified blocks.
constexpr uint64_t kBlockCacheProcessBytes = uint64_t{32} << 20;
constexpr uint64_t kBlockCacheMaxSpan = 2;

// kCorruption located at (path, offset) (-1: no offset). Messages read
// "segment checksum mismatch: <path> (byte N): <detail>" and
// "invalid segment file: <path> (byte N): <detail>" (the runbook's log phrases).
Status ChecksumMismatch(const std::string& path, int64_t offset, const std::string& detail);
Status InvalidSegmentFile(const std::string& path, int64_t offset, const std::string& detail);

}  // namespace segment_internal
}  // namespace t4dx
