// SegmentReader: opens a published segment, keeps its id index in memory and reads items
// and vectors with every block they touch verified.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <memory>
#include <mutex>

#include "segment/segment.h"
#include "segment/segment_format.h"
#include "segment/segment_internal.h"
#include "util/checksum.h"
#include "util/coding.h"
#include "util/item_codec.h"

namespace t4dx {

using segment_internal::FileInfo;
using segment_internal::InvalidSegmentFile;
using segment_internal::ReadVerifiedBlocks;

namespace {

enum FileIndex { kItems = 0, kVectors = 1, kIds = 2 };
constexpr uint64_t kVerifyChunkBlocks = 16;  // VerifyChecksum reads 1 MiB at a time

// Splits `line` = <item object without '}'>,"lsn":N,"deleted":B} into the item's own
// object text and the two trailing fields. False when the trailer is malformed.
bool SplitItemLine(std::string_view line, std::string* item_json, uint64_t* lsn, bool* deleted) {
  static constexpr std::string_view kLsn = ",\"lsn\":";
  static constexpr std::string_view kDeleted = ",\"deleted\":";
  size_t pos = line.rfind(kLsn);
  if (pos == std::string_view::npos) return false;
  std::string_view rest = line.substr(pos + kLsn.size());
  uint64_t v = 0;
  size_t digits = 0;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
    uint64_t d = static_cast<uint64_t>(rest[digits] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
    ++digits;
  }
  if (digits == 0) return false;
  rest.remove_prefix(digits);
  if (rest.substr(0, kDeleted.size()) != kDeleted) return false;
  rest.remove_prefix(kDeleted.size());
  if (rest == "true}") {
    *deleted = true;
  } else if (rest == "false}") {
    *deleted = false;
  } else {
    return false;
  }
  *lsn = v;
  item_json->assign(line.data(), pos);
  item_json->push_back('}');
  return true;
}

// Parses the line of entry h; `data` starts at the line and holds at least the line and
// its '\n'. Checks the line against the index entry.
Status ParseItemLine(const std::string& path, const SegmentEntryHeader& h, std::string_view data,
                     Item* item) {
  const int64_t at = static_cast<int64_t>(h.item_offset);
  if (data.size() <= h.item_length || data[h.item_length] != '\n') {
    return InvalidSegmentFile(path, at, "line of \"" + h.id + "\" does not end where ids.idx says");
  }
  std::string json, reason;
  uint64_t lsn = 0;
  bool deleted = false;
  if (!SplitItemLine(data.substr(0, h.item_length), &json, &lsn, &deleted)) {
    return InvalidSegmentFile(path, at,
                              "line of \"" + h.id + "\" lacks its \"lsn\"/\"deleted\" fields");
  }
  Item it;
  if (!ParseItemJsonExact(json, &it, &reason)) {
    return InvalidSegmentFile(path, at, "line of \"" + h.id + "\": " + reason);
  }
  if (it.id != h.id || lsn != h.lsn || deleted != h.deleted || it.timestamp != h.timestamp ||
      (!h.deleted && (it.kind != h.kind || it.metadata != h.metadata))) {
    return InvalidSegmentFile(path, at, "line of \"" + h.id + "\" disagrees with ids.idx");
  }
  *item = std::move(it);
  return Status::OK();
}

// Reads a file front to back, each block read and verified once, holding only the
// blocks still needed (ForEachItem).
class SequentialReader {
 public:
  SequentialReader(const RandomAccessFile& file, const std::string& path, const FileInfo& info)
      : file_(file), path_(path), info_(info) {}

  // Bytes [begin, end) of the file, verified; begin never moves backwards between calls.
  Status Get(uint64_t begin, uint64_t end, std::string_view* out) {
    if (begin < start_) return Status::InvalidArgument(path_ + ": sequential read went back");
    if (end > start_ + buf_.size()) {
      const uint64_t keep = begin / kSegmentBlockSize * kSegmentBlockSize;
      if (keep >= start_ + buf_.size()) {
        buf_.clear();
        start_ = keep;
      } else if (keep > start_) {
        buf_.erase(0, static_cast<size_t>(keep - start_));
        start_ = keep;
      }
      const uint64_t from = start_ + buf_.size();  // a block boundary
      const uint64_t want = std::max(end, from + kVerifyChunkBlocks * kSegmentBlockSize);
      const uint64_t to = std::min(
          info_.size, (want + kSegmentBlockSize - 1) / kSegmentBlockSize * kSegmentBlockSize);
      std::string more;
      uint64_t more_start = 0;
      T4DX_RETURN_IF_ERROR(ReadVerifiedBlocks(file_, path_, info_, from, to, &more, &more_start));
      buf_ += more;
      if (end > start_ + buf_.size()) {
        return InvalidSegmentFile(path_, static_cast<int64_t>(end), "read past the end");
      }
    }
    *out = std::string_view(buf_).substr(static_cast<size_t>(begin - start_),
                                         static_cast<size_t>(end - begin));
    return Status::OK();
  }

