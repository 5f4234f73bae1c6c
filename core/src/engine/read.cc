// Reads: Get, Scan, Count. A read holds the state lock shared, so it sees every write
// acknowledged before it started and never a half-installed flush or merge.
#include <algorithm>

#include "engine/engine_impl.h"

namespace t4dx {

Status EngineImpl::Get(const std::string& id, Item* item) {
  T4DX_RETURN_IF_ERROR(ValidateId(id));
  if (closed_) return Status::FailedPrecondition("store " + dir_ + " is closed");
  stat_gets_++;
  std::shared_lock<std::shared_mutex> l(mu_);
  for (const MemTable* m : {mem_.get(), imm_.get()}) {
    if (!m) continue;
    const MemEntry* e = m->Find(id);
    if (!e) continue;
    if (e->deleted) return Status::NotFound("item '" + id + "' was deleted (LSN " + std::to_string(e->lsn) + ")");
    *item = e->item;
    return Status::OK();
  }
  auto it = id_map_.find(id);
  if (it == id_map_.end()) return Status::NotFound("item '" + id + "' not found");
  if (it->second.deleted) {
    return Status::NotFound("item '" + id + "' was deleted (LSN " + std::to_string(it->second.lsn) + ")");
  }
  return it->second.seg->ReadItem(it->second.index, true, item);
}

Status EngineImpl::Count(uint64_t* count) {
  std::shared_lock<std::shared_mutex> l(mu_);
  return CountLocked(count);
}

Status EngineImpl::Scan(const ScanOptions& options, const std::function<bool(const Item&)>& fn) {
  if (closed_) return Status::FailedPrecondition("store " + dir_ + " is closed");
  auto in_range = [&](int64_t ts) {
    return (!options.time_from || ts >= *options.time_from) &&
           (!options.time_to || ts < *options.time_to);
  };
  struct Ref {
    int64_t ts;
    const std::string* id;
    const MemEntry* mem;   // or
    const SegmentReader* seg;
    uint32_t index;
  };
  std::shared_lock<std::shared_mutex> l(mu_);
  std::vector<Ref> refs;
  auto shadowed = [&](const std::string& id, const MemTable* upto) {
    for (const MemTable* m : {mem_.get(), imm_.get()}) {
      if (m == upto) return false;
      if (m && m->Find(id)) return true;
    }
    return false;
  };
  for (const MemTable* m : {mem_.get(), imm_.get()}) {
    if (!m) continue;
    m->ForEach([&](const MemEntry& e) {
      if (e.deleted || shadowed(e.item.id, m) || !in_range(e.item.timestamp)) return;
      refs.push_back({e.item.timestamp, &e.item.id, &e, nullptr, 0});
    });
  }
  for (const auto& kv : id_map_) {
    const SegLoc& loc = kv.second;
    if (loc.deleted || shadowed(kv.first, nullptr)) continue;
    const SegmentEntryHeader& h = loc.seg->entries()[loc.index];
    if (!in_range(h.timestamp)) continue;
    refs.push_back({h.timestamp, &kv.first, nullptr, loc.seg, loc.index});
  }
  std::sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) {
    return a.ts != b.ts ? a.ts < b.ts : *a.id < *b.id;
  });
  if (options.limit && refs.size() > options.limit) refs.resize(options.limit);

  // Segment items are read per segment in one sequential pass when many are wanted.
  std::map<const SegmentReader*, std::vector<uint32_t>> wanted;
  for (const Ref& r : refs)
    if (r.seg) wanted[r.seg].push_back(r.index);
  std::map<std::pair<const SegmentReader*, uint32_t>, Item> loaded;
  for (auto& w : wanted) {
    if (w.second.size() <= 32) continue;
    std::vector<bool> need(w.first->size(), false);
    for (uint32_t i : w.second) need[i] = true;
    Status s = w.first->ForEachItem(options.include_embedding, [&](size_t index, Item& item) {
      if (need[index]) loaded[{w.first, uint32_t(index)}] = std::move(item);
      return Status::OK();
    });
    if (!s.ok()) return s;
  }
  for (const Ref& r : refs) {
    Item item;
    if (r.mem) {
      item = r.mem->item;
      if (!options.include_embedding) item.embedding.clear();
    } else {
      auto it = loaded.find({r.seg, r.index});
      if (it != loaded.end()) {
        item = std::move(it->second);
      } else {
        T4DX_RETURN_IF_ERROR(r.seg->ReadItem(r.index, options.include_embedding, &item));
      }
    }
    if (!fn(item)) break;
  }
  return Status::OK();
}

}  // namespace t4dx
