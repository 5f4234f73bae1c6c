// Exact item JSON (WAL lines, segment item files), item validation, binary metadata.
#include "util/item_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "util/base64.h"
#include "util/coding.h"
#include "util/json_scan.h"
#include "util/json_util.h"

namespace t4dx {

void AppendItemJsonExact(const Item& item, bool with_embedding, std::string* out) {
  out->append("{\"id\":");
  json_util::AppendString(out, item.id);
  out->append(",\"kind\":");
  json_util::AppendString(out, item.kind);
  out->append(",\"content\":");
  json_util::AppendString(out, item.content);
  out->append(",\"timestamp\":");
  out->append(std::to_string(item.timestamp));
  out->append(",\"metadata\":");
  json_util::AppendMetadata(out, item.metadata);
  if (with_embedding && !item.embedding.empty()) {
    out->append(",\"embedding_b64\":\"");
    if (kHostLittleEndian) {  // the floats' own bytes are their encoding
      AppendBase64(out, std::string_view(reinterpret_cast<const char*>(item.embedding.data()),
                                         item.embedding.size() * sizeof(float)));
    } else {
      std::string raw;
      PutFloats(&raw, item.embedding.data(), item.embedding.size());
      AppendBase64(out, raw);
    }
    out->push_back('"');
  }
  out->push_back('}');
}

namespace {

// Metadata whose values are all strings (the common case), decoded like DecodeJsonString;
// false for anything else (numbers, lists, escaped or repeated keys), left to the parser.
bool StringMetadata(std::string_view text, Metadata* out) {
  std::vector<JsonMemberSpan> members;
  members.reserve(16);
  if (!ScanJsonObject(text, &members)) return false;
  Metadata result;
  for (const JsonMemberSpan& m : members) {
    for (unsigned char c : m.key) {
      if (c < 0x20 || c == '\\') return false;
    }
    if (!json_util::IsValidUtf8(m.key)) return false;
    std::string value;
    if (!DecodeJsonString(m.value, &value)) return false;
    // Keys come sorted (AppendMetadata writes them in map order): hinted at the end.
    const size_t before = result.size();
    result.emplace_hint(result.end(), std::string(m.key), MetaValue::String(std::move(value)));
    if (result.size() == before) return false;  // a repeated key
  }
  *out = std::move(result);
  return true;
}

// The item as the engine writes it (AppendItemJsonExact): fields id, kind, content,
// timestamp, metadata, embedding_b64, each once. Decoded from the text's own bytes (JSON
// string escapes included); only non-string metadata goes through the JSON parser. False
// when the text is anything else (an unknown or repeated field, a number in another form,
// an escape nlohmann would refuse...): ParseItemJsonExact then parses it the general way,
// which gives the same item or the same error. (Moved here from the WAL decoder in session
// 7, so that segment reads and merges decode items this way too: BENCHMARKS.md, note 19.)
bool ParseCanonicalItem(std::string_view text, Item* item) {
  std::vector<JsonMemberSpan> members;
  members.reserve(8);
  if (!ScanJsonObject(text, &members)) return false;
  Item result;
  unsigned seen = 0;
  std::string_view b64;
  for (const JsonMemberSpan& m : members) {
    unsigned bit;
    if (m.key == "id") {
      bit = 1;
      if (!DecodeJsonString(m.value, &result.id)) return false;
    } else if (m.key == "kind") {
      bit = 2;
      if (!DecodeJsonString(m.value, &result.kind)) return false;
    } else if (m.key == "content") {
      bit = 4;
      if (!DecodeJsonString(m.value, &result.content)) return false;
    } else if (m.key == "timestamp") {
      bit = 8;
      if (!DecodeJsonInt64(m.value, &result.timestamp)) return false;
    } else if (m.key == "metadata") {
      bit = 16;
      if (!StringMetadata(m.value, &result.metadata)) {
        nlohmann::json j;
        std::string why;
        if (!json_util::Parse(m.value, &j, &why)) return false;
        if (!json_util::MetadataFromJson(j, "metadata", &result.metadata, &why)) return false;
      }
    } else if (m.key == "embedding_b64") {
      bit = 32;
      // Taken raw: any byte DecodeJsonString would have to decode or refuse (an escape, a
      // control character, non-ASCII) is outside the base64 alphabet, so decoding below
      // refuses it too.
      if (m.value.size() < 2 || m.value.front() != '"' || m.value.back() != '"') return false;
      b64 = m.value.substr(1, m.value.size() - 2);
    } else {
      return false;
    }
    if (seen & bit) return false;
    seen |= bit;
  }
  if ((seen & (1 | 8)) != (1 | 8)) return false;  // id and timestamp are required
  if (seen & 32) {
    size_t bytes = 0;
    if (!Base64DecodedSize(b64, &bytes) || bytes % 4 != 0) return false;
    if (kHostLittleEndian) {
      // The little-endian float32 bytes decode straight into the floats.
      result.embedding.resize(bytes / 4);
      if (!Base64DecodeTo(b64, reinterpret_cast<char*>(result.embedding.data()))) return false;
    } else {
      std::string raw;
      if (!Base64Decode(b64, &raw)) return false;
      DecodeFloats(raw.data(), raw.size() / 4, &result.embedding);
    }
  }
  *item = std::move(result);
  return true;
}

}  // namespace

bool ParseItemJsonExact(std::string_view json, Item* item, std::string* reason) {
  if (ParseCanonicalItem(json, item)) return true;
  return ParseItemJsonGeneral(json, item, reason);
}

bool ParseItemJsonGeneral(std::string_view json, Item* item, std::string* reason) {
  nlohmann::json j;
  std::string why;
  if (!json_util::Parse(json, &j, &why)) {
    *reason = "invalid JSON: " + why;
    return false;
  }
  if (!j.is_object()) {
    *reason = std::string("expected an object, got ") + json_util::TypeName(j);
    return false;
  }
  Item result;
  bool has_id = false;
  bool has_timestamp = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& v = it.value();
    if (key == "id" || key == "kind" || key == "content" || key == "embedding_b64") {
      if (!v.is_string()) {
        *reason = key + " is not a string";
        return false;
      }
      const std::string& s = v.get_ref<const std::string&>();
      if (key == "id") {
        result.id = s;
        has_id = true;
      } else if (key == "kind") {
        result.kind = s;
      } else if (key == "content") {
        result.content = s;
      } else {
        std::string raw;
        if (!Base64Decode(s, &raw)) {
          *reason = "embedding_b64 is not base64";
          return false;
        }
        if (raw.size() % 4 != 0) {
          *reason = "embedding_b64 holds " + std::to_string(raw.size()) +
                    " bytes, not a whole number of float32 values";
          return false;
        }
        DecodeFloats(raw.data(), raw.size() / 4, &result.embedding);
      }
    } else if (key == "timestamp") {
      if (!json_util::GetInt64(v, &result.timestamp)) {
        *reason = "timestamp is not a 64-bit integer";
        return false;
      }
      has_timestamp = true;
    } else if (key == "metadata") {
      if (!json_util::MetadataFromJson(v, "metadata", &result.metadata, reason)) return false;
    } else {
      *reason = "unknown field \"" + key + "\"";
      return false;
    }
  }
  if (!has_id) {
    *reason = "missing id";
    return false;
  }
  if (!has_timestamp) {
    *reason = "missing timestamp";
    return false;
  }
  *item = std::move(result);
  return true;
}

