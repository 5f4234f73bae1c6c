#include "request_parsing.h"

#include "ids.h"
#include "t4dx/item_json.h"

namespace t4dm {

ApiStatus ParseItem(const Json& object, const RequestLimits& limits, const std::string& where,
                    t4dx::Item* item, bool* id_generated) {
  if (!object.is_object()) {
    return ApiStatus::BadRequest("expected_object", where + " must be a JSON object");
  }
  FieldReader fields(object, where == "item" ? "" : where);
  T4DM_RETURN_IF_API_ERROR(
      fields.RejectUnknown({"id", "kind", "content", "embedding", "timestamp", "metadata"}));
  // Checked here too (the engine checks again) for messages that name the field.
  std::vector<float> embedding;
  T4DM_RETURN_IF_API_ERROR(fields.FloatVector("embedding", t4dx::kMaxDimension, &embedding));
  std::string content;
  T4DM_RETURN_IF_API_ERROR(fields.String("content", &content));
  if (content.size() > limits.max_content_bytes) {
    return ApiStatus::BadRequest("content_too_large", fields.Name("content") + " has " +
                                                          std::to_string(content.size()) +
                                                          " bytes; the limit is " +
                                                          std::to_string(limits.max_content_bytes) +
                                                          " (--max-content-bytes)");
  }
  Json copy = object;
  *id_generated = false;
  const Json* id = fields.Get("id");
  if (id == nullptr || id->is_null()) {
    copy["id"] = GenerateItemId();
    *id_generated = true;
  }
  const t4dx::Status s = t4dx::ItemFromJson(DumpJson(copy), item, where);
  if (!s.ok()) return ApiStatus::BadRequest("invalid_item", s.message());
  // The engine checks these again on write; checked here so that a bad item never opens
  // (or creates) a store.
  const t4dx::Status id_status = t4dx::ValidateId(item->id);
  if (!id_status.ok()) {
    return ApiStatus::BadRequest("invalid_item_id", fields.Name("id") + ": " + id_status.message());
  }
  if (item->kind.size() > t4dx::kMaxKindLength) {
    return ApiStatus::BadRequest("invalid_item", fields.Name("kind") + " is longer than " +
                                                     std::to_string(t4dx::kMaxKindLength));
  }
  if (item->metadata.size() > t4dx::kMaxMetadataKeys) {
    return ApiStatus::BadRequest("invalid_item", fields.Name("metadata") + " has more than " +
                                                     std::to_string(t4dx::kMaxMetadataKeys) +
                                                     " keys");
  }
  return ApiStatus::OK();
}

ApiStatus ParseBatch(const Json& body, const RequestLimits& limits,
                     std::vector<t4dx::Item>* items) {
  FieldReader fields(body);
  T4DM_RETURN_IF_API_ERROR(fields.RejectUnknown({"items"}));
  const Json* list = fields.Get("items");
  if (list == nullptr) return ApiStatus::BadRequest("missing_field", "items is required");
  if (!list->is_array()) return ApiStatus::BadRequest("wrong_type", "items must be an array");
  if (list->empty()) return ApiStatus::BadRequest("out_of_range", "items is empty");
  if (list->size() > limits.max_batch_items) {
    return ApiStatus::BadRequest(
        "batch_too_large", "items has " + std::to_string(list->size()) + " entries; the limit is " +
                               std::to_string(limits.max_batch_items) + " (--max-batch-items)");
  }
  items->clear();
  items->reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    t4dx::Item item;
    bool generated = false;
    T4DM_RETURN_IF_API_ERROR(
        ParseItem((*list)[i], limits, "items[" + std::to_string(i) + "]", &item, &generated));
    items->push_back(std::move(item));
  }
  return ApiStatus::OK();
}

ApiStatus ParseSearch(const Json& body, const RequestLimits& limits, SearchRequest* request) {
  FieldReader fields(body);
  T4DM_RETURN_IF_API_ERROR(fields.RejectUnknown(
      {"query_vector", "k", "filter", "ef", "explain", "include_embedding", "include_items"}));
  if (!fields.Has("query_vector")) {
    return ApiStatus::BadRequest("missing_field", "query_vector is required");
  }
  T4DM_RETURN_IF_API_ERROR(
      fields.FloatVector("query_vector", t4dx::kMaxDimension, &request->query));
  if (request->query.empty()) {
    return ApiStatus::BadRequest("out_of_range", "query_vector is empty");
  }
  uint64_t k = 10;
  T4DM_RETURN_IF_API_ERROR(fields.UInt("k", 1, limits.max_k, &k));
  request->options.k = static_cast<size_t>(k);
  uint64_t ef = 0;
  T4DM_RETURN_IF_API_ERROR(fields.UInt("ef", 0, limits.max_ef, &ef));
  request->options.ef = static_cast<size_t>(ef);
  T4DM_RETURN_IF_API_ERROR(fields.Bool("explain", &request->options.explain));
  T4DM_RETURN_IF_API_ERROR(fields.Bool("include_embedding", &request->options.include_embedding));
  T4DM_RETURN_IF_API_ERROR(fields.Bool("include_items", &request->options.include_items));
  if (fields.Has("filter") && !fields.Get("filter")->is_null()) {
    const Json* filter = nullptr;
    T4DM_RETURN_IF_API_ERROR(fields.Object("filter", &filter));
    const t4dx::Status s = t4dx::FilterFromJson(DumpJson(*filter), &request->options.filter);
    if (!s.ok()) return ApiStatus::BadRequest("invalid_filter", "filter: " + s.message());
  }
  return ApiStatus::OK();
}

}  // namespace t4dm
