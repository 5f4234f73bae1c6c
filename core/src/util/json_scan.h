// Locating and decoding JSON values in their exact bytes, without a DOM.
//
// DecodeWalRecord hands the item objects of a line to ParseItemJsonExact as the very
// bytes that were checksummed (no re-serialization), and ParseItemJsonExact decodes items
// as the engine writes them (WAL lines, segment items.jsonl) from their own bytes. These
// helpers find and decode the values. They stay memory safe (bounds checked, no
// recursion) on any input: on anything unexpected they return false, and the caller then
// lets the JSON parser decide (same result, or the parser's error).
#pragma once

#include <cstdint>
#include <string>
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

// The JSON string value v (quotes included) decoded as RFC 8259 says (escapes, \uXXXX
// with surrogate pairs), accepting exactly what nlohmann accepts: no control character,
// valid UTF-8, no lone surrogate. False otherwise.
bool DecodeJsonString(std::string_view v, std::string* out);

// The JSON integer v (no fraction, no exponent, no leading zero) when it fits int64_t.
bool DecodeJsonInt64(std::string_view v, int64_t* out);

}  // namespace t4dx
