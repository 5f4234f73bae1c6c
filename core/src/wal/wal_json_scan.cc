// See wal_json_scan.h. Iterative (no recursion), so nesting depth cannot exhaust the stack.
#include "wal/wal_json_scan.h"

#include <cstddef>
#include <cstring>

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

}  // namespace t4dx
