// Encoding and strict decoding of one WAL line (see wal_format.h and
// core/doc/wal_format.md). Decoding treats the line as hostile: structure and checksum
// first, then JSON (nlohmann, non-throwing), then every field's presence and type.
#include "wal/wal_record.h"

#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "util/checksum.h"
#include "util/item_codec.h"
#include "util/json_scan.h"
#include "util/json_util.h"
#include "wal/wal_format.h"

namespace t4dx {
namespace {

using Json = nlohmann::json;

constexpr size_t kHexDigits = 16;
constexpr size_t kChecksumPrefixSize = sizeof(kWalChecksumField) - 1;  // ,"checksum":"
static_assert(kWalChecksumTrailerSize == kChecksumPrefixSize + kHexDigits + 2,
              "trailer is ,\"checksum\":\" + 16 hex + \"}");

// The fields a version-1 line may hold.
const char* const kKnownFields[] = {"v",  "lsn",      "timestamp", "op_type", "item",
                                    "id", "lsn_last", "items",     "checksum"};

// A short printable rendering of hostile text for reasons.
std::string Printable(std::string_view s, size_t max = 40) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Collects, without throwing, where nlohmann's parser gave up (for "invalid JSON at column").
struct JsonErrorSax {
  size_t position = 0;
  std::string message;

  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(Json::number_integer_t) { return true; }
  bool number_unsigned(Json::number_unsigned_t) { return true; }
  bool number_float(Json::number_float_t, const std::string&) { return true; }
  bool string(std::string&) { return true; }
  bool binary(Json::binary_t&) { return true; }
  bool start_object(std::size_t) { return true; }
  bool key(std::string&) { return true; }
  bool end_object() { return true; }
  bool start_array(std::size_t) { return true; }
  bool end_array() { return true; }
  bool parse_error(std::size_t pos, const std::string&, const nlohmann::detail::exception& e) {
    position = pos;
    message = e.what();
    return false;
  }
};

std::string InvalidJsonReason(std::string_view line) {
  JsonErrorSax sax;
  if (Json::sax_parse(line.begin(), line.end(), &sax)) {
    return "cannot locate the fields of the line";  // JSON, but not the shape of a record
  }
  if (sax.position == 0) return "invalid JSON";
  // nlohmann: "[json.exception.parse_error.101] parse error at line 1, column 15: syntax
  // error while parsing value - invalid literal; last read: '...'". Keep the middle part;
  // "last read" would echo hostile bytes.
  std::string detail = sax.message;
  const size_t colon = detail.find(": ");
  if (colon != std::string::npos) detail = detail.substr(colon + 2);
  const size_t last_read = detail.find("; last read");
  if (last_read != std::string::npos) detail.resize(last_read);
  return "invalid JSON at column " + std::to_string(sax.position) + " (" + Printable(detail, 120) +
         ")";
}

bool Fail(std::string* reason, std::string text) {
  if (reason != nullptr) *reason = std::move(text);
  return false;
}

bool GetUnsigned(const Json& doc, const char* field, uint64_t* v, std::string* reason) {
  auto it = doc.find(field);
  if (it == doc.end()) return Fail(reason, std::string("missing field ") + field);
  if (!it->is_number_unsigned()) {
    return Fail(reason, std::string("field ") + field + " is not a non-negative integer");
  }
  *v = it->get<uint64_t>();
  return true;
}

// Parses the item object `text` of `line`; where = "item" or "items[i]".
bool ParseItem(std::string_view line, std::string_view text, const std::string& where, Item* item,
               std::string* reason) {
  if (text.empty() || text[0] != '{') return Fail(reason, where + " is not an object");
  std::string why;
  if (!ParseItemJsonExact(text, item, &why)) {
    // A syntax error is reported at its column in the line, like any other.
    if (why.rfind("invalid JSON", 0) == 0) return Fail(reason, InvalidJsonReason(line));
    return Fail(reason, where + ": " + why);
  }
  if (!AllFinite(item->embedding.data(), item->embedding.size())) {
    for (size_t i = 0; i < item->embedding.size(); ++i) {
      if (!std::isfinite(item->embedding[i])) {
        return Fail(reason, where + ": embedding value " + std::to_string(i) + " is not finite");
      }
    }
  }
  // Every write was checked against these rules; a record that breaks them was not written
  // by the engine, and replaying it would leave a MemTable no flush can write (found by
  // tests/fuzz/wal_line_fuzzer.cc). Size limits that Options can raise are not applied.
  static const Options kRules = [] {
    Options o;
    o.max_content_bytes = std::numeric_limits<size_t>::max();
    o.max_metadata_bytes = std::numeric_limits<size_t>::max();
    return o;
  }();
  const Status st = ValidateItem(*item, 0, kRules, where);
  if (!st.ok()) return Fail(reason, st.message());
  return true;
}

}  // namespace

const char* WalOpName(WalOp op) {
  switch (op) {
    case WalOp::kPut:
      return "put";
    case WalOp::kDelete:
      return "delete";
    case WalOp::kBatch:
      return "batch";
  }
  return "unknown";
}

uint64_t WalRecord::last_lsn() const {
  if (op == WalOp::kBatch && !items.empty()) return lsn + (items.size() - 1);
  return lsn;
}

namespace {

void AppendRecordHead(uint64_t lsn, int64_t timestamp, WalOp op, std::string* out) {
  out->append("{\"v\":");
  out->append(std::to_string(kWalFormatVersion));
  out->append(",\"lsn\":");
  out->append(std::to_string(lsn));
  out->append(",\"timestamp\":");
  out->append(std::to_string(timestamp));
  out->append(",\"op_type\":\"");
  out->append(WalOpName(op));
  out->push_back('"');
}

void AppendRecordChecksum(size_t start, std::string* out) {
  const uint64_t h = Hash64(out->data() + start, out->size() - start);
  out->append(kWalChecksumField);
  out->append(HashHex(h));
  out->append("\"}\n");
}

}  // namespace

void EncodeWalItems(const std::vector<Item>& items, std::string* out) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendItemJsonExact(items[i], true, out);
  }
}

