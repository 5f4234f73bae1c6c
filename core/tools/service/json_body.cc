#include "json_body.h"

#include <cmath>
#include <limits>
#include <new>
#include <vector>

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

// A SAX handler that builds the document with nlohmann's own DOM builder and counts the
// values of every open array / members of every open object on the way, stopping the parse
// (returning false) at the first one over its limit.
class LimitedDomBuilder {
 public:
  using Dom = nlohmann::detail::json_sax_dom_parser<Json>;
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  LimitedDomBuilder(Json* root, const JsonLimits& limits) : dom_(*root, false), limits_(limits) {}

  bool null() { return Value() && dom_.null(); }
  bool boolean(bool v) { return Value() && dom_.boolean(v); }
  bool number_integer(number_integer_t v) { return Value() && dom_.number_integer(v); }
  bool number_unsigned(number_unsigned_t v) { return Value() && dom_.number_unsigned(v); }
  bool number_float(number_float_t v, const string_t& s) {
    return Value() && dom_.number_float(v, s);
  }
  bool string(string_t& v) { return Value() && dom_.string(v); }
  bool binary(binary_t& v) { return Value() && dom_.binary(v); }
  bool start_object(std::size_t n) { return Open(false) && dom_.start_object(n); }
  bool key(string_t& k) {
    if (stack_.size() == 1) last_top_key_ = k;
    if (!Count()) return false;
    return dom_.key(k);
  }
  bool end_object() {
    stack_.pop_back();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return Open(true) && dom_.start_array(n); }
  bool end_array() {
    stack_.pop_back();
    return dom_.end_array();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    if (error_.ok()) {
      error_ = ApiStatus::BadRequest("malformed_json",
                                     std::string("request body is not valid JSON: ") + e.what());
    }
    return false;
  }

  const ApiStatus& error() const { return error_; }

 private:
  struct Open_ {
    bool array;
    bool counted;  // the array of limits_.counted_field
    size_t count;
  };

  // A scalar or container value: counts in its enclosing array (object members are
  // counted at their key).
  bool Value() { return stack_.empty() || !stack_.back().array || Count(); }

  bool Open(bool array) {
    if (!Value()) return false;
    if (stack_.size() >= limits_.max_depth) {
      error_ = ApiStatus::BadRequest("too_deep", "request body nests deeper than " +
                                                     std::to_string(limits_.max_depth) + " levels");
      return false;
    }
    const bool counted = array && stack_.size() == 1 && !stack_.back().array &&
                         !limits_.counted_field.empty() && last_top_key_ == limits_.counted_field;
    stack_.push_back({array, counted, 0});
    return true;
  }

  bool Count() {
    Open_& top = stack_.back();
    ++top.count;
    if (top.counted && top.count > limits_.counted_max) {
      error_ = ApiStatus::BadRequest(
          limits_.counted_code, limits_.counted_field + " has more than " +
                                    std::to_string(limits_.counted_max) +
                                    " entries; the limit is " +
                                    std::to_string(limits_.counted_max) + limits_.counted_hint);
      return false;
    }
    if (top.count > limits_.max_elements) {
      error_ = ApiStatus::BadRequest("too_many_elements",
                                     std::string(top.array ? "an array" : "an object") +
                                         " of the request body (at nesting level " +
                                         std::to_string(stack_.size()) + ") has more than " +
                                         std::to_string(limits_.max_elements) +
                                         (top.array ? " values" : " members"));
      return false;
    }
    return true;
  }

  Dom dom_;
  const JsonLimits& limits_;
  std::vector<Open_> stack_;
  std::string last_top_key_;
  ApiStatus error_;
};

}  // namespace

ApiStatus ParseJsonObject(std::string_view body, size_t max_depth, Json* out) {
  JsonLimits limits;
  limits.max_depth = max_depth;
  return ParseJsonObject(body, limits, out);
}

ApiStatus ParseJsonObject(std::string_view body, const JsonLimits& limits, Json* out) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    *out = Json::object();
    return ApiStatus::OK();
  }
  // A cheap scan first: nothing of a deeply nested body is built.
  if (NestingDepth(body, limits.max_depth) > limits.max_depth) {
    return ApiStatus::BadRequest("too_deep", "request body nests deeper than " +
                                                 std::to_string(limits.max_depth) + " levels");
  }
  Json parsed;
  try {
    LimitedDomBuilder builder(&parsed, limits);
    const bool ok = Json::sax_parse(body.begin(), body.end(), &builder);
    if (!ok) {
      if (!builder.error().ok()) return builder.error();
      return ApiStatus::BadRequest("malformed_json", "request body is not valid JSON");
    }
  } catch (const Json::exception& e) {
    return ApiStatus::BadRequest("malformed_json",
                                 std::string("request body is not valid JSON: ") + e.what());
  } catch (const std::bad_alloc&) {
    return ApiStatus::Error(413, "payload_too_large", "request body too large to parse");
  }
  *out = std::move(parsed);
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
