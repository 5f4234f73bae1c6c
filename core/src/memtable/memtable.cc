#include "memtable/memtable.h"

#include <algorithm>
#include <functional>

namespace t4dx {

namespace {

uint64_t HashId(std::string_view id) { return std::hash<std::string_view>()(id); }

}  // namespace

size_t MemTable::EstimateBytes(const Item& item) {
  size_t b = sizeof(MemEntry) + item.id.size() + item.kind.size() + item.content.size() +
             item.embedding.size() * sizeof(float) + 64;
  for (const auto& kv : item.metadata) {
    b += kv.first.size() + kv.second.str.size() + sizeof(MetaValue) + 48;
    for (const auto& s : kv.second.list) b += s.size() + 32;
  }
  return b;
}

size_t MemTable::SlotFor(std::string_view id, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = size_t(hash) & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.entry == nullptr || (s.hash == hash && s.entry->item.id == id)) return i;
  }
}

void MemTable::Rehash(size_t n) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(n, Slot());
  const size_t mask = n - 1;
  for (const Slot& s : old) {
    if (s.entry == nullptr) continue;
    size_t i = size_t(s.hash) & mask;
    while (slots_[i].entry != nullptr) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void MemTable::Reserve(size_t n) {
  size_t want = 16;
  while (want < 2 * n) want *= 2;
  if (want > slots_.size()) Rehash(want);
}

void MemTable::Apply(MemEntry e) {
  applied_++;
  if (min_lsn_ == 0 || e.lsn < min_lsn_) min_lsn_ = e.lsn;
  if (e.lsn > max_lsn_) max_lsn_ = e.lsn;
  size_t nb = EstimateBytes(e.item);
  if (2 * (entries_.size() + 1) > slots_.size()) Rehash(std::max<size_t>(16, 2 * slots_.size()));
  const uint64_t hash = HashId(e.item.id);
  Slot& slot = slots_[SlotFor(e.item.id, hash)];
  if (slot.entry != nullptr) {
    bytes_ -= EstimateBytes(slot.entry->item);
    if (slot.entry->deleted) tombstones_--;
    if (e.deleted) tombstones_++;
    *slot.entry = std::move(e);
  } else {
    if (e.deleted) tombstones_++;
    entries_.push_back(std::move(e));
    slot.hash = hash;
    slot.entry = &entries_.back();
  }
  bytes_ += nb;
}

const MemEntry* MemTable::Find(const std::string& id) const {
  if (slots_.empty()) return nullptr;
  return slots_[SlotFor(id, HashId(id))].entry;
}

std::vector<const MemEntry*> MemTable::SortedById() const {
  std::vector<const MemEntry*> out;
  out.reserve(entries_.size());
  for (const MemEntry& e : entries_) out.push_back(&e);
  std::sort(out.begin(), out.end(),
            [](const MemEntry* a, const MemEntry* b) { return a->item.id < b->item.id; });
  return out;
}

}  // namespace t4dx
