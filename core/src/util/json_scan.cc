// See json_scan.h. Iterative (no recursion), so nesting depth cannot exhaust the stack.
#include "util/json_scan.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "util/json_util.h"

namespace t4dx {
namespace {

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipSpace(std::string_view t, size_t pos) {
  while (pos < t.size() && IsJsonSpace(t[pos])) ++pos;
  return pos;
}

// t[pos] == '"'. Returns the index just after the closing quote, or npos. The closing
// quote is the first '"' not escaped by a '\\' (the rest of \uXXXX is plain text). Found
// with memchr (strings hold whole embeddings in base64): `quote` is the next '"' at or
// after p, searched again only once p has passed it, so the scan stays linear in the
// string's length however many escapes it holds.
size_t SkipString(std::string_view t, size_t pos) {
  const char* const base = t.data();
  const char* const end = base + t.size();
  const char* p = base + pos + 1;
  const char* quote = nullptr;
  while (p < end) {
    if (quote == nullptr || quote < p) {
      quote = static_cast<const char*>(std::memchr(p, '"', size_t(end - p)));
      if (quote == nullptr) return std::string_view::npos;
    }
    const char* esc = static_cast<const char*>(std::memchr(p, '\\', size_t(quote - p)));
    if (esc == nullptr) return size_t(quote - base) + 1;
    p = esc + 2;  // past the escaped character
  }
  return std::string_view::npos;
}

// Returns the index just after the value starting at t[pos], or npos.
size_t SkipValue(std::string_view t, size_t pos) {
  if (pos >= t.size()) return std::string_view::npos;
  const char c = t[pos];
  if (c == '"') return SkipString(t, pos);
  if (c == '{' || c == '[') {
    size_t depth = 0;
    for (size_t i = pos; i < t.size();) {
      const char d = t[i];
      if (d == '"') {
        i = SkipString(t, i);
        if (i == std::string_view::npos) return i;
        continue;
      }
      if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (depth == 0) return std::string_view::npos;
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return std::string_view::npos;
  }
  // A number or a literal: runs until a delimiter.
  size_t i = pos;
  while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ']' && !IsJsonSpace(t[i])) ++i;
  return i == pos ? std::string_view::npos : i;
}

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHigh = 0x8080808080808080ull;

// Whether c is a byte JSON must escape: a control character, '"' or '\\'.
bool IsJsonSpecial(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// Whether any of the eight bytes in x is (SWAR: such a byte sets its 0x80 bit here).
bool HasJsonSpecial(uint64_t x) {
  const uint64_t q = x ^ (kOnes * '"');
  const uint64_t b = x ^ (kOnes * '\\');
  return ((((x - kOnes * 0x20) & ~x) | ((q - kOnes) & ~q) | ((b - kOnes) & ~b)) & kHigh) != 0;
}

// True when s holds no byte JSON must escape; *ascii is then whether every byte is below
// 0x80. Eight bytes at a time.
bool NoJsonSpecials(std::string_view s, bool* ascii) {
  const char* p = s.data();
  const size_t n = s.size();
  uint64_t high = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x;
    std::memcpy(&x, p + i, 8);
    if (HasJsonSpecial(x)) return false;
    high |= x;
  }
  for (; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(p[i]);
    if (IsJsonSpecial(c)) return false;
    high |= c;
  }
  *ascii = (high & kHigh) == 0;
  return true;
}

// The index of the first byte at or after i that JSON must escape, or v.size(). Eight
// bytes at a time, as NoJsonSpecials.
size_t PlainRunEnd(std::string_view v, size_t i) {
  for (; i + 8 <= v.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, v.data() + i, 8);
    if (HasJsonSpecial(x)) break;  // the byte is in these eight: found below
  }
  while (i < v.size() && !IsJsonSpecial(static_cast<unsigned char>(v[i]))) ++i;
  return i;
}

// The raw text of a JSON string value that needs no decoding: quoted, no escape, no
// control character, valid UTF-8. False for anything else.
bool PlainString(std::string_view v, std::string_view* out) {
  if (v.size() < 2 || v.front() != '"' || v.back() != '"') return false;
  v = v.substr(1, v.size() - 2);
  bool ascii = false;
  if (!NoJsonSpecials(v, &ascii)) return false;
  if (!ascii && !json_util::IsValidUtf8(v)) return false;
  *out = v;
  return true;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Hex4(std::string_view v, size_t i, uint32_t* out) {
  if (i + 4 > v.size()) return false;
  uint32_t n = 0;
  for (size_t k = 0; k < 4; ++k) {
    const int d = HexDigit(v[i + k]);
    if (d < 0) return false;
    n = n * 16 + uint32_t(d);
  }
  *out = n;
  return true;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(char(cp));
  } else if (cp < 0x800) {
    out->push_back(char(0xC0 | (cp >> 6)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(char(0xE0 | (cp >> 12)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(char(0xF0 | (cp >> 18)));
    out->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

bool ScanJsonObject(std::string_view text, std::vector<JsonMemberSpan>* members) {
  members->clear();
  size_t pos = SkipSpace(text, 0);
  if (pos >= text.size() || text[pos] != '{') return false;
  pos = SkipSpace(text, pos + 1);
  if (pos < text.size() && text[pos] == '}') return SkipSpace(text, pos + 1) == text.size();
  for (;;) {
    if (pos >= text.size() || text[pos] != '"') return false;
    const size_t key_end = SkipString(text, pos);
    if (key_end == std::string_view::npos) return false;
    JsonMemberSpan m;
    m.key = text.substr(pos + 1, key_end - pos - 2);
    pos = SkipSpace(text, key_end);
    if (pos >= text.size() || text[pos] != ':') return false;
    pos = SkipSpace(text, pos + 1);
    const size_t value_end = SkipValue(text, pos);
    if (value_end == std::string_view::npos) return false;
    m.value = text.substr(pos, value_end - pos);
    members->push_back(m);
    pos = SkipSpace(text, value_end);
    if (pos >= text.size()) return false;
    if (text[pos] == '}') return SkipSpace(text, pos + 1) == text.size();
    if (text[pos] != ',') return false;
    pos = SkipSpace(text, pos + 1);
  }
}

bool ScanJsonArray(std::string_view text, std::vector<std::string_view>* elements) {
  elements->clear();
  size_t pos = SkipSpace(text, 0);
  if (pos >= text.size() || text[pos] != '[') return false;
  pos = SkipSpace(text, pos + 1);
  if (pos < text.size() && text[pos] == ']') return SkipSpace(text, pos + 1) == text.size();
  for (;;) {
    const size_t value_end = SkipValue(text, pos);
    if (value_end == std::string_view::npos) return false;
    elements->push_back(text.substr(pos, value_end - pos));
    pos = SkipSpace(text, value_end);
    if (pos >= text.size()) return false;
    if (text[pos] == ']') return SkipSpace(text, pos + 1) == text.size();
    if (text[pos] != ',') return false;
    pos = SkipSpace(text, pos + 1);
  }
}

bool DecodeJsonString(std::string_view v, std::string* out) {
  std::string_view plain;
  if (PlainString(v, &plain)) {
    out->assign(plain);
    return true;
  }
  if (v.size() < 2 || v.front() != '"' || v.back() != '"') return false;
  v = v.substr(1, v.size() - 2);
  std::string s;
  s.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    // The run of bytes up to the next escape (or bad byte) is copied as one piece.
    const size_t run = PlainRunEnd(v, i);
    s.append(v.data() + i, run - i);
    i = run;
    if (i == v.size()) break;
    const unsigned char c = static_cast<unsigned char>(v[i]);
    if (c < 0x20 || c == '"') return false;
    if (++i >= v.size()) return false;
    switch (v[i]) {
      case '"': s.push_back('"'); break;
      case '\\': s.push_back('\\'); break;
      case '/': s.push_back('/'); break;
      case 'b': s.push_back('\b'); break;
      case 'f': s.push_back('\f'); break;
      case 'n': s.push_back('\n'); break;
      case 'r': s.push_back('\r'); break;
      case 't': s.push_back('\t'); break;
      case 'u': {
        uint32_t cp;
        if (!Hex4(v, i + 1, &cp)) return false;
        i += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a low surrogate first
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t lo;
          if (i + 2 >= v.size() || v[i + 1] != '\\' || v[i + 2] != 'u' || !Hex4(v, i + 3, &lo) ||
              lo < 0xDC00 || lo > 0xDFFF) {
            return false;
          }
          i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        AppendUtf8(cp, &s);
        break;
      }
      default:
        return false;
    }
  }
  if (!json_util::IsValidUtf8(s)) return false;
  *out = std::move(s);
  return true;
}

bool DecodeJsonInt64(std::string_view v, int64_t* out) {
  bool neg = !v.empty() && v[0] == '-';
  if (neg) v.remove_prefix(1);
  if (v.empty() || v.size() > 19 || (v.size() > 1 && v[0] == '0')) return false;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + uint64_t(c - '0');
  }
  if (neg ? n > uint64_t(INT64_MAX) + 1 : n > uint64_t(INT64_MAX)) return false;
  *out = neg ? int64_t(0 - n) : int64_t(n);
  return true;
}

}  // namespace t4dx
