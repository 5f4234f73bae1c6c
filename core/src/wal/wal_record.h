// Encoding and decoding of one WAL record (one line). See wal_format.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "t4dx/item.h"

namespace t4dx {

enum class WalOp : uint8_t { kPut = 0, kDelete = 1, kBatch = 2 };
const char* WalOpName(WalOp op);  // "put", "delete", "batch"

struct WalRecord {
  uint64_t lsn = 0;        // first LSN of the record
  int64_t timestamp = 0;   // when it was written, ms since the epoch
  WalOp op = WalOp::kPut;
  std::vector<Item> items;  // kPut: one; kBatch: one or more (items[i] has LSN lsn + i)
  std::string id;           // kDelete

  // The last LSN the record uses (lsn + items.size() - 1 for a batch, else lsn).
  uint64_t last_lsn() const;
};

// Appends the line for r, including the checksum and the trailing '\n'.
void EncodeWalRecord(const WalRecord& r, std::string* out);

// EncodeWalRecord in two steps, so that the costly part runs on each writer's own thread
// before the group commit and only the rest in the leader: EncodeWalItems appends the
// items' JSON, comma-separated (the part of a put or batch line that does not depend on
// the LSN); EncodeWalItemsRecord appends the line around it. The bytes are exactly
// EncodeWalRecord's for the same record (tests/wal/wal_record_test.cc).
void EncodeWalItems(const std::vector<Item>& items, std::string* out);
// op is kPut (count 1) or kBatch (count >= 1); items_json is EncodeWalItems' output.
void EncodeWalItemsRecord(uint64_t lsn, int64_t timestamp, WalOp op, size_t count,
                          std::string_view items_json, std::string* out);

// Decodes one line (without its '\n'). On failure returns false with a reason such as
// "checksum mismatch (stored 0123..., computed 4567...)", "invalid JSON at column 17",
// "missing field op_type", "embedding_b64 is not valid base64".
bool DecodeWalRecord(std::string_view line, WalRecord* r, std::string* reason);

// DecodeWalRecord without its fast path for lines exactly as EncodeWalRecord writes them
// (every line through the JSON parser). Same results; for tests comparing the two.
bool DecodeWalRecordGeneral(std::string_view line, WalRecord* r, std::string* reason);

// The first steps of DecodeWalRecord only: the line has the checksum trailer and its
// checksum matches. Much cheaper than decoding (no JSON parse); same reasons on failure.
bool CheckWalLineChecksum(std::string_view line, std::string* reason);

}  // namespace t4dx
