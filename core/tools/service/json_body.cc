#include "json_body.h"

#include <cmath>
#include <limits>

namespace t4dm {
namespace {

// Deepest nesting of arrays/objects, ignoring brackets inside strings. Stops counting
// once over limit.
size_t NestingDepth(std::string_view text, size_t limit) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

const char* TypeName(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

}  // namespace

ApiStatus ParseJsonObject(std::string_view body, size_t max_depth, Json* out) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    *out = Json::object();
    return ApiStatus::OK();
  }
  if (NestingDepth(body, max_depth) > max_depth) {
    return ApiStatus::BadRequest(
        "too_deep", "request body nests deeper than " + std::to_string(max_depth) + " levels");
  }
  try {
    *out = Json::parse(body.begin(), body.end());
  } catch (const Json::exception& e) {
    return ApiStatus::BadRequest("malformed_json",
                                 std::string("request body is not valid JSON: ") + e.what());
  }
  if (!out->is_object()) {
    return ApiStatus::BadRequest(
        "expected_object",
        std::string("request body must be a JSON object, got ") + TypeName(*out));
  }
  return ApiStatus::OK();
}

const Json* FieldReader::Get(const char* key) const {
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

ApiStatus FieldReader::RejectUnknown(std::initializer_list<const char*> known) const {
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    bool found = false;
    for (const char* k : known) {
      if (it.key() == k) found = true;
    }
    if (!found) {
      std::string list;
      for (const char* k : known) list += std::string(list.empty() ? "" : ", ") + k;
      return ApiStatus::BadRequest("unknown_field", "unknown field \"" + Name(it.key().c_str()) +
                                                        "\" (expected: " + list + ")");
    }
  }
  return ApiStatus::OK();
}

ApiStatus FieldReader::String(const char* key, std::string* out) const {
  const Json* v = Get(key);
  if (v == nullptr) return ApiStatus::OK();
  if (!v->is_string()) {
    return ApiStatus::BadRequest("wrong_type",
                                 Name(key) + " must be a string, got " + TypeName(*v));
  }
  *out = v->get<std::string>();
  return ApiStatus::OK();
}

ApiStatus FieldReader::UInt(const char* key, uint64_t min, uint64_t max, uint64_t* out) const {
  const Json* v = Get(key);
  if (v == nullptr) return ApiStatus::OK();
  const std::string range = " from " + std::to_string(min) + " to " + std::to_string(max);
  if (v->is_number_unsigned()) {
    const uint64_t x = v->get<uint64_t>();
    if (x < min || x > max) {
      return ApiStatus::BadRequest("out_of_range",
                                   Name(key) + " must be" + range + ", got " + std::to_string(x));
    }
    *out = x;
    return ApiStatus::OK();
  }
  if (v->is_number_integer()) {  // negative
    return ApiStatus::BadRequest("out_of_range", Name(key) + " must be" + range + ", got " +
                                                     std::to_string(v->get<int64_t>()));
  }
  if (v->is_number_float()) {
    return ApiStatus::BadRequest(
        "out_of_range", Name(key) + " must be a whole number" + range + ", got " + DumpJson(*v));
  }
  return ApiStatus::BadRequest("wrong_type",
                               Name(key) + " must be a whole number, got " + TypeName(*v));
}

ApiStatus FieldReader::Bool(const char* key, bool* out) const {
  const Json* v = Get(key);
  if (v == nullptr) return ApiStatus::OK();
  if (!v->is_boolean()) {
    return ApiStatus::BadRequest("wrong_type",
                                 Name(key) + " must be true or false, got " + TypeName(*v));
  }
  *out = v->get<bool>();
  return ApiStatus::OK();
}

ApiStatus FieldReader::FloatVector(const char* key, size_t max_len, std::vector<float>* out) const {
  const Json* v = Get(key);
  if (v == nullptr) return ApiStatus::OK();
  if (!v->is_array()) {
    return ApiStatus::BadRequest("wrong_type",
                                 Name(key) + " must be an array of numbers, got " + TypeName(*v));
  }
  if (v->size() > max_len) {
    return ApiStatus::BadRequest("out_of_range", Name(key) + " has " + std::to_string(v->size()) +
                                                     " values; at most " + std::to_string(max_len) +
                                                     " are allowed");
  }
  std::vector<float> values;
  values.reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& x = (*v)[i];
    if (!x.is_number()) {
      return ApiStatus::BadRequest("wrong_type", Name(key) + "[" + std::to_string(i) +
                                                     "] must be a number, got " + TypeName(x));
    }
    const double d = x.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max()) {
      return ApiStatus::BadRequest(
          "not_finite", Name(key) + "[" + std::to_string(i) + "] is not a finite 32-bit float");
    }
    values.push_back(static_cast<float>(d));
  }
  *out = std::move(values);
  return ApiStatus::OK();
}

ApiStatus FieldReader::Object(const char* key, const Json** out) const {
  const Json* v = Get(key);
  if (v == nullptr) return ApiStatus::BadRequest("missing_field", Name(key) + " is required");
  if (!v->is_object()) {
    return ApiStatus::BadRequest("wrong_type",
                                 Name(key) + " must be an object, got " + TypeName(*v));
  }
  *out = v;
  return ApiStatus::OK();
}

std::string DumpJson(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace t4dm