 private:
  const RandomAccessFile& file_;
  const std::string& path_;
  const FileInfo& info_;
  std::string buf_;     // verified bytes [start_, start_ + buf_.size())
  uint64_t start_ = 0;  // a block boundary
};

// Every vector the engine writes is finite (ValidateItem); a non-finite value under valid
// checksums is a crafted or miswritten file, reported like any corruption (found by
// tests/fuzz/segment_fuzzer.cc: NaN scores reached searches). v holds n floats that start
// at byte `offset` of vectors.f32.
Status CheckFinite(const std::string& path, uint64_t offset, const float* v, size_t n,
                   uint32_t dim) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) {
      const uint64_t at = offset + 4 * i;
      const uint64_t index = at / 4;
      return InvalidSegmentFile(path, static_cast<int64_t>(at),
                                "vector row " + std::to_string(dim ? index / dim : 0) +
                                    " component " + std::to_string(dim ? index % dim : 0) +
                                    " is not finite");
    }
  }
  return Status::OK();
}

// A few verified blocks, least recently used evicted first. Thread-safe: readers of one
// segment share it from several threads (blocks are immutable once inserted and handed
// out as shared_ptr, so a block evicted while a caller still parses it stays alive).
//
// Every cache of the process shares one byte budget (kBlockCacheProcessBytes): a block that
// would take the total over it is not kept, so a service holding many stores with many
// segments never holds more than that in verified blocks.
std::atomic<uint64_t> g_block_cache_bytes{0};

class BlockCache {
 public:
  using Block = std::shared_ptr<const std::string>;

  ~BlockCache() {
    for (const Slot& s : slots_) g_block_cache_bytes.fetch_sub(s.data->size());
  }

  Block Lookup(int file, uint64_t block) {
    std::lock_guard<std::mutex> lock(mu_);
    for (Slot& s : slots_) {
      if (s.file == file && s.block == block) {
        s.last_use = ++clock_;
        stats_.hits++;
        return s.data;
      }
    }
    stats_.misses++;
    return nullptr;
  }

  void Insert(int file, uint64_t block, Block data) {
    std::lock_guard<std::mutex> lock(mu_);
    for (Slot& s : slots_) {
      if (s.file == file && s.block == block) return;  // another thread read it too
    }
    if (slots_.size() < segment_internal::kBlockCacheBlocks) {
      if (!Reserve(data->size(), 0)) return;
      slots_.push_back(Slot{file, block, std::move(data), ++clock_});
      return;
    }
    Slot* oldest = &slots_[0];
    for (Slot& s : slots_) {
      if (s.last_use < oldest->last_use) oldest = &s;
    }
    if (!Reserve(data->size(), oldest->data->size())) return;
    *oldest = Slot{file, block, std::move(data), ++clock_};
    stats_.evictions++;
  }

  // Takes `add` bytes of the process budget, giving back `release`; false (nothing taken)
  // when the budget cannot hold them.
  static bool Reserve(uint64_t add, uint64_t release) {
    uint64_t cur = g_block_cache_bytes.load();
    for (;;) {
      const uint64_t next = cur - release + add;
      if (add > release && next > segment_internal::kBlockCacheProcessBytes) return false;
      if (g_block_cache_bytes.compare_exchange_weak(cur, next)) return true;
    }
  }

  SegmentReader::BlockCacheStats Stats() {
    std::lock_guard<std::mutex> lock(mu_);
    SegmentReader::BlockCacheStats st = stats_;
    st.blocks = slots_.size();
    return st;
  }

