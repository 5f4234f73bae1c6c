// The data plane's request bodies, parsed into engine types. Pure functions of the JSON (no
// HTTP, no engine), so they can be fuzzed on their own. session_id is taken out of the body
// by the service before these run.
//
//   POST /episodes         one item: {"id"?, "kind"?, "content"?, "embedding"?, "timestamp"?,
//                          "metadata"?}; the id is generated when absent or null
//   POST /episodes/batch   {"items": [item, ...]}
//   POST /episodes/search  {"query_vector": [..], "k"?: 10, "filter"?: {...}, "ef"?: N,
//   POST /storage/query-plan  "explain"?: bool, "include_embedding"?: bool,
//                          "include_items"?: bool}
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "api_status.h"
#include "json_body.h"
#include "t4dx/item.h"
#include "t4dx/query.h"

namespace t4dm {

struct RequestLimits {
  size_t max_k = 10000;
  size_t max_batch_items = 10000;
  size_t max_content_bytes = 1u << 20;
  size_t max_ef = 100000;
};

// *id_generated tells whether the id was made here.
ApiStatus ParseItem(const Json& object, const RequestLimits& limits, const std::string& where,
                    t4dx::Item* item, bool* id_generated);

ApiStatus ParseBatch(const Json& body, const RequestLimits& limits, std::vector<t4dx::Item>* items);

struct SearchRequest {
  std::vector<float> query;
  t4dx::SearchOptions options;
};
ApiStatus ParseSearch(const Json& body, const RequestLimits& limits, SearchRequest* request);

}  // namespace t4dm
