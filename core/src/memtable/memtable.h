// MemTable: the newest writes, held in memory and searchable at once.
//
// One entry per id (the newest version: a put or a delete tombstone). The engine keeps a
// mutable MemTable taking writes and at most one immutable MemTable being flushed.
// Entries are never removed one by one (a MemTable is dropped whole after its flush), so
// they live in a deque (stable addresses, insertion order) indexed by an open-addressing
// hash table of (hash, entry) slots: finding or adding an id touches one slot array and,
// on a hash match, the entry itself.
// Thread safety: none; the engine guards each MemTable with its state lock.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
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
  // Inserts or replaces the entry for e.item.id. Pointers to entries stay valid for the
  // MemTable's lifetime (a replaced entry is overwritten in place).
  void Apply(MemEntry e);
  // The entry for id (live or tombstone), or nullptr.
  const MemEntry* Find(const std::string& id) const;
  // Room for about n ids without growing the index (a hint: replay calls it with an
  // estimate).
  void Reserve(size_t n);

  size_t count() const { return entries_.size(); }  // ids, tombstones included
  size_t live_count() const { return entries_.size() - tombstones_; }
  size_t bytes() const { return bytes_; }            // estimated heap bytes
  uint64_t min_lsn() const { return min_lsn_; }      // 0 when empty
  uint64_t max_lsn() const { return max_lsn_; }
  uint64_t applied() const { return applied_; }      // writes applied (overwrites too)
  bool empty() const { return entries_.empty(); }

  // Every entry, in the order their ids were first applied.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const MemEntry& e : entries_) fn(e);
  }
  // Entries sorted by id (for writing a segment).
  std::vector<const MemEntry*> SortedById() const;

  static size_t EstimateBytes(const Item& item);

 private:
  struct Slot {
    uint64_t hash = 0;
    MemEntry* entry = nullptr;  // nullptr: an empty slot
  };
  // The slot holding id, or else the empty slot where it would go. slots_ is not empty.
  size_t SlotFor(std::string_view id, uint64_t hash) const;
  // Rebuilds slots_ with n slots (a power of two above the entry count).
  void Rehash(size_t n);

  std::deque<MemEntry> entries_;
  std::vector<Slot> slots_;  // linear probing; at most half full
  size_t bytes_ = 0;
  size_t tombstones_ = 0;
  uint64_t min_lsn_ = 0;
  uint64_t max_lsn_ = 0;
  uint64_t applied_ = 0;
};

}  // namespace t4dx
