// Segment directory layout (core/doc/segment_format.md is the prose description).
//
//   seg_NNNNNN/            immutable once published
//     items.jsonl          one JSON line per entry, in id order: the item without its
//                          embedding ({"id","kind","content","timestamp","metadata"} as
//                          AppendItemJsonExact writes it) plus ,"lsn":N,"deleted":bool}
//     vectors.f32          rows x dim little-endian float32, one row per live entry with
//                          an embedding, in id order
//     ids.idx              binary id index, sorted by id (see the doc)
//     meta.json            counts, dim, metric, LSN and time ranges, per-file sizes and
//                          per-block XXH64 checksums (64 KiB blocks), filter statistics,
//                          inputs (for merge outputs), format version, its own checksum
// Written under seg_NNNNNN.tmp/, every file synced, renamed, the store dir synced.
#pragma once

#include <cstdint>
#include <string>

namespace t4dx {

constexpr int kSegmentFormatVersion = 1;
constexpr uint32_t kSegmentBlockSize = 64 * 1024;
constexpr char kSegmentItemsFile[] = "items.jsonl";
constexpr char kSegmentVectorsFile[] = "vectors.f32";
constexpr char kSegmentIdsFile[] = "ids.idx";
constexpr char kSegmentMetaFile[] = "meta.json";

std::string SegmentDirName(uint64_t id);  // "seg_000001" (6 digits minimum)
// True (and *id set) for "seg_000001"; false for "seg_000001.tmp" and others.
bool ParseSegmentDirName(const std::string& name, uint64_t* id);

}  // namespace t4dx