namespace {

Status Invalid(const std::string& where, const std::string& what) {
  return Status::InvalidArgument(where + what);
}

}  // namespace

bool AllFinite(const float* v, size_t n) {
  // A float is NaN or infinite exactly when its exponent bits are all ones. Branch-free
  // over the whole vector; callers look for the culprit only when false.
  // Four independent lanes of the largest magnitude bits seen: all ones exponent (NaN,
  // infinity) is at least 0x7f800000.
  uint32_t m[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint32_t b[4];
    std::memcpy(b, v + i, sizeof b);
    for (int k = 0; k < 4; ++k) m[k] = std::max(m[k], b[k] & 0x7fffffffu);
  }
  for (; i < n; ++i) {
    uint32_t b;
    std::memcpy(&b, v + i, sizeof b);
    m[0] = std::max(m[0], b & 0x7fffffffu);
  }
  return std::max(std::max(m[0], m[1]), std::max(m[2], m[3])) < 0x7f800000u;
}

namespace {

// OK when s is valid UTF-8, else an error naming where + field(); field is a callable
// giving the field's name, built only for the error (items are validated at every write
// and every replayed WAL line).
template <typename Field>
Status CheckUtf8(const std::string& where, const Field& field, std::string_view s) {
  size_t bad = 0;
  if (json_util::IsValidUtf8(s, &bad)) return Status::OK();
  return Status::InvalidArgument(where + std::string(field()) +
                                 ": not valid UTF-8 (bad byte at offset " + std::to_string(bad) +
                                 ")");
}

Status CheckUtf8(const std::string& where, const char* field, std::string_view s) {
  return CheckUtf8(
      where, [field] { return field; }, s);
}

}  // namespace

