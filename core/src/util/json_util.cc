// Internal JSON helpers; see json_util.h.
#include "util/json_util.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace t4dx {
namespace json_util {

bool Parse(std::string_view text, nlohmann::json* out, std::string* reason) {
  try {
    *out = nlohmann::json::parse(text.begin(), text.end());
    return true;
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " tag.
    if (!what.empty() && what[0] == '[') {
      size_t close = what.find("] ");
      if (close != std::string::npos) what = what.substr(close + 2);
    }
    if (reason != nullptr) *reason = what;
    return false;
  }
}

bool NestingWithin(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

const char* TypeName(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::string:
      return "string";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "number";
    case nlohmann::json::value_t::boolean:
      return "boolean";
    case nlohmann::json::value_t::array:
      return "array";
    case nlohmann::json::value_t::object:
      return "object";
    case nlohmann::json::value_t::null:
      return "null";
    default:
      return "unsupported value";
  }
}

bool IsValidUtf8(std::string_view s, size_t* bad_offset) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      // ASCII runs (most text) 8 bytes at a time.
      while (i + 8 <= n) {
        uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        if (w & 0x8080808080808080ull) break;
        i += 8;
      }
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    } else {
      if (bad_offset) *bad_offset = i;
      return false;
    }
    if (i + len > n) {
      if (bad_offset) *bad_offset = i;
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) {
        if (bad_offset) *bad_offset = i;
        return false;
      }
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
      if (bad_offset) *bad_offset = i;
      return false;
    }
    i += len;
  }
  return true;
}

void AppendString(std::string* out, std::string_view s) {
  if (!IsValidUtf8(s)) {
    *out += nlohmann::json(std::string(s))
                .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the characters not yet appended that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;  // appended with its run below
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:  // the other control characters
        *out += "\\u00";
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

void AppendNumber(std::string* out, double v) {
  if (!std::isfinite(v)) {
    *out += "null";
    return;
  }
  if (v == 0 && std::signbit(v)) {
    *out += "-0.0";  // keeps the sign when read back
    return;
  }
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    *out += std::to_string(static_cast<int64_t>(v));
    return;
  }
  *out += nlohmann::json(v).dump();  // shortest round-trip form (Grisu2), same on every host
}

void AppendFloat(std::string* out, float v) {
  if (!std::isfinite(v)) {
    *out += "null";
    return;
  }
  char buf[32];
  for (int precision = 1; precision <= 9; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, static_cast<double>(v));
    if (std::strtof(buf, nullptr) == v || precision == 9) break;
  }
  *out += buf;
}

void AppendMetaValue(std::string* out, const MetaValue& v) {
  switch (v.type) {
    case MetaValue::Type::kString:
      AppendString(out, v.str);
      break;
    case MetaValue::Type::kNumber:
      AppendNumber(out, v.num);
      break;
    case MetaValue::Type::kBool:
      *out += v.boolean ? "true" : "false";
      break;
    case MetaValue::Type::kStringList:
      out->push_back('[');
      for (size_t i = 0; i < v.list.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendString(out, v.list[i]);
      }
      out->push_back(']');
      break;
  }
}

void AppendMetadata(std::string* out, const Metadata& m) {
  out->push_back('{');
  bool first = true;
  for (const auto& [key, value] : m) {
    if (!first) out->push_back(',');
    first = false;
    AppendString(out, key);
    out->push_back(':');
    AppendMetaValue(out, value);
  }
  out->push_back('}');
}

bool MetaValueFromJson(const nlohmann::json& j, const std::string& where, MetaValue* v,
                       std::string* reason) {
  if (j.is_string()) {
    *v = MetaValue::String(j.get<std::string>());
  } else if (j.is_number()) {
    double d = j.get<double>();
    if (!std::isfinite(d)) {
      *reason = where + ": number out of range";
      return false;
    }
    *v = MetaValue::Number(d);
  } else if (j.is_boolean()) {
    *v = MetaValue::Bool(j.get<bool>());
  } else if (j.is_array()) {
    std::vector<std::string> list;
    list.reserve(j.size());
    for (size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_string()) {
        *reason = where + "[" + std::to_string(i) + "]: expected a string (metadata arrays are " +
                  "lists of strings), got " + TypeName(j[i]);
        return false;
      }
      list.push_back(j[i].get<std::string>());
    }
    *v = MetaValue::StringList(std::move(list));
  } else {
    *reason =
        where + ": expected a string, number, boolean or array of strings, got " + TypeName(j);
    return false;
  }
  return true;
}

bool MetadataFromJson(const nlohmann::json& j, const std::string& where, Metadata* m,
                      std::string* reason) {
  if (!j.is_object()) {
    *reason = where + ": expected an object, got " + TypeName(j);
    return false;
  }
  Metadata result;
  for (auto it = j.begin(); it != j.end(); ++it) {
    MetaValue v;
    if (!MetaValueFromJson(it.value(), where + "." + it.key(), &v, reason)) return false;
    result.emplace(it.key(), std::move(v));
  }
  *m = std::move(result);
  return true;
}

bool GetInt64(const nlohmann::json& j, int64_t* v) {
  if (j.is_number_integer() && !j.is_number_unsigned()) {
    *v = j.get<int64_t>();
    return true;
  }
  if (j.is_number_unsigned()) {
    uint64_t u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return false;
    *v = static_cast<int64_t>(u);
    return true;
  }
  if (j.is_number_float()) {
    double d = j.get<double>();
    // Exactly representable integral doubles within int64 range.
    if (!std::isfinite(d) || d != std::floor(d) || d < -9223372036854775808.0 ||
        d >= 9223372036854775808.0) {
      return false;
    }
    *v = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

}  // namespace json_util
}  // namespace t4dx
