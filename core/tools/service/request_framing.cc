#include "request_framing.h"

#include <algorithm>
#include <cctype>

namespace t4dm {
namespace {

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// A Content-Length value: 1 to 19 ASCII digits (fits in int64 with room to spare).
bool ParseLength(const std::string& text, uint64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

BodyFraming Refuse(int status, const char* code, std::string message) {
  BodyFraming f;
  f.status = status;
  f.code = code;
  f.message = std::move(message);
  return f;
}

std::string Shown(const std::string& value) {
  std::string s = value.size() > 40 ? value.substr(0, 40) + "..." : value;
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return "\"" + s + "\"";
}

}  // namespace

BodyFraming CheckBodyFraming(const std::vector<std::pair<std::string, std::string>>& headers,
                             size_t max_body_bytes) {
  BodyFraming f;
  std::string transfer_encoding;
  bool has_te = false;
  for (const auto& h : headers) {
    if (h.first == "content-length") {
      const std::string value = Trim(h.second);
      uint64_t n = 0;
      if (!ParseLength(value, &n)) {
        return Refuse(400, "invalid_content_length",
                      "Content-Length " + Shown(h.second) +
                          " is not a decimal number of bytes (digits only, one value)");
      }
      if (f.has_content_length && n != f.content_length) {
        return Refuse(400, "invalid_content_length",
                      "Content-Length is given twice with different values (" +
                          std::to_string(f.content_length) + " and " + std::to_string(n) + ")");
      }
      f.has_content_length = true;
      f.content_length = n;
    } else if (h.first == "transfer-encoding") {
      if (has_te) transfer_encoding += ",";
      transfer_encoding += h.second;
      has_te = true;
    }
  }
  if (has_te) {
    if (Lower(Trim(transfer_encoding)) != "chunked") {
      return Refuse(400, "invalid_transfer_encoding",
                    "Transfer-Encoding " + Shown(transfer_encoding) +
                        " is not supported: send the body as is, or with \"chunked\" alone");
    }
    if (f.has_content_length) {
      return Refuse(400, "invalid_transfer_encoding",
                    "a request may not carry both Transfer-Encoding and Content-Length");
    }
    f.chunked = true;
  }
  if (f.has_content_length && f.content_length > max_body_bytes) {
    return Refuse(413, "payload_too_large",
                  "Content-Length " + std::to_string(f.content_length) +
                      " is larger than the body limit of " + std::to_string(max_body_bytes) +
                      " bytes (--max-body-bytes)");
  }
  return f;
}

}  // namespace t4dm