 private:
  struct Slot {
    int file;
    uint64_t block;
    Block data;
    uint64_t last_use;
  };
  std::mutex mu_;
  std::vector<Slot> slots_;  // at most kBlockCacheBlocks: a linear scan is the fastest
  uint64_t clock_ = 0;
  SegmentReader::BlockCacheStats stats_;
};

}  // namespace

struct SegmentReader::Rep {
  std::vector<FileInfo> files;                             // kItems, kVectors, kIds
  std::vector<std::string> paths;                          // same order, plus meta.json last
  std::vector<std::unique_ptr<RandomAccessFile>> handles;  // kItems, kVectors, kIds
  Env* env = nullptr;
  BlockCache cache;  // verified blocks of kItems and kVectors

  // Bytes [begin, end) of data file f, verified, viewed by *out and kept alive by *keep:
  // from the cache when they lie in at most kBlockCacheMaxSpan blocks.
  Status ReadSpan(int f, uint64_t begin, uint64_t end, std::shared_ptr<const std::string>* keep,
                  std::string_view* out);
};

Status SegmentReader::Rep::ReadSpan(int f, uint64_t begin, uint64_t end,
                                    std::shared_ptr<const std::string>* keep,
                                    std::string_view* out) {
  const FileInfo& info = files[f];
  const uint64_t first = begin / kSegmentBlockSize;
  const uint64_t last = end > begin ? (end - 1) / kSegmentBlockSize : first;  // inclusive
  if (begin >= end || end > info.size || last - first + 1 > segment_internal::kBlockCacheMaxSpan) {
    // Empty, out of range (ReadVerifiedBlocks reports it) or too long to cache.
    auto data = std::make_shared<std::string>();
    uint64_t start = 0;
    T4DX_RETURN_IF_ERROR(
        ReadVerifiedBlocks(*handles[f], paths[f], info, begin, end, data.get(), &start));
    *out = std::string_view(*data).substr(static_cast<size_t>(begin - start),
                                          static_cast<size_t>(end - begin));
    *keep = std::move(data);
    return Status::OK();
  }
  BlockCache::Block blocks[segment_internal::kBlockCacheMaxSpan];
  for (uint64_t b = first; b <= last; ++b) {
    BlockCache::Block& block = blocks[b - first];
    block = cache.Lookup(f, b);
    if (block) continue;
    auto data = std::make_shared<std::string>();
    uint64_t start = 0;
    const uint64_t off = b * kSegmentBlockSize;
    T4DX_RETURN_IF_ERROR(ReadVerifiedBlocks(*handles[f], paths[f], info, off,
                                            std::min(info.size, off + kSegmentBlockSize),
                                            data.get(), &start));
    block = std::move(data);
    cache.Insert(f, b, block);
  }
  const uint64_t rel = begin - first * kSegmentBlockSize;
  if (first == last) {
    *out = std::string_view(*blocks[0])
               .substr(static_cast<size_t>(rel), static_cast<size_t>(end - begin));
    *keep = std::move(blocks[0]);
    return Status::OK();
  }
  auto joined = std::make_shared<std::string>();
  for (uint64_t b = first; b <= last; ++b) *joined += *blocks[b - first];
  *out =
      std::string_view(*joined).substr(static_cast<size_t>(rel), static_cast<size_t>(end - begin));
  *keep = std::move(joined);
  return Status::OK();
}

SegmentReader::SegmentReader() : rep_(new Rep) {}
SegmentReader::~SegmentReader() = default;

