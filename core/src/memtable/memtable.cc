#include "memtable/memtable.h"

#include <algorithm>

namespace t4dx {

size_t MemTable::EstimateBytes(const Item& item) {
  size_t b = sizeof(MemEntry) + item.id.size() + item.kind.size() + item.content.size() +
             item.embedding.size() * sizeof(float) + 64;
  for (const auto& kv : item.metadata) {
    b += kv.first.size() + kv.second.str.size() + sizeof(MetaValue) + 48;
    for (const auto& s : kv.second.list) b += s.size() + 32;
  }
  return b;
}

void MemTable::Apply(MemEntry e) {
  applied_++;
  if (min_lsn_ == 0 || e.lsn < min_lsn_) min_lsn_ = e.lsn;
  if (e.lsn > max_lsn_) max_lsn_ = e.lsn;
  size_t nb = EstimateBytes(e.item);
  auto it = entries_.find(e.item.id);
  if (it != entries_.end()) {
    bytes_ -= EstimateBytes(it->second.item);
    if (it->second.deleted) tombstones_--;
    if (e.deleted) tombstones_++;
    it->second = std::move(e);
  } else {
    if (e.deleted) tombstones_++;
    std::string id = e.item.id;
    entries_.emplace(std::move(id), std::move(e));
  }
  bytes_ += nb;
}

const MemEntry* MemTable::Find(const std::string& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<const MemEntry*> MemTable::SortedById() const {
  std::vector<const MemEntry*> out;
  out.reserve(entries_.size());
  for (const auto& kv : entries_) out.push_back(&kv.second);
  std::sort(out.begin(), out.end(),
            [](const MemEntry* a, const MemEntry* b) { return a->item.id < b->item.id; });
  return out;
}

}  // namespace t4dx