Status ValidateItem(const Item& item, uint32_t dim, const Options& options,
                    const std::string& where) {
  if (Status s = ValidateId(item.id); !s.ok())
    return Status::InvalidArgument(where + "." + s.message());
  if (item.kind.size() > kMaxKindLength) {
    return Invalid(where, ".kind: " + std::to_string(item.kind.size()) + " bytes, at most " +
                              std::to_string(kMaxKindLength));
  }
  T4DX_RETURN_IF_ERROR(CheckUtf8(where, ".kind", item.kind));
  if (item.content.size() > options.max_content_bytes) {
    return Invalid(where, ".content: " + std::to_string(item.content.size()) + " bytes, at most " +
                              std::to_string(options.max_content_bytes));
  }
  T4DX_RETURN_IF_ERROR(CheckUtf8(where, ".content", item.content));

  const size_t n = item.embedding.size();
  if (n > 0) {
    if (dim != 0 && n != dim) {
      return Invalid(where, ".embedding: dimension " + std::to_string(n) + ", store has " +
                                std::to_string(dim));
    }
    if (dim == 0 && n > kMaxDimension) {
      return Invalid(where, ".embedding: dimension " + std::to_string(n) + ", at most " +
                                std::to_string(kMaxDimension));
    }
    if (!AllFinite(item.embedding.data(), n)) {
      for (size_t i = 0; i < n; ++i) {
        const float f = item.embedding[i];
        if (std::isnan(f)) return Invalid(where, ".embedding[" + std::to_string(i) + "] is NaN");
        if (std::isinf(f)) {
          return Invalid(where, ".embedding[" + std::to_string(i) + "] is infinite");
        }
      }
    }
  }

  if (item.metadata.size() > kMaxMetadataKeys) {
    return Invalid(where, ".metadata: " + std::to_string(item.metadata.size()) + " keys, at most " +
                              std::to_string(kMaxMetadataKeys));
  }
  for (const auto& [key, value] : item.metadata) {
    if (key.empty()) return Invalid(where, ".metadata: empty key");
    T4DX_RETURN_IF_ERROR(CheckUtf8(where, ".metadata key", key));
    auto at = [&key = key] { return ".metadata." + key; };  // (clang: C++17 init-capture)
    if (key.size() > kMaxMetadataKeyLength) {
      return Invalid(where, ".metadata: key of " + std::to_string(key.size()) + " bytes, at most " +
                                std::to_string(kMaxMetadataKeyLength));
    }
    switch (value.type) {
      case MetaValue::Type::kString:
        T4DX_RETURN_IF_ERROR(CheckUtf8(where, at, value.str));
        break;
      case MetaValue::Type::kNumber:
        if (!std::isfinite(value.num)) return Invalid(where, at() + ": number is not finite");
        break;
      case MetaValue::Type::kBool:
        break;
      case MetaValue::Type::kStringList:
        for (size_t i = 0; i < value.list.size(); ++i) {
          T4DX_RETURN_IF_ERROR(CheckUtf8(
              where, [&] { return at() + "[" + std::to_string(i) + "]"; }, value.list[i]));
        }
        break;
      default:
        return Invalid(where, at() + ": unknown value type");
    }
  }
  // No JSON text exceeds SIZE_MAX bytes: with that limit (WAL replay) the metadata is
  // not serialized just to be measured.
  if (options.max_metadata_bytes == std::numeric_limits<size_t>::max()) return Status::OK();
  std::string serialized;
  json_util::AppendMetadata(&serialized, item.metadata);
  if (serialized.size() > options.max_metadata_bytes) {
    return Invalid(where, ".metadata: " + std::to_string(serialized.size()) +
                              " bytes as JSON, at most " +
                              std::to_string(options.max_metadata_bytes));
  }
  return Status::OK();
}