Status SegmentReader::Open(Env* env, const std::string& seg_dir,
                           std::unique_ptr<SegmentReader>* out) {
  std::unique_ptr<SegmentReader> r(new SegmentReader());
  Rep& rep = *r->rep_;
  rep.env = env;
  r->dir_ = seg_dir;
  T4DX_RETURN_IF_ERROR(segment_internal::LoadSegmentMeta(env, seg_dir, &r->meta_, &rep.files));
  for (const FileInfo& f : rep.files) rep.paths.push_back(JoinPath(seg_dir, f.name));
  rep.paths.push_back(JoinPath(seg_dir, kSegmentMetaFile));
  for (size_t i = 0; i < rep.files.size(); ++i) {
    uint64_t size = 0;
    Status s = env->GetFileSize(rep.paths[i], &size);
    if (s.IsNotFound()) return InvalidSegmentFile(rep.paths[i], -1, "file is missing");
    T4DX_RETURN_IF_ERROR(s);
    if (size != rep.files[i].size) {
      return InvalidSegmentFile(rep.paths[i],
                                static_cast<int64_t>(std::min(size, rep.files[i].size)),
                                "file is " + std::to_string(size) + " bytes, meta.json says " +
                                    std::to_string(rep.files[i].size) +
                                    (size < rep.files[i].size ? " (truncated)" : " (extended)"));
    }
    std::unique_ptr<RandomAccessFile> h;
    T4DX_RETURN_IF_ERROR(env->NewRandomAccessFile(rep.paths[i], &h));
    rep.handles.push_back(std::move(h));
  }
  std::string ids;
  uint64_t start = 0;
  T4DX_RETURN_IF_ERROR(ReadVerifiedBlocks(*rep.handles[kIds], rep.paths[kIds], rep.files[kIds], 0,
                                          rep.files[kIds].size, &ids, &start));
  T4DX_RETURN_IF_ERROR(segment_internal::DecodeIdIndex(rep.paths[kIds], ids, r->meta_,
                                                       rep.files[kItems].size, &r->entries_));
  *out = std::move(r);
  return Status::OK();
}

int64_t SegmentReader::Find(const std::string& id) const {
  auto it =
      std::lower_bound(entries_.begin(), entries_.end(), id,
                       [](const SegmentEntryHeader& h, const std::string& k) { return h.id < k; });
  if (it == entries_.end() || it->id != id) return -1;
  return it - entries_.begin();
}

Status SegmentReader::ReadItem(size_t index, bool with_embedding, Item* item) const {
  if (index >= entries_.size()) {
    return Status::InvalidArgument("segment " + dir_ + ": entry " + std::to_string(index) +
                                   " out of range (" + std::to_string(entries_.size()) + ")");
  }
  const SegmentEntryHeader& h = entries_[index];
  std::shared_ptr<const std::string> keep;
  std::string_view line;
  T4DX_RETURN_IF_ERROR(
      rep_->ReadSpan(kItems, h.item_offset, h.item_offset + h.item_length + 1, &keep, &line));
  Item it;
  T4DX_RETURN_IF_ERROR(ParseItemLine(rep_->paths[kItems], h, line, &it));
  if (with_embedding && h.row >= 0) {
    T4DX_RETURN_IF_ERROR(ReadVectors(static_cast<uint64_t>(h.row), 1, &it.embedding));
  }
  *item = std::move(it);
  return Status::OK();
}

Status SegmentReader::ForEachItem(bool with_embedding,
                                  const std::function<Status(size_t index, Item& item)>& fn) const {
  SequentialReader items(*rep_->handles[kItems], rep_->paths[kItems], rep_->files[kItems]);
  SequentialReader vectors(*rep_->handles[kVectors], rep_->paths[kVectors], rep_->files[kVectors]);
  const uint64_t row_bytes = uint64_t{meta_.dim} * sizeof(float);
  for (size_t i = 0; i < entries_.size(); ++i) {
    const SegmentEntryHeader& h = entries_[i];
    std::string_view line;
    T4DX_RETURN_IF_ERROR(items.Get(h.item_offset, h.item_offset + h.item_length + 1, &line));
    Item item;
    T4DX_RETURN_IF_ERROR(ParseItemLine(rep_->paths[kItems], h, line, &item));
    if (with_embedding && h.row >= 0) {
      const uint64_t begin = static_cast<uint64_t>(h.row) * row_bytes;
      std::string_view row;
      T4DX_RETURN_IF_ERROR(vectors.Get(begin, begin + row_bytes, &row));
      DecodeFloats(row.data(), meta_.dim, &item.embedding);
      T4DX_RETURN_IF_ERROR(CheckFinite(rep_->paths[kVectors], begin, item.embedding.data(),
                                       item.embedding.size(), meta_.dim));
    }
    T4DX_RETURN_IF_ERROR(fn(i, item));
  }
  return Status::OK();
}

