// Locating the exact bytes of JSON values inside a WAL line.
//
// DecodeWalRecord hands the item objects of a line to ParseItemJsonExact as the very
// bytes that were checksummed (no re-serialization). These helpers find them. They are
// meant for text that a JSON parser has already accepted, but stay memory safe (bounds
// checked, no recursion) on any input: on anything unexpected they return false.
#pragma once

#include <string_view>
#include <vector>

namespace t4dx {

struct JsonMemberSpan {
  std::string_view key;    // raw key text between the quotes (escapes not decoded)
  std::string_view value;  // exact text of the value
};

// The members of the object that text holds (text = '{' ... '}'), in order.
bool ScanJsonObject(std::string_view text, std::vector<JsonMemberSpan>* members);

// The elements of the array that text holds (text = '[' ... ']'), in order.
bool ScanJsonArray(std::string_view text, std::vector<std::string_view>* elements);

}  // namespace t4dx
