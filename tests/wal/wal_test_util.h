// Shared helpers of the WAL tests: sample items and records, files in an Env, and
// re-checksumming a hand-edited line (so a test can reach the checks behind the checksum).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "t4dx/env.h"
#include "t4dx/item.h"
#include "util/checksum.h"
#include "wal/wal_format.h"
#include "wal/wal_record.h"

namespace t4dx {
namespace wal_test {

inline Item MakeItem(const std::string& id, size_t dim, uint32_t seed) {
  Item item;
  item.id = id;
  item.kind = "episode";
  item.content = "note " + std::to_string(seed) + ": \"quoted\", tab\t, caf\xc3\xa9 \xe2\x9c\x93";
  item.timestamp = 1700000000000 + seed;
  item.metadata["session"] = MetaValue::String("s-" + std::to_string(seed % 3));
  item.metadata["score"] = MetaValue::Number(0.25 * seed);
  item.metadata["pinned"] = MetaValue::Bool(seed % 2 == 0);
  item.metadata["tags"] = MetaValue::StringList({"a", "b" + std::to_string(seed)});
  for (size_t i = 0; i < dim; ++i) {
    item.embedding.push_back(static_cast<float>(seed) * 0.5f - static_cast<float>(i) / 3.0f);
  }
  return item;
}

inline WalRecord PutRecord(uint64_t lsn, size_t dim = 4) {
  WalRecord r;
  r.lsn = lsn;
  r.timestamp = 1700000000000 + static_cast<int64_t>(lsn);
  r.op = WalOp::kPut;
  r.items.push_back(MakeItem("item-" + std::to_string(lsn), dim, static_cast<uint32_t>(lsn)));
  return r;
}

inline WalRecord DeleteRecord(uint64_t lsn, const std::string& id) {
  WalRecord r;
  r.lsn = lsn;
  r.timestamp = 1700000000000 + static_cast<int64_t>(lsn);
  r.op = WalOp::kDelete;
  r.id = id;
  return r;
}

inline WalRecord BatchRecord(uint64_t lsn, size_t n, size_t dim = 4) {
  WalRecord r;
  r.lsn = lsn;
  r.timestamp = 1700000000000 + static_cast<int64_t>(lsn);
  r.op = WalOp::kBatch;
  for (size_t i = 0; i < n; ++i) {
    r.items.push_back(
        MakeItem("batch-" + std::to_string(lsn + i), dim, static_cast<uint32_t>(lsn + i)));
  }
  return r;
}

inline std::string Line(const WalRecord& r) {
  std::string s;
  EncodeWalRecord(r, &s);
  return s;
}

// The line without its '\n'.
inline std::string Bare(const WalRecord& r) {
  std::string s = Line(r);
  s.pop_back();
  return s;
}

// The checksummed part of a bare line: from '{' to before ,"checksum".
inline std::string Body(const std::string& bare) {
  return bare.substr(0, bare.size() - kWalChecksumTrailerSize);
}

// A bare line made of body with a correct checksum trailer.
inline std::string Seal(const std::string& body) {
  return body + kWalChecksumField + HashHex(Hash64(body)) + "\"}";
}

// n put records with LSNs first..first+n-1, as file content.
inline std::string PutLines(uint64_t first, size_t n, size_t dim = 4) {
  std::string s;
  for (size_t i = 0; i < n; ++i) EncodeWalRecord(PutRecord(first + i, dim), &s);
  return s;
}

inline Status WriteFile(Env* env, const std::string& path, const std::string& data) {
  std::unique_ptr<WritableFile> f;
  T4DX_RETURN_IF_ERROR(env->NewWritableFile(path, &f));
  T4DX_RETURN_IF_ERROR(f->Append(data));
  T4DX_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

// Byte offset where line `number` (1-based) starts in data.
inline uint64_t LineOffset(const std::string& data, uint64_t number) {
  uint64_t offset = 0;
  for (uint64_t i = 1; i < number; ++i) offset = data.find('\n', offset) + 1;
  return offset;
}

}  // namespace wal_test
}  // namespace t4dx