Status SegmentReader::ReadVectors(uint64_t first, uint64_t n, std::vector<float>* out) const {
  if (first > meta_.vectors || n > meta_.vectors - first) {
    return Status::InvalidArgument("segment " + dir_ + ": rows " + std::to_string(first) + "+" +
                                   std::to_string(n) + " out of range (" +
                                   std::to_string(meta_.vectors) + " rows)");
  }
  out->clear();
  if (n == 0) return Status::OK();
  const uint64_t row_bytes = uint64_t{meta_.dim} * sizeof(float);
  const uint64_t begin = first * row_bytes;
  std::shared_ptr<const std::string> keep;
  std::string_view rows;
  T4DX_RETURN_IF_ERROR(rep_->ReadSpan(kVectors, begin, begin + n * row_bytes, &keep, &rows));
  DecodeFloats(rows.data(), static_cast<size_t>(n * meta_.dim), out);
  Status s = CheckFinite(rep_->paths[kVectors], begin, out->data(), out->size(), meta_.dim);
  if (!s.ok()) out->clear();
  return s;
}

SegmentReader::BlockCacheStats SegmentReader::block_cache_stats() const {
  return rep_->cache.Stats();
}

Status SegmentReader::VerifyChecksum(std::vector<SegmentProblem>* problems) const {
  Env* env = rep_->env;
  auto problem = [&](const std::string& file, int64_t offset, const std::string& reason) {
    problems->push_back(SegmentProblem{file, offset, reason});
  };

  // meta.json: still readable, still the one this reader opened.
  const std::string& meta_path = rep_->paths.back();
  SegmentMeta now;
  Status s = ReadSegmentMeta(env, dir_, &now);
  if (!s.ok()) {
    problem(meta_path, s.offset(), s.message());
  } else if (now.meta_checksum != meta_.meta_checksum) {
    problem(meta_path, -1,
            "meta.json changed since the segment was opened (checksum " + now.meta_checksum +
                ", was " + meta_.meta_checksum + ")");
  }

  for (size_t i = 0; i < rep_->files.size(); ++i) {
    const FileInfo& info = rep_->files[i];
    const std::string& path = rep_->paths[i];
    uint64_t size = 0;
    s = env->GetFileSize(path, &size);
    if (!s.ok()) {
      problem(path, -1, s.ToString());
      continue;
    }
    if (size != info.size) {
      problem(path, static_cast<int64_t>(std::min(size, info.size)),
              "invalid segment file: file is " + std::to_string(size) + " bytes, meta.json says " +
                  std::to_string(info.size));
    }
    std::unique_ptr<RandomAccessFile> file;
    s = env->NewRandomAccessFile(path, &file);
    if (!s.ok()) {
      problem(path, -1, s.ToString());
      continue;
    }
    const uint64_t blocks = info.blocks.size();
    std::string data;
    for (uint64_t b = 0; b < blocks; b += kVerifyChunkBlocks) {
      const uint64_t off = b * kSegmentBlockSize;
      const uint64_t want =
          std::min<uint64_t>(kVerifyChunkBlocks * kSegmentBlockSize, info.size - off);
      s = file->Read(off, static_cast<size_t>(want), &data);
      if (!s.ok()) {
        problem(path, static_cast<int64_t>(off), s.ToString());
        break;
      }
      for (uint64_t k = b; k < std::min(blocks, b + kVerifyChunkBlocks); ++k) {
        const uint64_t boff = k * kSegmentBlockSize;
        const uint64_t len = std::min<uint64_t>(kSegmentBlockSize, info.size - boff);
        const uint64_t rel = boff - off;
        std::string where = "block " + std::to_string(k) + " (bytes " + std::to_string(boff) +
                            ".." + std::to_string(boff + len - 1) + ")";
        if (rel + len > data.size()) {
          problem(path, static_cast<int64_t>(boff),
                  "invalid segment file: " + where + " is missing (file is short)");
          continue;
        }
        uint64_t h = Hash64(data.data() + rel, static_cast<size_t>(len));
        if (h != info.blocks[k]) {
          problem(path, static_cast<int64_t>(boff),
                  "segment checksum mismatch in " + where + ": stored " + HashHex(info.blocks[k]) +
                      ", computed " + HashHex(h));
        } else if (i == kVectors) {
          std::vector<float> values;
          DecodeFloats(data.data() + rel, static_cast<size_t>(len / 4), &values);
          Status finite = CheckFinite(path, boff, values.data(), values.size(), meta_.dim);
          if (!finite.ok()) problem(path, finite.offset(), finite.message());
        }
      }
    }
  }
  // The check ran: what failed is in *problems (the callers report them one by one).
  return Status::OK();
}

}  // namespace t4dx
