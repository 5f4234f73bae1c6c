// MetaValue and Item value semantics, and the id rule.
#include "t4dx/item.h"

namespace t4dx {

MetaValue MetaValue::String(std::string s) {
  MetaValue v;
  v.type = Type::kString;
  v.str = std::move(s);
  return v;
}

MetaValue MetaValue::Number(double n) {
  MetaValue v;
  v.type = Type::kNumber;
  v.num = n;
  return v;
}

MetaValue MetaValue::Bool(bool b) {
  MetaValue v;
  v.type = Type::kBool;
  v.boolean = b;
  return v;
}

MetaValue MetaValue::StringList(std::vector<std::string> l) {
  MetaValue v;
  v.type = Type::kStringList;
  v.list = std::move(l);
  return v;
}

bool MetaValue::operator==(const MetaValue& o) const {
  if (type != o.type) return false;
  switch (type) {
    case Type::kString:
      return str == o.str;
    case Type::kNumber:
      return num == o.num;
    case Type::kBool:
      return boolean == o.boolean;
    case Type::kStringList:
      return list == o.list;
  }
  return false;
}

bool Item::operator==(const Item& o) const {
  return id == o.id && kind == o.kind && content == o.content && embedding == o.embedding &&
         timestamp == o.timestamp && metadata == o.metadata;
}

namespace {

bool IsIdChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

// A short printable rendering of a (possibly hostile) id for error messages.
std::string Printable(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < s.size() && i < 40; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  if (s.size() > 40) out += "...";
  return out;
}

}  // namespace

Status ValidateId(std::string_view id) {
  if (id.empty()) {
    return Status::InvalidArgument("id: empty; must be 1..128 characters of [A-Za-z0-9._:-]");
  }
  if (id.size() > kMaxIdLength) {
    return Status::InvalidArgument("id: " + std::to_string(id.size()) + " characters, at most " +
                                   std::to_string(kMaxIdLength));
  }
  for (size_t i = 0; i < id.size(); ++i) {
    if (!IsIdChar(id[i])) {
      return Status::InvalidArgument("id: \"" + Printable(id) + "\" has an invalid character '" +
                                     Printable(id.substr(i, 1)) + "' at position " +
                                     std::to_string(i) + " (allowed: A-Za-z0-9._:-)");
    }
  }
  return Status::OK();
}

}  // namespace t4dx