// Binary metadata (all integers little-endian, see coding.h):
//   u32 count
//   count entries, keys in strictly ascending byte order:
//     u32 key_len, key bytes
//     u8  type (MetaValue::Type: 0 string, 1 number, 2 bool, 3 string list)
//     string:      u32 len, bytes
//     number:      f64 (IEEE-754 bits)
//     bool:        u8 (0 or 1)
//     string list: u32 n, then n times (u32 len, bytes)
// DecodeMetadata rejects anything else, including trailing bytes.
void EncodeMetadata(const Metadata& m, std::string* out) {
  PutFixed32(out, static_cast<uint32_t>(m.size()));
  for (const auto& [key, value] : m) {
    PutFixed32(out, static_cast<uint32_t>(key.size()));
    out->append(key);
    out->push_back(static_cast<char>(value.type));
    switch (value.type) {
      case MetaValue::Type::kString:
        PutFixed32(out, static_cast<uint32_t>(value.str.size()));
        out->append(value.str);
        break;
      case MetaValue::Type::kNumber:
        PutFloat64(out, value.num);
        break;
      case MetaValue::Type::kBool:
        out->push_back(value.boolean ? 1 : 0);
        break;
      case MetaValue::Type::kStringList:
        PutFixed32(out, static_cast<uint32_t>(value.list.size()));
        for (const std::string& s : value.list) {
          PutFixed32(out, static_cast<uint32_t>(s.size()));
          out->append(s);
        }
        break;
    }
  }
}

namespace {
bool GetLengthPrefixed(Decoder* d, std::string_view* s) {
  uint32_t len;
  return d->GetFixed32(&len) && d->GetBytes(len, s);
}
}  // namespace

bool DecodeMetadata(std::string_view data, Metadata* m) {
  Decoder d(data);
  uint32_t count;
  if (!d.GetFixed32(&count)) return false;
  if (count > d.remaining() / 5) return false;  // each entry takes at least 5 bytes
  Metadata result;
  std::string_view prev_key;
  for (uint32_t i = 0; i < count; ++i) {
    std::string_view key;
    uint8_t type;
    if (!GetLengthPrefixed(&d, &key) || !d.GetFixed8(&type)) return false;
    if (i > 0 && !(prev_key < key)) return false;
    prev_key = key;
    MetaValue v;
    switch (type) {
      case static_cast<uint8_t>(MetaValue::Type::kString): {
        std::string_view s;
        if (!GetLengthPrefixed(&d, &s)) return false;
        v = MetaValue::String(std::string(s));
        break;
      }
      case static_cast<uint8_t>(MetaValue::Type::kNumber): {
        double n;
        if (!d.GetFloat64(&n)) return false;
        v = MetaValue::Number(n);
        break;
      }
      case static_cast<uint8_t>(MetaValue::Type::kBool): {
        uint8_t b;
        if (!d.GetFixed8(&b) || b > 1) return false;
        v = MetaValue::Bool(b == 1);
        break;
      }
      case static_cast<uint8_t>(MetaValue::Type::kStringList): {
        uint32_t n;
        if (!d.GetFixed32(&n) || n > d.remaining() / 4) return false;
        std::vector<std::string> list;
        list.reserve(n);
        for (uint32_t k = 0; k < n; ++k) {
          std::string_view s;
          if (!GetLengthPrefixed(&d, &s)) return false;
          list.emplace_back(s);
        }
        v = MetaValue::StringList(std::move(list));
        break;
      }
      default:
        return false;
    }
    result.emplace(std::string(key), std::move(v));
  }
  if (d.remaining() != 0) return false;
  *m = std::move(result);
  return true;
}

}  // namespace t4dx