void EncodeWalItemsRecord(uint64_t lsn, int64_t timestamp, WalOp op, size_t count,
                          std::string_view items_json, std::string* out) {
  assert(op != WalOp::kDelete && count >= 1 && (op == WalOp::kBatch || count == 1));
  const size_t start = out->size();
  AppendRecordHead(lsn, timestamp, op, out);
  if (op == WalOp::kPut) {
    out->append(",\"item\":");
    out->append(items_json);
  } else {
    out->append(",\"lsn_last\":");
    out->append(std::to_string(lsn + count - 1));
    out->append(",\"items\":[");
    out->append(items_json);
    out->push_back(']');
  }
  AppendRecordChecksum(start, out);
}

void EncodeWalRecord(const WalRecord& r, std::string* out) {
  if (r.op == WalOp::kDelete) {
    const size_t start = out->size();
    AppendRecordHead(r.lsn, r.timestamp, r.op, out);
    out->append(",\"id\":");
    json_util::AppendString(out, r.id);
    AppendRecordChecksum(start, out);
    return;
  }
  assert(r.op == WalOp::kBatch ? !r.items.empty() : r.items.size() == 1);
  std::string items;
  if (r.op == WalOp::kPut) {
    AppendItemJsonExact(r.items.empty() ? Item() : r.items[0], true, &items);
  } else {
    EncodeWalItems(r.items, &items);
  }
  EncodeWalItemsRecord(r.lsn, r.timestamp, r.op, r.last_lsn() - r.lsn + 1, items, out);
}

