// ids.idx: the binary id index of a segment (layout in core/doc/segment_format.md).
#include <cstring>

#include "segment/segment_format.h"
#include "segment/segment_internal.h"
#include "util/coding.h"
#include "util/item_codec.h"

namespace t4dx {
namespace segment_internal {

void EncodeIdIndexHeader(uint64_t count, std::string* out) {
  out->append(kIdIndexMagic, 8);
  PutFixed32(out, kIdIndexVersion);
  PutFixed64(out, count);
}

void EncodeIdIndexEntry(const SegmentEntryHeader& h, std::string* out) {
  PutFixed16(out, static_cast<uint16_t>(h.id.size()));
  out->append(h.id);
  PutFixed64(out, h.lsn);
  PutFixed64(out, static_cast<uint64_t>(h.timestamp));
  uint8_t flags = (h.deleted ? kFlagDeleted : 0) | (h.row >= 0 ? kFlagHasVector : 0);
  out->push_back(static_cast<char>(flags));
  PutFixed32(out, h.row >= 0 ? static_cast<uint32_t>(h.row) : kNoRow);
  PutFixed64(out, h.item_offset);
  PutFixed32(out, h.item_length);
  out->push_back(static_cast<char>(static_cast<uint8_t>(h.kind.size())));
  out->append(h.kind);
  std::string meta;
  EncodeMetadata(h.metadata, &meta);
  PutFixed32(out, static_cast<uint32_t>(meta.size()));
  out->append(meta);
}

Status DecodeIdIndex(const std::string& path, std::string_view data, const SegmentMeta& meta,
                     uint64_t items_size, std::vector<SegmentEntryHeader>* entries) {
  entries->clear();
  Decoder d(data);
  std::string_view magic;
  uint32_t version = 0;
  uint64_t count = 0;
  if (!d.GetBytes(8, &magic) || !d.GetFixed32(&version) || !d.GetFixed64(&count)) {
    return InvalidSegmentFile(path, 0, "ids.idx is shorter than its 20-byte header");
  }
  if (std::memcmp(magic.data(), kIdIndexMagic, 8) != 0) {
    return InvalidSegmentFile(path, 0, "ids.idx does not start with T4DXIDX1");
  }
  if (version != kIdIndexVersion) {
    return InvalidSegmentFile(path, 8,
                              "ids.idx version " + std::to_string(version) + " (this build reads " +
                                  std::to_string(kIdIndexVersion) + ")");
  }
  if (count != meta.count) {
    return InvalidSegmentFile(path, 12,
                              "ids.idx holds " + std::to_string(count) +
                                  " entries, meta.json says " + std::to_string(meta.count));
  }
  // Bound the allocation by what the bytes can hold before trusting count.
  if (count > d.remaining() / kIdIndexMinEntrySize) {
    return InvalidSegmentFile(path, 12,
                              "ids.idx entry count " + std::to_string(count) + " does not fit in " +
                                  std::to_string(data.size()) + " bytes");
  }
  entries->reserve(static_cast<size_t>(count));
  uint64_t next_offset = 0;
  int64_t next_row = 0;
  uint64_t live = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const int64_t at = static_cast<int64_t>(d.offset());
    auto bad = [&](const std::string& why) {
      return InvalidSegmentFile(path, at, "ids.idx entry " + std::to_string(i) + ": " + why);
    };
    SegmentEntryHeader h;
    uint16_t id_len = 0;
    uint8_t flags = 0, kind_len = 0;
    uint32_t row = 0, meta_len = 0;
    uint64_t ts = 0;
    std::string_view id, kind, meta_bytes;
    if (!d.GetFixed16(&id_len) || !d.GetBytes(id_len, &id) || !d.GetFixed64(&h.lsn) ||
        !d.GetFixed64(&ts) || !d.GetFixed8(&flags) || !d.GetFixed32(&row) ||
        !d.GetFixed64(&h.item_offset) || !d.GetFixed32(&h.item_length) || !d.GetFixed8(&kind_len) ||
        !d.GetBytes(kind_len, &kind) || !d.GetFixed32(&meta_len) ||
        !d.GetBytes(meta_len, &meta_bytes)) {
      return bad("truncated");
    }
    h.id.assign(id.data(), id.size());
    if (!ValidateId(h.id).ok()) return bad("invalid id");
    if (!entries->empty() && !(entries->back().id < h.id)) {
      return bad("id \"" + h.id + "\" is not after \"" + entries->back().id + "\"");
    }
    h.timestamp = static_cast<int64_t>(ts);
    if ((flags & ~(kFlagDeleted | kFlagHasVector)) != 0) return bad("unknown flags");
    h.deleted = (flags & kFlagDeleted) != 0;
    bool has_vector = (flags & kFlagHasVector) != 0;
    if (h.deleted && has_vector) return bad("a tombstone with a vector");
    if (has_vector != (row != kNoRow)) return bad("vector flag and row disagree");
    if (has_vector) {
      if (static_cast<int64_t>(row) != next_row) {
        return bad("row " + std::to_string(row) + ", expected " + std::to_string(next_row));
      }
      h.row = next_row++;
    }
    if (h.item_offset != next_offset || h.item_length < 2 || h.item_offset > items_size ||
        h.item_length >= items_size - h.item_offset) {
      return bad("items.jsonl line at " + std::to_string(h.item_offset) + " (+" +
                 std::to_string(h.item_length) + ") does not follow the previous line");
    }
    next_offset = h.item_offset + h.item_length + 1;  // the line and its '\n'
    if (h.lsn < meta.lsn_min || h.lsn > meta.lsn_max) return bad("lsn outside meta.json range");
    if (!h.deleted) {
      ++live;
      if (h.timestamp < meta.time_min || h.timestamp > meta.time_max) {
        return bad("timestamp outside meta.json range");
      }
    }
    h.kind.assign(kind.data(), kind.size());
    if (!DecodeMetadata(meta_bytes, &h.metadata)) return bad("undecodable metadata");
    entries->push_back(std::move(h));
  }
  const int64_t end = static_cast<int64_t>(d.offset());
  if (d.remaining() != 0) return InvalidSegmentFile(path, end, "bytes after the last entry");
  if (live != meta.live || static_cast<uint64_t>(next_row) != meta.vectors ||
      next_offset != items_size) {
    return InvalidSegmentFile(path, end,
                              "ids.idx totals (live " + std::to_string(live) + ", vectors " +
                                  std::to_string(next_row) + ", items bytes " +
                                  std::to_string(next_offset) + ") disagree with meta.json");
  }
  return Status::OK();
}

}  // namespace segment_internal
}  // namespace t4dx
