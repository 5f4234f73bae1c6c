// Item: one memory ("episode") stored by T4DX, and the rules that make an item valid.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "t4dx/status.h"

namespace t4dx {

// A metadata value: a string, a number, a boolean, or an array of strings (tags).
struct MetaValue {
  // Serialized in segment statistics: never renumber.
  enum class Type : uint8_t { kString = 0, kNumber = 1, kBool = 2, kStringList = 3 };
  Type type = Type::kString;
  std::string str;
  double num = 0;
  bool boolean = false;
  std::vector<std::string> list;

  static MetaValue String(std::string s);
  static MetaValue Number(double n);
  static MetaValue Bool(bool b);
  static MetaValue StringList(std::vector<std::string> l);
  bool operator==(const MetaValue& o) const;
  bool operator!=(const MetaValue& o) const { return !(*this == o); }
};

// Flat object, keys in sorted order (so serializations are canonical).
using Metadata = std::map<std::string, MetaValue>;

struct Item {
  // Timestamp value meaning "stamp with the engine's clock when written".
  static constexpr int64_t kNow = std::numeric_limits<int64_t>::min();

  std::string id;        // 1..128 chars of [A-Za-z0-9._:-]
  std::string kind;      // 0..64 chars, free text (e.g. "episode"); filterable
  std::string content;   // UTF-8 text
  std::vector<float> embedding;  // empty, or exactly the store's dimension; finite values
  int64_t timestamp = kNow;      // ms since the Unix epoch
  Metadata metadata;

  bool operator==(const Item& o) const;
};

// Documented limits (Options can lower or raise the size ones; see options.h).
constexpr size_t kMaxIdLength = 128;
constexpr size_t kMaxKindLength = 64;
constexpr size_t kMaxMetadataKeys = 64;
constexpr size_t kMaxMetadataKeyLength = 128;
constexpr uint32_t kMaxDimension = 4096;

// OK when id is 1..128 characters of [A-Za-z0-9._:-].
Status ValidateId(std::string_view id);

}  // namespace t4dx
