// The WAL line format (core/doc/wal_format.md is the prose description).
//
// A WAL file is JSON lines. Every line is one record:
//   {"v":1,"lsn":N,"timestamp":MS,"op_type":"put","item":{...}}            one item
//   {"v":1,"lsn":N,"timestamp":MS,"op_type":"delete","id":"..."}           a delete
//   {"v":1,"lsn":N,"timestamp":MS,"op_type":"batch","lsn_last":M,"items":[...]}
//       an atomic batch: items[i] has LSN N+i, M = N+len-1
// followed, inside the same object, by  ,"checksum":"<16 hex>"}  and '\n'. The checksum is
// XXH64 of the exact bytes from the opening '{' up to (not including) the ',"checksum"'.
// Items are encoded by AppendItemJsonExact (embedding as base64 little-endian float32).
//
// Files: the active file is wal.jsonl; when a MemTable is frozen the active file is
// sealed by renaming it to wal_<first LSN, 20 digits>.jsonl.
#pragma once

#include <cstdint>
#include <string>

namespace t4dx {

constexpr int kWalFormatVersion = 1;
constexpr char kWalActiveName[] = "wal.jsonl";
constexpr char kWalSealedPrefix[] = "wal_";
constexpr char kWalSealedSuffix[] = ".jsonl";
constexpr char kWalChecksumField[] = ",\"checksum\":\"";  // followed by 16 hex, '"', '}'
constexpr size_t kWalChecksumTrailerSize = 13 + 16 + 2;     // ,"checksum":" + hex + "}
// A line (its '\n' excluded) is at most this long; readers report longer lines as bad
// without buffering them, so writers must split work into records below it.
constexpr size_t kWalMaxLineBytes = size_t{1} << 30;

// wal_00000000000000001001.jsonl for first_lsn 1001.
std::string SealedWalName(uint64_t first_lsn);
// True (and *first_lsn set) when name is a sealed WAL file name.
bool ParseSealedWalName(const std::string& name, uint64_t* first_lsn);

}  // namespace t4dx