bool CheckWalLineChecksum(std::string_view line, std::string* reason) {
  // 1. Structure: '{' ... ,"checksum":"<16 lowercase hex>"}
  if (line.empty()) return Fail(reason, "empty line");
  if (line.size() < kWalChecksumTrailerSize + 1) {
    return Fail(reason, "line too short for a record (" + std::to_string(line.size()) +
                            " bytes, at least " + std::to_string(kWalChecksumTrailerSize + 1) +
                            ")");
  }
  if (line[0] != '{') return Fail(reason, "line does not start with '{'");
  const size_t trailer = line.size() - kWalChecksumTrailerSize;
  if (line.compare(trailer, kChecksumPrefixSize, kWalChecksumField) != 0 ||
      line.compare(line.size() - 2, 2, "\"}") != 0) {
    return Fail(reason, "missing checksum trailer ,\"checksum\":\"<16 hex>\"} at column " +
                            std::to_string(trailer + 1));
  }
  const std::string_view hex = line.substr(trailer + kChecksumPrefixSize, kHexDigits);
  uint64_t stored = 0;
  if (!IsLowerHex(hex) || !ParseHashHex(hex, &stored)) {
    return Fail(reason, "checksum \"" + Printable(hex) + "\" is not 16 lowercase hex digits");
  }
  // 2. Checksum over the exact bytes from '{' to before ,"checksum".
  const uint64_t computed = Hash64(line.data(), trailer);
  if (computed != stored) {
    return Fail(reason, "checksum mismatch (stored " + HashHex(stored) + ", computed " +
                            HashHex(computed) + ")");
  }
  return true;
}

namespace {

// s[*pos..] starts with lit: *pos moves past it. Else false, *pos unchanged.
bool Consume(std::string_view s, size_t* pos, std::string_view lit) {
  if (s.size() - *pos < lit.size() || s.compare(*pos, lit.size(), lit) != 0) return false;
  *pos += lit.size();
  return true;
}

// The text from *pos up to the next ',' (which *pos is left at); empty when there is none.
std::string_view UpToComma(std::string_view s, size_t* pos) {
  const size_t comma = s.find(',', *pos);
  if (comma == std::string_view::npos) return std::string_view();
  std::string_view v = s.substr(*pos, comma - *pos);
  *pos = comma;
  return v;
}

// A JSON non-negative integer (digits, no leading zero) that fits uint64_t.
bool PlainUint64(std::string_view v, uint64_t* out) {
  if (v.empty() || v.size() > 20 || (v.size() > 1 && v[0] == '0')) return false;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = uint64_t(c - '0');
    if (n > (UINT64_MAX - d) / 10) return false;
    n = n * 10 + d;
  }
  *out = n;
  return true;
}

// Steps 3 to 6 for a line exactly as EncodeWalRecord writes it (fields in its order, no
// whitespace, numbers in their plain form), without the JSON DOM: the line's fields are
// read in place and its items go to ParseItem as in the general path. False for any
// other line and for any line with a problem: the general path then decodes it, so it
// gives the same record, or the same reason, as if this path did not exist
// (tests/wal/wal_line_decode_test.cc compares the two). The checksum is already checked.
bool DecodeCanonicalLine(std::string_view line, WalRecord* r) {
  // The record's fields: everything before ,"checksum":"<hex>"}.
  const std::string_view body = line.substr(0, line.size() - kWalChecksumTrailerSize);
  size_t pos = 0;
  WalRecord out;
  if (!Consume(body, &pos, "{\"v\":1,\"lsn\":")) return false;
  if (!PlainUint64(UpToComma(body, &pos), &out.lsn) || out.lsn == 0) return false;
  if (!Consume(body, &pos, ",\"timestamp\":")) return false;
  if (!DecodeJsonInt64(UpToComma(body, &pos), &out.timestamp)) return false;
  if (!Consume(body, &pos, ",\"op_type\":\"")) return false;
  if (Consume(body, &pos, "put\",\"item\":")) {
    out.op = WalOp::kPut;
    const std::string_view text = body.substr(pos);
    if (text.empty() || text.back() != '}') return false;
    out.items.resize(1);
    if (!ParseItem(line, text, "item", &out.items[0], nullptr)) return false;
  } else if (Consume(body, &pos, "delete\",\"id\":")) {
    out.op = WalOp::kDelete;
    if (!DecodeJsonString(body.substr(pos), &out.id) || !ValidateId(out.id).ok()) return false;
  } else if (Consume(body, &pos, "batch\",\"lsn_last\":")) {
    out.op = WalOp::kBatch;
    uint64_t lsn_last = 0;
    if (!PlainUint64(UpToComma(body, &pos), &lsn_last)) return false;
    if (!Consume(body, &pos, ",\"items\":")) return false;
    const std::string_view text = body.substr(pos);
    if (text.empty() || text.front() != '[' || text.back() != ']') return false;
    std::vector<std::string_view> elements;
    if (!ScanJsonArray(text, &elements) || elements.empty()) return false;
    if (lsn_last < out.lsn || lsn_last - out.lsn != elements.size() - 1) return false;
    out.items.resize(elements.size());
    for (size_t i = 0; i < elements.size(); ++i) {
      if (!ParseItem(line, elements[i], "items[" + std::to_string(i) + "]", &out.items[i],
                     nullptr)) {
        return false;
      }
    }
  } else {
    return false;
  }
  *r = std::move(out);
  return true;
}

