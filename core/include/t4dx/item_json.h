// JSON form of items and filters, shared by the service, the CLI, the WASM API and the WAL.
//
// Item JSON uses the engine's field names: {"id","kind","content","embedding","timestamp",
// "metadata"}. "embedding" is an array of numbers; "timestamp" is ms since the epoch
// (optional). Unknown fields are rejected, so a typo never silently drops data.
#pragma once

#include <string>
#include <string_view>

#include "t4dx/item.h"
#include "t4dx/query.h"
#include "t4dx/status.h"

namespace t4dx {

// Parses one item object. Does not validate against a store (dimension, limits); the
// engine does that on write. `where` prefixes error messages (e.g. "items[3]").
Status ItemFromJson(std::string_view json, Item* item, const std::string& where = "item");
// Serializes an item. With include_embedding=false the "embedding" field is omitted.
std::string ItemToJson(const Item& item, bool include_embedding = true);

// Parses a filter object: {"time_from":ms,"time_to":ms,"kind":"x"|["x","y"],
//   "metadata":{"key":value | {"eq":v} | {"any_of":[...]} | {"all_of":[...]}}}
Status FilterFromJson(std::string_view json, Filter* filter);
std::string FilterToJson(const Filter& filter);

}  // namespace t4dx
