// Body framing of a request, checked from its head alone (RFC 9112 section 6), before any
// byte of the body is read:
//   - Content-Length must be a plain decimal number (no sign, no exponent, no list); every
//     Content-Length field must carry the same value; larger than the body limit: 413 at
//     once (the body is never read).
//   - Transfer-Encoding may only be "chunked" (the server applies no other coding), and not
//     together with Content-Length (request smuggling).
// Anything else is a 400 naming the header. The connection is closed after such an answer
// (its body was not read), which the HTTP adapter does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace t4dm {

struct BodyFraming {
  int status = 0;  // 0: acceptable; else the HTTP status to answer (400 or 413)
  std::string code;
  std::string message;

  bool chunked = false;
  bool has_content_length = false;
  uint64_t content_length = 0;

  bool ok() const { return status == 0; }
  // The request carries a body (of at least one byte, or of unknown length).
  bool has_body() const { return chunked || content_length > 0; }
};

// headers: names lower-case, in order (several fields of one name are separate entries).
BodyFraming CheckBodyFraming(const std::vector<std::pair<std::string, std::string>>& headers,
                             size_t max_body_bytes);

}  // namespace t4dm
