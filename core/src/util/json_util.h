// Internal JSON helpers (nlohmann/json based) shared by item_codec.cc and item_json.cc,
// and usable by other modules' .cc files. Never include from a public header.
// Nothing here throws: nlohmann exceptions are caught inside.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "t4dx/item.h"

namespace t4dx {
namespace json_util {

// Parses text into *out. On a syntax error returns false with a reason such as
// "syntax error at line 1, column 7: ..." (never throws).
bool Parse(std::string_view text, nlohmann::json* out, std::string* reason);

// "string", "number", "boolean", "array", "object" or "null".
const char* TypeName(const nlohmann::json& j);

// Deepest nesting a file the engine reads may have before it is parsed. nlohmann's copy,
// dump and comparison recurse, so a document nested a few hundred thousand levels deep
// overflows the stack; readers of files check NestingWithin first (found by fuzzing).
constexpr size_t kMaxJsonDepth = 64;
// True when arrays and objects in text nest at most max_depth levels (brackets inside
// strings do not count). One pass, no allocation; says nothing else about validity.
bool NestingWithin(std::string_view text, size_t max_depth);

// True when s is well-formed UTF-8 (no overlong forms, surrogates or values past
// U+10FFFF). On failure *bad_offset (if given) is the byte offset of the first bad byte.
bool IsValidUtf8(std::string_view s, size_t* bad_offset = nullptr);

// Appends s as a JSON string literal ("..."): '"', '\\' and control characters escaped,
// everything else as raw UTF-8. Invalid UTF-8 is replaced with U+FFFD so the output is
// always valid JSON (callers validate before writing, so this is only a safety net).
void AppendString(std::string* out, std::string_view s);
// Appends a number: integral values of magnitude < 2^53 as integers ("3"), others in the
// shortest form that reads back as the same double. Non-finite values become null.
void AppendNumber(std::string* out, double v);
// Appends the shortest decimal text that reads back as exactly v as a float32.
// Non-finite values become null.
void AppendFloat(std::string* out, float v);
// Appends one metadata value / a metadata object (keys in map order, compact).
void AppendMetaValue(std::string* out, const MetaValue& v);
void AppendMetadata(std::string* out, const Metadata& m);

// Converts a JSON value to a metadata value: string, number, boolean or array of strings.
// On failure returns false with *reason naming `where` ("item.metadata.tags[2]: ...").
bool MetaValueFromJson(const nlohmann::json& j, const std::string& where, MetaValue* v,
                       std::string* reason);
// Converts a flat JSON object to metadata; `where` names the object ("item.metadata").
bool MetadataFromJson(const nlohmann::json& j, const std::string& where, Metadata* m,
                      std::string* reason);

// A JSON integer that fits int64 (integral floats such as 1.7e12 are accepted too).
bool GetInt64(const nlohmann::json& j, int64_t* v);

}  // namespace json_util
}  // namespace t4dx
