// Fuzz target: the JSON bodies the service accepts, and the public item/filter JSON.
// Input: byte 0 chooses the parser, the rest is the body.
//   byte0 % 5:  0 ItemFromJson            (t4dx/item_json.h: CLI, WASM API)
//               1 FilterFromJson
//               2 POST /episodes           ParseJsonObject + ParseItem   (service)
//               3 POST /episodes/batch     ParseJsonObject + ParseBatch
//               4 POST /episodes/search and /storage/query-plan: ParseJsonObject + ParseSearch
// The service steps run as the service runs them: the body parsed with the default depth
// limit (32), session_id taken out, then the route's parser with the default limits.
// Properties: refusals are 4xx with a code and a JSON error body; what is accepted is within
// the limits, and items and filters survive a round trip through their JSON form.
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "t4dx/item_json.h"

#ifdef T4DX_FUZZ_HAVE_SERVICE
#include "json_body.h"
#include "request_parsing.h"
#endif

namespace t4dx {
namespace fuzz {
namespace {

void ItemRoundTrip(const Item& item) {
  const std::string text = ItemToJson(item);
  Item again;
  Status s = ItemFromJson(text, &again);
  T4DX_FUZZ_CHECK(s.ok(), "ItemToJson output is refused by ItemFromJson: " + s.ToString() +
                              "\n  " + text);
  T4DX_FUZZ_CHECK(!s.ok() || again == item, "an item changes through ItemToJson/ItemFromJson");
}

void FilterRoundTrip(const Filter& filter) {
  const std::string text = FilterToJson(filter);
  Filter again;
  Status s = FilterFromJson(text, &again);
  T4DX_FUZZ_CHECK(s.ok(), "FilterToJson output is refused by FilterFromJson: " + s.ToString() +
                              "\n  " + text);
  T4DX_FUZZ_CHECK(!s.ok() || FilterToJson(again) == text,
                  "a filter changes through FilterToJson/FilterFromJson: " + text);
}

#ifdef T4DX_FUZZ_HAVE_SERVICE
void CheckRefusal(const t4dm::ApiStatus& s) {
  T4DX_FUZZ_CHECK(s.http_status() >= 400 && s.http_status() < 500,
                  "a body is refused with status " + std::to_string(s.http_status()));
  T4DX_FUZZ_CHECK(!s.code().empty(), "a refusal without a code");
  const nlohmann::json body = nlohmann::json::parse(s.ToJson(), nullptr, false);
  T4DX_FUZZ_CHECK(body.is_object() && body.contains("error"), "the error body is not JSON");
}

void ServiceBody(int route, std::string_view text) {
  t4dm::Json body;
  t4dm::ApiStatus s = t4dm::ParseJsonObject(text, 32, &body);
  if (!s.ok()) {
    CheckRefusal(s);
    return;
  }
  T4DX_FUZZ_CHECK(body.is_object(), "ParseJsonObject accepted a non-object");
  body.erase("session_id");
  const t4dm::RequestLimits limits;
  if (route == 2) {
    Item item;
    bool generated = false;
    s = t4dm::ParseItem(body, limits, "item", &item, &generated);
    if (!s.ok()) return CheckRefusal(s);
    T4DX_FUZZ_CHECK(ValidateId(item.id).ok() || !generated, "a generated id is invalid");
    T4DX_FUZZ_CHECK(item.content.size() <= limits.max_content_bytes, "content over the limit");
    ItemRoundTrip(item);
  } else if (route == 3) {
    std::vector<Item> items;
    s = t4dm::ParseBatch(body, limits, &items);
    if (!s.ok()) return CheckRefusal(s);
    T4DX_FUZZ_CHECK(items.size() <= limits.max_batch_items, "batch over the limit");
    for (const Item& item : items) ItemRoundTrip(item);
  } else {
    t4dm::SearchRequest request;
    s = t4dm::ParseSearch(body, limits, &request);
    if (!s.ok()) return CheckRefusal(s);
    T4DX_FUZZ_CHECK(request.options.k >= 1 && request.options.k <= limits.max_k,
                    "k outside 1..max_k");
    T4DX_FUZZ_CHECK(request.options.ef <= limits.max_ef, "ef over the limit");
    for (float f : request.query) T4DX_FUZZ_CHECK(std::isfinite(f), "a non-finite query value");
    FilterRoundTrip(request.options.filter);
  }
}
#endif

}  // namespace

int FuzzServiceJson(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int route = data[0] % 5;
  const std::string_view text = AsView(data + 1, size - 1);
  if (route == 0) {
    Item item;
    Status s = ItemFromJson(text, &item);
    if (!s.ok()) {
      T4DX_FUZZ_CHECK(s.IsInvalidArgument(), "ItemFromJson failure is not InvalidArgument");
      return 0;
    }
    ItemRoundTrip(item);
  } else if (route == 1) {
    Filter filter;
    Status s = FilterFromJson(text, &filter);
    if (!s.ok()) {
      T4DX_FUZZ_CHECK(s.IsInvalidArgument(), "FilterFromJson failure is not InvalidArgument");
      return 0;
    }
    FilterRoundTrip(filter);
  } else {
#ifdef T4DX_FUZZ_HAVE_SERVICE
    ServiceBody(route, text);
#endif
  }
  return 0;
}

}  // namespace fuzz
}  // namespace t4dx

T4DX_FUZZ_ENTRY(FuzzServiceJson)
