// Strict, non-throwing field access on a parsed nlohmann::json object, for the manifest
// readers. Internal to core/src/manifest; include only from .cc files.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace t4dx {
namespace manifest_internal {

// Every getter checks that the key is present with the right type; on failure it records
// why in *why (e.g. "field \"generation\" is missing or not a non-negative integer").
class JsonFields {
 public:
  using Json = nlohmann::json;
  explicit JsonFields(std::string* why) : why_(why) {}

  bool U64(const Json& o, const char* key, uint64_t* v) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_number_unsigned()) {
      return Fail(Field(key) + " is missing or not a non-negative integer");
    }
    *v = it->get<uint64_t>();
    return true;
  }
  bool I64(const Json& o, const char* key, int64_t* v) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_number_integer() ||
        (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t{INT64_MAX})) {
      return Fail(Field(key) + " is missing or not a 64-bit integer");
    }
    *v = it->get<int64_t>();
    return true;
  }
  bool Str(const Json& o, const char* key, std::string* v) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_string()) return Fail(Field(key) + " is missing or not a string");
    *v = it->get<std::string>();
    return true;
  }
  const Json* Arr(const Json& o, const char* key) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_array()) {
      Fail(Field(key) + " is missing or not an array");
      return nullptr;
    }
    return &*it;
  }
  bool Fail(const std::string& why) {
    *why_ = prefix_ + why;
    return false;
  }
  // Names the object being read in later messages ("segments[3]: ").
  void SetPrefix(std::string prefix) { prefix_ = std::move(prefix); }

 private:
  static std::string Field(const char* key) { return std::string("field \"") + key + "\""; }
  std::string* why_;
  std::string prefix_;
};

}  // namespace manifest_internal
}  // namespace t4dx
