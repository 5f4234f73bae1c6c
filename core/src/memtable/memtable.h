// MemTable: the newest writes, held in memory and searchable at once.
//
// One entry per id (the newest version: a put or a delete tombstone). The engine keeps a
// mutable MemTable taking writes and at most one immutable MemTable being flushed.
// Thread safety: none; the engine guards each MemTable with its state lock.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "t4dx/item.h"

namespace t4dx {

struct MemEntry {
  Item item;          // for a tombstone only item.id is set
  uint64_t lsn = 0;
  bool deleted = false;
};

class MemTable {
 public:
  // Inserts or replaces the entry for e.item.id.
  void Apply(MemEntry e);
  // The entry for id (live or tombstone), or nullptr.
  const MemEntry* Find(const std::string& id) const;

  size_t count() const { return entries_.size(); }  // ids, tombstones included
  size_t live_count() const { return entries_.size() - tombstones_; }
  size_t bytes() const { return bytes_; }            // estimated heap bytes
  uint64_t min_lsn() const { return min_lsn_; }      // 0 when empty
  uint64_t max_lsn() const { return max_lsn_; }
  uint64_t applied() const { return applied_; }      // writes applied (overwrites too)
  bool empty() const { return entries_.empty(); }

  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& kv : entries_) fn(kv.second);
  }
  // Entries sorted by id (for writing a segment).
  std::vector<const MemEntry*> SortedById() const;

  static size_t EstimateBytes(const Item& item);

 private:
  std::unordered_map<std::string, MemEntry> entries_;
  size_t bytes_ = 0;
  size_t tombstones_ = 0;
  uint64_t min_lsn_ = 0;
  uint64_t max_lsn_ = 0;
  uint64_t applied_ = 0;
};

}  // namespace t4dx