// Steps 3 to 6 of DecodeWalRecord for any line (the checksum is already checked).
bool DecodeCheckedLine(std::string_view line, WalRecord* r, std::string* reason) {
  // 3. JSON. ScanJsonObject splits the object into its fields (refusing any malformed
  // structure); nlohmann parses the fields with the item values left out, and the item
  // objects are parsed from their exact bytes by ParseItemJsonExact below. So every byte
  // is parsed once (item parsing dominates replay time).
  std::vector<JsonMemberSpan> members;
  if (!ScanJsonObject(line, &members)) return Fail(reason, InvalidJsonReason(line));
  if (members.empty() || members.back().key != "checksum") {
    return Fail(reason, "checksum is not a field of the line's object");
  }
  std::string skeleton = "{";
  for (const JsonMemberSpan& m : members) {
    if (skeleton.size() > 1) skeleton.push_back(',');
    skeleton.push_back('"');
    skeleton.append(m.key.data(), m.key.size());
    skeleton.append("\":");
    if (m.key == "item" || m.key == "items") {
      skeleton.push_back('0');
    } else {
      skeleton.append(m.value.data(), m.value.size());
    }
  }
  skeleton.push_back('}');
  const Json doc = Json::parse(skeleton, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Fail(reason, InvalidJsonReason(line));
  std::set<std::string_view> seen;
  for (const JsonMemberSpan& m : members) {
    if (m.key.find('\\') != std::string_view::npos) {
      return Fail(reason, "field name \"" + Printable(m.key) + "\" uses escapes");
    }
    if (!seen.insert(m.key).second) return Fail(reason, "duplicate field " + Printable(m.key));
  }

  // 4. Version before anything else: a newer writer may use other fields.
  auto v = doc.find("v");
  if (v == doc.end()) return Fail(reason, "missing field v (format version)");
  if (!v->is_number_integer()) return Fail(reason, "field v is not an integer");
  if (!v->is_number_unsigned() || v->get<uint64_t>() != static_cast<uint64_t>(kWalFormatVersion)) {
    const std::string shown = v->is_number_unsigned() ? std::to_string(v->get<uint64_t>())
                                                      : std::to_string(v->get<int64_t>());
    return Fail(reason, "unsupported WAL format version " + shown);
  }
  for (const JsonMemberSpan& m : members) {
    bool known = false;
    for (const char* f : kKnownFields) known = known || m.key == f;
    if (!known) return Fail(reason, "unknown field " + Printable(m.key));
  }

  // 5. Common fields.
  WalRecord out;
  if (!GetUnsigned(doc, "lsn", &out.lsn, reason)) return false;
  if (out.lsn == 0) return Fail(reason, "field lsn is 0 (LSNs start at 1)");
  auto ts = doc.find("timestamp");
  if (ts == doc.end()) return Fail(reason, "missing field timestamp");
  if (!ts->is_number_integer()) return Fail(reason, "field timestamp is not an integer");
  if (ts->is_number_unsigned()) {
    const uint64_t u = ts->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return Fail(reason, "field timestamp out of range");
    out.timestamp = static_cast<int64_t>(u);
  } else {
    out.timestamp = ts->get<int64_t>();
  }
  auto op = doc.find("op_type");
  if (op == doc.end()) return Fail(reason, "missing field op_type");
  if (!op->is_string()) return Fail(reason, "field op_type is not a string");
  const std::string& op_name = op->get_ref<const std::string&>();
  if (op_name == "put") {
    out.op = WalOp::kPut;
  } else if (op_name == "delete") {
    out.op = WalOp::kDelete;
  } else if (op_name == "batch") {
    out.op = WalOp::kBatch;
  } else {
    return Fail(reason, "unknown op_type \"" + Printable(op_name) + "\"");
  }

  // 6. Fields of the operation, and no field of another operation.
  auto find_span = [&members](const char* key) -> const JsonMemberSpan* {
    for (const JsonMemberSpan& m : members) {
      if (m.key == key) return &m;
    }
    return nullptr;
  };
  const char* const kOpFields[] = {"item", "id", "lsn_last", "items"};
  for (const char* f : kOpFields) {
    const bool wanted = (out.op == WalOp::kPut && std::strcmp(f, "item") == 0) ||
                        (out.op == WalOp::kDelete && std::strcmp(f, "id") == 0) ||
                        (out.op == WalOp::kBatch &&
                         (std::strcmp(f, "lsn_last") == 0 || std::strcmp(f, "items") == 0));
    const bool present = find_span(f) != nullptr;
    if (wanted && !present) return Fail(reason, std::string("missing field ") + f);
    if (!wanted && present) {
      return Fail(reason,
                  std::string("field ") + f + " is not allowed in a " + op_name + " record");
    }
  }
  switch (out.op) {
    case WalOp::kPut: {
      out.items.resize(1);
      if (!ParseItem(line, find_span("item")->value, "item", &out.items[0], reason)) return false;
      break;
    }
    case WalOp::kDelete: {
      auto id = doc.find("id");
      if (!id->is_string()) return Fail(reason, "field id is not a string");
      out.id = id->get<std::string>();
      Status st = ValidateId(out.id);
      if (!st.ok()) return Fail(reason, "field " + st.message());
      break;
    }
    case WalOp::kBatch: {
      uint64_t lsn_last = 0;
      if (!GetUnsigned(doc, "lsn_last", &lsn_last, reason)) return false;
      const std::string_view items_text = find_span("items")->value;
      if (items_text.empty() || items_text[0] != '[') {
        return Fail(reason, "field items is not an array");
      }
      std::vector<std::string_view> elements;
      if (!ScanJsonArray(items_text, &elements)) {
        return Fail(reason, "cannot locate the elements of items");
      }
      if (elements.empty()) return Fail(reason, "field items is empty");
      const uint64_t n = elements.size();
      if (lsn_last < out.lsn || lsn_last - out.lsn != n - 1) {
        std::string expected = out.lsn <= UINT64_MAX - (n - 1)
                                   ? std::to_string(out.lsn + (n - 1))
                                   : std::string("beyond the LSN range");
        return Fail(reason, "lsn_last " + std::to_string(lsn_last) + " does not match lsn " +
                                std::to_string(out.lsn) + " + " + std::to_string(n) +
                                " items - 1 = " + expected);
      }
      out.items.resize(elements.size());
      for (size_t i = 0; i < elements.size(); ++i) {
        if (!ParseItem(line, elements[i], "items[" + std::to_string(i) + "]", &out.items[i],
                       reason)) {
          return false;
        }
      }
      break;
    }
  }
  *r = std::move(out);
  return true;
}

}  // namespace

bool DecodeWalRecord(std::string_view line, WalRecord* r, std::string* reason) {
  if (!CheckWalLineChecksum(line, reason)) return false;
  if (DecodeCanonicalLine(line, r)) return true;
  return DecodeCheckedLine(line, r, reason);
}

bool DecodeWalRecordGeneral(std::string_view line, WalRecord* r, std::string* reason) {
  if (!CheckWalLineChecksum(line, reason)) return false;
  return DecodeCheckedLine(line, r, reason);
}

}  // namespace t4dx
