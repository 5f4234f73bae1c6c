// Search requests and results.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "t4dx/item.h"

namespace t4dx {

// One metadata condition of a filter.
struct MetaCondition {
  enum class Op : uint8_t {
    kEq = 0,     // value equals values[0] (for a string list: equal lists)
    kAnyOf = 1,  // value is one of values; for a string list: shares at least one tag
    kAllOf = 2,  // string list contains every one of values (strings)
  };
  std::string key;
  Op op = Op::kEq;
  std::vector<MetaValue> values;
};

// All conditions must hold (AND). An empty filter keeps everything.
struct Filter {
  std::optional<int64_t> time_from;  // inclusive, ms
  std::optional<int64_t> time_to;    // exclusive, ms
  std::vector<std::string> kinds;    // any of; empty = any kind
  std::vector<MetaCondition> metadata;

  bool empty() const {
    return !time_from && !time_to && kinds.empty() && metadata.empty();
  }
  bool Matches(const Item& item) const { return Matches(item.kind, item.timestamp, item.metadata); }
  bool Matches(const std::string& kind, int64_t timestamp, const Metadata& metadata) const;
};

struct SearchOptions {
  size_t k = 10;          // 1..Options::max_k
  size_t ef = 0;          // HNSW ef for this search; 0 = the store's default
  Filter filter;
  bool include_items = true;  // fill SearchHit::item (content, metadata, ...)
  bool include_embedding = false;
  bool explain = false;   // fill SearchResult::plan_json
};

struct SearchHit {
  std::string id;
  // Higher is better. cosine: cosine similarity; inner product: the dot product;
  // L2: minus the squared Euclidean distance.
  float score = 0;
  Item item;  // filled when SearchOptions::include_items
};

struct SearchResult {
  std::vector<SearchHit> hits;  // best first, at most k
  std::string plan_json;        // the plan, when SearchOptions::explain
};

struct ScanOptions {
  std::optional<int64_t> time_from;  // inclusive
  std::optional<int64_t> time_to;    // exclusive
  size_t limit = 0;                  // 0 = no limit
  bool include_embedding = true;
};

}  // namespace t4dx
