// Request bodies: parsed as JSON whatever the Content-Type says (the runbook's `curl -d`
// sends application/x-www-form-urlencoded), as one object, with bounded nesting, and read
// field by field with exact types. Unknown fields are refused so that a typo never silently
// changes what a request does. Every failure is a 400 with a message naming the field.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api_status.h"

namespace t4dm {

using Json = nlohmann::json;

// Limits of a request body, enforced while it is parsed (a SAX pass that builds the
// document as it goes and stops at the first value over a limit): a huge array or object is
// refused after max_elements + 1 values, never built whole.
struct JsonLimits {
  size_t max_depth = 32;  // nesting of arrays/objects ("too_deep")
  // Values in any one array, or members in any one object ("too_many_elements").
  size_t max_elements = static_cast<size_t>(-1);
  // The array that is the top-level field `counted_field` ("" for none) may hold at most
  // counted_max values; beyond, the error `counted_code` whose message ends with
  // counted_hint (e.g. "items" of a batch: "batch_too_large", " (--max-batch-items)").
  std::string counted_field;
  size_t counted_max = static_cast<size_t>(-1);
  std::string counted_code = "too_many_elements";
  std::string counted_hint;
};

// Parses body as a JSON object; an empty (or all-whitespace) body is {}. Nesting deeper than
// limits.max_depth is refused before parsing; arrays and objects over their limits while
// parsing. Codes: "malformed_json", "expected_object", "too_deep", "too_many_elements",
// limits.counted_code.
ApiStatus ParseJsonObject(std::string_view body, const JsonLimits& limits, Json* out);
// The same with only a depth limit.
ApiStatus ParseJsonObject(std::string_view body, size_t max_depth, Json* out);

// Typed access to the fields of one JSON object. Absent fields leave *out untouched.
class FieldReader {
 public:
  // where: prefix of error messages ("" for the body itself, "filter" ...).
  explicit FieldReader(const Json& object, std::string where = "")
      : object_(object), where_(std::move(where)) {}

  bool Has(const char* key) const { return object_.contains(key); }
  const Json* Get(const char* key) const;
  // "unknown_field" for any key not in known.
  ApiStatus RejectUnknown(std::initializer_list<const char*> known) const;

  ApiStatus String(const char* key, std::string* out) const;
  ApiStatus UInt(const char* key, uint64_t min, uint64_t max, uint64_t* out) const;
  ApiStatus Bool(const char* key, bool* out) const;
  // An array of at most max_len finite numbers representable as float.
  ApiStatus FloatVector(const char* key, size_t max_len, std::vector<float>* out) const;
  // Required object field (for optional ones test Has() first).
  ApiStatus Object(const char* key, const Json** out) const;

  std::string Name(const char* key) const { return where_.empty() ? key : where_ + "." + key; }

 private:
  const Json& object_;
  const std::string where_;
};

// A JSON dump that never throws (invalid UTF-8 replaced).
std::string DumpJson(const Json& value);

}  // namespace t4dm
