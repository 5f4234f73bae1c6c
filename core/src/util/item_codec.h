// Internal JSON helpers shared by the WAL and segment writers: an item's JSON object with
// its embedding as base64 of little-endian float32 ("embedding_b64"), so vectors
// round-trip exactly, and item validation against a store's rules.
#pragma once

#include <string>
#include <string_view>

#include "t4dx/item.h"
#include "t4dx/options.h"
#include "t4dx/status.h"

namespace t4dx {

// Appends the item as a compact JSON object with fields in this order:
// {"id","kind","content","timestamp","metadata","embedding_b64"} (embedding_b64 omitted
// when the item has none, or when with_embedding is false).
void AppendItemJsonExact(const Item& item, bool with_embedding, std::string* out);
// Parses the object written by AppendItemJsonExact (json is the object text). reason is
// filled on failure ("missing id", "embedding_b64 is not base64", ...). Text exactly as
// AppendItemJsonExact writes it is decoded from its own bytes (only non-string metadata
// goes through the JSON parser); anything else takes ParseItemJsonGeneral, which gives
// the same item or the error.
bool ParseItemJsonExact(std::string_view json, Item* item, std::string* reason);
// The same through the JSON parser (nlohmann) alone: the reference the decoding above is
// tested against.
bool ParseItemJsonGeneral(std::string_view json, Item* item, std::string* reason);

// Checks an item against the store's rules before anything is written: id, kind length,
// content size and UTF-8, embedding dimension (dim 0 = any positive size up to
// kMaxDimension) and finiteness, metadata key count/size/types. `where` prefixes messages.
Status ValidateItem(const Item& item, uint32_t dim, const Options& options,
                    const std::string& where);

// True when none of v[0..n) is NaN or infinite.
bool AllFinite(const float* v, size_t n);

// Binary metadata encoding used in segment id indexes (see core/doc/segment_format.md).
void EncodeMetadata(const Metadata& m, std::string* out);
bool DecodeMetadata(std::string_view data, Metadata* m);

}  // namespace t4dx
