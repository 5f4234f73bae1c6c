// LabelMap: hnswlib labels <-> item ids, for the peers built on plain hnswlib. Labels are
// handed out in order; an upsert gets a new label and reports the one it replaces.
// Thread safety: all methods may be called concurrently except Reserve, Save and Load.
#pragma once

#include <cstdint>
#include <fstream>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace t4dx_bench {

class LabelMap {
 public:
  // A new label for id; *old is the label it replaces (or -1).
  uint64_t Assign(const std::string& id, int64_t* old) {
    std::unique_lock<std::shared_mutex> l(mu_);
    auto it = by_id_.find(id);
    *old = it == by_id_.end() ? -1 : int64_t(it->second);
    uint64_t label = ids_.size();
    ids_.push_back(id);
    by_id_[id] = label;
    return label;
  }
  int64_t Remove(const std::string& id) {
    std::unique_lock<std::shared_mutex> l(mu_);
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return -1;
    int64_t label = int64_t(it->second);
    by_id_.erase(it);
    return label;
  }
  void Ids(const std::vector<uint64_t>& labels, std::vector<std::string>* ids) const {
    std::shared_lock<std::shared_mutex> l(mu_);
    ids->clear();
    for (uint64_t lab : labels) ids->push_back(lab < ids_.size() ? ids_[lab] : std::string());
  }
  void Reserve(size_t n) {
    ids_.reserve(n);
    by_id_.reserve(n);
  }
  bool Save(const std::string& path) const {
    std::ofstream out(path, std::ios::trunc);
    out << ids_.size() << "\n";
    for (auto& kv : by_id_) out << kv.second << "\t" << kv.first << "\n";
    return bool(out);
  }
  bool Load(const std::string& path) {
    std::ifstream in(path);
    size_t n = 0;
    if (!(in >> n)) return false;
    ids_.assign(n, std::string());
    uint64_t label;
    std::string id;
    while (in >> label >> id) {
      if (label >= n) return false;
      ids_[label] = id;
      by_id_[id] = label;
    }
    return true;
  }

 private:
  mutable std::shared_mutex mu_;
  std::vector<std::string> ids_;
  std::unordered_map<std::string, uint64_t> by_id_;
};

}  // namespace t4dx_bench
